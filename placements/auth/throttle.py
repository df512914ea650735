"""Failed logins per account, counted in the database (docs/rules.md §11.4).

The audit trail already records every failed login (``login_failed``, detail
``email=<address>``), so the count is the same for every gunicorn worker and app server,
and a restart forgets nothing. The attempts on one account are taken one at a time, so
parallel guesses cannot slip past the limit between the count and the record.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func, select, text

from placements import clock
from placements.extensions import db
from placements.models import AuditEvent

# Failed logins to one account allowed in the window; the next attempt gets 429.
ACCOUNT_FAILURES = 5
WINDOW = timedelta(minutes=15)


def account_key(email: str) -> str:
    """The address as the audit trail records it (lower case, one line)."""
    return " ".join(email.strip().lower().split())


def _lock_id(email: str) -> int:
    digest = hashlib.sha256(("login:" + email).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def take_turn(email: str) -> None:
    """Wait until no other login attempt on this account is running; the turn lasts until
    the request's unit of work ends (it commits the failure it records)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _lock_id(email)})
    else:
        # SQLite: the first write of a transaction takes the database's write lock
        # (BEGIN IMMEDIATE), held until the request commits; this write changes no row.
        connection.execute(text("UPDATE users SET session_version = session_version WHERE 1 = 0"))


def failures(email: str) -> int:
    """Failed logins to ``email`` within the window, from any worker or server."""
    since = clock.now() - WINDOW
    query = (
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "login_failed",
            AuditEvent.occurred_at > since,
            AuditEvent.detail == f"email={email}",
        )
    )
    return db.session.scalar(query) or 0


def account_throttled(email: str) -> bool:
    return failures(email) >= ACCOUNT_FAILURES
