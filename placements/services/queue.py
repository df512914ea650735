"""Waiting lists (jono) of full openings (docs/rules.md §18.3–§18.5).

A worker queues a client at an opening that is full, closed for now, or accepting only
from a later date. Position is the order of queueing among the opening's live entries.
When a place frees (a placement ends or is cancelled before its start, capacity grows, the
opening reopens) the responsible worker of the first client still waiting is told, in the
transaction of that change: ``capacity.record`` calls ``place_may_have_freed``. A client
leaves every queue when placed anywhere, when closed, or when the worker removes them; an
archived opening's queue empties.
Queues hold client codes only; hosts see the codes and positions, never needs or plans.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from placements import permissions
from placements.errors import Refused
from placements.models import Client, Opening, Placement, QueueEntry, Site, User
from placements.models.site import count_free_places
from placements.services import audit, notifications

LIVE = ("waiting", "offered")
# An entry older than this asks its worker to confirm the client still wants the place.
CONFIRM_AFTER_DAYS = 90


def _require_reader(user, client: Client) -> None:
    permissions.require(
        permissions.can_read_client(user, client),
        status=404,
        object_type="client",
        object_id=client.id,
        client_code=client.code,
    )


def _audit(session: Session, action: str, user, entry: QueueEntry, client_code: str, detail: str | None = None):
    audit.record(
        session,
        action,
        user=user,
        object_type="client",
        object_id=entry.client_id,
        client_code=client_code,
        purpose="waiting list",
        detail=f"opening={entry.opening_id}" + (f" {detail}" if detail else ""),
    )


def takes_new_participant(opening: Opening, today: date) -> bool:
    """A proposal could be made now: open, live, a free place, and accepting already."""
    return (
        opening.status == "open"
        and opening.archived_at is None
        and opening.free_places > 0
        and (opening.accepting_from is None or opening.accepting_from <= today)
    )


def can_queue_at(opening: Opening, today: date) -> bool:
    """A queue makes sense at a live opening that cannot take the client now."""
    return (
        opening.archived_at is None and opening.site.archived_at is None and not takes_new_participant(opening, today)
    )


def accepting_later(session: Session, today: date) -> set[int]:
    """Ids of the openings that take new participants only from a later date."""
    return set(session.scalars(select(Opening.id).where(Opening.accepting_from > today)))


def queueable(opening, later: set[int]) -> bool:
    """``can_queue_at`` for an opening as the matches page reads it (``matching.Candidate``),
    given the ids of the openings accepting only later."""
    if opening.archived_at is not None or opening.site.archived_at is not None:
        return False
    return opening.status != "open" or opening.free_places <= 0 or opening.id in later


def join(session: Session, client: Client, opening: Opening, user: User, *, now: datetime, today: date) -> QueueEntry:
    _require_reader(user, client)
    problems = {}
    if client.status != "active":
        problems["client"] = _("The client is closed.")
    if opening.archived_at is not None or opening.site.archived_at is not None:
        problems["opening"] = _("The opening is no longer in the registry.")
    elif takes_new_participant(opening, today):
        problems["opening"] = _("The opening has a free place: propose a placement instead of queueing.")
    already = session.scalar(
        select(QueueEntry.id).where(
            QueueEntry.client_id == client.id, QueueEntry.opening_id == opening.id, QueueEntry.status.in_(LIVE)
        )
    )
    if already:
        problems["opening"] = _("The client is already in this opening's queue.")
    if problems:
        raise Refused(problems)
    entry = QueueEntry(
        client_id=client.id,
        opening_id=opening.id,
        status="waiting",
        created_at=now,
        confirmed_at=now,
        created_by_id=user.id,
    )
    session.add(entry)
    session.flush()
    entry.seen_position = position_of(session, entry)
    _audit(session, "queue_joined", user, entry, client.code)
    return entry


def entry_for(session: Session, client: Client, entry_id: int, user: User) -> QueueEntry:
    """A live entry of ``client`` that ``user`` may handle; otherwise 404."""
    _require_reader(user, client)
    entry = session.get(QueueEntry, entry_id)
    permissions.require(
        entry is not None and entry.client_id == client.id and entry.status in LIVE,
        status=404,
        object_type="client",
        object_id=client.id,
        client_code=client.code,
    )
    return entry


def remove(session: Session, entry: QueueEntry, user: User, *, now: datetime) -> None:
    """The worker takes the client out of the queue."""
    _require_reader(user, entry.client)
    _leave(session, [entry], "removed", now)
    _audit(session, "queue_left", user, entry, entry.client.code, "reason=removed")


def confirm(session: Session, entry: QueueEntry, user: User, *, now: datetime) -> None:
    """The worker confirms the client still waits for this place (resets the 90 days)."""
    _require_reader(user, entry.client)
    entry.confirmed_at = now
    _audit(session, "queue_confirmed", user, entry, entry.client.code)
    session.flush()


def _leave(session: Session, entries, reason: str, now: datetime) -> None:
    for entry in entries:
        entry.status, entry.left_at, entry.left_reason = "left", now, reason
    session.flush()


def _leave_all(session: Session, client: Client, reason: str, user, now: datetime) -> None:
    entries = session.scalars(
        select(QueueEntry).where(QueueEntry.client_id == client.id, QueueEntry.status.in_(LIVE))
    ).all()
    _leave(session, entries, reason, now)
    for entry in entries:
        _audit(session, "queue_left", user, entry, client.code, f"reason={reason}")


def _leave_opening(session: Session, opening: Opening, user, now: datetime) -> None:
    """An archived opening takes no one: its queue empties (reason ``archived``)."""
    rows = session.execute(
        select(QueueEntry, Client.code)
        .join(Client, Client.id == QueueEntry.client_id)
        .where(QueueEntry.opening_id == opening.id, QueueEntry.status.in_(LIVE))
    ).all()
    _leave(session, [entry for entry, _code in rows], "archived", now)
    for entry, code in rows:
        _audit(session, "queue_left", user, entry, code, "reason=archived")


def client_closed(session: Session, client: Client, user, *, now: datetime) -> None:
    """A closed client leaves every queue (called by ``clients.close_client``)."""
    _leave_all(session, client, "closed", user, now)


# --- positions and the expected free date --------------------------------------------------------


def _ordered(opening_ids):
    return (
        select(QueueEntry)
        .where(QueueEntry.opening_id.in_(opening_ids), QueueEntry.status.in_(LIVE))
        .order_by(QueueEntry.opening_id, QueueEntry.created_at, QueueEntry.id)
    )


def positions(session: Session, opening_ids) -> dict[int, int]:
    """entry id -> position (1 = first) among the live entries of each opening."""
    result, counter = {}, {}
    ids = list(opening_ids)
    if not ids:
        return result
    rows = session.execute(
        select(QueueEntry.id, QueueEntry.opening_id)
        .where(QueueEntry.opening_id.in_(ids), QueueEntry.status.in_(LIVE))
        .order_by(QueueEntry.opening_id, QueueEntry.created_at, QueueEntry.id)
    ).all()
    for entry_id, opening_id in rows:
        counter[opening_id] = counter.get(opening_id, 0) + 1
        result[entry_id] = counter[opening_id]
    return result


def position_of(session: Session, entry: QueueEntry) -> int:
    return positions(session, [entry.opening_id]).get(entry.id, 0)


def expected_free_dates(session: Session, openings, today: date) -> dict[int, date | None]:
    """opening id -> the day a place is expected to be free (docs/rules.md §18.4):

    - today, when the opening takes a participant now;
    - otherwise, when it is full, the earliest planned end of its active placements (a
      planned end already past counts as today); None when no active placement has one;
    - an accepting-from date later than that pushes the date to it.
    """
    openings = list(openings)
    ids = [o.id for o in openings]
    earliest = (
        dict(
            session.execute(
                select(Placement.opening_id, func.min(Placement.planned_end))
                .where(Placement.opening_id.in_(ids), Placement.status == "active", Placement.planned_end.is_not(None))
                .group_by(Placement.opening_id)
            ).all()
        )
        if ids
        else {}
    )
    result = {}
    for opening in openings:
        if takes_new_participant(opening, today):
            result[opening.id] = today
            continue
        day = None
        if opening.status == "open" and opening.free_places > 0:  # open, but accepting only later
            day = today
        elif earliest.get(opening.id) is not None:
            day = max(earliest[opening.id], today)
        if opening.accepting_from and opening.accepting_from > today:
            day = max(day, opening.accepting_from) if day else opening.accepting_from
        result[opening.id] = day
    return result


@dataclass
class QueuePlace:
    entry: QueueEntry
    position: int
    length: int
    expected: date | None
    needs_confirming: bool


def needs_confirming(entry: QueueEntry, now: datetime) -> bool:
    return entry.confirmed_at < now - timedelta(days=CONFIRM_AFTER_DAYS)


def client_queue(session: Session, client: Client, user: User, *, today: date, now: datetime) -> list[QueuePlace]:
    """The client's live queue entries with their positions and expected free dates."""
    _require_reader(user, client)
    entries = session.scalars(
        select(QueueEntry)
        .where(QueueEntry.client_id == client.id, QueueEntry.status.in_(LIVE))
        .options(joinedload(QueueEntry.opening).joinedload(Opening.site))
        .order_by(QueueEntry.created_at, QueueEntry.id)
    ).all()
    opening_ids = {e.opening_id for e in entries}
    place = positions(session, opening_ids)
    lengths = _lengths(session, opening_ids)
    expected = expected_free_dates(session, {e.opening_id: e.opening for e in entries}.values(), today)
    return [
        QueuePlace(
            e, place.get(e.id, 0), lengths.get(e.opening_id, 0), expected.get(e.opening_id), needs_confirming(e, now)
        )
        for e in entries
    ]


