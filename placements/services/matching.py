"""Matching openings to a client's needs (docs/rules.md §7).

``match_openings`` is a pure function of the needs, the client's approximate home and the
openings (with their sites loaded): every hard filter is a named check, every opening gets
either a 0–100 score with reasons, or the list of filters it failed. ``candidate_query``
is the SQL prefilter (type, status, a bounding box) that keeps it fast at national scale.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from placements import geo
from placements.models import Opening, Site
from placements.models.site import count_free_places
from placements.services import catalogue

DEMAND_ORDER = {"light": 0, "moderate": 1, "heavy": 2}
INTENSITY_ORDER = {"low": 0, "medium": 1, "high": 2}
# Weights of the score's parts; they add up to 100.
TASK_POINTS, DISTANCE_POINTS, SUPPORT_POINTS, FRESHNESS_POINTS = 40, 30, 15, 15
HELPFUL_SUPPORTS = ("work_instructor", "job_coach", "peer_support", "gradual_start")

# The best matches that get their reasons spelled out (the page shows no more than these).
REASONED = 50

# Hard filters, in the order they are checked and explained.
FILTERS = (
    "type",
    "status",
    "free_place",
    "accessibility",
    "supports",
    "physical_demand",
    "social_intensity",
    "schedule",
    "distance",
    "public_transport",
    "language",
)


@dataclass(frozen=True)
class NeedsView:
    """What matching reads from the needs; built from a Needs row or by tests."""

    wanted_types: tuple[str, ...]
    task_areas: tuple[str, ...] = ()
    days_per_week: int = 5
    hours_per_day: float = 8
    max_travel_km: float = 50
    needs_public_transport: bool = False
    accessibility: tuple[str, ...] = ()
    supports: tuple[str, ...] = ()
    max_physical_demand: str = "heavy"
    max_social_intensity: str = "high"
    languages: tuple[str, ...] = ("fi",)

    @classmethod
    def of(cls, needs) -> NeedsView:
        return cls(**{name: getattr(needs, name) for name in cls.__dataclass_fields__})


@dataclass
class Evaluation:
    opening: Opening
    home: tuple[float, float]
    estimate_km: float  # spherical; within 0.5 % of the geodesic, used for scoring and order
    failed: list[str] = field(default_factory=list)
    score: int = 0
    reasons: list[tuple[str, dict]] = field(default_factory=list)  # (reason code, values)
    details: list[tuple[str, dict]] = field(default_factory=list)  # (failed filter, what it compared)
    waiting_list: bool = False
    _geodesic: float | None = None

    @property
    def matches(self) -> bool:
        return not self.failed

    @property
    def distance_km(self) -> float:
        """The straight-line geodesic distance, computed when first shown."""
        if self._geodesic is None:
            self._geodesic = geo.geodesic_km(self.home, (self.opening.site.latitude, self.opening.site.longitude))
        return self._geodesic


@dataclass
class CandidateSite:
    id: int
    name: str
    latitude: float
    longitude: float
    accessibility: tuple[str, ...]
    street_address: str = ""
    postal_code: str = ""
    municipality_code: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    archived_at: datetime | None = None


@dataclass
class Candidate:
    """An opening as matching and the matches page need it, read without the ORM."""

    id: int
    site_id: int
    title: str
    type: str
    status: str
    task_areas: tuple[str, ...]
    days_per_week_min: int
    days_per_week_max: int
    hours_per_day_min: float
    hours_per_day_max: float
    places_total: int
    places_external: int
    places_taken: int
    supports: tuple[str, ...]
    physical_demand: str
    social_intensity: str
    languages: tuple[str, ...]
    last_confirmed_at: datetime
    archived_at: datetime | None
    site: CandidateSite

    @property
    def free_places(self) -> int:
        return count_free_places(self.places_total, self.places_external, self.places_taken)


def _failures(
    needs: NeedsView, opening: Opening, home: tuple[float, float], include_full: bool
) -> tuple[list[str], float]:
    """The failed filters and the spherical distance estimate."""
    site = opening.site
    failed = []
    if opening.type not in needs.wanted_types:
        failed.append("type")
    if opening.status != "open" or opening.archived_at is not None or site.archived_at is not None:
        failed.append("status")
    if opening.free_places <= 0 and not include_full:
        failed.append("free_place")
    if not set(needs.accessibility) <= set(site.accessibility):
        failed.append("accessibility")
    if not set(needs.supports) <= set(opening.supports):
        failed.append("supports")
    if DEMAND_ORDER[opening.physical_demand] > DEMAND_ORDER[needs.max_physical_demand]:
        failed.append("physical_demand")
    if INTENSITY_ORDER[opening.social_intensity] > INTENSITY_ORDER[needs.max_social_intensity]:
        failed.append("social_intensity")
    if opening.days_per_week_min > needs.days_per_week or opening.hours_per_day_min > needs.hours_per_day:
        failed.append("schedule")
    inside, distance = geo.within(home, (site.latitude, site.longitude), needs.max_travel_km)
    if not inside:
        failed.append("distance")
    if needs.needs_public_transport and "public_transport_nearby" not in site.accessibility:
        failed.append("public_transport")
    if not set(needs.languages) & set(opening.languages):
        failed.append("language")
    return failed, distance


def _score(needs: NeedsView, opening: Opening, distance: float, now: datetime, stale_after_days: int) -> int:
    wanted = needs.task_areas
    if wanted:
        task = TASK_POINTS * sum(1 for code in wanted if code in opening.task_areas) / len(wanted)
    else:
        task = TASK_POINTS / 2
    near = (
        DISTANCE_POINTS * max(0.0, 1 - distance / needs.max_travel_km) if needs.max_travel_km > 0 else DISTANCE_POINTS
    )
    support = SUPPORT_POINTS * sum(1 for code in HELPFUL_SUPPORTS if code in opening.supports) / len(HELPFUL_SUPPORTS)
    age_days = max((now - opening.last_confirmed_at).total_seconds() / 86400, 0)
    freshness = FRESHNESS_POINTS * max(0.0, 1 - age_days / stale_after_days)
    return round(task + near + support + freshness)


def reasons(needs: NeedsView, evaluation: Evaluation, now: datetime, stale_after_days: int) -> list[tuple[str, dict]]:
    """Why it fits, for the results shown: distance, free places, what matched (✓), staleness."""
    opening = evaluation.opening
    found: list[tuple[str, dict]] = [
        ("distance", {}),
        ("free", {"free": opening.free_places, "total": opening.places_total}),
    ]
    found += [("task", {"code": code}) for code in sorted(set(needs.task_areas) & set(opening.task_areas))]
    found += [("access", {"code": code}) for code in sorted(needs.accessibility)]
    found += [("support", {"code": code}) for code in sorted(needs.supports)]
    if now - opening.last_confirmed_at > timedelta(days=stale_after_days):
        found.append(("stale", {}))
    return found


def match_openings(
    needs: NeedsView,
    openings: Iterable[Opening],
    *,
    home: tuple[float, float],
    now: datetime,
    stale_after_days: int = 60,
    include_full: bool = False,
) -> tuple[list[Evaluation], list[Evaluation]]:
    """(matches best first, excluded). Ties are broken by distance, then by title."""
    matches, excluded = [], []
    for opening in openings:
        failed, estimate = _failures(needs, opening, home, include_full)
        evaluation = Evaluation(
            opening, home, geo.haversine_km(home, (opening.site.latitude, opening.site.longitude)), failed
        )
        if failed:
            excluded.append(evaluation)
            continue
        evaluation.score = _score(needs, opening, evaluation.estimate_km, now, stale_after_days)
        evaluation.waiting_list = opening.free_places <= 0
        matches.append(evaluation)
    matches.sort(key=lambda e: (-e.score, e.estimate_km, e.opening.title))
    for evaluation in matches[:REASONED]:
        evaluation.reasons = reasons(needs, evaluation, now, stale_after_days)
    return matches, excluded


def explain(needs: NeedsView, opening: Opening, *, home: tuple[float, float], include_full: bool = False) -> Evaluation:
    """Why (not) this opening: each failed filter with the values it compared, for "why not
    this one?" (docs/rules.md §7.8)."""
    failed, estimate = _failures(needs, opening, home, include_full)
    evaluation = Evaluation(opening, home, estimate, failed)
    evaluation.details = [(code, _detail(code, needs, evaluation)) for code in failed]
    return evaluation


