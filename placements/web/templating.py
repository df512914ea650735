"""Template helpers: navigation by role, code labels, Finnish number and date formats."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from placements import codes, formats, permissions


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    visible: Callable[[object], bool]


def _everyone(user) -> bool:
    return True


# Features add their pages here; an item shows only when its endpoint exists and the
# user's role may use it.
def _browser(user) -> bool:
    from flask import current_app

    return permissions.can_browse_catalogue(user, current_app.config["PUBLIC_CATALOGUE"])


def _host(user) -> bool:
    return permissions.has_role(user, permissions.HOST)


NAVIGATION: list[NavItem] = [
    NavItem("main.index", _l("Home"), _everyone),
    NavItem("catalogue.site_list", _l("Sites"), _browser),
    NavItem("catalogue.site_map", _l("Map"), _browser),
    NavItem("clients.client_list", _l("Clients"), permissions.can_create_clients),
    NavItem("catalogue.my_sites", _l("My sites"), _host),
    NavItem("outcomes.own_outcomes", _l("Outcomes"), permissions.can_view_own_outcomes),
    NavItem("survey.survey_page", _l("Survey"), permissions.can_run_survey),
    NavItem("rounds.round_list", _l("Survey rounds"), lambda user: permissions.has_role(user, permissions.COORDINATOR)),
    NavItem("outcomes.region_outcomes", _l("Outcomes"), permissions.can_view_region_outcomes),
    NavItem("admin.organisations", _l("Organisations"), permissions.can_manage_registry),
    NavItem("admin.import_upload", _l("Import"), permissions.can_manage_registry),
    NavItem("admin.stale_overview", _l("Stale data"), permissions.can_manage_registry),
    NavItem("admin.user_list", _l("Users"), permissions.can_manage_users),
    NavItem("admin.audit_log", _l("Audit trail"), permissions.can_view_audit),
    NavItem("admin.outbox", _l("E-mail"), permissions.can_manage_users),
]


def navigation(user) -> list[tuple[str, object]]:
    from flask import current_app

    endpoints = {rule.endpoint for rule in current_app.url_map.iter_rules()}
    return [
        (url_for(item.endpoint), item.label) for item in NAVIGATION if item.endpoint in endpoints and item.visible(user)
    ]


def unread_notifications() -> int:
    """How many unread notifications the logged-in user has (shown in every page's header)."""
    from placements.extensions import db
    from placements.services.notifications import unread_count

    if not current_user.is_authenticated:
        return 0
    return unread_count(db.session, current_user)


def url_with_args(endpoint: str, args, **changes) -> str:
    """``endpoint``'s address with the current query arguments (repeated ones kept), changed."""
    from urllib.parse import urlencode

    from werkzeug.datastructures import MultiDict

    params = MultiDict(args)
    for key, value in changes.items():
        params.setlist(key, [] if value is None else [value])
    query = urlencode([(k, v) for k, v in params.items(multi=True) if v != ""])
    return url_for(endpoint) + ("?" + query if query else "")


def label(group: str, code: str | None) -> str:
    """Translated label of a code, e.g. ``label('TASK_AREAS', 'kitchen')``."""
    if code is None:
        return ""
    return str(getattr(codes, group).get(code, code))


def municipality_name(code: str | None) -> str:
    from placements.extensions import db
    from placements.services import reference

    return reference.municipality_name(db.session, code)


def register(app: Flask) -> None:
    app.jinja_env.globals.update(
        navigation=navigation,
        label=label,
        current_locale=lambda: str(get_locale() or "fi"),
        current_user=current_user,
    )
    app.jinja_env.filters["date"] = formats.day
    app.jinja_env.filters["datetime"] = formats.moment
    app.jinja_env.filters["moment"] = formats.moment
    app.jinja_env.filters["fromjson"] = json.loads
    app.jinja_env.globals["unread_notifications"] = unread_notifications
    app.jinja_env.globals["permissions"] = permissions
    app.jinja_env.globals["url_with_args"] = url_with_args
    app.jinja_env.globals.update(
        OPENING_TYPES=codes.OPENING_TYPES, ACCESSIBILITY=codes.ACCESSIBILITY, TASK_AREAS=codes.TASK_AREAS
    )
    app.jinja_env.filters["number"] = formats.number
    app.jinja_env.filters["municipality"] = municipality_name