def _lengths(session: Session, opening_ids) -> dict[int, int]:
    if not opening_ids:
        return {}
    return dict(
        session.execute(
            select(QueueEntry.opening_id, func.count())
            .where(QueueEntry.opening_id.in_(list(opening_ids)), QueueEntry.status.in_(LIVE))
            .group_by(QueueEntry.opening_id)
        ).all()
    )


def queued_opening_ids(session: Session, client: Client, user: User) -> set[int]:
    _require_reader(user, client)
    return set(
        session.scalars(
            select(QueueEntry.opening_id).where(QueueEntry.client_id == client.id, QueueEntry.status.in_(LIVE))
        )
    )


@dataclass
class HostQueue:
    opening: Opening
    expected: date | None
    entries: list[tuple[int, str, datetime, str]]  # position, client code, queued at, status


def host_queues(session: Session, user: User, *, today: date) -> list[HostQueue]:
    """The queues of the host's live openings: positions and client codes only. The codes
    shown are a read of client data: audited as one ``queue_listed`` event naming them all."""
    permissions.require(permissions.can_see_host_placements(user), object_type="opening")
    live_openings = (
        select(Opening.id)
        .join(Site)
        .where(Site.organisation_id == user.organisation_id, Site.archived_at.is_(None), Opening.archived_at.is_(None))
    )
    rows = session.execute(
        select(QueueEntry, Client.code)
        .join(Client, Client.id == QueueEntry.client_id)
        .where(QueueEntry.opening_id.in_(live_openings), QueueEntry.status.in_(LIVE))
        .options(joinedload(QueueEntry.opening).joinedload(Opening.site))
        .order_by(QueueEntry.opening_id, QueueEntry.created_at, QueueEntry.id)
    ).all()
    queues: dict[int, HostQueue] = {}
    for entry, code in rows:
        queue = queues.get(entry.opening_id)
        if queue is None:
            queue = queues[entry.opening_id] = HostQueue(entry.opening, None, [])
        queue.entries.append((len(queue.entries) + 1, code, entry.created_at, entry.status))
    if queues:
        # One event for the page, listing every code shown (docs/rules.md §12.3).
        shown = list(dict.fromkeys(code for queue in queues.values() for _, code, _, _ in queue.entries))
        audit.record(
            session,
            "queue_listed",
            user=user,
            object_type="opening",
            client_codes=shown,
            purpose="waiting list",
            detail=f"{len(shown)}: " + " ".join(shown),
        )
    expected = expected_free_dates(session, [q.opening for q in queues.values()], today)
    for queue in queues.values():
        queue.expected = expected.get(queue.opening.id)
    return list(queues.values())


