"""Reading and checking a site CSV (docs/rules.md §10): every row typed, every problem named
by row and column, nothing written."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from placements import codes
from placements.models import PostalCode
from placements.services import reference
from placements.services.csv_safety import restore
from placements.services.input_checks import date_problem, text_problem, without_control_characters
from placements.services.site_csv import MULTI_SEPARATOR, SITE_COLUMNS, Problem, parse, plain_title
from placements.services.validation import (
    EMAIL,
    LANGUAGE_CODE,
    inside_finland,
    postal_code_problem,
    schedule_problems,
)

# Dates as 2026-11-27 or 27.11.2026 (also without leading zeros); strptime is slow.
ISO_DATE = re.compile(r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})$")
FINNISH_DATE = re.compile(r"^(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4})$")
PROGRESS_EVERY = 250  # rows between progress reports
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
MULTILINE_COLUMNS = frozenset({"description"})
REQUIRED = (
    "site_ref",
    "organisation",
    "organisation_kind",
    "site_name",
    "street_address",
    "postal_code",
    "municipality_code",
    "opening_type",
    "opening_title",
    "task_areas",
    "days_per_week_min",
    "days_per_week_max",
    "hours_per_day_min",
    "hours_per_day_max",
    "places_total",
    "physical_demand",
    "social_intensity",
    "languages",
)


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

    def __init__(self, cells: dict[str, str], known_codes: dict | None = None):
        self.cells = cells
        self.found: list[tuple[str, str]] = []  # (column, message)
        # (column, cell) -> (codes, problems): rows repeat the same code lists
        self.known_codes = known_codes if known_codes is not None else {}

    def fail(self, column: str, message: str) -> None:
        self.found.append((column, message))

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
            self.fail(
                column, _("Unknown code “%(value)s”. Allowed: %(allowed)s.", value=value, allowed=", ".join(allowed))
            )
        return value

    def codes(self, column: str, allowed: dict | None, required: bool = False) -> tuple[str, ...]:
        raw = self.cells.get(column, "")
        known = self.known_codes.get((column, raw))
        if known is None:
            known = self.known_codes[(column, raw)] = self._codes(column, raw, allowed, required)
        codes, problems = known
        self.found.extend(problems)
        return codes

    @staticmethod
    def _codes(column: str, raw: str, allowed: dict | None, required: bool) -> tuple[tuple[str, ...], list]:
        problems = []
        values = tuple(dict.fromkeys(v for v in map(str.strip, raw.split(MULTI_SEPARATOR)) if v)) if raw else ()
        if required and not values:
            problems.append((column, _("At least one value is required.")))
        for value in values:
            if allowed is not None and value not in allowed:
                problems.append(
                    (
                        column,
                        _("Unknown code “%(value)s”. Allowed: %(allowed)s.", value=value, allowed=", ".join(allowed)),
                    )
                )
            elif allowed is None and not LANGUAGE_CODE.match(value):
                problems.append(
                    (column, _("“%(value)s” is not a two-letter ISO 639-1 language code such as fi.", value=value))
                )
        return tuple(sorted(values)), problems

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
        iso, finnish = ISO_DATE.match(raw), FINNISH_DATE.match(raw)
        found = iso or finnish
        if found:
            try:
                day = date(int(found["y"]), int(found["m"]), int(found["d"]))
            except ValueError:
                day = None
            if day is not None:
                problem = date_problem(day)
                if problem:
                    self.fail(column, problem)
                    return None
                return day
        self.fail(column, _("“%(value)s” is not a date (use 27.11.2026 or 2026-11-27).", value=raw))
        return None


def _clean_cells(number: int, cells: dict[str, str], problems: list[Problem]) -> dict[str, str]:
    """A cell with a control character (a NUL byte …; a line break or tab outside
    ``description``) is a problem at its row and column, like a form field (docs/rules.md
    §11.11); the rest of the row is checked without those characters."""
    cleaned = {}
    for column, value in cells.items():
        multiline = column in MULTILINE_COLUMNS
        problem = text_problem(value, multiline=multiline)
        if problem:
            problems.append(Problem(number, column, problem))
            value = without_control_characters(value, multiline=multiline)
        cleaned[column] = value
    return cleaned


# The cells that decide a row's site values; rows of one site repeat them. (Every row has
# every required column: site_csv.parse refuses a header without one.)
_site_input = itemgetter("site_ref", *SITE_COLUMNS)


@dataclass
class _Known:
    """What one check of a file has already worked out."""

    sites: dict = field(default_factory=dict)  # site cells -> (site values, problems)
    codes: dict = field(default_factory=dict)  # (column, cell) -> (codes, problems)


def _check_row(
    number: int, cells: dict[str, str], refs: _References, problems: list[Problem], known: _Known
) -> tuple[dict, dict]:
    """The row's site values and opening values, each problem added with the row number.

    A site's later rows usually repeat its first row's site cells, and many rows the same
    code lists: those are checked once (``known``) and their problems repeated for each
    row, as if checked again.
    """
    key = _site_input(cells)
    checked = known.sites.get(key)
    if checked is None:
        c = _RowChecker(cells, known.codes)
        checked = known.sites[key] = (_check_site(c, cells, refs), c.found)
    site, found = checked
    problems.extend(Problem(number, column, message) for column, message in found)
    c = _RowChecker(cells, known.codes)
    opening = _check_opening(c, refs)
    problems.extend(Problem(number, column, message) for column, message in c.found)
    return site, opening


def _check_site(c: _RowChecker, cells: dict[str, str], refs: _References) -> dict:
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
        problem = postal_code_problem(
            postal_code, refs.postal_codes.get(postal_code), municipality, refs.municipalities
        )
        if problem:
            c.fail("postal_code", problem)
    latitude = c.decimal("latitude", -90, 90, required=False)
    longitude = c.decimal("longitude", -180, 180, required=False)
    has_lat, has_lon = bool(cells.get("latitude")), bool(cells.get("longitude"))
    if has_lat != has_lon:
        c.fail("longitude" if has_lat else "latitude", _("Give both latitude and longitude, or leave both empty."))
    elif latitude is not None and longitude is not None and not inside_finland(latitude, longitude):
        c.fail(
            "latitude",
            _(
                "The coordinates %(lat)s, %(lon)s are not in Finland (WGS84 decimal degrees).",
                lat=latitude,
                lon=longitude,
            ),
        )
    email = c.text("contact_email")
    if email and not EMAIL.match(email):
        c.fail("contact_email", _("“%(value)s” is not an e-mail address.", value=email))
    return {
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


def _check_opening(c: _RowChecker, refs: _References) -> dict:
    opening_type = c.code("opening_type", codes.OPENING_TYPES)
    opening = {
        "type": opening_type,
        "title": plain_title(c.text("opening_title"), opening_type),
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
    schedule = [
        opening[k] for k in ("days_per_week_min", "days_per_week_max", "hours_per_day_min", "hours_per_day_max")
    ]
    if opening_type in codes.OPENING_TYPES and None not in schedule:
        for column, message in schedule_problems(opening_type, *schedule):
            c.fail(column, message)
    total, external = opening["places_total"], opening["places_external"]
    if total is not None and external is not None and external > total:
        c.fail(
            "places_external",
            _(
                "Places taken by outside participants (%(external)s) exceed the total places (%(total)s).",
                external=external,
                total=total,
            ),
        )
    if opening["last_confirmed"] and opening["last_confirmed"] > refs.today:
        c.fail("last_confirmed", _("The date is in the future."))
    return opening


@dataclass
class _References:
    municipalities: dict[str, str]
    postal_codes: dict[str, PostalCode]
    today: date


def _load_references(session: Session, today: date) -> _References:
    municipalities = reference.municipality_names(session)
    postal_codes = {p.code: p for p in session.scalars(select(PostalCode))}
    return _References(municipalities, postal_codes, today)


def validate(
    session: Session, data: bytes, today: date, progress: Callable[[int, int], None] | None = None
) -> tuple[list[SiteGroup], list[Problem], int]:
    """Check the whole file; returns the site groups, every problem and the row count.

    ``progress(done, rows)`` is told how many rows have been checked, every few hundred.
    """
    parsed = parse(data)
    problems = list(parsed.problems)
    if problems and not parsed.rows:
        return [], problems, 0
    refs = _load_references(session, today)
    groups: dict[str, SiteGroup] = {}
    organisation_kinds: dict[str, tuple[str, int]] = {}
    known = _Known()
    total = len(parsed.rows)
    for done, (number, cells) in enumerate(parsed.rows):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total)
        cells = _clean_cells(number, cells, problems)
        site, opening = _check_row(number, cells, refs, problems, known)
        ref = cells.get("site_ref", "")
        group = groups.get(ref)
        if group is None:
            group = groups[ref] = SiteGroup(ref, number, site)
        else:
            for column in SITE_COLUMNS:
                if group.values[column] != site[column]:
                    problems.append(
                        Problem(
                            number,
                            column,
                            _(
                                "Differs from row %(row)s of the same site_ref %(ref)s; "
                                "a site's columns must be the same on each of its rows.",
                                row=group.row,
                                ref=ref,
                            ),
                        )
                    )
        key = (opening["type"], opening["title"])
        for earlier in group.openings:
            if (earlier.values["type"], earlier.values["title"]) == key:
                problems.append(
                    Problem(
                        number,
                        "opening_title",
                        _("Row %(row)s already has this opening type and title for the same site.", row=earlier.row),
                    )
                )
        group.openings.append(OpeningRow(number, opening))
        name, kind = site["organisation"], site["organisation_kind"]
        if name in organisation_kinds and organisation_kinds[name][0] != kind:
            problems.append(
                Problem(
                    number,
                    "organisation_kind",
                    _("Row %(row)s gives another kind for the same organisation.", row=organisation_kinds[name][1]),
                )
            )
        organisation_kinds.setdefault(name, (kind, number))
    return list(groups.values()), problems, len(parsed.rows)
