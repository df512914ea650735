"""The route gates: a fast 403/404 before a view runs, and recording every denial.

The rules themselves are the named checks in ``placements/permissions.py``; services
check them again, so a caller that skips a view still cannot act.
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, request
from flask_login import current_user

from placements import permissions
from placements.errors import PermissionDenied
from placements.permissions import COORDINATOR, HOST, SOCIAL_WORKER


def record_denial(error: PermissionDenied) -> None:
    """The denial goes in the audit trail, with the client code the path named (if any)."""
    from placements.web.auditing import audit_event

    client_code = error.client_code
    if client_code is None and request.view_args and isinstance(request.view_args.get("code"), str):
        client_code = request.view_args["code"][:11]
    audit_event(
        "permission_denied",
        object_type=error.object_type,
        object_id=error.object_id,
        client_code=client_code,
        detail=f"{request.method} {request.endpoint} -> {error.status}",
    )


def authorize(
    allowed: bool, *, status: int = 403, object_type: str | None = None, object_id=None, client_code: str | None = None
) -> None:
    """Continue when ``allowed``; otherwise answer ``status`` (404 hides existence), logged."""
    permissions.require(allowed, status=status, object_type=object_type, object_id=object_id, client_code=client_code)


def roles_required(*roles: str):
    """Logged-in users of ``roles`` only; anonymous users are sent to the login page."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from placements.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                raise PermissionDenied(status=403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def login_required(view):
    """Any logged-in user."""
    return roles_required(HOST, SOCIAL_WORKER, COORDINATOR)(view)


def browse_denied():
    """None when the visitor may browse the catalogue (logged in, or PUBLIC_CATALOGUE=1);
    otherwise the login redirect (401 for the API)."""
    from placements.extensions import login_manager

    if permissions.can_browse_catalogue(current_user, current_app.config["PUBLIC_CATALOGUE"]):
        return None
    return login_manager.unauthorized()


def browse_required(view):
    """The catalogue's gate, shared by the pages and the API."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        denied = browse_denied()
        return denied if denied is not None else view(*args, **kwargs)

    return wrapped
