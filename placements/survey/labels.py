"""How the survey's columns, codes and dates read to people: on the page in the user's
language, and in the Finnish Excel CSV in Finnish (docs/rules.md §9.8)."""

from __future__ import annotations

from datetime import date

from babel import Locale
from babel.dates import format_date
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from placements import codes

COLUMN_LABELS = {
    "period_start": _l("Period start"),
    "period_end": _l("Period end"),
    "municipality_code": _l("Municipality code"),
    "municipality": _l("Municipality"),
    "site_ref": _l("Site ID"),
    "site_name": _l("Site"),
    "opening_type": _l("Opening type"),
    "group": _l("Group"),
    "sites": _l("Sites"),
    "openings": _l("Openings"),
    "places_total": _l("Places"),
    "places_external": _l("Taken by participants from elsewhere"),
    "places_taken": _l("Taken by registry placements"),
    "places_free": _l("Free places"),
    "placements_started": _l("Placements started"),
    "active_at_end": _l("Active at end"),
    "ended": _l("Ended"),
}
SPLIT_LABELS = {"age_band": _l("Age group"), "gender": _l("Gender")}
SPLIT_CODES = {"age_band": codes.AGE_BANDS, "gender": codes.GENDERS}
TOTAL = _l("Total")


def column_label(column: str, split: str | None = None) -> str:
    """The heading of a survey column in the current language."""
    if column == "group" and split:
        return str(SPLIT_LABELS[split])
    if column.startswith("ended_"):
        return str(_l("Ended: %(reason)s", reason=codes.END_REASONS[column.removeprefix("ended_")]))
    return str(COLUMN_LABELS[column])


def _capitalised(text: object) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


class FinnishLabels:
    """Everything the Finnish Excel CSV writes in words, translated once before streaming."""

    def __init__(self, columns, split: str | None):
        with force_locale("fi"):
            self.headers = [column_label(column, split) for column in columns]
            self.types = {code: _capitalised(text) for code, text in codes.OPENING_TYPES.items()}
            self.groups = {code: _capitalised(text) for code, text in SPLIT_CODES[split].items()} if split else {}
            self.total = str(TOTAL)
            self.locale = Locale("fi")

    def day(self, value: date) -> str:
        return format_date(value, "medium", locale=self.locale)
