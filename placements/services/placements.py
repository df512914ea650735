"""Placements: propose, accept (the one atomic step that takes a place), decline, cancel, end.

Accepting runs one conditional UPDATE on the opening,
``places_taken = places_taken + 1 WHERE places_taken + places_external < places_total``,
in the transaction that activates the placement; the CHECK constraint
``places_taken + places_external <= places_total`` backs it. So two people, processes or
app servers can never overbook an opening (docs/rules.md §3.3). Every step takes the acting
user and checks the rule itself (docs/rules.md §2.2, §5). Services only flush; the unit of work
commits.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from placements import clock, formats, permissions
from placements.codes import KTT_DAYS_PER_WEEK, KTT_HOURS_PER_DAY, KTT_PERIOD_MONTHS, PLACEMENT_STATES
from placements.errors import Refused
from placements.models import Client, Opening, Placement, User
from placements.services import audit, capacity, notifications
from placements.services.clients import OPEN_PLACEMENT_STATUSES, check_free_text


class NoFreePlace(Refused):
    """Every place of the opening is taken at this moment."""

    def __init__(self):
        message = _(
            "There is no free place in this opening right now, so the placement could not start. "
            "The proposal is still waiting; accept it when a place frees up, or decline it."
        )
        super().__init__({"opening": message}, status=409)


def _require(allowed: bool, placement: Placement) -> None:
    permissions.require(
        allowed, status=404, object_type="placement", object_id=placement.id, client_code=placement.client.code
    )


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _span(low: float, high: float) -> str:
    return f"{low:g}" if low == high else f"{low:g}–{high:g}"


# The furthest ahead a start can be planned.
LONGEST_LEAD_DAYS = 730


def schedule_problems(
    opening: Opening, *, days_per_week: int, hours_per_day: float, start_date: date, planned_end: date | None
) -> dict[str, str]:
    """The agreed schedule must fit the opening, and for KTT the law's limits (the opening's
    own limits, being inside the law's, are named first)."""
    problems = {}
    if not opening.days_per_week_min <= days_per_week <= opening.days_per_week_max:
        problems["days_per_week"] = _(
            "The opening has %(range)s days a week.", range=_span(opening.days_per_week_min, opening.days_per_week_max)
        )
    if not opening.hours_per_day_min <= hours_per_day <= opening.hours_per_day_max:
        problems["hours_per_day"] = _(
            "The opening has %(range)s hours a day.", range=_span(opening.hours_per_day_min, opening.hours_per_day_max)
        )
    if planned_end is not None and planned_end < start_date:
        problems["planned_end"] = _("The planned end is before the start.")
    if opening.type == "rehabilitative_work":
        low, high = KTT_DAYS_PER_WEEK
        if not low <= days_per_week <= high:
            problems.setdefault(
                "days_per_week",
                _(
                    "Rehabilitative work activity is %(low)s–%(high)s days a week (Act 189/2001, 13 §).",
                    low=low,
                    high=high,
                ),
            )
        low, high = KTT_HOURS_PER_DAY
        if not low <= hours_per_day <= high:
            problems.setdefault(
                "hours_per_day",
                _(
                    "Rehabilitative work activity is %(low)s–%(high)s hours a day (Act 189/2001, 13 §).",
                    low=low,
                    high=high,
                ),
            )
        shortest, longest = KTT_PERIOD_MONTHS
        if planned_end is None:
            problems["planned_end"] = _(
                "Rehabilitative work activity needs a planned end: the period is %(low)s–%(high)s months.",
                low=shortest,
                high=longest,
            )
        elif not add_months(start_date, shortest) <= planned_end <= add_months(start_date, longest):
            problems["planned_end"] = _(
                "A period of rehabilitative work activity is %(low)s–%(high)s months (Act 189/2001).",
                low=shortest,
                high=longest,
            )
    return problems


def propose(
    session: Session,
    client: Client,
    opening: Opening,
    user: User,
    *,
    days_per_week: int,
    hours_per_day: float,
    start_date: date,
    planned_end: date | None,
    note_for_host: str | None,
    today: date,
) -> Placement:
    permissions.require(
        permissions.can_propose_placement(user, client),
        status=404,
        object_type="client",
        object_id=client.id,
        client_code=client.code,
    )
    problems = schedule_problems(
        opening,
        days_per_week=days_per_week,
        hours_per_day=hours_per_day,
        start_date=start_date,
        planned_end=planned_end,
    )
    if client.status != "active":
        problems["client"] = _("The client is closed.")
    if opening.status != "open" or opening.archived_at is not None or opening.site.archived_at is not None:
        problems["opening"] = _("The opening is not taking participants at the moment.")
    if start_date < today:
        problems["start_date"] = _("The start cannot be in the past.")
    elif (start_date - today).days > LONGEST_LEAD_DAYS:
        problems["start_date"] = _("The start can be planned at most two years ahead.")
    if opening.accepting_from and start_date < opening.accepting_from:
        problems["start_date"] = _(
            "The opening takes new participants from %(date)s.", date=formats.day(opening.accepting_from)
        )
    check_free_text(problems, note_for_host=note_for_host)
    already = session.scalar(
        select(
            exists().where(
                Placement.client_id == client.id,
                Placement.opening_id == opening.id,
                Placement.status.in_(OPEN_PLACEMENT_STATUSES),
            )
        )
    )
    if already:
        problems["opening"] = _("The client already has a proposed, agreed or active placement in this opening.")
    if problems:
        raise Refused(problems)
    placement = Placement(
        client_id=client.id,
        opening_id=opening.id,
        status="proposed",
        days_per_week=days_per_week,
        hours_per_day=hours_per_day,
        start_date=start_date,
        planned_end=planned_end,
        note_for_host=(note_for_host or "").strip() or None,
        proposed_by_id=user.id,
    )
    session.add(placement)
    session.flush()
    notifications.proposal_made(session, placement, user)
    audit.record(
        session,
        "placement_proposed",
        user=user,
        object_type="placement",
        object_id=placement.id,
        client_code=client.code,
        purpose="placement",
    )
    return placement


