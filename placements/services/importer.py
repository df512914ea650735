"""Importing the site CSV: validate every row, then apply all of it or nothing.

The service only flushes; the caller commits (or rolls back) the transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from placements import codes
from placements.models import Municipality, Opening, Organisation, PostalCode, Site
from placements.services import audit, capacity
from placements.services.csv_safety import restore
from placements.services.geocoding import Geocoder
from placements.services.search_text import search_text
from placements.services.site_csv import MULTI_SEPARATOR, SITE_COLUMNS, Problem, parse
from placements.services.validation import (
    EMAIL,
    LANGUAGE_CODE,
    inside_finland,
    postal_code_problem,
    schedule_problems,
)

SITE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
TEXT_LIMITS = {
    "organisation": 200,
    "site_name": 200,
    "street_address": 200,
    "contact_name": 200,
    "contact_phone": 40,
    "contact_email": 254,
    "opening_title": 200,
    "description": 4000,
}
REQUIRED = (
    "site_ref", "organisation", "organisation_kind", "site_name", "street_address",
    "postal_code", "municipality_code", "opening_type", "opening_title", "task_areas",
    "days_per_week_min", "days_per_week_max", "hours_per_day_min", "hours_per_day_max",
    "places_total", "physical_demand", "social_intensity", "languages",
)  # fmt: skip


@dataclass
class ImportResult:
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    sites_created: int = 0
    sites_updated: int = 0
    sites_unchanged: int = 0
    openings_created: int = 0
    openings_updated: int = 0
    openings_archived: int = 0
    dry_run: bool = False
    # (site_ref, opening title, "field: old → new" …) for each changed opening, for the preview
    changes: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class OpeningRow:
    row: int
    values: dict[str, object]


@dataclass
class SiteGroup:
    site_ref: str
    row: int
    values: dict[str, object]
    openings: list[OpeningRow] = field(default_factory=list)


class _RowChecker:
    """Turns one row's text cells into typed values, collecting every problem."""

    def __init__(self, row: int, cells: dict[str, str], problems: list[Problem]):
        self.row, self.cells, self.problems = row, cells, problems

    def fail(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.row, column, message))

    def text(self, column: str) -> str:
        value = restore(self.cells.get(column, ""))
        limit = TEXT_LIMITS.get(column)
        if column in REQUIRED and not value:
            self.fail(column, _("A value is required."))
        elif limit and len(value) > limit:
            self.fail(column, _("At most %(limit)s characters.", limit=limit))
        return value

    def code(self, column: str, allowed: dict, default: str | None = None) -> str | None:
        value = self.cells.get(column, "")
        if not value:
            if default is None:
                self.fail(column, _("A value is required."))
            return default
        if value not in allowed:
            self.fail(column, _("Unknown code “%(value)s”. Allowed: %(allowed)s.", value=value, allowed=", ".join(allowed)))
        return value

    def codes(self, column: str, allowed: dict | None, required: bool = False) -> tuple[str, ...]:
        raw = self.cells.get(column, "")
        values = tuple(dict.fromkeys(v.strip() for v in raw.split(MULTI_SEPARATOR) if v.strip()))
        if required and not values:
            self.fail(column, _("At least one value is required."))
        for value in values:
            if allowed is not None and value not in allowed:
                self.fail(column, _("Unknown code “%(value)s”. Allowed: %(allowed)s.", value=value, allowed=", ".join(allowed)))
            elif allowed is None and not LANGUAGE_CODE.match(value):
                self.fail(column, _("“%(value)s” is not a two-letter ISO 639-1 language code such as fi.", value=value))
        return tuple(sorted(values))

    def integer(self, column: str, low: int, high: int, default: int | None = None) -> int | None:
        raw = self.cells.get(column, "")
        if not raw:
            if default is None:
                self.fail(column, _("A value is required."))
            return default
        try:
            value = int(raw)
        except ValueError:
            self.fail(column, _("“%(value)s” is not a whole number.", value=raw))
            return None
        if not low <= value <= high:
            self.fail(column, _("The value must be between %(low)s and %(high)s.", low=low, high=high))
            return None
        return value

    def decimal(self, column: str, low: float, high: float, required: bool = True) -> float | None:
        raw = self.cells.get(column, "").replace(",", ".")
        if not raw:
            if required:
                self.fail(column, _("A value is required."))
            return None
        try:
            value = float(raw)
        except ValueError:
            self.fail(column, _("“%(value)s” is not a number.", value=self.cells.get(column)))
            return None
        if value != value or not low <= value <= high:
            self.fail(column, _("The value must be between %(low)s and %(high)s.", low=low, high=high))
            return None
        return value

    def day(self, column: str) -> date | None:
        raw = self.cells.get(column, "")
        if not raw:
            return None
        for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
            try:
                return datetime.strptime(raw, pattern).date()
            except ValueError:
                continue
        self.fail(column, _("“%(value)s” is not a date (use 27.11.2026 or 2026-11-27).", value=raw))
        return None


