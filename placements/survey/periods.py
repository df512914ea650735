"""The survey period from the query string (docs/rules.md §9.1).

Each kind of period has its own fields: a year has ``year``; a month ``year`` and ``month``;
a quarter ``year`` and ``quarter``; own dates ``start`` and ``end``. Only those fields are
read, shown and carried in the address. Anything malformed (text, huge numbers, NUL bytes,
month 13, quarter 0, a date outside 1900–2100) is a message on its field, never an error
page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from placements import clock
from placements.services import survey as survey_service

FIRST_YEAR, LAST_YEAR = 1900, 2100
LONGEST_CUSTOM_DAYS = 3660  # about ten years
KINDS = ("month", "quarter", "year", "custom")
FIELDS = {"month": ("year", "month"), "quarter": ("year", "quarter"), "year": ("year",), "custom": ("start", "end")}
ALL_FIELDS = ("period", "year", "month", "quarter", "start", "end")

_WHOLE = re.compile(r"[0-9]{1,4}")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _Wrong(Exception):
    """A field's value was not usable; the message says why."""


@dataclass
class PeriodChoice:
    """What was asked for and what is shown.

    ``period`` is the valid period, or a whole year when something was wrong; ``kind`` and
    ``values`` are what the form shows (the user's own input where it was wrong, so it can
    be corrected); ``errors`` maps a field to its message.
    """

    period: survey_service.Period
    kind: str
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def query(self) -> list[tuple[str, str]]:
        """The period's own parameters, in the order of the form (only when valid)."""
        return [("period", self.kind)] + [(name, self.values[name]) for name in FIELDS[self.kind]]


def _clean(raw: str | None) -> str | None:
    return None if raw is None else raw.strip()


def _shown(raw: str) -> str:
    """The user's own input for the form, kept short and without NUL characters."""
    return raw[:40].replace("\x00", "\ufffd")


def _whole(raw: str | None, low: int, high: int, default: int, message: str) -> int:
    """A whole number low..high from ASCII digits (at most four), or ``default`` when absent."""
    if raw is None:
        return default
    if not _WHOLE.fullmatch(raw) or not low <= int(raw) <= high:
        raise _Wrong(message)
    return int(raw)


def _day(raw: str | None, message: str) -> date:
    """A date written YYYY-MM-DD (as date fields send it) within 1900–2100."""
    if not raw or not _ISO_DAY.fullmatch(raw):
        raise _Wrong(message)
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise _Wrong(message) from None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise _Wrong(message)
    return value


def parse_period(args) -> PeriodChoice:
    """The period from the query string; the current year when nothing is given, and a whole
    year (with the reasons in ``errors``) when something given is not valid."""
    today = clock.today()
    raw = {name: _clean(args.get(name)) for name in ALL_FIELDS}
    errors: dict[str, str] = {}
    kind = raw["period"] or "year"
    if kind not in KINDS:
        errors["period"] = _("Choose a month, a quarter, a year or your own dates.")
        kind = "year"
    values = {
        "year": str(today.year),
        "month": str(today.month),
        "quarter": str((today.month - 1) // 3 + 1),
        "start": "",
        "end": "",
    }

    def read(name: str, reader):
        try:
            return reader()
        except _Wrong as wrong:
            errors[name] = str(wrong)
            return None
        finally:
            if raw[name] is not None:
                values[name] = _shown(raw[name])

    year_message = _("Year: give a year from %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)
    chosen_year = today.year
    if "year" in FIELDS[kind]:
        chosen_year = read("year", lambda: _whole(raw["year"], FIRST_YEAR, LAST_YEAR, today.year, year_message))
    period = None
    if kind == "month":
        number = read("month", lambda: _whole(raw["month"], 1, 12, today.month, _("Month: choose 1–12.")))
        if chosen_year and number:
            period = survey_service.month(chosen_year, number)
    elif kind == "quarter":
        default = (today.month - 1) // 3 + 1
        number = read("quarter", lambda: _whole(raw["quarter"], 1, 4, default, _("Quarter: choose 1–4.")))
        if chosen_year and number:
            period = survey_service.quarter(chosen_year, number)
    elif kind == "custom":
        limits = {"first": FIRST_YEAR, "last": LAST_YEAR, "example": date(today.year, 1, 31).isoformat()}
        start_message = _("Start: give a date from %(first)s to %(last)s, e.g. %(example)s.", **limits)
        end_message = _("End: give a date from %(first)s to %(last)s, e.g. %(example)s.", **limits)
        start = read("start", lambda: _day(raw["start"], start_message))
        end = read("end", lambda: _day(raw["end"], end_message))
        if start and end:
            if end < start:
                errors["end"] = _("The end of the period is before its start.")
            elif (end - start).days > LONGEST_CUSTOM_DAYS:
                errors["end"] = _("A custom period can be at most ten years long.")
            else:
                period = survey_service.Period(start, end, "custom")
    elif chosen_year:
        period = survey_service.year(chosen_year)
    if period is None or errors:
        return PeriodChoice(survey_service.year(chosen_year or today.year), kind, values, errors)
    # Valid: show the values in their plain form (" 03" -> "3").
    values |= {"year": str(period.start.year), "month": str(period.start.month)}
    values |= {"quarter": str((period.start.month - 1) // 3 + 1)}
    values |= {"start": period.start.isoformat(), "end": period.end.isoformat()}
    return PeriodChoice(period, kind, values)
