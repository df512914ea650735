"""Measure "Vaatii huomiota" for a social worker with 200 active clients; prints medians.

    DATABASE_URL=sqlite:///bench/out/national.db python bench/generate.py --sites 1000
    DATABASE_URL=sqlite:///bench/out/attention.db python bench/attention.py

Budget (issue 15): <= 100 ms median for a worker with 200 clients. Uses the openings of
the database it is given (generate.py makes them); adds one benchmark worker with 200
clients (needs recorded 40 days ago), 60 waiting proposals, 40 active placements (half
starting within 14 days), 100 plans (half with a review due), 60 queue entries (some
older than 90 days), and 20 colleagues' clients shared with the worker. Measures the
service and the whole ``/`` page.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.map_search import BENCH_PASSWORD, report, timed  # noqa: E402
from placements.permissions import SYSTEM  # noqa: E402

WORKER_EMAIL = "bench-attention@example.fi"
NEEDS = {
    "wanted_types": ("rehabilitative_work", "work_trial"),
    "task_areas": ("kitchen",),
    "days_per_week": 3,
    "hours_per_day": 5.0,
    "max_travel_km": 50,
    "needs_public_transport": False,
    "accessibility": (),
    "supports": (),
    "max_physical_demand": "heavy",
    "max_social_intensity": "high",
    "languages": ("fi",),
    "earliest_start": None,
    "note": None,
}


def populate(db, worker, clients_count: int) -> None:
    from sqlalchemy import select

    from placements import clock
    from placements.models import Opening, Placement, PlanEntry, QueueEntry
    from placements.services import clients

    openings = db.session.scalars(
        select(Opening).where(Opening.status == "open", Opening.archived_at.is_(None)).order_by(Opening.id).limit(50)
    ).all()
    if not openings:
        raise SystemExit("No openings: run bench/generate.py on this database first.")
    now, today = clock.now(), clock.today()
    with clock.fixed(now - timedelta(days=40)):
        people = []
        for _ in range(clients_count):
            person = clients.create_client(
                db.session, worker, municipality_code="205", home_postal_code=None, age_band="30-39", gender="unknown"
            )
            clients.save_needs(db.session, person, worker, NEEDS)
            people.append(person)
    for number, person in enumerate(people):
        opening = openings[number % len(openings)]
        values = dict(client_id=person.id, opening_id=opening.id, days_per_week=3, hours_per_day=5.0)
        if number < 60:
            db.session.add(Placement(status="proposed", start_date=today + timedelta(days=10), **values))
        elif number < 100:
            start = today + timedelta(days=5) if number % 2 else today - timedelta(days=100)
            db.session.add(
                Placement(status="active", start_date=start, planned_end=start + timedelta(days=200),
                          decided_at=now, **values)
            )  # fmt: skip
        if number % 2 == 0:
            review = today + timedelta(days=7 if number % 4 == 0 else 120)
            db.session.add(
                PlanEntry(client_id=person.id, responsible_worker_id=worker.id, goal="Työkokeilu",
                          next_step="Tapaaminen", next_step_on=today + timedelta(days=20), review_on=review,
                          created_by_id=worker.id)
            )  # fmt: skip
        if 100 <= number < 160:
            queued = now - timedelta(days=100 if number % 3 == 0 else 10)
            db.session.add(
                QueueEntry(client_id=person.id, opening_id=opening.id, status="waiting", created_at=queued,
                           confirmed_at=queued, created_by_id=worker.id, seen_position=1)
            )  # fmt: skip
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--clients", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("PLACEMENTS_ENV", "development")
    os.environ.setdefault("SESSION_COOKIE_SECURE", "0")

    from flask_migrate import upgrade
    from sqlalchemy import select

    from placements import clock, create_app
    from placements.extensions import db
    from placements.models import User
    from placements.services import paths
    from placements.services.users import create_user

    app = create_app()
    with app.app_context():
        upgrade()
        worker = db.session.scalar(select(User).where(User.email == WORKER_EMAIL))
        if worker is None:
            worker = create_user(
                db.session, SYSTEM, email=WORKER_EMAIL, name="Bench attention", role="social_worker",
                password=BENCH_PASSWORD,
            )  # fmt: skip
            db.session.commit()
            populate(db, worker, args.clients)
        print(f"Database: {app.config['SQLALCHEMY_DATABASE_URI']}")
        lines = paths.attention(db.session, worker, today=clock.today(), now=clock.now())
        db.session.rollback()
        print(f"{len(lines)} lines for a worker with {args.clients} clients")
        times = timed(
            lambda: (paths.attention(db.session, worker, today=clock.today(), now=clock.now()), db.session.rollback()),
            args.repeats,
        )
        report(f"attention() for {args.clients} clients", times, 100)
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client.post("/login", data={"email": WORKER_EMAIL, "password": BENCH_PASSWORD, "csrf_token": token})
    assert client.get("/").status_code == 200
    report("/ (Vaatii huomiota) page", timed(lambda: client.get("/"), args.repeats), 100)


if __name__ == "__main__":
    main()
