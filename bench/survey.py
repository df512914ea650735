"""Measure the survey at scale; prints medians.

    DATABASE_URL=sqlite:///$PWD/bench/out/national.db python bench/generate.py --sites 10000
    DATABASE_URL=sqlite:///$PWD/bench/out/national.db python bench/survey.py --fill

--fill adds invented history (once): clients, 200,000 placements over 2025–2026 and capacity
events up to 300,000 in all. The history is consistent: an opening has no more active
placements than it has places for (the rest of the invented placements have ended), and each
opening's places_taken equals its active placements, as the registry keeps them. Then it
times the survey for the year 2026 and for one month, and the peak memory of streaming
/survey.csv by site.

Budgets (issue: survey): one year over 200,000 placements and 300,000 capacity events
<= 1.5 s median on SQLite and on PostgreSQL; /survey.csv of per-site rows for 10,000 sites:
peak memory growth <= 50 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import print_machine  # noqa: E402
from bench.map_search import BENCH_PASSWORD, report, timed  # noqa: E402
from placements.permissions import SYSTEM  # noqa: E402

PLACEMENTS, EVENTS_TOTAL, CLIENTS = 200_000, 300_000, 60_000
BATCH = 5000


def fill(session, seed: int = 11) -> None:
    from sqlalchemy import bindparam, func, insert, select, update

    from placements.codes import AGE_BANDS, END_REASONS, GENDERS
    from placements.models import CapacityEvent, Client, Opening, User
    from placements.services.users import create_user

    rng = random.Random(seed)
    if session.scalar(select(func.count()).select_from(Client)) >= CLIENTS:
        print("History already filled.")
        return
    owner = session.scalar(select(User).where(User.email == "bench-history@example.fi")) or create_user(
        session,
        SYSTEM,
        email="bench-history@example.fi",
        name="Bench history",
        role="social_worker",
        password=BENCH_PASSWORD,
    )
    openings = session.execute(
        select(Opening.id, Opening.places_total, Opening.places_external, Opening.places_taken)
    ).all()
    # Places an active placement may still take, per opening (docs/rules.md: no overbooking).
    room = {opening_id: max(total - external - taken, 0) for opening_id, total, external, taken in openings}
    taken_now = {opening_id: taken for opening_id, _, _, taken in openings}
    started = time.perf_counter()
    first_client = (session.scalar(select(func.max(Client.id))) or 0) + 1
    rows = [
        {
            "id": first_client + n,
            "code": "K-B" + f"{n:06X}"[:3] + "-" + f"{n:06X}"[3:] + "Z",
            "owner_id": owner.id,
            "municipality_code": "205",
            "age_band": rng.choice(list(AGE_BANDS)),
            "gender": rng.choice(list(GENDERS)),
            "status": "active",
            "created_at": datetime(2025, 1, 1, tzinfo=UTC),
        }
        for n in range(CLIENTS)
    ]
    for start in range(0, len(rows), BATCH):
        session.execute(insert(Client), rows[start : start + BATCH])
    client_ids = [row["id"] for row in rows]
    from placements.models import Placement

    batch = []
    for _ in range(PLACEMENTS):
        opening_id = rng.choice(openings)[0]
        start_day = date(2025, 1, 1) + timedelta(days=rng.randrange(700))
        ended = rng.random() < 0.7
        end_day = start_day + timedelta(days=rng.randrange(30, 400)) if ended else None
        if end_day and end_day > date(2026, 11, 27):
            end_day, ended = None, False
        if not ended and room[opening_id] == 0:
            # The opening is full: this placement ended instead (within the filled history).
            end_day = max(start_day, min(start_day + timedelta(days=rng.randrange(30, 400)), date(2026, 11, 27)))
            ended = True
        elif not ended:
            room[opening_id] -= 1
            taken_now[opening_id] += 1
        batch.append(
            {
                "client_id": rng.choice(client_ids),
                "opening_id": opening_id,
                "status": "ended" if ended else "active",
                "days_per_week": 3,
                "hours_per_day": 5.0,
                "start_date": start_day,
                "ended_on": end_day,
                "end_reason": rng.choice(list(END_REASONS)) if ended else None,
                "proposed_at": datetime(2025, 1, 1, tzinfo=UTC),
                "updated_at": datetime(2025, 1, 1, tzinfo=UTC),
            }
        )
        if len(batch) >= BATCH:
            session.execute(insert(Placement), batch)
            batch.clear()
    if batch:
        session.execute(insert(Placement), batch)
    # The counters equal the active placements (as placement services keep them).
    table = Opening.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("opening")).values(places_taken=bindparam("taken")),
        [
            {"opening": opening_id, "taken": taken}
            for opening_id, _, _, before in openings
            if (taken := taken_now[opening_id]) != before
        ],
    )
    existing = session.scalar(select(func.count()).select_from(CapacityEvent))
    events = []
    for _ in range(max(EVENTS_TOTAL - existing, 0)):
        opening_id, total, external, _ = rng.choice(openings)
        when = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(700 * 24 * 60))
        taken = rng.randint(0, max(total - external, 0))
        events.append(
            {
                "opening_id": opening_id,
                "occurred_at": when,
                "kind": rng.choice(["capacity_changed", "confirmed", "placement_started", "placement_ended"]),
                "places_total_after": total,
                "places_external_after": external,
                "places_taken_after": taken,
                "status_after": "open",
            }
        )
        if len(events) >= BATCH:
            session.execute(insert(CapacityEvent), events)
            events.clear()
    if events:
        session.execute(insert(CapacityEvent), events)
    from bench.generate import reset_sequences

    reset_sequences(session)
    session.commit()
    print(f"History filled in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fill", action="store_true")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("PLACEMENTS_ENV", "development")
    os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from placements import create_app
    from placements.extensions import db
    from placements.models import CapacityEvent, Placement, Site, User
    from placements.services import survey
    from placements.services.users import create_user

    app = create_app()
    with app.app_context():
        upgrade()
        if args.fill:
            fill(db.session)
        counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (Site, Placement, CapacityEvent)]
        print_machine()
        print(
            f"Database: {db.engine.url.render_as_string(hide_password=True)} "
            f"({counts[0]} sites, {counts[1]} placements, {counts[2]} capacity events)"
        )
        report("survey, year 2026", timed(lambda: survey.run(db.session, survey.year(2026)), args.repeats), 1500)
        report(
            "survey, year 2026 split by age group",
            timed(lambda: survey.run(db.session, survey.year(2026), split="age_band"), args.repeats),
        )
        report("survey, March 2026", timed(lambda: survey.run(db.session, survey.month(2026, 3)), args.repeats))
        if db.session.scalar(select(User).where(User.email == "bench-coordinator@example.fi")) is None:
            create_user(
                db.session,
                SYSTEM,
                email="bench-coordinator@example.fi",
                name="Bench",
                role="coordinator",
                password=BENCH_PASSWORD,
            )
            db.session.commit()
    client = app.test_client()
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    ).group(1)
    client.post(
        "/login", data={"email": "bench-coordinator@example.fi", "password": BENCH_PASSWORD, "csrf_token": token}
    )
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    response = client.get("/survey.csv?period=year&year=2026&level=site", buffered=False)
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    response.close()
    peak = (tracemalloc.get_traced_memory()[1] - baseline) / 1024 / 1024
    tracemalloc.stop()
    print(
        f"{'/survey.csv by site, peak memory growth':<48} {peak:8.1f} MB for {lines - 1} rows, "
        f"{size / 1024 / 1024:.1f} MB{'  OK' if peak <= 50 else '  OVER BUDGET'}"
    )


if __name__ == "__main__":
    main()
