"""Measure survey rounds at scale; prints medians.

    .venv/bin/python bench/rounds.py            # SQLite in bench/out/rounds.db (made afresh)
    DATABASE_URL=postgresql+psycopg://… .venv/bin/python bench/rounds.py --database-url-from-env

Builds 10,000 sites with about 20,000 openings (bench/generate.py) run by 1,000 organisations,
each with one host, then times: opening a round for all of them (the job's work: 1,000
responses, a line per opening, 1,000 invitations with their e-mails), the closed round's
report, and its PDF.

Budgets (issue 14): opening ≤ 10 s, the report ≤ 1 s, the PDF ≤ 10 s.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.map_search import report, timed  # noqa: E402

ORGANISATIONS = 1000


def build(session) -> tuple[int, int]:
    from sqlalchemy import func, insert, select, update

    from bench.generate import generate, reset_sequences
    from placements.models import Opening, Organisation, Site, User

    generate(session, 10_000, 7, datetime.now(UTC))
    reset_sequences(session)
    existing = session.scalars(select(Organisation.id).order_by(Organisation.id)).all()
    first = max(existing) + 1
    extra = ORGANISATIONS - len(existing)
    session.execute(
        insert(Organisation),
        [{"id": first + i, "name": f"Lisäjärjestäjä {i}", "kind": "association"} for i in range(extra)],
    )
    # Every other site moves to one of the new organisations: 1,000 organisations in all.
    session.execute(
        update(Site).where(Site.id % 2 == 0).values(organisation_id=first + (Site.id % (2 * extra)) // 2),
        execution_options={"synchronize_session": False},
    )
    ids = session.scalars(select(Organisation.id)).all()
    session.execute(
        insert(User),
        [
            {
                "email": f"host{oid}@example.fi",
                "name": f"Yhdyshenkilö {oid}",
                "role": "host",
                "organisation_id": oid,
                "password_hash": "!",
                "active": True,
            }
            for oid in ids
        ],
    )
    reset_sequences(session)
    openings = session.scalar(select(func.count()).select_from(Opening))
    return len(ids), openings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url-from-env", action="store_true", help="use DATABASE_URL (must be empty)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("PLACEMENTS_ENV", "development")
    if not args.database_url_from_env:
        target = ROOT / "bench" / "out" / "rounds.db"
        target.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{target}"
    from flask_migrate import upgrade

    from placements import create_app, unit_of_work
    from placements.extensions import db
    from placements.permissions import SYSTEM
    from placements.rounds.report_files import pdf_bytes
    from placements.services import round_report, rounds

    app = create_app({"SERVER_NAME": "localhost"})
    with app.app_context():
        upgrade()
        with unit_of_work.work(db.session):
            organisations, openings = build(db.session)
        print(f"{organisations} organisations, {openings} openings -> {app.config['SQLALCHEMY_DATABASE_URI']}")
        made = []

        def open_one():
            with unit_of_work.work(db.session):
                survey_round, _job = rounds.create_round(
                    db.session,
                    SYSTEM,
                    name=f"Kierros {len(made) + 1}",
                    reference_date=date(2026, 12, 31),
                    period_start=date(2026, 1, 1),
                    period_end=date(2026, 12, 31),
                    deadline=date.today() + timedelta(days=30),
                )
                result = rounds.open_round(db.session, SYSTEM, survey_round.id, progress=lambda done, total: None)
            made.append(survey_round.id)
            assert result["organisations"] == organisations, result

        report("open a round (1,000 organisations)", [t / 1000 for t in timed(open_one, args.repeats)], 10, "s")
        from placements.models import SurveyRound

        for round_id in made:
            with unit_of_work.work(db.session):
                rounds.close_round(db.session, SYSTEM, db.session.get(SurveyRound, round_id))
        last = db.session.get(SurveyRound, made[-1])
        report("round report (with the previous round)", timed(lambda: round_report.report(db.session, last), 5), 1000)
        with app.test_request_context("/"):
            frozen = round_report.report(db.session, last)
            times = timed(lambda: pdf_bytes(frozen), args.repeats)
            size = len(pdf_bytes(frozen))
        report(f"round report PDF ({size // 1024} kB)", [t / 1000 for t in times], 10, "s")


if __name__ == "__main__":
    main()
