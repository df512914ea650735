"""The job worker's own errands (docs/rules.md §16.5): e-mail goes out, and the day's notices
are queued once a day, however many workers run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from placements import clock
from placements.models import Job, Notification
from placements.services import schedule
from tests.conftest import run_jobs
from tests.mail_server import MailServer


def test_the_days_notices_are_queued_once_from_the_configured_hour(app, db, build):
    site = build.site()
    host = build.user("host", organisation=site.organisation)
    site.openings[0].last_confirmed_at = clock.now() - timedelta(days=90)
    db.session.commit()
    app.config["DAILY_NOTICES_HOUR"] = 7
    early = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)  # 6.30 in Finland
    later = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 8.00 in Finland

    assert schedule.queue_daily_notices(app, early) is False
    assert schedule.queue_daily_notices(app, later) is True
    assert schedule.queue_daily_notices(app, later + timedelta(hours=3)) is False  # the same day
    jobs = db.session.scalars(select(Job).where(Job.kind == schedule.DAILY_NOTICES)).all()
    assert [job.key for job in jobs] == ["daily_notices:2026-12-01"]

    assert run_jobs() == 1
    db.session.expire_all()
    assert db.session.scalar(select(Job.status).where(Job.kind == schedule.DAILY_NOTICES)) == "done"
    kinds = db.session.scalars(select(Notification.kind).where(Notification.recipient_id == host.id)).all()
    assert kinds == ["stale_digest"]
    assert schedule.queue_daily_notices(app, later + timedelta(days=1)) is True  # the next day


def test_the_worker_sends_the_waiting_mail_between_jobs(app, db, build):
    server = MailServer().start()
    try:
        app.config.update(server.config() | {"MAIL_SEND_SECONDS": 0, "DAILY_NOTICES_HOUR": 24})
        site = build.site()
        host = build.user("host", organisation=site.organisation)
        worker = build.user("social_worker")
        client = build.client(worker)
        build.placement(client, site.openings[0], worker)
        host_email = host.email
        db.session.remove()

        schedule.Duties(app).run()

        assert len(server.wait_for(host_email)) == 1
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0  # no daily job before its hour
    finally:
        server.stop()
