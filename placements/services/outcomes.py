"""Outcomes of placements and of clients' paths (docs/rules.md §19), aggregated in SQL.

For a period and the clients of the chosen municipalities (all clients for the coordinator,
the worker's own and shared clients for a social worker):

- placements ended in the period by end reason, per opening type (§19.2);
- the median length of those placements, per opening type and in all (§19.3);
- the median days from a client's first needs record to the start of the client's first
  placement, for first placements starting in the period (§19.3);
- the median days from a proposal to the host's answer, for answers given in the period (§19.3);
- path transitions: clients whose next accepted placement, starting in the period, was of a
  given type after a placement of a given type, and clients employed at the end of a
  placement that ended in the period (§19.4).

Counts only: no client code, no needs. Counts of 1–4 and medians of fewer than five values
are shown as "<5" and "–" by the callers through ``shown``/``Median.shown`` (§19.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Date, Integer, String, cast, distinct, extract, func, null, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from placements import permissions
from placements.clock import HELSINKI
from placements.codes import END_REASONS, OPENING_TYPES
from placements.models import Client, Needs, Opening, Placement
from placements.models.base import UTCDateTime
from placements.models.client import client_shares
from placements.services.survey import Period

ACCEPTED = ("active", "ended")  # placements the host accepted (docs/rules.md §5.1)
ANSWERED = ("active", "ended", "declined")  # the host said yes or no
EMPLOYED = "employed"
# The order of a path: KTT → work trial → pay subsidy → IPS → employed.
STEPS = tuple(OPENING_TYPES) + (EMPLOYED,)
SMALLEST_SHOWN = 5  # counts 1–4 are shown as "<5" (docs/rules.md §9.6, §19.5)
SMALL = "<5"


def shown(count: int) -> int | str:
    """A count as it may be shown: 1–4 as "<5"."""
    return SMALL if 0 < count < SMALLEST_SHOWN else count


def share(count: int, total: int) -> float | None:
    """The count's share of the total in per cent, or None where it would tell a small count."""
    if total < SMALLEST_SHOWN or 0 < count < SMALLEST_SHOWN:
        return None
    return round(100 * count / total, 1)


@dataclass(frozen=True)
class Median:
    value: float | None
    count: int  # how many values

    @property
    def shown(self) -> float | None:
        """The median, or None when it rests on fewer than five values."""
        return self.value if self.count >= SMALLEST_SHOWN else None