def _detail(code: str, needs: NeedsView, evaluation: Evaluation) -> dict:
    """What a failed filter compared: the opening's value and the client's requirement, as
    codes and numbers; the page words them in the user's language (docs/rules.md §7.8)."""
    opening, site = evaluation.opening, evaluation.opening.site
    if code == "type":
        return {"type": opening.type, "wanted": tuple(needs.wanted_types)}
    if code == "status":
        archived = opening.archived_at is not None or site.archived_at is not None
        return {"status": "archived" if archived else opening.status}
    if code == "free_place":
        return {"total": opening.places_total}
    if code == "accessibility":
        return {"missing": tuple(c for c in needs.accessibility if c not in site.accessibility)}
    if code == "supports":
        return {"missing": tuple(c for c in needs.supports if c not in opening.supports)}
    if code == "physical_demand":
        return {"demand": opening.physical_demand, "limit": needs.max_physical_demand}
    if code == "social_intensity":
        return {"level": opening.social_intensity, "limit": needs.max_social_intensity}
    if code == "schedule":
        detail = {}
        if opening.days_per_week_min > needs.days_per_week:
            detail["days"] = (opening.days_per_week_min, needs.days_per_week)
        if opening.hours_per_day_min > needs.hours_per_day:
            detail["hours"] = (opening.hours_per_day_min, needs.hours_per_day)
        return detail
    if code == "distance":
        return {"km": round(evaluation.distance_km, 1), "limit": needs.max_travel_km}
    if code == "language":
        return {"offered": tuple(opening.languages), "own": tuple(needs.languages)}
    return {}  # public_transport: the requirement is the whole story


