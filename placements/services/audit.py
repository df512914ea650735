"""Writing the audit trail. Values are single-line so they cannot forge log lines."""

from __future__ import annotations

from sqlalchemy.orm import Session

from placements.models import AuditEvent


def _one_line(value: object | None, limit: int) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text[:limit]


def record(
    session: Session,
    action: str,
    *,
    user=None,
    object_type: str | None = None,
    object_id: object | None = None,
    client_code: str | None = None,
    purpose: str | None = None,
    ip_address: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Add one audit event to the session (the caller's transaction commits it)."""
    event = AuditEvent(
        user_id=getattr(user, "id", None),
        user_email=_one_line(getattr(user, "email", None), 254),
        role=getattr(user, "role", None),
        action=_one_line(action, 60),
        object_type=_one_line(object_type, 40),
        object_id=_one_line(object_id, 64),
        client_code=_one_line(client_code, 11),
        purpose=_one_line(purpose, 200),
        ip_address=_one_line(ip_address, 45),
        detail=_one_line(detail, 500),
    )
    session.add(event)
    return event