def median_of(histogram: dict[int, int]) -> Median:
    """The median of values given as value -> how many times (the mean of the middle two)."""
    total = sum(histogram.values())
    if total == 0:
        return Median(None, 0)
    wanted = {(total - 1) // 2, total // 2}
    found: list[int] = []
    seen = 0
    for value, times in sorted(histogram.items()):
        for position in sorted(wanted):
            if seen <= position < seen + times:
                found.append(value)
        seen += times
    return Median(sum(found) / len(found), total)


@dataclass
class Outcomes:
    period: Period
    municipalities: tuple[str, ...]
    ended: dict[str, dict[str, int]] = field(default_factory=dict)  # type -> reason -> placements
    lengths: dict[str, Median] = field(default_factory=dict)  # type -> median days; "" is all types
    needs_to_start: Median = Median(None, 0)
    proposal_to_answer: Median = Median(None, 0)
    transitions: dict[tuple[str, str], int] = field(default_factory=dict)  # (from type, to step) -> clients

    def types_ended(self) -> list[str]:
        return [kind for kind in OPENING_TYPES if self.ended.get(kind)]

    def ended_total(self, kind: str | None = None) -> int:
        rows = [self.ended.get(kind, {})] if kind else self.ended.values()
        return sum(sum(row.values()) for row in rows)

    def ended_count(self, kind: str | None, reason: str) -> int:
        if kind:
            return self.ended.get(kind, {}).get(reason, 0)
        return sum(row.get(reason, 0) for row in self.ended.values())

    def transition_sources(self) -> list[str]:
        return [kind for kind in OPENING_TYPES if any(self.transitions.get((kind, to)) for to in STEPS)]


# --- scope ---------------------------------------------------------------------------------------


def client_scope(municipalities=(), worker_id: int | None = None):
    """The clients counted: of the chosen municipalities (all when none), and for a worker only
    their own and shared clients (docs/rules.md §19.1). None means every client."""
    conditions = []
    if municipalities:
        conditions.append(Client.municipality_code.in_(list(municipalities)))
    if worker_id is not None:
        shared = select(client_shares.c.client_id).where(client_shares.c.user_id == worker_id)
        conditions.append(or_(Client.owner_id == worker_id, Client.id.in_(shared)))
    return select(Client.id).where(*conditions) if conditions else None


def _scoped(query, scope, column=Placement.client_id):
    return query if scope is None else query.where(column.in_(scope))


# --- day arithmetic in SQL, the same on SQLite and PostgreSQL ------------------------------------


def _date_days(later, earlier, dialect: str):
    """Whole days from one date column to another."""
    if dialect == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return later - earlier  # date - date is an integer on PostgreSQL


def _elapsed_days(later, earlier, dialect: str):
    """Whole 24-hour periods from one timestamp to another (rounded down)."""
    if dialect == "sqlite":
        seconds = cast((func.julianday(later) - func.julianday(earlier)) * 86400 + 0.5, Integer)
        return seconds / 86400  # integer division of integers
    return cast(func.floor(extract("epoch", later - earlier) / 86400), Integer)


# --- the figures -------------------------------------------------------------------------------


def _ended_and_lengths(session: Session, period: Period, scope, dialect: str):
    """Placements ended in the period, by type and reason, and the histograms of their lengths
    (days from start to end, both included), in one grouped pass over the ``ended_on`` index."""
    days = _date_days(Placement.ended_on, Placement.start_date, dialect) + 1
    query = (
        select(Opening.type, Placement.end_reason, days, func.count())
        .join(Opening, Opening.id == Placement.opening_id)
        .where(Placement.status == "ended", Placement.ended_on >= period.start, Placement.ended_on <= period.end)
        .group_by(Opening.type, Placement.end_reason, days)
    )
    ended: dict[str, dict[str, int]] = {}
    by_type: dict[str, dict[int, int]] = {}
    every: dict[int, int] = {}
    for kind, reason, length, count in session.execute(_scoped(query, scope)):
        reasons = ended.setdefault(kind, dict.fromkeys(END_REASONS, 0))
        reasons[reason] += count
        histogram = by_type.setdefault(kind, {})
        histogram[int(length)] = histogram.get(int(length), 0) + count
        every[int(length)] = every.get(int(length), 0) + count
    lengths = {kind: median_of(histogram) for kind, histogram in by_type.items()} | {"": median_of(every)}
    return ended, lengths


def _proposal_to_answer(session: Session, period: Period, scope, dialect: str) -> Median:
    """Whole days (24-hour periods) from the proposal to the host's acceptance or decline,
    for answers given in the period (its Finnish days)."""
    days = _elapsed_days(Placement.decided_at, Placement.proposed_at, dialect)
    query = (
        select(days, func.count())
        .where(
            Placement.status.in_(ANSWERED),
            Placement.decided_at >= period.start_utc,
            Placement.decided_at < period.cutoff,
        )
        .group_by(days)
    )
    return median_of({int(value): count for value, count in session.execute(_scoped(query, scope))})


def _paths(session: Session, period: Period, scope) -> tuple[dict[tuple[str, str], int], Median]:
    """Path transitions (from type, to step) -> distinct clients (docs/rules.md §19.4), and the
    median days from the first needs record to the first placement (§19.3).

    One window over the clients' accepted placements up to the period's end gives each
    placement the opening of the one before it: a placement in the period with a previous one
    is a transition, without one it is the client's first placement. Both come from one
    statement (the window is computed once). Days to the first start are counted in Python
    from the Finnish date of the first needs record; a record made after the start is left out.
    """
    ordered = _scoped(
        select(
            Placement.client_id.label("client_id"),
            Placement.start_date.label("start_date"),
            Placement.opening_id.label("opening_id"),
            func.lag(Placement.opening_id)
            .over(partition_by=Placement.client_id, order_by=(Placement.start_date, Placement.id))
            .label("previous"),
        ).where(Placement.status.in_(ACCEPTED), Placement.start_date <= period.end),
        scope,
    ).cte("ordered")
    first_needs = select(func.min(Needs.created_at)).where(Needs.client_id == ordered.c.client_id).scalar_subquery()
    first_starts = select(
        cast(null(), String).label("source"),
        cast(null(), String).label("target"),
        cast(null(), Integer).label("clients"),
        ordered.c.start_date,
        first_needs.label("first_needs"),
    ).where(ordered.c.previous.is_(None), ordered.c.start_date >= period.start)
    came_from, went_to = aliased(Opening), aliased(Opening)
    steps = (
        select(
            came_from.type,
            went_to.type,
            func.count(distinct(ordered.c.client_id)),
            cast(null(), Date),
            cast(null(), UTCDateTime),
        )
        .join(came_from, came_from.id == ordered.c.previous)
        .join(went_to, went_to.id == ordered.c.opening_id)
        .where(ordered.c.start_date >= period.start)
        .group_by(came_from.type, went_to.type)
    )
    transitions: dict[tuple[str, str], int] = {}
    waits: dict[int, int] = {}
    for source, target, clients, start, recorded in session.execute(union_all(first_starts, steps)):
        if source is not None:
            transitions[(source, target)] = clients
        elif recorded is not None:
            days = (start - recorded.astimezone(HELSINKI).date()).days
            if days >= 0:
                waits[days] = waits.get(days, 0) + 1
    employed = _scoped(
        select(Opening.type, func.count(distinct(Placement.client_id)))
        .join(Opening, Opening.id == Placement.opening_id)
        .where(
            Placement.status == "ended",
            Placement.end_reason == EMPLOYED,
            Placement.ended_on >= period.start,
            Placement.ended_on <= period.end,
        )
        .group_by(Opening.type),
        scope,
    )
    for source, count in session.execute(employed):
        transitions[(source, EMPLOYED)] = count
    return transitions, median_of(waits)


def _compute(session: Session, period: Period, municipalities, worker_id: int | None) -> Outcomes:
    scope = client_scope(municipalities, worker_id)
    dialect = session.get_bind().dialect.name
    ended, lengths = _ended_and_lengths(session, period, scope, dialect)
    transitions, needs_to_start = _paths(session, period, scope)
    return Outcomes(
        period=period,
        municipalities=tuple(municipalities),
        ended=ended,
        lengths=lengths,
        needs_to_start=needs_to_start,
        proposal_to_answer=_proposal_to_answer(session, period, scope, dialect),
        transitions=transitions,
    )


def region_outcomes(session: Session, user, period: Period, *, municipalities=()) -> Outcomes:
    """Every client's outcomes (the coordinator, docs/rules.md §19.1)."""
    permissions.require(permissions.can_view_region_outcomes(user), object_type="outcomes")
    return _compute(session, period, municipalities, None)


def worker_outcomes(session: Session, user, period: Period, *, municipalities=()) -> Outcomes:
    """The outcomes of the worker's own and shared clients (docs/rules.md §19.1)."""
    permissions.require(permissions.can_view_own_outcomes(user), object_type="outcomes")
    return _compute(session, period, municipalities, user.id)
