"""Static files under names that change with their content: ``url_for('static', …)`` adds
``?v=<hash of the file>``, and a request with that hash may be kept by any cache for a year
(docs/rules.md §11.7). A changed file gets a new address, so nobody keeps an old copy."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

from flask import Flask, current_app, request
from werkzeug.security import safe_join

# A year: "immutable" tells browsers not even to revalidate on reload.
IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=512)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:12]


def file_version(filename: str) -> str | None:
    """The short content hash of a static file, or None if there is no such file."""
    path = safe_join(current_app.static_folder, filename)
    if path is None:
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    return _digest(path, status.st_mtime_ns, status.st_size)


def _add_version(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "v" not in values and "filename" in values:
        version = file_version(values["filename"])
        if version:
            values["v"] = version


def _cache_forever(response):
    # Only the address of the file as it is now is cached for good: during a deploy a server
    # still holding the old file must not let caches keep it under the new file's address.
    version = request.args.get("v")
    if request.endpoint == "static" and version and response.status_code in (200, 304):
        if version == file_version((request.view_args or {}).get("filename", "")):
            response.headers["Cache-Control"] = IMMUTABLE
    return response


def register(app: Flask) -> None:
    app.url_defaults(_add_version)
    app.after_request(_cache_forever)
