"""Capacity changes of openings, each recorded as a CapacityEvent (the survey's history)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from placements.models import CapacityEvent, Opening
from placements.services import queue

Snapshot = tuple[int, int, int, str]


def snapshot(opening: Opening | None) -> Snapshot | None:
    """(places_total, places_external, places_taken, status), or None for a new opening."""
    if opening is None:
        return None
    return (opening.places_total, opening.places_external, opening.places_taken, opening.status)


def record(
    session: Session,
    opening: Opening,
    before: Snapshot | None,
    *,
    user,
    now: datetime,
    kind: str = "capacity_changed",
    placement_id: int | None = None,
) -> CapacityEvent:
    """Add an event with the values before and after (now) the change."""
    total, external, taken, status = snapshot(opening)
    event = CapacityEvent(
        opening=opening,
        occurred_at=now,
        user_id=getattr(user, "id", None),
        kind=kind,
        placement_id=placement_id,
        places_total_before=before[0] if before else None,
        places_total_after=total,
        places_external_before=before[1] if before else None,
        places_external_after=external,
        places_taken_before=before[2] if before else None,
        places_taken_after=taken,
        status_before=before[3] if before else None,
        status_after=status,
    )
    session.add(event)
    queue.place_may_have_freed(session, opening, before, kind=kind, placement_id=placement_id, user=user, now=now)
    return event


def record_if_changed(
    session: Session, opening: Opening, before: Snapshot | None, *, user, now: datetime
) -> CapacityEvent | None:
    if snapshot(opening) == before:
        return None
    return record(session, opening, before, user=user, now=now)
