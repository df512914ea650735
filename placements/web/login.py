"""Flask-Login user loading: the cookie carries the user id and session version."""

from __future__ import annotations

from placements.extensions import db, login_manager
from placements.models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the user only if the cookie's session version is still current."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        user = db.session.get(User, int(raw_id))
        version = int(raw_version)
    except (ValueError, TypeError):
        return None
    if user is None or not user.active or user.session_version != version:
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """Pages send the visitor to log in and come back; the API answers 401."""
    from flask import flash, jsonify, redirect, request, session, url_for
    from flask_babel import gettext as _

    from placements.web.redirects import safe_next

    if request.path.startswith("/api/"):
        return jsonify({"error": _("Log in to continue.")}), 401
    if request.method == "GET":
        # Kept in the session, never in the query string; only a safe local path (docs/rules.md §11.12).
        target = safe_next(request.path, "")
        if target:
            session["next"] = target
        else:
            session.pop("next", None)
    flash(_("Log in to continue."), "info")
    return redirect(url_for("auth.login"))