# --- when a place frees ---------------------------------------------------------------------------


def _free(snapshot) -> int:
    total, external, taken, status = snapshot
    return count_free_places(total, external, taken) if status == "open" else 0


def place_may_have_freed(session: Session, opening: Opening, before, *, kind: str, placement_id, user, now) -> None:
    """Called by ``capacity.record`` for every capacity change, in its transaction.

    A started placement takes its client out of every queue (placed). A change that frees
    places tells the responsible worker of the first waiting client, one per freed place.
    """
    if kind == "placement_started" and placement_id is not None:
        placement = session.get(Placement, placement_id)
        _leave_all(session, placement.client, "placed", user, now)
        return
    if before is None:
        return
    if opening.archived_at is not None:
        _leave_opening(session, opening, user, now)
        return
    after = (opening.places_total, opening.places_external, opening.places_taken, opening.status)
    freed = _free(after) - _free(before)
    if freed <= 0:
        return
    waiting = session.scalars(
        select(QueueEntry)
        .where(QueueEntry.opening_id == opening.id, QueueEntry.status == "waiting")
        .order_by(QueueEntry.created_at, QueueEntry.id)
        .limit(freed)
    ).all()
    from placements.services.paths import responsible_worker

    for entry in waiting:
        session.execute(
            update(QueueEntry)
            .where(QueueEntry.id == entry.id)
            .values(status="offered", offered_at=now)
            .execution_options(synchronize_session=False)
        )
        session.expire(entry)
        client = entry.client
        notifications.queue_place_free(
            session, entry, client, responsible_worker(session, client), position_of(session, entry)
        )
        _audit(session, "queue_offered", user, entry, client.code)
