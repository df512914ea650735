"""Compressed responses: text, JSON, JavaScript and SVG go out gzipped to a browser that
accepts it (docs/rules.md §11.7). Static files are compressed once per file version and
kept; a streamed body (a CSV download) is sent as it is, so it still streams."""

from __future__ import annotations

import gzip
import os
from functools import lru_cache

from flask import Flask, current_app, request
from werkzeug.security import safe_join

# Smaller bodies gain nothing worth the CPU.
MINIMUM_BYTES = 500
# Fast and still close to the best ratio for HTML and JSON.
LEVEL = 5
COMPRESSIBLE = {
    "application/json",
    "application/geo+json",
    "application/javascript",
    "application/xml",
    "image/svg+xml",
    "text/javascript",
}


def compressible(mimetype: str | None) -> bool:
    return bool(mimetype) and (mimetype.startswith("text/") or mimetype in COMPRESSIBLE or mimetype.endswith("+json"))


@lru_cache(maxsize=256)
def _compressed_file(path: str, mtime_ns: int, size: int) -> bytes:
    with open(path, "rb") as file:
        return gzip.compress(file.read(), compresslevel=9, mtime=0)


def _static_body(filename: str) -> bytes | None:
    path = safe_join(current_app.static_folder, filename)
    if path is None:
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    return _compressed_file(path, status.st_mtime_ns, status.st_size)


def _compress(response):
    if not compressible(response.mimetype):
        return response
    response.vary.add("Accept-Encoding")
    if (
        response.status_code != 200
        or "Content-Encoding" in response.headers
        or request.method == "HEAD"
        or request.accept_encodings["gzip"] <= 0
    ):
        return response
    if request.endpoint == "static":
        body = _static_body(request.view_args.get("filename", ""))
        if body is None:
            return response
        response.close()  # the file the static view opened
        response.direct_passthrough = False
    elif response.is_streamed:
        return response
    else:
        data = response.get_data()
        if len(data) < MINIMUM_BYTES:
            return response
        body = gzip.compress(data, compresslevel=LEVEL, mtime=0)
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:
        # The compressed body is another representation of the same resource.
        response.set_etag(etag, weak=True)
    return response


def register(app: Flask) -> None:
    """Registered before the other after-request hooks, so it runs after them (last)."""
    app.after_request(_compress)
