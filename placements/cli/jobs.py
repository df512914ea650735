"""flask jobs work|list: the worker that runs long work queued by the web app
(docs/rules.md §16)."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from placements.extensions import db
from placements.models import Job
from placements.services import jobs as job_service


@click.group(help="Run and list background jobs (imports, the day's notices) and send the e-mail.")
def jobs() -> None:
    pass


@jobs.command("work", help="Run queued jobs until stopped (SIGTERM or Ctrl-C finish the current job first).")
@click.option("--once", is_flag=True, help="Run the jobs that are waiting, then stop.")
@click.option(
    "--poll",
    type=click.FloatRange(min=0.1, max=60),
    default=1.0,
    show_default=True,
    help="Seconds between looks for new jobs.",
)
@click.option(
    "--jobs-only",
    is_flag=True,
    help="Only run jobs; cron sends the e-mail (flask outbox send) and the day's notices (flask notifications daily).",
)
def work_command(once: bool, poll: float, jobs_only: bool) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("placements").setLevel(logging.INFO)
    stop = threading.Event()

    def finish_then_stop(signum, frame) -> None:
        if stop.is_set():  # asked twice: stop now; the job is run again by the next worker
            raise KeyboardInterrupt
        logging.getLogger(__name__).info("Stopping after the current job")
        stop.set()

    signal.signal(signal.SIGTERM, finish_then_stop)
    signal.signal(signal.SIGINT, finish_then_stop)
    app = current_app._get_current_object()
    count = job_service.work(app, once=once, poll=poll, stop=stop, duties=not jobs_only)
    click.echo(_("Ran %(count)s jobs.", count=count), err=True)


@jobs.command("list", help="The newest jobs with their status and progress.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
def list_command(limit: int) -> None:
    for job in db.session.scalars(select(Job).order_by(Job.id.desc()).limit(limit)):
        created = job.created_at.isoformat(timespec="seconds")
        line = f"{job.id}\t{job.kind}\t{job.status}\t{job.done}/{job.total}\t{job.attempts}\t{created}"
        click.echo(line + (f"\t{job.error}" if job.error else ""))