def _check_row(number: int, cells: dict[str, str], refs: _References, problems: list[Problem]) -> tuple[dict, dict]:
    c = _RowChecker(number, cells, problems)
    site_ref = cells.get("site_ref", "")
    if not site_ref:
        c.fail("site_ref", _("A value is required."))
    elif not SITE_REF.match(site_ref):
        c.fail("site_ref", _("Use 1–64 letters, digits, dots, hyphens or underscores."))
    municipality = c.code("municipality_code", refs.municipalities)
    postal_code = cells.get("postal_code", "")
    if not postal_code:
        c.fail("postal_code", _("A value is required."))
    else:
        problem = postal_code_problem(postal_code, refs.postal_codes.get(postal_code), municipality, refs.municipalities)
        if problem:
            c.fail("postal_code", problem)
    latitude = c.decimal("latitude", -90, 90, required=False)
    longitude = c.decimal("longitude", -180, 180, required=False)
    has_lat, has_lon = bool(cells.get("latitude")), bool(cells.get("longitude"))
    if has_lat != has_lon:
        c.fail("longitude" if has_lat else "latitude", _("Give both latitude and longitude, or leave both empty."))
    elif latitude is not None and longitude is not None and not inside_finland(latitude, longitude):
        c.fail("latitude", _("The coordinates %(lat)s, %(lon)s are not in Finland (WGS84 decimal degrees).", lat=latitude, lon=longitude))
    email = c.text("contact_email")
    if email and not EMAIL.match(email):
        c.fail("contact_email", _("“%(value)s” is not an e-mail address.", value=email))
    site = {
        "organisation": c.text("organisation"),
        "organisation_kind": c.code("organisation_kind", codes.ORGANISATION_KINDS),
        "site_name": c.text("site_name"),
        "street_address": c.text("street_address"),
        "postal_code": postal_code,
        "municipality_code": municipality,
        "latitude": round(latitude, 6) if latitude is not None else None,
        "longitude": round(longitude, 6) if longitude is not None else None,
        "accessibility": c.codes("accessibility", codes.ACCESSIBILITY),
        "contact_name": c.text("contact_name"),
        "contact_phone": c.text("contact_phone"),
        "contact_email": email,
        "description": c.text("description"),
    }
    opening_type = c.code("opening_type", codes.OPENING_TYPES)
    opening = {
        "type": opening_type,
        "title": c.text("opening_title"),
        "task_areas": c.codes("task_areas", codes.TASK_AREAS, required=True),
        "days_per_week_min": c.integer("days_per_week_min", 1, 7),
        "days_per_week_max": c.integer("days_per_week_max", 1, 7),
        "hours_per_day_min": c.decimal("hours_per_day_min", 0.5, 24),
        "hours_per_day_max": c.decimal("hours_per_day_max", 0.5, 24),
        "places_total": c.integer("places_total", 0, 10000),
        "places_external": c.integer("places_external", 0, 10000, default=0),
        "supports": c.codes("supports", codes.SUPPORTS),
        "physical_demand": c.code("physical_demand", codes.PHYSICAL_DEMANDS),
        "social_intensity": c.code("social_intensity", codes.SOCIAL_INTENSITIES),
        "languages": c.codes("languages", None, required=True),
        "status": c.code("status", codes.OPENING_STATUSES, default="open"),
        "last_confirmed": c.day("last_confirmed"),
    }
    schedule = [opening[k] for k in ("days_per_week_min", "days_per_week_max", "hours_per_day_min", "hours_per_day_max")]
    if opening_type in codes.OPENING_TYPES and None not in schedule:
        for column, message in schedule_problems(opening_type, *schedule):
            c.fail(column, message)
    total, external = opening["places_total"], opening["places_external"]
    if total is not None and external is not None and external > total:
        c.fail("places_external", _("Places taken by outside participants (%(external)s) exceed the total places (%(total)s).", external=external, total=total))
    if opening["last_confirmed"] and opening["last_confirmed"] > refs.today:
        c.fail("last_confirmed", _("The date is in the future."))
    return site, opening


