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

from sqlalchemy import Integer, and_, cast, distinct, extract, func, or_, select
from sqlalchemy.orm import Session

from placements import permissions
from placements.clock import HELSINKI
from placements.codes import END_REASONS, OPENING_TYPES
from placements.models import Client, Needs, Opening, Placement
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

    def transition_total(self, source: str) -> int:
        return sum(self.transitions.get((source, to), 0) for to in STEPS)


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


def _ended(session: Session, period: Period, scope) -> dict[str, dict[str, int]]:
    query = (
        select(Opening.type, Placement.end_reason, func.count())
        .join(Opening, Opening.id == Placement.opening_id)
        .where(Placement.status == "ended", Placement.ended_on >= period.start, Placement.ended_on <= period.end)
        .group_by(Opening.type, Placement.end_reason)
    )
    ended: dict[str, dict[str, int]] = {}
    for kind, reason, count in session.execute(_scoped(query, scope)):
        ended.setdefault(kind, dict.fromkeys(END_REASONS, 0))[reason] = count
    return ended


def _lengths(session: Session, period: Period, scope, dialect: str) -> dict[str, Median]:
    """Placements ended in the period: days from start to end, both included."""
    days = _date_days(Placement.ended_on, Placement.start_date, dialect) + 1
    query = (
        select(Opening.type, days, func.count())
        .join(Opening, Opening.id == Placement.opening_id)
        .where(Placement.status == "ended", Placement.ended_on >= period.start, Placement.ended_on <= period.end)
        .group_by(Opening.type, days)
    )
    by_type: dict[str, dict[int, int]] = {}
    every: dict[int, int] = {}
    for kind, length, count in session.execute(_scoped(query, scope)):
        by_type.setdefault(kind, {})[int(length)] = count
        every[int(length)] = every.get(int(length), 0) + count
    return {kind: median_of(histogram) for kind, histogram in by_type.items()} | {"": median_of(every)}


def _needs_to_start(session: Session, period: Period, scope) -> Median:
    """Days from the client's first needs record (its Finnish date) to the start of the
    client's first accepted placement, when that start is in the period. A client whose first
    needs record came after the start is left out."""
    first_start = _scoped(
        select(Placement.client_id.label("client_id"), func.min(Placement.start_date).label("first_start"))
        .where(Placement.status.in_(ACCEPTED))
        .group_by(Placement.client_id),
        scope,
    ).subquery()
    first_needs = (
        select(Needs.client_id.label("client_id"), func.min(Needs.created_at).label("first_needs"))
        .group_by(Needs.client_id)
        .subquery()
    )
    query = (
        select(first_start.c.first_start, first_needs.c.first_needs)
        .join(first_needs, first_needs.c.client_id == first_start.c.client_id)
        .where(first_start.c.first_start >= period.start, first_start.c.first_start <= period.end)
    )
    histogram: dict[int, int] = {}
    for start, recorded in session.execute(query):
        days = (start - recorded.astimezone(HELSINKI).date()).days
        if days >= 0:
            histogram[days] = histogram.get(days, 0) + 1
    return median_of(histogram)


def _proposal_to_answer(session: Session, period: Period, scope, dialect: str) -> Median:
    """Whole days (24-hour periods) from the proposal to the host's acceptance or decline,
    for answers given in the period (Finnish days)."""
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


def _transitions(session: Session, period: Period, scope) -> dict[tuple[str, str], int]:
    """(from type, to step) -> distinct clients (docs/rules.md §19.4)."""
    ordered = _scoped(
        select(
            Placement.client_id.label("client_id"),
            Placement.start_date.label("start_date"),
            Opening.type.label("kind"),
            func.lag(Opening.type)
            .over(partition_by=Placement.client_id, order_by=(Placement.start_date, Placement.id))
            .label("previous"),
        )
        .join(Opening, Opening.id == Placement.opening_id)
        .where(Placement.status.in_(ACCEPTED), Placement.start_date <= period.end),
        scope,
    ).subquery()
    steps = (
        select(ordered.c.previous, ordered.c.kind, func.count(distinct(ordered.c.client_id)))
        .where(ordered.c.start_date >= period.start, ordered.c.previous.is_not(None))
        .group_by(ordered.c.previous, ordered.c.kind)
    )
    found = {(source, target): count for source, target, count in session.execute(steps)}
    employed = _scoped(
        select(Opening.type, func.count(distinct(Placement.client_id)))
        .join(Opening, Opening.id == Placement.opening_id)
        .where(
            and_(
                Placement.status == "ended",
                Placement.end_reason == EMPLOYED,
                Placement.ended_on >= period.start,
                Placement.ended_on <= period.end,
            )
        )
        .group_by(Opening.type),
        scope,
    )
    for source, count in session.execute(employed):
        found[(source, EMPLOYED)] = count
    return found


def _compute(session: Session, period: Period, municipalities, worker_id: int | None) -> Outcomes:
    scope = client_scope(municipalities, worker_id)
    dialect = session.get_bind().dialect.name
    return Outcomes(
        period=period,
        municipalities=tuple(municipalities),
        ended=_ended(session, period, scope),
        lengths=_lengths(session, period, scope, dialect),
        needs_to_start=_needs_to_start(session, period, scope),
        proposal_to_answer=_proposal_to_answer(session, period, scope, dialect),
        transitions=_transitions(session, period, scope),
    )


def region_outcomes(session: Session, user, period: Period, *, municipalities=()) -> Outcomes:
    """Every client's outcomes (the coordinator, docs/rules.md §19.1)."""
    permissions.require(permissions.can_view_region_outcomes(user), object_type="outcomes")
    return _compute(session, period, municipalities, None)


def worker_outcomes(session: Session, user, period: Period, *, municipalities=()) -> Outcomes:
    """The outcomes of the worker's own and shared clients (docs/rules.md §19.1)."""
    permissions.require(permissions.can_view_own_outcomes(user), object_type="outcomes")
    return _compute(session, period, municipalities, user.id)
