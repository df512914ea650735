"""The one place that commits (docs/architecture.md, "Where a request commits").

A unit of work is everything one request, command or job does: its changes, the audit
events that describe them and the notices they cause. It commits once, at the end, or
rolls back as a whole. Services only add and flush; they never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


def commit(session: Session) -> None:
    """Make the unit of work permanent; on failure roll it back and re-raise."""
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise


def discard(session: Session) -> None:
    """Forget everything the unit of work did so far (after a refusal or an error)."""
    session.rollback()


@contextmanager
def work(session: Session | None = None) -> Iterator[Session]:
    """A unit of work outside a request (commands, jobs): commits when the block ends,
    rolls back if it raises."""
    if session is None:
        from placements.extensions import db

        session = db.session
    try:
        yield session
    except BaseException:
        discard(session)
        raise
    commit(session)
