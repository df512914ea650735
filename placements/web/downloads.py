"""File downloads: one way to answer with a CSV that streams."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, stream_with_context


def csv_response(lines: Iterable[str], filename: str) -> Response:
    """A streamed CSV attachment that no cache keeps. ``lines`` may read the database
    while the body streams (in the request's context)."""
    response = Response(stream_with_context(iter(lines)), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
