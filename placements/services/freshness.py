"""Freshness (docs/rules.md §4): which openings are stale and whom to remind."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from placements.models import Opening, Site, User


@dataclass
class StaleReport:
    openings: list[Opening]
    hosts: dict[int, list[User]]  # organisation id -> its active hosts
    total: int


def stale_query(stale_after_days: int, now: datetime):
    """Live openings not confirmed within ``stale_after_days``."""
    before = now - timedelta(days=stale_after_days)
    live = (Opening.archived_at.is_(None), Site.archived_at.is_(None))
    return select(Opening).join(Opening.site).where(*live, Opening.last_confirmed_at < before)


def hosts_of(session: Session, organisation_ids) -> dict[int, list[User]]:
    """The active hosts of each organisation, by name."""
    query = select(User).where(User.role == "host", User.active.is_(True)).order_by(User.name)
    if organisation_ids is not None:
        query = query.where(User.organisation_id.in_(organisation_ids))
    hosts: dict[int, list[User]] = {}
    for host in session.scalars(query):
        hosts.setdefault(host.organisation_id, []).append(host)
    return hosts


def stale_openings(session: Session, *, stale_after_days: int, now: datetime, limit: int | None = None) -> StaleReport:
    """The stale openings, oldest first (at most ``limit``), with the hosts to remind."""
    query = stale_query(stale_after_days, now)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    loaded = query.options(joinedload(Opening.site).joinedload(Site.organisation)).order_by(Opening.last_confirmed_at)
    openings = session.scalars(loaded.limit(limit) if limit else loaded).all()
    hosts = hosts_of(session, {o.site.organisation_id for o in openings}) if openings else {}
    return StaleReport(list(openings), hosts, total)


STALE_REPORT_COLUMNS = (
    "organisation",
    "host_name",
    "host_email",
    "site_ref",
    "site_name",
    "opening_title",
    "last_confirmed",
    "days_since_confirmed",
    "site_contact_email",
)


def stale_rows(session: Session, *, stale_after_days: int, now: datetime) -> Iterator[dict[str, object]]:
    """One row per stale opening and host of its organisation (an empty host when none)."""
    query = stale_query(stale_after_days, now).options(joinedload(Opening.site).joinedload(Site.organisation))
    openings = session.scalars(query.order_by(Site.organisation_id, Opening.last_confirmed_at)).all()
    hosts = hosts_of(session, None)
    for opening in openings:
        site = opening.site
        for host in hosts.get(site.organisation_id) or [None]:
            yield {
                "organisation": site.organisation.name,
                "host_name": host.name if host else "",
                "host_email": host.email if host else "",
                "site_ref": site.site_ref,
                "site_name": site.name,
                "opening_title": opening.title,
                "last_confirmed": opening.last_confirmed_at.date().isoformat(),
                "days_since_confirmed": (now - opening.last_confirmed_at).days,
                "site_contact_email": site.contact_email,
            }
