"""Measure matching one client against a generated national-scale database; prints medians.

    DATABASE_URL=sqlite:///bench/out/national.db python bench/generate.py --sites 10000
    DATABASE_URL=sqlite:///bench/out/national.db python bench/matching.py

Budget (issue: clients, needs, matching): one client against 10,000 sites / 20,000 openings
in <= 150 ms median. Measures the service (SQL prefilter + hard filters + score) and the
whole /clients/<code>/matches page, for a client in Kajaani and one in the densest region.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import print_machine  # noqa: E402
from bench.map_search import BENCH_PASSWORD, report, timed  # noqa: E402
from placements.permissions import SYSTEM  # noqa: E402

WORKER_EMAIL = "bench-matcher@example.fi"
NEEDS = {
    "wanted_types": ("rehabilitative_work", "work_trial", "pay_subsidy", "ips_job"),
    "task_areas": ("kitchen", "cleaning"),
    "days_per_week": 5,
    "hours_per_day": 8.0,
    "max_travel_km": 100,
    "needs_public_transport": False,
    "accessibility": (),
    "supports": (),
    "max_physical_demand": "heavy",
    "max_social_intensity": "high",
    "languages": ("fi",),
    "earliest_start": None,
    "note": None,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    os.environ.setdefault("PLACEMENTS_ENV", "development")
    os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
    import re

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from placements import clock, create_app
    from placements.extensions import db
    from placements.models import Opening, PostalCode, User
    from placements.services import clients, matching
    from placements.services.users import create_user

    app = create_app()
    with app.app_context():
        upgrade()
        worker = db.session.scalar(select(User).where(User.email == WORKER_EMAIL))
        if worker is None:
            worker = create_user(
                db.session,
                SYSTEM,
                email=WORKER_EMAIL,
                name="Bench matcher",
                role="social_worker",
                password=BENCH_PASSWORD,
            )
        person = clients.create_client(
            db.session, worker, municipality_code="205", home_postal_code="87100", age_band="30-39", gender="unknown"
        )
        clients.save_needs(db.session, person, worker, NEEDS)
        db.session.commit()
        openings = db.session.scalar(select(func.count()).select_from(Opening))
        print_machine()
        print(f"Database: {app.config['SQLALCHEMY_DATABASE_URI']} ({openings} openings)")
        view = matching.NeedsView.of(clients.current_needs(db.session, person, worker))
        stale_days = app.config["STALE_AFTER_DAYS"]
        for label, home in (("Kajaani", (64.2222, 27.7278)), ("southern Finland (densest)", (60.75, 25.75))):
            found = len(matching.run(db.session, view, home, now=clock.now(), stale_after_days=stale_days))
            candidates = len(db.session.scalars(matching.candidate_query(view, home)).all())
            times = timed(
                lambda home=home: matching.run(db.session, view, home, now=clock.now(), stale_after_days=stale_days),
                args.repeats,
            )
            report(f"match_openings, home in {label} ({candidates} candidates, {found} matches)", times, 150)
        # The whole page, with the home moved to the dense south (through the postal code's centre).
        postal = db.session.get(PostalCode, "87100")
        saved = (postal.centre_lat, postal.centre_lon)
        postal.centre_lat, postal.centre_lon = 60.75, 25.75
        db.session.commit()
        code = person.code
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client.post("/login", data={"email": WORKER_EMAIL, "password": BENCH_PASSWORD, "csrf_token": token})
    assert client.get(f"/clients/{code}/matches").status_code == 200
    report(
        "/clients/<code>/matches page, dense south", timed(lambda: client.get(f"/clients/{code}/matches"), args.repeats)
    )
    with app.app_context():
        postal = db.session.get(PostalCode, "87100")
        postal.centre_lat, postal.centre_lon = saved
        db.session.commit()


if __name__ == "__main__":
    main()