def site_markers(
    evaluations: Iterable[Evaluation], *, now: datetime, stale_after_days: int
) -> list[tuple[float, float, int, str, str]]:
    """One marker per site of the shown matches, in the availability state of the one rule
    of docs/rules.md §8.6 (``catalogue.availability``) decided from the openings shown for it,
    as the map page decides it: ``f`` free and fresh, ``s`` stale, ``x`` full or paused."""
    sites: dict[int, tuple[object, list[bool], list[bool]]] = {}
    for evaluation in evaluations:
        opening = evaluation.opening
        stale = opening.last_confirmed_at < now - timedelta(days=stale_after_days)
        site, fresh_free, stales = sites.setdefault(opening.site_id, (opening.site, [], []))
        fresh_free.append(catalogue.offers_fresh_free_place(opening, stale))
        stales.append(stale)
    return [
        (
            site.latitude,
            site.longitude,
            site_id,
            catalogue.availability(free_and_fresh=any(free), stale=any(stale)),
            site.name,
        )
        for site_id, (site, free, stale) in sites.items()
    ]


@dataclass
class MunicipalityGroup:
    name: str
    openings: list


def why_not_choices(
    openings: Iterable[Opening], municipality_names: dict[str, str], words: str = ""
) -> list[MunicipalityGroup]:
    """The openings of "why not this one?" grouped by the site's municipality (groups by name,
    openings by site name and title), narrowed to those whose site, title or municipality
    contains ``words`` (case-insensitive) when given (docs/rules.md §7.8)."""
    wanted = words.casefold().strip()
    groups: dict[str, list] = {}
    for opening in openings:
        municipality = municipality_names.get(opening.site.municipality_code, opening.site.municipality_code)
        text = f"{opening.site.name} {opening.title} {municipality}".casefold()
        if wanted and wanted not in text:
            continue
        groups.setdefault(municipality, []).append(opening)
    return [
        MunicipalityGroup(name, sorted(items, key=lambda o: (o.site.name.casefold(), o.title.casefold(), o.id)))
        for name, items in sorted(groups.items(), key=lambda item: item[0].casefold())
    ]


