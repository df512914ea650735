"""Absolute addresses of the registry that never follow a request's ``Host`` header.

With ``SERVER_NAME`` set (and ``PREFERRED_URL_SCHEME``, default https), absolute links are
built from them; without it, links in data (GeoJSON, API) stay relative (docs/rules.md §11.7).
"""

from __future__ import annotations

from flask import current_app, request, url_for

from placements.config import public_origin


def configured_origin() -> str:
    """``https://registry.example.fi`` from the settings, or "" when SERVER_NAME is not set."""
    return public_origin(current_app.config)


def public_base() -> str:
    """What to put before a path such as ``/sites/12`` in data others keep: the configured
    origin, or nothing (a relative link)."""
    return configured_origin() + request.script_root


def link_for_person(endpoint: str, **values) -> str:
    """A full address to give a person (a set-password link): from the settings when
    SERVER_NAME is set, else the address the coordinator is using right now."""
    path = url_for(endpoint, **values)
    origin = configured_origin()
    return origin + path if origin else request.host_url.rstrip("/") + path
