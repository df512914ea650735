"""What the job worker does on its own between jobs (docs/rules.md §16.5): it sends the
e-mail waiting in the outbox, and once a day, from DAILY_NOTICES_HOUR Finnish time, queues
the day's notices as a job (one per day, however many workers run).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from placements import clock, unit_of_work
from placements.services import jobs, outbox, reminders

log = logging.getLogger(__name__)

DAILY_NOTICES = "daily_notices"


@jobs.handler(DAILY_NOTICES)
def daily_notices(context: jobs.JobContext) -> dict:
    """Starts, ends, waiting proposals, the weekly stale lists and the daily summaries."""
    report = reminders.run_daily(context.session, stale_after_days=context.config["STALE_AFTER_DAYS"])
    return {"counts": report.counts}


def daily_key(now: datetime) -> str:
    return f"{DAILY_NOTICES}:{now.astimezone(clock.HELSINKI).date().isoformat()}"


def queue_daily_notices(app, now: datetime | None = None) -> bool:
    """Queue today's notices if it is time and nobody has; whether this call queued them."""
    now = now or clock.now()
    if now.astimezone(clock.HELSINKI).hour < int(app.config.get("DAILY_NOTICES_HOUR", 7)):
        return False
    session = Session(jobs._engine())
    try:
        with unit_of_work.work(session):
            key = daily_key(now)
            if jobs.find_by_key(session, key) is not None:
                return False
            jobs.enqueue(session, DAILY_NOTICES, owner=None, key=key)
        return True
    except IntegrityError:  # another worker queued it at the same moment
        return False
    finally:
        session.close()


class Duties:
    """The worker's own errands, run while it has no job: mail every MAIL_SEND_SECONDS."""

    def __init__(self, app):
        self.app = app
        self.mail_sent_at = 0.0

    def run(self) -> None:
        with self.app.app_context():
            queue_daily_notices(self.app)
            interval = int(self.app.config.get("MAIL_SEND_SECONDS", 10))
            if time.monotonic() - self.mail_sent_at >= interval:
                self.mail_sent_at = time.monotonic()
                session = Session(jobs._engine())
                try:
                    report = outbox.send_pending(session, config=self.app.config, instance_path=self.app.instance_path)
                    if report.sent or report.failed:
                        log.info("Mail: %s sent, %s to retry, %s failed", report.sent, report.retried, report.failed)
                finally:
                    session.close()
