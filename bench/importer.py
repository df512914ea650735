"""Measure the site import of 10,000 rows as the web runs it: the check job (the preview)
and the apply job, each from queued to done in the worker; prints medians.

    rm -f bench/out/import.db
    DATABASE_URL=sqlite:///$PWD/bench/out/import.db python bench/importer.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/placements_import python bench/importer.py

The database must have no sites yet (the schema is created or upgraded here); between
repetitions the script removes everything it imported. Three files are timed, each checked
and then applied: 10,000 new rows into an empty registry, the same file again (nothing
changes), and the file with a fifth of its openings' places and a twentieth of its sites'
names changed.

Budgets: preview of 10,000 rows <= 5 s and apply <= 10 s, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate_sites import kainuu_rows, write  # noqa: E402
from bench.machine import machine  # noqa: E402
from bench.map_search import BENCH_PASSWORD  # noqa: E402

BUDGETS = {"preview": 5.0, "apply": 10.0}  # seconds
ROWS = 10_000
OWNER = "bench-import@example.fi"


def files(rows: int, seed: int) -> dict[str, bytes]:
    """The new file, the same again, and a changed version of it."""
    data = kainuu_rows(seed, date(2026, 11, 27), sites=rows * 6 // 10)[:rows]
    assert len(data) == rows, f"the generator made only {len(data)} rows"
    changed = []
    renamed = {row["site_ref"] for n, row in enumerate(data) if n % 20 == 0}
    for n, row in enumerate(data):
        row = dict(row)
        if n % 5 == 0:
            row["places_total"] = int(row["places_total"]) + 1
        if row["site_ref"] in renamed:
            row["site_name"] = f"{row['site_name']} (uusi nimi)"
        changed.append(row)
    return {"new": _csv(data), "unchanged": _csv(data), "changed": _csv(changed)}


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    write(rows, buffer)
    return buffer.getvalue().encode("utf-8")


def reset(session) -> None:
    """Remove everything an import made (the registry was empty when the bench began)."""
    from sqlalchemy import delete

    from placements.models import AuditEvent, CapacityEvent, ImportUpload, Job, Opening, Organisation, Site

    for model in (CapacityEvent, Opening, Site, Organisation, ImportUpload, Job):
        session.execute(delete(model))
    session.execute(delete(AuditEvent).where(AuditEvent.action == "sites_import"))
    session.commit()


def run_job(start) -> tuple[float, float, dict]:
    """Queue a job with ``start(session)``, then time the worker running it to the end:
    the wall-clock time and this process's CPU time (the database server's not included)."""
    from flask import current_app

    from placements.extensions import db
    from placements.models import Job
    from placements.services import jobs

    job = start(db.session)
    db.session.commit()
    job_id = job.id
    started, cpu = time.perf_counter(), time.process_time()
    assert jobs.run_once(current_app._get_current_object()) == job_id
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.status == "done", job.error
    return elapsed, cpu, job.outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    os.environ.setdefault("PLACEMENTS_ENV", "development")
    os.environ.setdefault("INSTANCE_PATH", str(ROOT / "bench" / "out" / "instance"))

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from placements import create_app
    from placements.extensions import db
    from placements.models import Site, User
    from placements.permissions import SYSTEM
    from placements.services.importer import jobs as import_jobs
    from placements.services.users import create_user

    app = create_app()
    content = files(args.rows, args.seed)
    timings: dict[str, list[float]] = {}
    cpu_times: dict[str, list[float]] = {}
    with app.app_context():
        upgrade()
        if db.session.scalar(select(func.count()).select_from(Site)):
            sys.exit("The database already has sites; give the bench an empty one (see the docstring).")
        owner = db.session.scalar(select(User).where(User.email == OWNER)) or create_user(
            db.session, SYSTEM, email=OWNER, name="Bench import", role="coordinator", password=BENCH_PASSWORD
        )
        db.session.commit()
        print(f"Database: {db.engine.url.render_as_string(hide_password=True)} ({db.engine.dialect.name})")
        print(f"File: {args.rows} rows, {len(content['new']) / 1e6:.1f} MB; {args.repeats} repetitions")
        print(f"Machine: {machine()}")
        try:
            for _ in range(args.repeats):
                for name, data in content.items():
                    check_time, check_cpu, check = run_job(
                        lambda s, data=data, name=name: import_jobs.start_check(
                            s, owner, filename=f"{name}.csv", content=data, locale="fi"
                        )
                    )
                    assert check["problem_count"] == 0, check["problems"][:3]
                    apply_time, apply_cpu, done = run_job(
                        lambda s, token=check["token"]: import_jobs.start_apply(s, owner, token=token, locale="fi")
                    )
                    timings.setdefault(f"preview, {name}", []).append(check_time)
                    timings.setdefault(f"apply, {name}", []).append(apply_time)
                    cpu_times.setdefault(f"preview, {name}", []).append(check_cpu)
                    cpu_times.setdefault(f"apply, {name}", []).append(apply_cpu)
                    summary = ", ".join(
                        f"{key}={done[key]}"
                        for key in ("sites_created", "sites_updated", "openings_created", "openings_updated")
                    )
                    print(
                        f"  {name:<9} preview {check_time:5.2f} s (CPU {check_cpu:4.2f}), "
                        f"apply {apply_time:5.2f} s (CPU {apply_cpu:4.2f}) ({summary})",
                        flush=True,
                    )
                reset(db.session)
        finally:
            reset(db.session)
    print(f"Machine after: {machine()}")
    for name, times in timings.items():
        budget = BUDGETS[name.split(",")[0]]
        median = statistics.median(times)
        verdict = "OK" if median <= budget else "OVER BUDGET"
        print(
            f"{name:<20} median {median:6.2f} s  (min {min(times):.2f}, max {max(times):.2f}, n={len(times)};"
            f" CPU median {statistics.median(cpu_times[name]):.2f} s)  budget {budget:.0f} s {verdict}"
        )


if __name__ == "__main__":
    main()