def candidate_query(needs: NeedsView, home: tuple[float, float], *, include_full: bool = False):
    """Openings that can pass the hard filters SQL can check cheaply: type, status, free
    places and a latitude/longitude box around the home; the rest is checked in Python."""
    query = (
        select(*CANDIDATE_COLUMNS, *SITE_COLUMNS)
        .join(Site, Site.id == Opening.site_id)
        .where(
            Opening.type.in_(needs.wanted_types),
            Opening.status == "open",
            Opening.archived_at.is_(None),
            Site.archived_at.is_(None),
            *geo.box_conditions(Site.latitude, Site.longitude, home, needs.max_travel_km),
        )
    )
    if not include_full:
        query = query.where(Opening.free_places > 0)
    return query


CANDIDATE_COLUMNS = (
    Opening.id,
    Opening.site_id,
    Opening.title,
    Opening.type,
    Opening.status,
    Opening.task_areas,
    Opening.days_per_week_min,
    Opening.days_per_week_max,
    Opening.hours_per_day_min,
    Opening.hours_per_day_max,
    Opening.places_total,
    Opening.places_external,
    Opening.places_taken,
    Opening.supports,
    Opening.physical_demand,
    Opening.social_intensity,
    Opening.languages,
    Opening.last_confirmed_at,
    Opening.archived_at,
)
SITE_COLUMNS = (
    Site.name,
    Site.latitude,
    Site.longitude,
    Site.accessibility,
    # The address and contacts, so a printed matches page can be handed to the client.
    Site.street_address,
    Site.postal_code,
    Site.municipality_code,
    Site.contact_name,
    Site.contact_phone,
    Site.contact_email,
)


def load_candidates(session, query) -> list[Candidate]:
    """Plain objects from the prefilter's rows: several times faster than ORM entities."""
    size = len(CANDIDATE_COLUMNS)
    candidates = []
    for row in session.execute(query):
        site = CandidateSite(row[1], *row[size:])
        candidates.append(Candidate(*row[:size], site=site))
    return candidates


def run(
    session,
    needs: NeedsView,
    home: tuple[float, float],
    *,
    now: datetime,
    stale_after_days: int,
    include_full: bool = False,
) -> list[Evaluation]:
    """Matches for one client: SQL prefilter, then the hard filters and the score."""
    openings = load_candidates(session, candidate_query(needs, home, include_full=include_full))
    matches, _ = match_openings(
        needs, openings, home=home, now=now, stale_after_days=stale_after_days, include_full=include_full
    )
    return matches


def region_openings(session, home: tuple[float, float], limit: int = 300) -> list[Opening]:
    """The live openings nearest the home, for the "why not this one?" choice (grouped for
    the page by ``why_not_choices``)."""
    scale = math.cos(math.radians(home[0]))
    nearness = (Site.latitude - home[0]) * (Site.latitude - home[0]) + (Site.longitude - home[1]) * (
        Site.longitude - home[1]
    ) * (scale * scale)
    return session.scalars(
        select(Opening)
        .join(Opening.site)
        .options(contains_eager(Opening.site))
        .where(Opening.archived_at.is_(None), Site.archived_at.is_(None))
        .order_by(nearness, Opening.id)
        .limit(limit)
    ).all()
