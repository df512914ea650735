"""Audit events for the current request: who, from where."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from placements.extensions import db
from placements.services import audit


def audit_event(action: str, *, user=None, **fields):
    """Record ``action`` by the logged-in user (or ``user``) with the client's address."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    ip_address = request.remote_addr if has_request_context() else None
    return audit.record(db.session, action, user=user, ip_address=ip_address, **fields)
