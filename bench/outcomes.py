"""Measure the outcomes (docs/rules.md §19) at scale; prints the machine and medians.

    DATABASE_URL=sqlite:///$PWD/bench/out/national.db python bench/generate.py --sites 10000
    DATABASE_URL=sqlite:///$PWD/bench/out/national.db python bench/outcomes.py --fill

--fill adds the survey's invented history once (bench/survey.py: 60,000 clients and 200,000
placements over 2025–2026), then what outcomes read besides: each client's first needs
record, a proposal time and the host's answer for every placement, and the clients spread
over Kainuu's municipalities. Then it times the outcomes for the year 2026.

Budget (issue: service paths): outcomes for one year over 200,000 placements <= 1.5 s
median on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.importer import machine  # noqa: E402
from bench.map_search import BENCH_PASSWORD, report, timed  # noqa: E402

BATCH = 5000
BUDGET_MS = 1500


def fill(session, seed: int = 13) -> None:
    from sqlalchemy import bindparam, func, insert, select, update

    from bench.generate import reset_sequences
    from bench.survey import fill as fill_survey_history
    from placements.models import Client, Municipality, Needs, Placement

    fill_survey_history(session)
    if session.scalar(select(func.count()).select_from(Needs)):
        print("Outcome history already filled.")
        return
    rng = random.Random(seed)
    started = time.perf_counter()
    codes = list(session.scalars(select(Municipality.code).order_by(Municipality.code)))
    for number, code in enumerate(codes):
        session.execute(update(Client).where(Client.id % len(codes) == number).values(municipality_code=code))
    first_start = dict(
        session.execute(select(Placement.client_id, func.min(Placement.start_date)).group_by(Placement.client_id)).all()
    )
    needs = []
    for client_id, start in first_start.items():
        recorded = datetime.combine(start - timedelta(days=rng.randrange(0, 120)), clock_time(9), tzinfo=UTC)
        needs.append(
            {
                "client_id": client_id,
                "created_at": recorded + timedelta(minutes=rng.randrange(600)),
                "wanted_types": ("rehabilitative_work", "work_trial"),
                "task_areas": ("kitchen",),
                "days_per_week": 3,
                "hours_per_day": 5.0,
                "max_travel_km": 30,
                "needs_public_transport": False,
                "accessibility": (),
                "supports": (),
                "max_physical_demand": "heavy",
                "max_social_intensity": "high",
                "languages": ("fi",),
            }
        )
        if len(needs) >= BATCH:
            session.execute(insert(Needs), needs)
            needs.clear()
    if needs:
        session.execute(insert(Needs), needs)
    answer = (
        update(Placement)
        .where(Placement.id == bindparam("placement_id"))
        .values(proposed_at=bindparam("proposed"), decided_at=bindparam("decided"))
        .execution_options(synchronize_session=False)
    )
    batch = []
    for placement_id, start in session.execute(select(Placement.id, Placement.start_date)).all():
        proposed = datetime.combine(start, clock_time(8), tzinfo=UTC) - timedelta(days=rng.randrange(7, 40))
        batch.append(
            {
                "placement_id": placement_id,
                "proposed": proposed,
                "decided": proposed + timedelta(hours=rng.randrange(1, 24 * 15)),
            }
        )
        if len(batch) >= BATCH:
            session.connection().execute(answer, batch)
            batch.clear()
    if batch:
        session.connection().execute(answer, batch)
    reset_sequences(session)
    session.commit()
    print(f"Outcome history filled in {time.perf_counter() - started:.1f} s")


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
    from placements.models import Needs, Placement, User
    from placements.permissions import SYSTEM
    from placements.services import outcomes, survey
    from placements.services.survey import month, year
    from placements.services.users import create_user

    app = create_app()
    with app.app_context():
        upgrade()
        if args.fill:
            fill(db.session)
        coordinator = db.session.scalar(select(User).where(User.email == "bench-outcomes@example.fi"))
        if coordinator is None:
            coordinator = create_user(
                db.session,
                SYSTEM,
                email="bench-outcomes@example.fi",
                name="Bench outcomes",
                role="coordinator",
                password=BENCH_PASSWORD,
            )
            db.session.commit()
        worker = db.session.scalar(select(User).where(User.email == "bench-history@example.fi"))
        placements = db.session.scalar(select(func.count()).select_from(Placement))
        needs = db.session.scalar(select(func.count()).select_from(Needs))
        print(f"Machine: {machine()}, {platform.system()} {platform.release()}")
        print(
            f"Database: {db.engine.url.render_as_string(hide_password=True)} ({db.engine.dialect.name}, "
            f"{placements} placements, {needs} needs records)"
        )
        in_2026 = db.session.scalar(
            select(func.count()).select_from(Placement).where(Placement.start_date <= year(2026).end)
        )
        result = outcomes.region_outcomes(db.session, coordinator, year(2026))
        print(
            f"Year 2026: {in_2026} placements started by its end, {result.ended_total()} ended in it, "
            f"{sum(result.transitions.values())} transitions"
        )
        db.session.rollback()

        def region(period, municipalities=()):
            def run():
                outcomes.region_outcomes(db.session, coordinator, period, municipalities=municipalities)
                db.session.rollback()

            return run

        report("outcomes, year 2026, whole region", timed(region(year(2026)), args.repeats), BUDGET_MS)
        # The survey of the same year on the same data, to tell how busy the machine was.
        report("(reference: survey, year 2026)", timed(lambda: survey.run(db.session, year(2026)), args.repeats))
        report("outcomes, year 2026, two municipalities", timed(region(year(2026), ("205", "765")), args.repeats))
        report("outcomes, March 2026, whole region", timed(region(month(2026, 3)), args.repeats))
        if worker is not None:

            def own():
                outcomes.worker_outcomes(db.session, worker, year(2026))
                db.session.rollback()

            report("outcomes, year 2026, a worker owning every client", timed(own, args.repeats))
    client = app.test_client()
    import re

    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True)
    ).group(1)
    client.post("/login", data={"email": "bench-outcomes@example.fi", "password": BENCH_PASSWORD, "csrf_token": token})

    def page():
        response = client.get("/admin/outcomes?period=year&year=2026")
        assert response.status_code == 200, response.status_code

    report("/admin/outcomes page, year 2026", timed(page, args.repeats))


if __name__ == "__main__":
    main()
