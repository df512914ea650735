"""Writing and reading the audit trail (docs/rules.md §12).

Every event carries who (user, role), from where (the address of the request, or the
command line), when and what, however deep in a service it is written: the web layer
sets the origin once per request (``origin``), commands and jobs set theirs.
Values are single-line so they cannot forge log lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from placements import clock, permissions
from placements.models import AuditEvent

# Where the current unit of work comes from: a request's client address, "cli" or "job".
_origin: ContextVar[str | None] = ContextVar("audit_origin", default=None)


@contextmanager
def origin(address: str | None) -> Iterator[None]:
    """Record ``address`` as the origin of every event written inside the block."""
    token = _origin.set(address)
    try:
        yield
    finally:
        _origin.reset(token)


def set_origin(address: str | None):
    """Set the origin until ``reset_origin(token)``; for request hooks."""
    return _origin.set(address)


def reset_origin(token) -> None:
    _origin.reset(token)


def codes_cell(codes: Iterable[str] | None) -> str | None:
    """``["K-1", "K-2"]`` -> ``"|K-1|K-2|"`` (each code once, in order), so a search can match
    ``"|K-1|"``; None for no codes."""
    unique = [_one_line(code, 11) for code in dict.fromkeys(codes or ())]
    return "|" + "|".join(unique) + "|" if unique else None


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
    detail: str | None = None,
    client_codes: Iterable[str] | None = None,
) -> AuditEvent:
    """Add one audit event to the session; it commits with the unit of work around it.

    ``client_codes``: every client code a listing showed, kept whole in one event (a search
    by client code finds it, docs/rules.md §12.3)."""
    event = AuditEvent(
        occurred_at=clock.now(),
        user_id=getattr(user, "id", None),
        user_email=_one_line(getattr(user, "email", None), 254),
        role=getattr(user, "role", None),
        action=_one_line(action, 60),
        object_type=_one_line(object_type, 40),
        object_id=_one_line(object_id, 64),
        client_code=_one_line(client_code, 11),
        purpose=_one_line(purpose, 200),
        ip_address=_one_line(_origin.get(), 45),
        detail=_one_line(detail, 500),
        client_codes=codes_cell(client_codes),
    )
    session.add(event)
    return event


AUDIT_CSV_COLUMNS = (
    "occurred_at",
    "user_email",
    "role",
    "action",
    "object_type",
    "object_id",
    "client_code",
    "purpose",
    "ip_address",
    "detail",
    "client_codes",
)


def search_query(user, *, user_email=None, client_code=None, action=None, since=None, until=None):
    """Audit events matching the filters, newest first. ``until`` is inclusive (a date)."""
    permissions.require(permissions.can_view_audit(user), object_type="audit")
    query = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if user_email:
        query = query.where(AuditEvent.user_email == user_email.strip().lower())
    if client_code:
        code = client_code.strip().upper()
        listed = AuditEvent.client_codes.contains(f"|{code}|", autoescape=True)
        query = query.where(or_(AuditEvent.client_code == code, listed))
    if action:
        query = query.where(AuditEvent.action == action)
    if since:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(since, time(), tzinfo=UTC))
    if until and until < date.max:
        query = query.where(AuditEvent.occurred_at < datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC))
    return query


def csv_row(event: AuditEvent) -> dict[str, object]:
    row = {name: getattr(event, name) for name in AUDIT_CSV_COLUMNS}
    row["occurred_at"] = event.occurred_at.isoformat(timespec="seconds")
    row["client_codes"] = " ".join(code for code in (event.client_codes or "").split("|") if code)
    return row
