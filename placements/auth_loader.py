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