@dataclass
class _References:
    municipalities: dict[str, str]
    postal_codes: dict[str, PostalCode]
    today: date


def _load_references(session: Session, today: date) -> _References:
    municipalities = {m.code: m.name_fi for m in session.scalars(select(Municipality))}
    postal_codes = {p.code: p for p in session.scalars(select(PostalCode))}
    return _References(municipalities, postal_codes, today)


def validate(session: Session, data: bytes, today: date) -> tuple[list[SiteGroup], list[Problem], int]:
    """Check the whole file; returns the site groups, every problem and the row count."""
    parsed = parse(data)
    problems = list(parsed.problems)
    if problems and not parsed.rows:
        return [], problems, 0
    refs = _load_references(session, today)
    groups: dict[str, SiteGroup] = {}
    organisation_kinds: dict[str, tuple[str, int]] = {}
    for number, cells in parsed.rows:
        site, opening = _check_row(number, cells, refs, problems)
        ref = cells.get("site_ref", "")
        group = groups.get(ref)
        if group is None:
            group = groups[ref] = SiteGroup(ref, number, site)
        else:
            for column in SITE_COLUMNS:
                if group.values[column] != site[column]:
                    problems.append(Problem(number, column, _("Differs from row %(row)s of the same site_ref %(ref)s; a site's columns must be the same on each of its rows.", row=group.row, ref=ref)))
        key = (opening["type"], opening["title"])
        for earlier in group.openings:
            if (earlier.values["type"], earlier.values["title"]) == key:
                problems.append(Problem(number, "opening_title", _("Row %(row)s already has this opening type and title for the same site.", row=earlier.row)))
        group.openings.append(OpeningRow(number, opening))
        name, kind = site["organisation"], site["organisation_kind"]
        if name in organisation_kinds and organisation_kinds[name][0] != kind:
            problems.append(Problem(number, "organisation_kind", _("Row %(row)s gives another kind for the same organisation.", row=organisation_kinds[name][1])))
        organisation_kinds.setdefault(name, (kind, number))
    return list(groups.values()), problems, len(parsed.rows)


def _existing_sites(session: Session, refs: list[str]) -> dict[str, Site]:
    found: dict[str, Site] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        query = select(Site).where(Site.site_ref.in_(chunk)).options(selectinload(Site.openings))
        found.update({site.site_ref: site for site in session.scalars(query)})
    return found


def _check_against_database(groups: list[SiteGroup], existing: dict[str, Site], problems: list[Problem]) -> None:
    """Problems only the stored data reveals: capacity below active placements."""
    for group in groups:
        site = existing.get(group.site_ref)
        if site is None:
            continue
        in_file = {(o.values["type"], o.values["title"]): o for o in group.openings}
        for opening in site.openings:
            if opening.archived_at is not None:
                continue
            row = in_file.get((opening.type, opening.title))
            if row is None:
                if opening.places_taken:
                    problems.append(Problem(group.row, "opening_title", _("The opening “%(title)s” of site %(ref)s is missing from the file but has %(count)s active placements; end them first or keep the row.", title=opening.title, ref=group.site_ref, count=opening.places_taken)))
                continue
            total, external = row.values["places_total"], row.values["places_external"]
            if total is not None and external is not None and opening.places_taken + external > total:
                problems.append(Problem(row.row, "places_total", _("The opening has %(taken)s active placements, so total places minus outside participants cannot be less than that.", taken=opening.places_taken)))


def import_sites(session: Session, data: bytes, *, user=None, dry_run: bool = False, now: datetime | None = None, geocoder: Geocoder | None = None) -> ImportResult:
    """Validate ``data`` and, when every row is valid and not ``dry_run``, apply it.

    Rows without coordinates are located by ``geocoder`` (offline fallbacks by default;
    a dry run never asks an online geocoder).
    """
    now = now or datetime.now(UTC)
    if geocoder is None or dry_run:
        geocoder = Geocoder(session)
    groups, problems, row_count = validate(session, data, now.date())
    result = ImportResult(problems=problems, rows=row_count, dry_run=dry_run)
    if not groups:
        return result
    existing = _existing_sites(session, [g.site_ref for g in groups])
    _check_against_database(groups, existing, result.problems)
    if result.problems:
        return result
    with session.no_autoflush:
        organisations = {o.name: o for o in session.scalars(select(Organisation).where(Organisation.name.in_({g.values["organisation"] for g in groups})))}
        for group in groups:
            _apply_site(session, group, existing.get(group.site_ref), organisations, result, user, now, geocoder)
    if dry_run:
        session.rollback()
        return result
    session.flush()
    audit.record(session, "sites_import", user=user, object_type="site", detail=f"rows={row_count} sites_created={result.sites_created} sites_updated={result.sites_updated} openings_created={result.openings_created} openings_updated={result.openings_updated} openings_archived={result.openings_archived}")
    return result


