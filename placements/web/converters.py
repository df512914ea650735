"""Route converters and numeric query parameters: malformed input stops at the edge
(docs/rules.md §11.11).

``<id:name>`` matches only a row id the database can hold (1 to 2^31 − 1, the range of a
PostgreSQL ``integer``), written plainly; anything else is a 404 before a view runs, never
an overflow in the database driver. The default converter (``<name>``, ``<string:name>``)
does not match path segments with control characters, so a NUL byte never reaches a query;
raw bytes in the query string are percent-encoded before Flask reads them.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask
from werkzeug.routing import BaseConverter, UnicodeConverter, ValidationError

MAX_ID = 2**31 - 1


def id_value(raw: object) -> int:
    """``raw`` as a row id; ValueError when it is not a plain number from 1 to MAX_ID.

    For ``request.args.get(name, type=id_value)``, which then answers None.
    """
    text = str(raw)
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or text.startswith("0"):
        raise ValueError(f"not an id: {text[:20]!r}")
    number = int(text)
    if number > MAX_ID:
        raise ValueError(f"not an id: {text[:20]!r}")
    return number


def bounded_int(raw: object, *, low: int = 1, high: int = MAX_ID) -> int | None:
    """``raw`` as an integer from ``low`` to ``high``, or None when it is anything else."""
    text = str(raw).strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:
        return None
    number = int(text)
    return number if low <= number <= high else None


class IdConverter(BaseConverter):
    """``<id:site_id>``: a row id from 1 to 2^31 − 1, else no match (404)."""

    regex = r"[1-9][0-9]{0,9}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        try:
            return id_value(value)
        except ValueError:
            raise ValidationError() from None

    def to_url(self, value) -> str:
        return str(int(value))


class TextConverter(UnicodeConverter):
    """The default ``<name>`` / ``<string:name>``: any segment without control characters."""

    def __init__(self, map, minlength: int = 1, maxlength: int | None = None, length: int | None = None) -> None:
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = self.regex.replace("[^/]", r"[^/\x00-\x1f\x7f-\x9f]")


class PlainQueryString:
    """WSGI middleware: raw bytes in the query string that are not printable ASCII (browsers
    percent-encode them; a hand-made request need not) are percent-encoded, so reading the
    query string or ``request.full_path`` never fails on bytes that are not UTF-8."""

    SAFE = "&=+%;/?:@,$!*'()~-._"

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if query and not (query.isascii() and query.isprintable()):
            environ["QUERY_STRING"] = quote(query.encode("latin-1", "replace"), safe=self.SAFE)
        return self.wsgi_app(environ, start_response)


def register(app: Flask) -> None:
    """Before the blueprints, whose rules are compiled with these converters."""
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["default"] = TextConverter
    app.url_map.converters["string"] = TextConverter
    app.wsgi_app = PlainQueryString(app.wsgi_app)
