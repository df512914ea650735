"""Reading the catalogue filters from the query string (docs/rules.md §8.1), with messages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from placements import codes
from placements.models import Municipality, PostalCode
from placements.services import reference
from placements.services.catalogue import SiteFilters
from placements.services.input_checks import text_problem, without_control_characters
from placements.services.validation import inside_finland
from placements.web.converters import MAX_ID, bounded_int

COORDINATES = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*[,;]\s*(-?\d+(?:[.,]\d+)?)\s*$")
MAX_KM = 1000


@dataclass
class ParsedFilters:
    filters: SiteFilters
    errors: list[str] = field(default_factory=list)
    near_label: str = ""
    near_note: str = ""


def _codes(args: MultiDict, name: str, allowed, label: str, errors: list[str]) -> tuple[str, ...]:
    values = []
    for value in args.getlist(name):
        if value in allowed:
            values.append(value)
        elif value:
            shown = without_control_characters(value)[:100]
            errors.append(_("%(field)s: unknown value “%(value)s” was ignored.", field=label, value=shown))
    return tuple(dict.fromkeys(values))


def _text(args: MultiDict, name: str, label: str, errors: list[str]) -> str:
    """A free-text parameter; one with a control character (a NUL byte …) is ignored and
    explained, so it never reaches a query (docs/rules.md §11.11)."""
    value = args.get(name, "")
    problem = text_problem(value)
    if problem:
        errors.append(_("%(field)s: %(problem)s", field=label, problem=problem))
        return ""
    return value


def _resolve_near(session: Session, text: str) -> tuple[tuple[float, float] | None, str, str]:
    """A point from ``lat,lon``, a postal code, or a municipality's name or code.

    Returns (point, label, note); the note explains an approximation.
    """
    match = COORDINATES.match(text)
    if match:
        point = (float(match.group(1).replace(",", ".")), float(match.group(2).replace(",", ".")))
        return (point, text, "") if inside_finland(*point) else (None, "", "")
    if re.fullmatch(r"\d{5}", text):
        postal = session.get(PostalCode, text)
        if postal is None:
            return None, "", ""
        municipality = session.get(Municipality, postal.municipality_code)
        if postal.centre_lat is not None:
            return (postal.centre_lat, postal.centre_lon), f"{text} {postal.name}", ""
        note = _(
            "The centre of postal code area %(code)s is not known; distances are from the centre of %(municipality)s.",
            code=text,
            municipality=municipality.name_fi,
        )
        return (municipality.centre_lat, municipality.centre_lon), f"{text} {postal.name}", note
    municipality = session.get(Municipality, text) if re.fullmatch(r"\d{3}", text) else None
    if municipality is None:
        folded = text.casefold()
        for candidate in session.scalars(select(Municipality)):
            if folded in (candidate.name_fi.casefold(), candidate.name_sv.casefold()):
                municipality = candidate
                break
    if municipality is None:
        return None, "", ""
    return (municipality.centre_lat, municipality.centre_lon), municipality.name_fi, ""


def parse_filters(args: MultiDict, session: Session) -> ParsedFilters:
    errors: list[str] = []
    municipality_codes = set(reference.municipality_names(session))
    q = " ".join(_text(args, "q", _("Search words"), errors).split())[:200]
    parsed = ParsedFilters(SiteFilters())
    near = None
    near_text = _text(args, "near", _("Near"), errors).strip()[:100]
    if near_text:
        near, parsed.near_label, parsed.near_note = _resolve_near(session, near_text)
        if near is None:
            errors.append(
                _(
                    "Near: “%(value)s” was not recognised. Give a Kainuu municipality, a Kainuu postal code or "
                    "coordinates in Finland (e.g. 64.13,28.38).",
                    value=near_text,
                )
            )
    km = None
    km_text = args.get("km", "").strip().replace(",", ".")
    if km_text:
        try:
            km = float(km_text)
            if not 0 < km <= MAX_KM:
                raise ValueError
        except ValueError:
            errors.append(_("Distance: give kilometres as a number from 1 to %(max)s.", max=MAX_KM))
            km = None
        if km and near is None and not near_text:
            errors.append(_("Distance: also say near what (a municipality, postal code or coordinates)."))
    page = max(bounded_int(args.get("page", "1"), low=-MAX_ID, high=MAX_ID) or 1, 1)
    parsed.filters = SiteFilters(
        q=q,
        municipalities=_codes(args, "municipality", municipality_codes, _("Municipality"), errors),
        types=_codes(args, "type", codes.OPENING_TYPES, _("Type"), errors),
        tasks=_codes(args, "task", codes.TASK_AREAS, _("Task area"), errors),
        access=_codes(args, "access", codes.ACCESSIBILITY, _("Accessibility"), errors),
        free_only=args.get("free") in ("1", "on", "true"),
        near=near,
        km=km if near else None,
        page=page,
    )
    parsed.errors = errors
    return parsed
