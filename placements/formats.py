"""Dates and numbers in the reader's language, in one place (Flask-Babel, docs/rules.md §1.5).

Finnish: 7.12.2026 and 7.12.2026 klo 14.05; English: 7 Dec 2026 and 7 Dec 2026, 14:05.
Works in requests, commands and jobs (the locale comes from Flask-Babel).
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import format_date, format_datetime, format_decimal, get_locale

from placements.clock import HELSINKI

_DAY = {"fi": "d.M.yyyy", "en": "d MMM yyyy"}
_MOMENT = {"fi": "d.M.yyyy 'klo' H.mm", "en": "d MMM yyyy, HH:mm"}


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in _DAY else "fi"


def day(value: date | datetime | str | None) -> str:
    """A calendar day: 7.12.2026 / 7 Dec 2026 (a time is first turned into Finnish time)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(HELSINKI).date()
    return format_date(value, _DAY[_language()])


_DAY_IN_YEAR = {"fi": "d.M.", "en": "d MMM"}


def day_range(start: date, end: date) -> str:
    """Two days as one span: 1.1.–31.12.2026 / 1 Jan – 31 Dec 2026 (the year once if shared)."""
    language = _language()
    if start.year == end.year:
        first = format_date(start, _DAY_IN_YEAR[language])
    else:
        first = day(start)
    separator = "–" if language == "fi" else " – "
    return f"{first}{separator}{day(end)}"


def moment(value: datetime | None) -> str:
    """A point in time in Finnish time: 7.12.2026 klo 14.05 / 7 Dec 2026, 14:05."""
    if value is None:
        return ""
    return format_datetime(value, _MOMENT[_language()])


def moment_iso(value: str | None) -> str:
    """``moment`` of an ISO 8601 time as stored in notification facts."""
    return moment(datetime.fromisoformat(value)) if value else ""


def number(value, digits: int = 1) -> str:
    """A number in the current language (decimal comma in Finnish), without needless zeros."""
    if value is None or value == "":
        return ""
    if float(value).is_integer():
        return format_decimal(int(value))
    return format_decimal(round(float(value), digits))
