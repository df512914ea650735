"""Searching the catalogue: the filters shared by /sites, /map and the API (docs/rules.md §8),
and the one rule for a site's availability state on the map, the list, the site page and the API
(docs/rules.md §8.6)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from placements import geo
from placements.models import Opening, Site
from placements.models.base import has_code
from placements.services.search_text import normalise_query

PAGE_SIZE = 20


@dataclass(frozen=True)
class SiteFilters:
    q: str = ""
    municipalities: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    access: tuple[str, ...] = ()
    free_only: bool = False
    near: tuple[float, float] | None = None
    km: float | None = None
    page: int = 1

    @property
    def active(self) -> bool:
        return bool(
            self.q or self.municipalities or self.types or self.tasks or self.access or self.free_only or self.near
        )


# --- availability: the one rule (docs/rules.md §8.6) ---------------------------------------

FREE, FULL, STALE = "f", "x", "s"
# Drawn in this order in the legend; the symbol goes with the shape (static/css/app.css).
AVAILABILITY = {
    FREE: {"label": _l("free places"), "symbol": "✓", "name": "free"},
    FULL: {"label": _l("no free places or paused"), "symbol": "–", "name": "full"},
    STALE: {"label": _l("data out of date"), "symbol": "!", "name": "stale"},
}


def availability(*, free_and_fresh: bool, stale: bool) -> str:
    """A site's availability state from two facts about the openings shown for it:
    does any offer a free place with fresh data, and is any stale (docs/rules.md §8.6).

    ``FREE`` wins over ``STALE``, which wins over ``FULL``. The map (``map_markers``, which
    computes the two facts in SQL), the list rows, the site page, the popup and the API's
    GeoJSON all decide here."""
    if free_and_fresh:
        return FREE
    if stale:
        return STALE
    return FULL


def offers_fresh_free_place(opening: Opening, stale: bool) -> bool:
    """The first fact for one opening: open, a free place, data not stale (§8.6).
    ``map_markers`` has its SQL twin; tests/test_catalogue.py checks that they agree."""
    return opening.status == "open" and opening.free_places > 0 and not stale


@dataclass
class OpeningView:
    opening: Opening
    stale: bool

    @classmethod
    def of(cls, opening: Opening, now: datetime, stale_after_days: int) -> OpeningView:
        return cls(opening, opening.is_stale(now, stale_after_days))

    @property
    def free_and_fresh(self) -> bool:
        return offers_fresh_free_place(self.opening, self.stale)


def site_availability(openings: Iterable[OpeningView]) -> str:
    """The state of a site from the openings shown for it; archived and closed ones never count."""
    shown = [ov for ov in openings if ov.opening.archived_at is None and ov.opening.status != "closed"]
    return availability(free_and_fresh=any(ov.free_and_fresh for ov in shown), stale=any(ov.stale for ov in shown))


@dataclass
class SiteRow:
    site: Site
    openings: list[OpeningView]
    distance_km: float | None = None

    @property
    def free_places(self) -> int:
        return sum(o.opening.free_places for o in self.openings if o.opening.status == "open")

    @property
    def any_stale(self) -> bool:
        return any(o.stale for o in self.openings)

    @property
    def availability(self) -> str:
        return site_availability(self.openings)


@dataclass
class SearchResult:
    rows: list[SiteRow]
    total: int
    page: int
    pages: int
    filters: SiteFilters
    counts_without: dict[str, int] = field(default_factory=dict)


def opening_conditions(filters: SiteFilters) -> list:
    """Conditions on openings: live, not closed, of the wanted types and tasks, free."""
    conditions = [Opening.archived_at.is_(None), Opening.status != "closed"]
    if filters.types:
        conditions.append(Opening.type.in_(filters.types))
    if filters.tasks:
        conditions.append(or_(*(has_code(Opening.task_areas, task) for task in filters.tasks)))
    if filters.free_only:
        conditions += [Opening.status == "open", Opening.free_places > 0]
    return conditions


def site_conditions(filters: SiteFilters) -> list:
    conditions = [Site.archived_at.is_(None)]
    if filters.municipalities:
        conditions.append(Site.municipality_code.in_(filters.municipalities))
    for code in filters.access:
        conditions.append(has_code(Site.accessibility, code))
    if filters.q.strip():
        conditions.append(Site.search_text.like(f"%{normalise_query(filters.q)}%", escape="\\"))
    if filters.near and filters.km:
        conditions += geo.box_conditions(Site.latitude, Site.longitude, filters.near, filters.km)
    return conditions


def matching_sites(filters: SiteFilters):
    """SELECT of live sites with at least one opening that passes the filters."""
    has_opening = exists().where(Opening.site_id == Site.id, *opening_conditions(filters))
    return select(Site.id, Site.name, Site.latitude, Site.longitude).where(*site_conditions(filters), has_opening)


def matching_site_ids(session: Session, filters: SiteFilters) -> Select | list[int]:
    """The ids of every matching site: a subquery, or a list when a distance decides."""
    query = matching_sites(filters)
    if not (filters.near and filters.km):
        return query.with_only_columns(Site.id)
    return [
        site_id
        for site_id, _, lat, lon in session.execute(query)
        if geo.within(filters.near, (lat, lon), filters.km)[0]
    ]


def search(
    session: Session, filters: SiteFilters, *, now: datetime, stale_after_days: int, page_size: int = PAGE_SIZE
) -> SearchResult:
    """One page of matching sites with their matching openings; by distance when ``near``."""
    query = matching_sites(filters)
    if filters.near:
        candidates = []
        for site_id, name, lat, lon in session.execute(query):
            if filters.km:
                inside, km = geo.within(filters.near, (lat, lon), filters.km)
                if not inside:
                    continue
            else:
                km = geo.haversine_km(filters.near, (lat, lon))
            candidates.append((km, name, site_id))
        candidates.sort()
        total = len(candidates)
        page, pages = _page(filters.page, total, page_size)
        chosen = candidates[(page - 1) * page_size : page * page_size]
        ids = [site_id for _, _, site_id in chosen]
    else:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        page, pages = _page(filters.page, total, page_size)
        ids = session.scalars(
            query.with_only_columns(Site.id)
            .order_by(Site.name, Site.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        ).all()
    rows = _load_rows(session, ids, filters, now, stale_after_days)
    if filters.near:
        # Shown distances are geodesic, computed for this page only.
        for row in rows:
            row.distance_km = geo.geodesic_km(filters.near, (row.site.latitude, row.site.longitude))
    return SearchResult(rows=rows, total=total, page=page, pages=pages, filters=filters)


def _page(requested: int, total: int, page_size: int) -> tuple[int, int]:
    pages = max(1, math.ceil(total / page_size))
    return min(max(requested, 1), pages), pages


def _load_rows(
    session: Session, ids: list[int], filters: SiteFilters, now: datetime, stale_after_days: int
) -> list[SiteRow]:
    if not ids:
        return []
    sites = (
        session.scalars(
            select(Site)
            .where(Site.id.in_(ids))
            .options(selectinload(Site.openings), joinedload(Site.organisation), joinedload(Site.municipality))
        )
        .unique()
        .all()
    )
    by_id = {site.id: site for site in sites}
    rows = []
    for site_id in ids:
        site = by_id[site_id]
        openings = [OpeningView.of(o, now, stale_after_days) for o in site.openings if opening_matches(o, filters)]
        rows.append(SiteRow(site, openings))
    return rows


def opening_matches(opening: Opening, filters: SiteFilters) -> bool:
    """The Python twin of ``opening_conditions``, for openings already loaded."""
    if opening.archived_at is not None or opening.status == "closed":
        return False
    if filters.types and opening.type not in filters.types:
        return False
    if filters.tasks and not set(filters.tasks) & set(opening.task_areas):
        return False
    if filters.free_only and (opening.status != "open" or opening.free_places <= 0):
        return False
    return True


def loosen_suggestions(session: Session, filters: SiteFilters) -> list[tuple[str, int]]:
    """For an empty result: how many sites each filter, removed alone, would bring back."""
    suggestions = []
    for name, relaxed in (
        ("q", {"q": ""}),
        ("municipality", {"municipalities": ()}),
        ("type", {"types": ()}),
        ("task", {"tasks": ()}),
        ("access", {"access": ()}),
        ("free", {"free_only": False}),
        ("near", {"near": None, "km": None}),
    ):
        loosened = SiteFilters(**{**filters.__dict__, **relaxed})
        if loosened == filters:
            continue
        count = count_matching(session, loosened)
        if count:
            suggestions.append((name, count))
    return suggestions


def count_matching(session: Session, filters: SiteFilters) -> int:
    ids = matching_site_ids(session, filters)
    if isinstance(ids, list):
        return len(ids)
    return session.scalar(select(func.count()).select_from(ids.subquery()))


# --- map markers ------------------------------------------------------------------------


def map_markers(session: Session, filters: SiteFilters, *, now: datetime, stale_after_days: int) -> list[list]:
    """``[lat, lon, site_id, availability, name]`` for every matching site, one grouped query.

    availability (``availability()``, §8.6): ``f`` free places in data confirmed recently,
    ``s`` data stale, ``x`` no free places (full or paused). Plain lists, so they can go into
    the page or a JSON response as they are.
    """
    conditions = opening_conditions(filters)
    stale_before = now - timedelta(days=stale_after_days)
    # The SQL twins of offers_fresh_free_place() and Opening.is_stale(), aggregated per site.
    fresh_free = case(
        (and_(Opening.status == "open", Opening.free_places > 0, Opening.last_confirmed_at >= stale_before), 1), else_=0
    )
    stale = case((Opening.last_confirmed_at < stale_before, 1), else_=0)
    query = (
        select(Site.latitude, Site.longitude, Site.id, func.max(fresh_free), func.max(stale), Site.name)
        .join(Opening, Opening.site_id == Site.id)
        .where(*site_conditions(filters), *conditions)
        .group_by(Site.id, Site.latitude, Site.longitude, Site.name)
    )
    markers = []
    for lat, lon, site_id, has_free, has_stale, name in session.execute(query):
        if filters.near and filters.km and not geo.within(filters.near, (lat, lon), filters.km)[0]:
            continue
        state = availability(free_and_fresh=bool(has_free), stale=bool(has_stale))
        markers.append([round(lat, 5), round(lon, 5), site_id, state, name])
    return markers


def markers_version(session: Session, *, now: datetime, stale_after_days: int) -> tuple:
    """What the map's marker data depends on, read from indexes only (no table scan): for
    sites and openings, how many there are, their latest change and the sum of their row
    versions (every edit, archiving, capacity change, confirmation and placement counter
    update raises a version), and the last confirmation of the openings stale now (the only
    input that changes with the clock: it moves whenever another opening turns stale).
    Equal versions give equal ``map_markers`` for the same filters, so the map's data can be
    answered "not modified" (docs/rules.md §8.6, §11.7)."""
    stale_before = now - timedelta(days=stale_after_days)
    sites = session.execute(select(func.count(), func.max(Site.updated_at), func.sum(Site.version))).one()
    openings = session.execute(select(func.count(), func.max(Opening.updated_at), func.sum(Opening.version))).one()
    newest_stale = session.scalar(
        select(func.max(Opening.last_confirmed_at)).where(Opening.last_confirmed_at < stale_before)
    )
    return (*sites, *openings, newest_stale, stale_after_days)
