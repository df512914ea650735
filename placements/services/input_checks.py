"""What every typed-in value must be, in the web forms and in the site CSV alike
(docs/rules.md §11.11): text without control characters, dates in 1900–2100.

One place, so a form field and a CSV cell refuse the same input with the same words.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from flask_babel import gettext as _

FIRST_YEAR, LAST_YEAR = 1900, 2100
# Line breaks and tabs are text in a multi-line field (a browser sends a textarea's line
# breaks as CR LF); every other control character is refused everywhere.
MULTILINE_ALLOWED = frozenset("\t\n\r")


def control_character(text: str, *, multiline: bool = False) -> str | None:
    """The first control character (Unicode category Cc: NUL, escape, DEL, C1 …) in ``text``
    that the field does not allow, or None."""
    for character in text:
        if unicodedata.category(character) == "Cc" and not (multiline and character in MULTILINE_ALLOWED):
            return character
    return None


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be accepted, or None when it can."""
    character = control_character(text, multiline=multiline)
    if character is None:
        return None
    return _(
        "The text contains an invisible control character (%(code)s). Remove it and try again.",
        code=f"U+{ord(character):04X}",
    )


def without_control_characters(text: str, *, multiline: bool = False) -> str:
    """``text`` with the refused characters removed: for echoing input back in a message."""
    return "".join(c for c in text if not control_character(c, multiline=multiline))


def date_problem(day: date) -> str | None:
    """Why ``day`` cannot be accepted (outside the years 1900–2100), or None."""
    if FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    return _("Give a date between the years %(first)s and %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)
