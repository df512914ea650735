"""Starting and ending login sessions (docs/rules.md §11.4–§11.6).

A session cookie names the user and the user's ``session_version``; bumping the version
(logout, password change or set, deactivation, reset) makes every earlier cookie of that
user invalid. An expired session ends only itself.
"""

from __future__ import annotations

import time

from flask import session
from flask_login import current_user, login_user, logout_user

from placements.extensions import db
from placements.models import User
from placements.models.base import utcnow
from placements.web.auditing import audit_event

KEPT_ACROSS_LOGIN = ("lang",)


def _fresh_session() -> None:
    """Drop everything from the earlier session except the language choice."""
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)


def start_session(user: User) -> None:
    _fresh_session()
    login_user(user)
    now = time.time()
    session["login_at"] = now
    session["seen_at"] = now
    user.last_login_at = utcnow()
    audit_event("login_succeeded", user=user, object_type="user", object_id=user.id)


def end_session(reason: str = "logout") -> None:
    """Log out and invalidate every cookie this user holds, on any device."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    if user is not None:
        user.session_version += 1
        audit_event(reason, user=user, object_type="user", object_id=user.id)
        db.session.flush()
    logout_user()
    _fresh_session()


def expire_session() -> None:
    """An idle or too old session ends here; the user's other sessions go on (§11.5)."""
    user = current_user._get_current_object() if current_user.is_authenticated else None
    if user is not None:
        audit_event("session_expired", user=user, object_type="user", object_id=user.id)
    logout_user()
    _fresh_session()


def renew_session(user: User) -> None:
    """After a password change: earlier cookies die, this browser stays logged in."""
    user.session_version += 1
    db.session.flush()
    login_at = session.get("login_at", time.time())
    _fresh_session()
    login_user(user)
    session["login_at"] = login_at
    session["seen_at"] = time.time()
