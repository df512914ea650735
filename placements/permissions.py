"""Who may do what (DESIGN.md §3): named checks, used by views, templates and tests.

Checks are pure functions of the user and the object. Views use them through
``authorize`` and the ``roles_required`` decorator, which log every denial.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user

HOST = "host"
SOCIAL_WORKER = "social_worker"
COORDINATOR = "coordinator"


def has_role(user, *roles: str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.role in roles


def can_browse_catalogue(user, public_catalogue: bool) -> bool:
    return public_catalogue or bool(getattr(user, "is_authenticated", False))


def can_manage_registry(user) -> bool:
    """Create organisations and sites, import CSV, archive, see the stale overview."""
    return has_role(user, COORDINATOR)


def can_edit_site(user, site) -> bool:
    if has_role(user, COORDINATOR):
        return True
    return has_role(user, HOST) and user.organisation_id is not None and user.organisation_id == site.organisation_id


def can_edit_opening(user, opening) -> bool:
    return can_edit_site(user, opening.site)


def can_manage_users(user) -> bool:
    return has_role(user, COORDINATOR)


def can_view_audit(user) -> bool:
    return has_role(user, COORDINATOR)


def can_run_survey(user) -> bool:
    return has_role(user, COORDINATOR)


def can_create_clients(user) -> bool:
    return has_role(user, SOCIAL_WORKER)


def can_read_client(user, client) -> bool:
    """Only the owning social worker or one the client is shared with; never other roles."""
    if not has_role(user, SOCIAL_WORKER):
        return False
    return client.owner_id == user.id or any(worker.id == user.id for worker in client.shared_with)


def can_transfer_clients(user) -> bool:
    """The coordinator moves clients between workers without reading them."""
    return has_role(user, COORDINATOR)


def can_propose_placement(user, client) -> bool:
    return can_read_client(user, client)


def can_decide_placement(user, placement) -> bool:
    """Accept or decline a proposal: the host of the opening's organisation."""
    return has_role(user, HOST) and user.organisation_id == placement.opening.site.organisation_id


def can_end_placement(user, placement) -> bool:
    return can_read_client(user, placement.client) or can_decide_placement(user, placement)


def can_view_placement(user, placement) -> bool:
    return can_end_placement(user, placement)


# --- enforcement -------------------------------------------------------------------------


def deny(status: int = 403, *, object_type: str | None = None, object_id=None, client_code: str | None = None):
    """Log the denial in the audit trail (committed on its own) and abort."""
    from placements.auditing import audit_event
    from placements.extensions import db

    db.session.rollback()
    audit_event(
        "permission_denied",
        object_type=object_type,
        object_id=object_id,
        client_code=client_code,
        detail=f"{request.method} {request.endpoint} -> {status}",
    )
    db.session.commit()
    abort(status)


def authorize(allowed: bool, *, status: int = 403, object_type: str | None = None, object_id=None, client_code: str | None = None) -> None:
    """Continue when ``allowed``; otherwise log and answer ``status`` (404 hides existence)."""
    if not allowed:
        deny(status, object_type=object_type, object_id=object_id, client_code=client_code)


def roles_required(*roles: str):
    """Logged-in users of ``roles`` only; anonymous users are sent to the login page."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from placements.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                deny(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def login_required(view):
    """Any logged-in user."""
    return roles_required(HOST, SOCIAL_WORKER, COORDINATOR)(view)