def _transition(session: Session, placement: Placement, from_status: str, **values) -> bool:
    """Change the placement's status only if it still has ``from_status`` (one UPDATE)."""
    result = session.execute(
        update(Placement)
        .where(Placement.id == placement.id, Placement.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.expire(placement)
    return result.rowcount == 1


def accept(session: Session, placement: Placement, user: User, *, now: datetime) -> None:
    """Start the placement if, and only if, a place is free at this moment."""
    _require(permissions.can_decide_placement(user, placement), placement)
    opening_id, client_code = placement.opening_id, placement.client.code
    if not _transition(
        session, placement, "proposed", status="active", decided_by_id=user.id, decided_at=now, updated_at=now
    ):
        raise Refused({"placement": _("The placement is no longer waiting for a decision.")})
    taken = session.execute(
        update(Opening)
        .where(
            Opening.id == opening_id,
            Opening.status == "open",
            Opening.archived_at.is_(None),
            Opening.places_taken + Opening.places_external < Opening.places_total,
        )
        .values(places_taken=Opening.places_taken + 1, version=Opening.version + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        raise NoFreePlace()  # the caller rolls back, so the placement stays proposed
    opening = session.get(Opening, opening_id, populate_existing=True)
    before = (opening.places_total, opening.places_external, opening.places_taken - 1, opening.status)
    capacity.record(session, opening, before, user=user, now=now, kind="placement_started", placement_id=placement.id)
    audit.record(
        session,
        "placement_accepted",
        user=user,
        object_type="placement",
        object_id=placement.id,
        client_code=client_code,
        purpose="placement",
    )
    session.flush()
    notifications.proposal_decided(session, placement, user, accepted=True)


def check_decline(placement: Placement, user: User, *, reason: str) -> None:
    """Refuse now what ``decline`` would refuse, so the confirmation step is asked only for a
    decline that can go through (docs/rules.md §5.6, §11.10)."""
    _require(permissions.can_decide_placement(user, placement), placement)
    problems = {}
    if placement.status != "proposed":
        problems["placement"] = _("The placement is no longer waiting for a decision.")
    if not reason.strip():
        problems["reason"] = _("Tell the social worker why, so they can look for another place.")
    check_free_text(problems, reason=reason)
    if problems:
        raise Refused(problems)


def decline(session: Session, placement: Placement, user: User, *, reason: str, now: datetime) -> None:
    check_decline(placement, user, reason=reason)
    client_code = placement.client.code
    if not _transition(
        session,
        placement,
        "proposed",
        status="declined",
        decline_reason=reason.strip(),
        decided_by_id=user.id,
        decided_at=now,
        updated_at=now,
    ):
        raise Refused({"placement": _("The placement is no longer waiting for a decision.")})
    audit.record(
        session,
        "placement_declined",
        user=user,
        object_type="placement",
        object_id=placement.id,
        client_code=client_code,
        purpose="placement",
    )
    session.flush()
    notifications.proposal_decided(session, placement, user, accepted=False)


def _release_place(session: Session, opening_id: int, placement_id: int, user: User, now: datetime) -> None:
    """Give an active placement's place back (one UPDATE) and record it in the history."""
    session.execute(
        update(Opening)
        .where(Opening.id == opening_id, Opening.places_taken > 0)
        .values(places_taken=Opening.places_taken - 1, version=Opening.version + 1)
        .execution_options(synchronize_session=False)
    )
    opening = session.get(Opening, opening_id, populate_existing=True)
    before = (opening.places_total, opening.places_external, opening.places_taken + 1, opening.status)
    capacity.record(session, opening, before, user=user, now=now, kind="placement_ended", placement_id=placement_id)


def check_cancel(placement: Placement, user: User, *, today: date) -> None:
    """Refuse now what ``cancel`` would refuse (docs/rules.md §5.7, §11.10)."""
    _require(permissions.can_end_placement(user, placement), placement)
    state = placement.state_on(today)
    if state == "proposed" and not permissions.can_read_client(user, placement.client):
        raise Refused({"placement": _("Decline the proposal instead, with a reason for the social worker.")})
    if state == "active":
        raise Refused({"placement": _("The placement has already started, so it cannot be cancelled; end it instead.")})
    if state not in ("proposed", "agreed"):
        raise Refused(
            {"placement": _("Only a waiting proposal, or a placement that has not started yet, can be cancelled.")}
        )


def cancel(session: Session, placement: Placement, user: User, *, now: datetime, today: date | None = None) -> None:
    """Cancel a waiting proposal, or an agreed placement that has not started yet (its
    place is freed at once). A host declines a waiting proposal instead, with a reason."""
    today = today or clock.today()
    check_cancel(placement, user, today=today)
    client_code, opening_id = placement.client.code, placement.opening_id
    was = placement.state_on(today)
    agreed = was == "agreed"
    if not _transition(
        session,
        placement,
        "active" if agreed else "proposed",
        status="cancelled",
        ended_by_id=user.id if agreed else None,
        updated_at=now,
        **({} if agreed else {"decided_by_id": user.id, "decided_at": now}),
    ):
        raise Refused(
            {"placement": _("Only a waiting proposal, or a placement that has not started yet, can be cancelled.")}
        )
    if agreed:
        _release_place(session, opening_id, placement.id, user, now)
    audit.record(
        session,
        "placement_cancelled",
        user=user,
        object_type="placement",
        object_id=placement.id,
        client_code=client_code,
        purpose="placement",
    )
    session.flush()
    notifications.placement_cancelled(session, placement, user, was=was)


def check_end(placement: Placement, user: User, *, ended_on: date, today: date) -> None:
    """Refuse now what ``end`` would refuse (docs/rules.md §5.8, §11.10). An agreed placement
    has not started, so it cannot end; it can be cancelled."""
    _require(permissions.can_end_placement(user, placement), placement)
    state = placement.state_on(today)
    if state == "agreed":
        raise Refused(
            {
                "placement": _(
                    "The placement has not started yet: it is agreed to start on %(date)s. "
                    "It cannot be ended before it starts; cancel it instead.",
                    date=formats.day(placement.start_date),
                )
            }
        )
    if state != "active":
        raise Refused({"placement": _("Only an active placement can be ended.")})
    problems = {}
    if ended_on < placement.start_date:
        problems["ended_on"] = _(
            "The end date is before the placement started (%(date)s).", date=formats.day(placement.start_date)
        )
    if ended_on > today:
        problems["ended_on"] = _("The end date cannot be in the future.")
    if problems:
        raise Refused(problems)


def end(
    session: Session, placement: Placement, user: User, *, ended_on: date, end_reason: str, today: date, now: datetime
) -> None:
    """End an active placement; its place is free again at once."""
    check_end(placement, user, ended_on=ended_on, today=today)
    opening_id, client_code = placement.opening_id, placement.client.code
    if not _transition(
        session,
        placement,
        "active",
        status="ended",
        ended_on=ended_on,
        end_reason=end_reason,
        ended_by_id=user.id,
        updated_at=now,
    ):
        raise Refused({"placement": _("Only an active placement can be ended.")})
    _release_place(session, opening_id, placement.id, user, now)
    audit.record(
        session,
        "placement_ended",
        user=user,
        object_type="placement",
        object_id=placement.id,
        client_code=client_code,
        purpose="placement",
        detail=f"reason={end_reason}",
    )
    session.flush()


# --- what a host sees -----------------------------------------------------------------------------


def host_placements(session: Session, user: User) -> list[Placement]:
    """Proposed and active placements at the live openings of the host's organisation,
    waiting proposals first. The client codes shown are a read of client data: audited, in
    one event that lists them all."""
    from sqlalchemy.orm import joinedload

    from placements.models import Site

    permissions.require(permissions.can_see_host_placements(user), object_type="placement")
    live_openings = (
        select(Opening.id).join(Site).where(Site.organisation_id == user.organisation_id, Site.archived_at.is_(None))
    )
    placements = session.scalars(
        select(Placement)
        .where(Placement.opening_id.in_(live_openings), Placement.status.in_(OPEN_PLACEMENT_STATUSES))
        .options(joinedload(Placement.client), joinedload(Placement.opening), joinedload(Placement.proposed_by))
        .order_by(Placement.status.desc(), Placement.start_date, Placement.id)
    ).all()
    if placements:
        # One event for the page, listing every code shown (docs/rules.md §12.3).
        shown = list(dict.fromkeys(placement.client.code for placement in placements))
        audit.record(
            session,
            "placement_listed",
            user=user,
            object_type="placement",
            client_codes=shown,
            purpose="placement",
            detail=f"{len(placements)}: " + " ".join(shown),
        )
    return placements


# --- how a placement is named -----------------------------------------------------------------


def state_text(placement: Placement, today: date | None = None) -> str:
    """The placement's state in words, the same on every page and in every list
    (docs/rules.md §5.1): "sovittu, alkaa 7.12.2026" until an accepted placement starts."""
    state = placement.state_on(today or clock.today())
    if state == "agreed":
        return _("agreed, starts on %(date)s", date=formats.day(placement.start_date))
    return str(PLACEMENT_STATES.get(state, state))
