"""What the registry sends on its own, once a day (docs/rules.md §15.2): placements starting
tomorrow and ending in two weeks, proposals unanswered for five working days, the weekly
reminder of stale data, survey round reminders 7 and 2 days before the deadline
(§17.3), and the daily summaries. Every step is idempotent: running it
twice on a day tells nobody twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import holidays
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, joinedload

from placements import clock
from placements.models import Notification, Opening, Placement, Site, User
from placements.services import freshness, notifications, outbox, rounds

REMINDER_AFTER_WORKING_DAYS = 5
ENDING_NOTICE_DAYS = 14
STALE_DIGEST_INTERVAL = timedelta(days=7)


@dataclass
class DailyReport:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, number: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + number


def working_days_between(first: date, last: date) -> int:
    """Working days after ``first`` up to and including ``last``: Monday to Friday, Finnish
    public holidays excluded."""
    if last <= first:
        return 0
    finnish = holidays.country_holidays("FI", years=range(first.year, last.year + 1))
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in finnish:
            count += 1
    return count


def _already(session: Session, kind: str, subject_type: str, subject_id, since: datetime | None = None) -> bool:
    condition = [
        Notification.kind == kind,
        Notification.subject_type == subject_type,
        Notification.subject_id == str(subject_id),
    ]
    if since is not None:
        condition.append(Notification.created_at >= since)
    return bool(session.scalar(select(exists().where(*condition))))


def _placements(session: Session, *conditions):
    query = (
        select(Placement)
        .where(*conditions)
        .options(joinedload(Placement.client), joinedload(Placement.opening).joinedload(Opening.site))
        .order_by(Placement.id)
    )
    return session.scalars(query).unique().all()


def _both_sides(session: Session, placement: Placement, kind: str) -> None:
    recipients = notifications.workers_of(placement.client) + notifications.hosts_of(
        session, placement.opening.site.organisation_id
    )
    params = notifications._placement_params(placement)
    notifications.notify(session, recipients, kind, params=params, **notifications._about(placement))


def starting_and_ending(session: Session, today: date, report: DailyReport) -> None:
    tomorrow = today + timedelta(days=1)
    for placement in _placements(session, Placement.status == "active", Placement.start_date == tomorrow):
        if not _already(session, "placement_starting", "placement", placement.id):
            _both_sides(session, placement, "placement_starting")
            report.add("placement_starting")
    in_two_weeks = today + timedelta(days=ENDING_NOTICE_DAYS)
    ending = (Placement.status == "active", Placement.planned_end == in_two_weeks)
    for placement in _placements(session, *ending):
        if not _already(session, "placement_ending", "placement", placement.id):
            _both_sides(session, placement, "placement_ending")
            report.add("placement_ending")


def unanswered_proposals(session: Session, today: date, report: DailyReport) -> None:
    for placement in _placements(session, Placement.status == "proposed"):
        proposed_on = placement.proposed_at.astimezone(clock.HELSINKI).date()
        waited = working_days_between(proposed_on, today)
        if waited < REMINDER_AFTER_WORKING_DAYS or _already(session, "proposal_reminder", "placement", placement.id):
            continue
        hosts = notifications.hosts_of(session, placement.opening.site.organisation_id)
        params = notifications._placement_params(placement) | {"working_days": waited}
        about = notifications._about(placement)
        notifications.notify(session, hosts, "proposal_reminder", params=params, **about)
        workers = notifications.workers_of(placement.client)
        notifications.notify(session, workers, "proposal_unanswered", params=params, **about)
        report.add("proposal_reminder")


def stale_digests(session: Session, now: datetime, stale_after_days: int, report: DailyReport) -> None:
    """One reminder per organisation with stale openings, at most once a week."""
    stale = session.scalars(
        freshness.stale_query(stale_after_days, now)
        .options(joinedload(Opening.site).joinedload(Site.organisation))
        .order_by(Site.organisation_id, Site.name, Opening.title)
    ).all()
    by_organisation: dict[int, list[Opening]] = {}
    for opening in stale:
        by_organisation.setdefault(opening.site.organisation_id, []).append(opening)
    hosts = freshness.hosts_of(session, list(by_organisation)) if by_organisation else {}
    for organisation_id, openings in by_organisation.items():
        if not hosts.get(organisation_id):
            continue
        if _already(session, "stale_digest", "organisation", organisation_id, since=now - STALE_DIGEST_INTERVAL):
            continue
        params = {
            "organisation": openings[0].site.organisation.name,
            "openings": [
                {
                    "id": o.id,
                    "title": o.title,
                    "site": o.site.name,
                    "free": o.free_places,
                    "total": o.places_total,
                    "confirmed_at": o.last_confirmed_at.isoformat(),
                }
                for o in openings
            ],
        }
        notifications.notify(
            session,
            hosts[organisation_id],
            "stale_digest",
            subject_type="organisation",
            subject_id=organisation_id,
            params=params,
            link="/my/sites",
        )
        report.add("stale_digest")


def daily_summaries(session: Session, report: DailyReport) -> None:
    """One e-mail per user with everything they chose to get as a daily summary."""
    waiting = session.scalars(
        select(Notification).where(Notification.email == "digest").order_by(Notification.recipient_id, Notification.id)
    ).all()
    by_user: dict[int, list[Notification]] = {}
    for notification in waiting:
        by_user.setdefault(notification.recipient_id, []).append(notification)
    for user_id, items in by_user.items():
        user = session.get(User, user_id)
        if user is None or not user.active:
            for item in items:
                item.email = "none"
            continue
        outbox.queue(session, user, items, kind="daily_summary")
        report.add("daily_summary")


def run_daily(session: Session, *, stale_after_days: int, now: datetime | None = None) -> DailyReport:
    """Everything the day brings, in the caller's unit of work."""
    now = now or clock.now()
    today = now.astimezone(clock.HELSINKI).date()
    report = DailyReport()
    starting_and_ending(session, today, report)
    unanswered_proposals(session, today, report)
    stale_digests(session, now, stale_after_days, report)
    report.add("round_reminder", rounds.automatic_reminders(session, today))
    session.flush()
    daily_summaries(session, report)
    session.flush()
    return report
