"""The audit trail's view of a request: who is acting, and from which address."""

from __future__ import annotations

from flask import Flask, g, request
from flask_login import current_user

from placements.extensions import db
from placements.services import audit


def acting_user():
    """The logged-in user, or None for an anonymous visitor."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def audit_event(action: str, *, user=None, **fields):
    """Record ``action`` by the logged-in user (or ``user``) in the request's unit of work."""
    return audit.record(db.session, action, user=user if user is not None else acting_user(), **fields)


def register(app: Flask) -> None:
    def remember_origin():
        g.audit_origin_token = audit.set_origin(request.remote_addr)

    # First of all before-request hooks: an event written by an earlier one (a CSRF
    # refusal from Flask-WTF, an expired session) must have the address too.
    app.before_request_funcs.setdefault(None, []).insert(0, remember_origin)

    @app.teardown_request
    def forget_origin(error=None):
        token = g.pop("audit_origin_token", None)
        if token is not None:
            try:
                audit.reset_origin(token)
            except ValueError:  # set in another context (a streamed body); nothing to undo
                pass
