"""Deciding what a checked file changes, without writing anything (docs/rules.md §10.4,
§10.6, §10.7, §10.9).

The stored sites, openings and organisations the file names are read as plain rows in a
few queries and every decision is made in Python; ``apply.write`` then carries the plan
out with a handful of bulk statements. The preview shows the same plan, so it counts
exactly what the import would do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from operator import itemgetter

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from placements.models import Opening, Organisation, Site
from placements.services.capacity import Snapshot
from placements.services.geocoding import Geocoder
from placements.services.importer.result import ImportResult, SiteChange
from placements.services.importer.validate import SiteGroup
from placements.services.search_text import compose
from placements.services.site_csv import Problem

# Site columns the file sets (besides the organisation, the archive mark and the search text).
SITE_FIELDS = (
    "name",
    "street_address",
    "postal_code",
    "municipality_code",
    "latitude",
    "longitude",
    "geocode_precision",
    "accessibility",
    "contact_name",
    "contact_phone",
    "contact_email",
    "description",
)
OPENING_FIELDS = (
    "type",
    "title",
    "task_areas",
    "days_per_week_min",
    "days_per_week_max",
    "hours_per_day_min",
    "hours_per_day_max",
    "places_total",
    "places_external",
    "supports",
    "physical_demand",
    "social_intensity",
    "languages",
    "status",
)
# Stored rows are read as plain Core rows (table columns, no ORM loading); the fields the file
# sets come first after the keys, so that one tuple comparison tells whether a row changes.
_SITES, _OPENINGS = Site.__table__.c, Opening.__table__.c
_STORED_SITE = (
    _SITES.id,
    _SITES.site_ref,
    *(_SITES[name] for name in SITE_FIELDS),
    _SITES.organisation_id,
    _SITES.archived_at.is_not(None).label("archived"),
    _SITES.version,
    _SITES.search_text,
)
_SITE_FIELDS_AT = slice(2, 2 + len(SITE_FIELDS))
_STORED_OPENING = (
    _OPENINGS.id,
    _OPENINGS.site_id,
    *(_OPENINGS[name] for name in OPENING_FIELDS),
    _OPENINGS.places_taken,
    _OPENINGS.archived_at.is_not(None).label("archived"),
    _OPENINGS.last_confirmed_at,
    _OPENINGS.version,
)
_OPENING_FIELDS_AT = slice(2, 2 + len(OPENING_FIELDS))
_opening_fields = itemgetter(*OPENING_FIELDS)
_CHUNK = 2000  # values in one IN (…)

Progress = Callable[[int], None]


@dataclass
class Plan:
    """Everything the file changes, as values ready for bulk statements."""

    result: ImportResult
    now: datetime
    organisation_ids: dict[str, int] = field(default_factory=dict)  # stored organisations by name
    new_organisations: dict[str, str] = field(default_factory=dict)  # name -> kind
    organisation_kinds: list[dict] = field(default_factory=list)  # {"id", "kind"} where the kind changes
    # new sites' values; "organisation" holds the name until the organisation has an id
    new_sites: list[dict] = field(default_factory=list)
    # changed sites: "id", "version" (as read) and every column the file sets
    site_updates: list[dict] = field(default_factory=list)
    # sites whose only change is the search text (an opening's title): no new version
    search_updates: list[dict] = field(default_factory=list)
    # (site_ref, the stored site's id or None for a new site, values)
    new_openings: list[tuple[str, int | None, dict]] = field(default_factory=list)
    # changed or archived openings: the mapping ("id", "version" as read, new values), the
    # capacity before the change, and whether a capacity event is due even without a change
    opening_updates: list[tuple[dict, Snapshot, bool]] = field(default_factory=list)


@dataclass
class Stored:
    sites: dict[str, object]  # site_ref -> row
    openings: dict[int, list]  # site id -> rows, oldest first


def load_stored(session: Session, refs: list[str]) -> Stored:
    """The stored sites the file names, and all their openings (also archived ones)."""
    sites: dict[str, object] = {}
    for start in range(0, len(refs), _CHUNK):
        query = select(*_STORED_SITE).where(_SITES.site_ref.in_(refs[start : start + _CHUNK]))
        sites.update({row.site_ref: row for row in session.execute(query)})
    ids = sorted(row.id for row in sites.values())
    openings: dict[int, list] = {}
    for start in range(0, len(ids), _CHUNK):
        query = select(*_STORED_OPENING).where(_OPENINGS.site_id.in_(ids[start : start + _CHUNK]))
        for row in session.execute(query.order_by(_OPENINGS.id)):
            openings.setdefault(row.site_id, []).append(row)
    return Stored(sites, openings)


def check_against_database(groups: list[SiteGroup], stored: Stored, problems: list[Problem]) -> None:
    """Problems only the stored data reveals: capacity below active placements (§10.4)."""
    for group in groups:
        site = stored.sites.get(group.site_ref)
        if site is None:
            continue
        in_file = {(o.values["type"], o.values["title"]): o for o in group.openings}
        for opening in stored.openings.get(site.id, ()):
            if opening.archived:
                continue
            row = in_file.get((opening.type, opening.title))
            if row is None:
                if opening.places_taken:
                    problems.append(
                        Problem(
                            group.row,
                            "opening_title",
                            _(
                                "The opening “%(title)s” of site %(ref)s is missing from the file but has %(count)s "
                                "active placements; end them first or keep the row.",
                                title=opening.title,
                                ref=group.site_ref,
                                count=opening.places_taken,
                            ),
                        )
                    )
                continue
            total, external = row.values["places_total"], row.values["places_external"]
            if total is not None and external is not None and opening.places_taken + external > total:
                problems.append(
                    Problem(
                        row.row,
                        "places_total",
                        _(
                            "The opening has %(taken)s active placements, "
                            "so total places minus outside participants cannot be less than that.",
                            taken=opening.places_taken,
                        ),
                    )
                )


def _stored_organisations(session: Session, names: list[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(names), _CHUNK):
        query = select(Organisation.id, Organisation.name, Organisation.kind).where(
            Organisation.name.in_(names[start : start + _CHUNK])
        )
        found.update({name: (id_, kind) for id_, name, kind in session.execute(query)})
    return found


def _confirmation(confirmed: date) -> datetime:
    return datetime.combine(confirmed, time(12), tzinfo=UTC)


def make_plan(
    session: Session,
    groups: list[SiteGroup],
    stored: Stored,
    result: ImportResult,
    now: datetime,
    geocoder: Geocoder,
    progress: Progress | None = None,
) -> Plan:
    """Decide every change; ``progress`` is told how many rows have been planned."""
    plan = Plan(result=result, now=now)
    names = list(dict.fromkeys(group.values["organisation"] for group in groups))
    organisations = _stored_organisations(session, names)
    for group in groups:
        name, kind = group.values["organisation"], group.values["organisation_kind"]
        if name in organisations:
            id_, stored_kind = organisations[name]
            plan.organisation_ids[name] = id_
            if stored_kind != kind and name not in plan.new_organisations:
                plan.organisation_kinds.append({"id": id_, "kind": kind})
                organisations[name] = (id_, kind)
        else:
            plan.new_organisations.setdefault(name, kind)
    # Locate first, in one pass: the geocoder reads its cache for all addresses at once.
    geocoder.prefetch(
        (g.values["street_address"], g.values["postal_code"], g.values["municipality_code"])
        for g in groups
        if g.values["latitude"] is None
    )
    planned = 0
    for group in groups:
        _plan_site(plan, group, stored, geocoder)
        planned += len(group.openings)
        if progress is not None:
            progress(planned)
    return plan


def _plan_site(plan: Plan, group: SiteGroup, stored: Stored, geocoder: Geocoder) -> None:
    result, values = plan.result, group.values
    site = stored.sites.get(group.site_ref)
    latitude, longitude = values["latitude"], values["longitude"]
    if latitude is None:
        location = geocoder.locate(values["street_address"], values["postal_code"], values["municipality_code"])
        latitude, longitude, precision = location.latitude, location.longitude, location.precision
    elif site is not None and (site.latitude, site.longitude) == (latitude, longitude):
        precision = site.geocode_precision  # unchanged coordinates keep how they were found (§10.7)
    else:
        precision = "manual"
    columns = {
        "name": values["site_name"],
        "street_address": values["street_address"],
        "postal_code": values["postal_code"],
        "municipality_code": values["municipality_code"],
        "latitude": latitude,
        "longitude": longitude,
        "geocode_precision": precision,
        "accessibility": values["accessibility"],
        "contact_name": values["contact_name"],
        "contact_phone": values["contact_phone"],
        "contact_email": values["contact_email"],
        "description": values["description"],
    }
    organisation = values["organisation"]
    organisation_id = plan.organisation_ids.get(organisation)  # None: created by this import
    before = (result.openings_created, result.openings_updated, result.openings_archived)
    titles = _plan_openings(plan, group, site, stored)
    created, updated, archived = (
        after - earlier
        for after, earlier in zip(
            (result.openings_created, result.openings_updated, result.openings_archived), before, strict=True
        )
    )
    search = compose(columns["name"], organisation, columns["street_address"], columns["description"], titles)
    if site is None:
        plan.new_sites.append(
            {"site_ref": group.site_ref, "organisation": organisation, **columns, "search_text": search}
        )
        result.sites_created += 1
        result.new_sites.append(
            SiteChange(group.site_ref, columns["name"], columns["municipality_code"], openings_created=created)
        )
        return
    changed = (
        organisation_id is None
        or organisation_id != site.organisation_id
        or site.archived
        or tuple(columns.values()) != site[_SITE_FIELDS_AT]  # columns follow SITE_FIELDS
    )
    if changed:
        plan.site_updates.append(
            {
                "id": site.id,
                "version": site.version,
                "organisation": organisation,
                **columns,
                "archived_at": None,
                "search_text": search,
            }
        )
    elif search != site.search_text:
        plan.search_updates.append({"id": site.id, "search_text": search})
    if changed or created or updated or archived:
        result.sites_updated += 1
        stored_columns = zip(SITE_FIELDS, site[_SITE_FIELDS_AT], strict=True)
        fields = [name for name, column in stored_columns if column != columns[name]]
        if organisation_id is None or organisation_id != site.organisation_id:
            fields.insert(0, "organisation")
        result.changed_sites.append(
            SiteChange(
                group.site_ref,
                columns["name"],
                columns["municipality_code"],
                fields=tuple(name for name in fields if name not in ("latitude", "longitude", "geocode_precision"))
                + (("location",) if {"latitude", "longitude"} & set(fields) else ()),
                restored=bool(site.archived),
                openings_created=created,
                openings_updated=updated,
                openings_archived=archived,
            )
        )
    else:
        result.sites_unchanged += 1


def _plan_openings(plan: Plan, group: SiteGroup, site, stored: Stored) -> list[str]:
    """Plan the site's openings; returns the titles of its live openings afterwards, in the
    order the site lists them (oldest first)."""
    result, now = plan.result, plan.now
    current = {(o.type, o.title): o for o in (stored.openings.get(site.id, ()) if site is not None else ())}
    seen: set[tuple[str, str]] = set()
    new_titles: list[str] = []
    for row in group.openings:
        values = row.values
        key = (values["type"], values["title"])
        seen.add(key)
        confirmed = values["last_confirmed"]
        opening = current.get(key)
        if opening is None:
            fields = {name: values[name] for name in OPENING_FIELDS}
            fields["places_taken"] = 0
            fields["last_confirmed_at"] = _confirmation(confirmed) if confirmed is not None else now
            plan.new_openings.append((group.site_ref, site.id if site is not None else None, fields))
            result.openings_created += 1
            new_titles.append(values["title"])
            continue
        wanted, stored_fields = _opening_fields(values), opening[_OPENING_FIELDS_AT]
        differing = [] if wanted == stored_fields else [n for n in OPENING_FIELDS if getattr(opening, n) != values[n]]
        changed = opening.archived or bool(differing)
        if changed:
            result.openings_updated += 1
            result.changes.append(
                (
                    group.site_ref,
                    opening.title,
                    tuple(
                        f"{name}: {_shown(getattr(opening, name))} → {_shown(values[name])}"
                        for name in differing
                        if name not in ("type", "title")
                    ),
                )
            )
        last_confirmed = opening.last_confirmed_at
        if confirmed is not None:
            # A file never moves a confirmation back: a host may have confirmed since the export.
            if last_confirmed is None or last_confirmed.date() < confirmed:
                last_confirmed = _confirmation(confirmed)
        elif changed:
            last_confirmed = now
        if changed or last_confirmed != opening.last_confirmed_at:
            mapping = {"id": opening.id, "version": opening.version, "archived_at": None}
            mapping.update({name: values[name] for name in OPENING_FIELDS})
            mapping["last_confirmed_at"] = last_confirmed
            plan.opening_updates.append((mapping, _snapshot(opening), False))
    for key, opening in current.items():
        if key not in seen and not opening.archived:
            mapping = {"id": opening.id, "version": opening.version, "archived_at": now, "status": "closed"}
            plan.opening_updates.append((mapping, _snapshot(opening), True))
            result.openings_archived += 1
    kept = [opening.title for key, opening in current.items() if key in seen]
    return kept + new_titles


def _shown(value) -> str:
    """A value in a change line: code lists joined as in the file, nothing as "–"."""
    if value is None or value == "":
        return "–"
    if isinstance(value, list | tuple):
        return "|".join(str(item) for item in value) or "–"
    return str(value)


def _snapshot(opening) -> Snapshot:
    return (opening.places_total, opening.places_external, opening.places_taken, opening.status)