def _apply_site(session: Session, group: SiteGroup, site: Site | None, organisations: dict[str, Organisation], result: ImportResult, user, now: datetime, geocoder: Geocoder) -> None:
    values = group.values
    # Locate first: the geocoder may query the database, which must not see half-made rows.
    latitude, longitude = values["latitude"], values["longitude"]
    if latitude is None:
        location = geocoder.locate(values["street_address"], values["postal_code"], values["municipality_code"])
        latitude, longitude, precision = location.latitude, location.longitude, location.precision
    elif site is not None and (site.latitude, site.longitude) == (latitude, longitude):
        precision = site.geocode_precision  # unchanged coordinates keep how they were found
    else:
        precision = "manual"
    organisation = organisations.get(values["organisation"])
    if organisation is None:
        organisation = Organisation(name=values["organisation"], kind=values["organisation_kind"])
        session.add(organisation)
        organisations[organisation.name] = organisation
    else:
        organisation.kind = values["organisation_kind"]
    created = site is None
    if created:
        site = Site(site_ref=group.site_ref)
        session.add(site)
        result.sites_created += 1
    changes_before = result.openings_created + result.openings_updated + result.openings_archived
    site.organisation = organisation
    site.name = values["site_name"]
    site.street_address = values["street_address"]
    site.postal_code = values["postal_code"]
    site.municipality_code = values["municipality_code"]
    site.latitude, site.longitude, site.geocode_precision = latitude, longitude, precision
    site.accessibility = values["accessibility"]
    site.contact_name = values["contact_name"]
    site.contact_phone = values["contact_phone"]
    site.contact_email = values["contact_email"]
    site.description = values["description"]
    site.archived_at = None
    current = {(o.type, o.title): o for o in site.openings}
    seen = set()
    for row in group.openings:
        key = (row.values["type"], row.values["title"])
        seen.add(key)
        _apply_opening(session, site, current.get(key), row.values, result, user, now)
    for key, opening in current.items():
        if key not in seen and opening.archived_at is None:
            before = capacity.snapshot(opening)
            opening.archived_at = now
            opening.status = "closed"
            capacity.record(session, opening, before, user=user, now=now)
            result.openings_archived += 1
    site.search_text = search_text(site)
    if not created:
        changed = session.is_modified(site) or organisation in session.new or (
            result.openings_created + result.openings_updated + result.openings_archived > changes_before
        )
        if changed:
            result.sites_updated += 1
        else:
            result.sites_unchanged += 1


OPENING_FIELDS = (
    "type", "title", "task_areas", "days_per_week_min", "days_per_week_max", "hours_per_day_min",
    "hours_per_day_max", "places_total", "places_external", "supports", "physical_demand",
    "social_intensity", "languages", "status",
)  # fmt: skip


def _apply_opening(session: Session, site: Site, opening: Opening | None, values: dict, result: ImportResult, user, now: datetime) -> None:
    before = capacity.snapshot(opening)
    if opening is None:
        opening = Opening(site=site, places_taken=0)
        session.add(opening)
        result.openings_created += 1
        changed = True
    else:
        fields = [name for name in OPENING_FIELDS if getattr(opening, name) != values[name]]
        changed = opening.archived_at is not None or bool(fields)
        if changed:
            result.openings_updated += 1
            result.changes.append((site.site_ref, opening.title, tuple(f"{name}: {getattr(opening, name)} → {values[name]}" for name in fields if name not in ("type", "title"))))
    for name in OPENING_FIELDS:
        setattr(opening, name, values[name])
    opening.archived_at = None
    confirmed = values["last_confirmed"]
    if confirmed is not None:
        stamp = datetime.combine(confirmed, time(12), tzinfo=UTC)
        # A file never moves a confirmation back: a host may have confirmed since the export.
        if opening.last_confirmed_at is None or opening.last_confirmed_at.date() < confirmed:
            opening.last_confirmed_at = stamp
    elif changed:
        opening.last_confirmed_at = now
    capacity.record_if_changed(session, opening, before, user=user, now=now)
