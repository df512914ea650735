"""The survey of places and placements (docs/rules.md §9), aggregated in SQL.

Places are as they stood at the end of the period, reconstructed from CapacityEvent
history (the latest event of each opening before the period ended), so last year's survey
keeps showing last year's numbers. Placements are counted from their dates:
- started: started (accepted, active or since ended) with a start date in the period;
- active at end: started on or before the last day and not ended by then;
- ended: ended in the period, also by end reason.
Counts 1–4 of placements can be shown as "<5" (they describe people).

SQL gives per-opening numbers (at most one row per opening); each row (municipality ×
opening type) adds up its openings in a ``Tally``, and the municipality totals and the
region's total merge the rows' tallies. Every column adds up except ``sites``, which counts
distinct sites at each level (§9.7).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from placements.clock import HELSINKI
from placements.codes import END_REASONS, OPENING_TYPES
from placements.models import CapacityEvent, Client, Municipality, Opening, Placement, Site

CAPACITY_COLUMNS = ("sites", "openings", "places_total", "places_external", "places_taken", "places_free")
PLACEMENT_COLUMNS = ("placements_started", "active_at_end", "ended") + tuple(
    f"ended_{reason}" for reason in END_REASONS
)
COLUMNS = CAPACITY_COLUMNS + PLACEMENT_COLUMNS
SPLITS = {"age_band": Client.age_band, "gender": Client.gender}


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    kind: str = "custom"  # month | quarter | year | custom

    @property
    def start_utc(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=HELSINKI).astimezone(UTC)

    @property
    def cutoff(self) -> datetime:
        """The first moment after the period (Finnish midnight), in UTC."""
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=HELSINKI).astimezone(UTC)

    def previous(self) -> Period:
        if self.kind == "month":
            end = self.start - timedelta(days=1)
            return Period(end.replace(day=1), end, "month")
        if self.kind == "quarter":
            end = self.start - timedelta(days=1)
            return Period(date(end.year, end.month - 2, 1), end, "quarter")
        if self.kind == "year":
            return Period(date(self.start.year - 1, 1, 1), date(self.start.year - 1, 12, 31), "year")
        length = (self.end - self.start).days + 1
        return Period(self.start - timedelta(days=length), self.start - timedelta(days=1), "custom")

    def label(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    following = date(year + (number == 12), number % 12 + 1, 1)
    return Period(first, following - timedelta(days=1), "month")


def quarter(year: int, number: int) -> Period:
    first = date(year, 3 * number - 2, 1)
    following = date(year + (number == 4), (3 * number) % 12 + 1, 1)
    return Period(first, following - timedelta(days=1), "quarter")


def year(number: int) -> Period:
    return Period(date(number, 1, 1), date(number, 12, 31), "year")


@dataclass
class Row:
    """One line of the survey: municipality × opening type (× group when split), a site ×
    opening type (``site_ref`` set), or a total: ``total`` is ``"municipality"`` (all types
    of one municipality) or ``"region"`` (everything counted)."""

    municipality_code: str
    municipality: str
    opening_type: str | None
    group: str | None = None
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    site_ref: str | None = None
    site_name: str | None = None
    total: str | None = None  # None | "municipality" | "region"


class Tally:
    """Counts for one row or total (docs/rules.md §9.3–§9.7).

    Every column adds up except ``sites``: it is the number of distinct sites behind the
    counted openings, so a site with openings of three types is one site in a total.
    Openings are added to the tally of their row; totals merge the rows' tallies.
    """

    def __init__(self) -> None:
        self.values = dict.fromkeys(COLUMNS, 0)
        self.site_ids: set[int] = set()

    def add_opening(self, site_id: int, total: int, external: int, taken: int, status: str) -> None:
        """An opening open or paused at the end of the period, with its places then (§9.3)."""
        self.site_ids.add(site_id)
        values = self.values
        values["openings"] += 1
        values["places_total"] += total
        values["places_external"] += external
        values["places_taken"] += taken
        if status == "open":
            values["places_free"] += max(total - external - taken, 0)

    def add_counts(self, counts: dict[str, int]) -> None:
        """Placement counts of one opening (§9.4)."""
        values = self.values
        for column, value in counts.items():
            values[column] += value

    def merge(self, other: Tally) -> None:
        """Add another tally: every column adds up, the sites are united (§9.7)."""
        for column, value in other.values.items():
            self.values[column] += value
        self.site_ids |= other.site_ids

    def result(self) -> dict[str, int]:
        return self.values | {"sites": len(self.site_ids)}


@dataclass
class Survey:
    period: Period
    rows: list[Row]
    totals: dict[str, int]
    split: str | None = None
    split_rows: list[Row] = field(default_factory=list)
    municipality_totals: dict[str, Row] = field(default_factory=dict)  # by code, in municipality order

    def sections(self) -> list[tuple[Row, list[Row]]]:
        """(municipality total, its rows by type), in municipality order."""
        grouped: dict[str, list[Row]] = {}
        for row in self.rows:
            grouped.setdefault(row.municipality_code, []).append(row)
        return [(self.municipality_totals[code], rows) for code, rows in grouped.items()]


# --- SQL: per-opening aggregates; the roll-up of those (≤ one row per opening) is in Python ---


def capacity_state_query(cutoff: datetime):
    """Each opening's state at ``cutoff``: the values of its latest event before it.

    Two index-friendly steps (latest time per opening, then the highest id at that time)
    instead of a window over the whole history.
    """
    latest_time = (
        select(CapacityEvent.opening_id, func.max(CapacityEvent.occurred_at).label("at"))
        .where(CapacityEvent.occurred_at < cutoff)
        .group_by(CapacityEvent.opening_id)
        .subquery()
    )
    latest_id = (
        select(func.max(CapacityEvent.id).label("id"))
        .join(
            latest_time,
            and_(CapacityEvent.opening_id == latest_time.c.opening_id, CapacityEvent.occurred_at == latest_time.c.at),
        )
        .group_by(CapacityEvent.opening_id)
        .subquery()
    )
    return select(
        CapacityEvent.opening_id,
        CapacityEvent.places_total_after.label("total"),
        CapacityEvent.places_external_after.label("external"),
        CapacityEvent.places_taken_after.label("taken"),
        CapacityEvent.status_after.label("status"),
    ).join(latest_id, CapacityEvent.id == latest_id.c.id)


def placement_counts_query(period: Period, split: str | None = None):
    """Per opening (and group): placements started in the period and active at its end."""
    start, end = period.start, period.end
    keys = [Placement.opening_id] + ([SPLITS[split]] if split else [])
    query = (
        select(
            *keys,
            func.sum(case((Placement.start_date >= start, 1), else_=0)).label("placements_started"),
            func.sum(case((or_(Placement.ended_on.is_(None), Placement.ended_on > end), 1), else_=0)).label(
                "active_at_end"
            ),
        )
        .where(
            Placement.status.in_(("active", "ended")),
            Placement.start_date <= end,
            or_(Placement.ended_on.is_(None), Placement.ended_on >= start),
        )
        .group_by(*keys)
    )
    return query.join(Client, Client.id == Placement.client_id) if split else query


def ended_counts_query(period: Period, split: str | None = None):
    """Per opening (and group) and end reason: placements that ended in the period."""
    keys = [Placement.opening_id] + ([SPLITS[split]] if split else [])
    query = (
        select(*keys, Placement.end_reason, func.count().label("ended"))
        .where(Placement.status == "ended", Placement.ended_on >= period.start, Placement.ended_on <= period.end)
        .group_by(*keys, Placement.end_reason)
    )
    return query.join(Client, Client.id == Placement.client_id) if split else query


def _openings(session: Session, municipalities) -> dict[int, tuple[str, str, int]]:
    """opening id -> (municipality code, opening type, site id)."""
    query = select(Opening.id, Site.municipality_code, Opening.type, Site.id).join(Site, Site.id == Opening.site_id)
    if municipalities:
        query = query.where(Site.municipality_code.in_(municipalities))
    return {row[0]: (row[1], row[2], row[3]) for row in session.execute(query)}


def _placement_values(session: Session, period: Period, openings, split: str | None) -> dict[tuple, dict[str, int]]:
    """(opening id[, group]) -> placement counts, only for ``openings``."""
    values: dict[tuple, dict[str, int]] = {}
    width = 2 if split else 1
    for row in session.execute(placement_counts_query(period, split)):
        if row[0] in openings:
            entry = values.setdefault(tuple(row[:width]), dict.fromkeys(PLACEMENT_COLUMNS, 0))
            entry["placements_started"] += int(row[width] or 0)
            entry["active_at_end"] += int(row[width + 1] or 0)
    for row in session.execute(ended_counts_query(period, split)):
        if row[0] in openings:
            entry = values.setdefault(tuple(row[:width]), dict.fromkeys(PLACEMENT_COLUMNS, 0))
            entry["ended"] += row[width + 1]
            entry[f"ended_{row[width]}"] += row[width + 1]
    return values


# --- the survey ---------------------------------------------------------------------------------


def _type_order(kind: str | None) -> int:
    return list(OPENING_TYPES).index(kind) if kind in OPENING_TYPES else len(OPENING_TYPES)


def run(session: Session, period: Period, *, municipalities=(), split: str | None = None) -> Survey:
    """The survey of ``period`` (docs/rules.md §9): rows by municipality × opening type,
    municipality totals and the region's total, each total counting a site once (§9.7)."""
    names = dict(session.execute(select(Municipality.code, Municipality.name_fi)).all())
    openings = _openings(session, municipalities)
    tallies: dict[tuple[str, str], Tally] = {}  # (municipality code, opening type) -> its row

    def tally(code: str, kind: str) -> Tally:
        found = tallies.get((code, kind))
        if found is None:
            found = tallies[(code, kind)] = Tally()
        return found

    for opening_id, total, external, taken, status in session.execute(capacity_state_query(period.cutoff)):
        if opening_id not in openings or status == "closed":
            continue
        code, kind, site_id = openings[opening_id]
        tally(code, kind).add_opening(site_id, total, external, taken, status)
    for (opening_id,), counts in _placement_values(session, period, openings, None).items():
        code, kind, _site = openings[opening_id]
        tally(code, kind).add_counts(counts)
    municipality_tallies: dict[str, Tally] = {}
    region = Tally()
    for (code, _kind), row_tally in tallies.items():
        municipality_tallies.setdefault(code, Tally()).merge(row_tally)
        region.merge(row_tally)

    def name(code: str) -> str:
        return names.get(code, code)

    rows = sorted(
        (Row(code, name(code), kind, values=t.result()) for (code, kind), t in tallies.items()),
        key=lambda r: (r.municipality, _type_order(r.opening_type)),
    )
    subtotals = {
        code: Row(code, name(code), None, values=t.result(), total="municipality")
        for code, t in sorted(municipality_tallies.items(), key=lambda item: name(item[0]))
    }
    split_rows: list[Row] = []
    if split:
        by_group: dict[tuple[str, str, str], Row] = {}
        for (opening_id, group), counts in _placement_values(session, period, openings, split).items():
            code, kind, _site = openings[opening_id]
            target = by_group.get((code, kind, group))
            if target is None:
                target = by_group[(code, kind, group)] = Row(code, name(code), kind, group)
                target.values.update(dict.fromkeys(CAPACITY_COLUMNS))  # places are not split by person
            for column, value in counts.items():
                target.values[column] += value
        split_rows = sorted(
            by_group.values(), key=lambda r: (r.municipality, _type_order(r.opening_type), r.group or "")
        )
    return Survey(period, rows, region.result(), split, split_rows, subtotals)


def by_municipality(survey: Survey) -> list[Row]:
    """The municipality totals, for the charts (docs/rules.md §9.7)."""
    return list(survey.municipality_totals.values())


def suppress(column: str, value: int | None, enabled: bool) -> int | str | None:
    """Placement counts of 1–4 as "<5" when suppression is on."""
    if enabled and column in PLACEMENT_COLUMNS and value is not None and 0 < value < 5:
        return "<5"
    return value


def site_rows(session: Session, period: Period, *, municipalities=()) -> Iterator[Row]:
    """Rows per site × opening type, streamed in site order, each municipality followed by
    its total and the region's total last (docs/rules.md §9.7, §9.8). Per-opening numbers are
    kept in small dicts of plain numbers; site rows are read in batches and written one by one."""
    names = dict(session.execute(select(Municipality.code, Municipality.name_fi)).all())
    openings = _openings(session, municipalities)
    state = {row[0]: row[1:] for row in session.execute(capacity_state_query(period.cutoff)) if row[0] in openings}
    placements = _placement_values(session, period, openings, None)
    by_site: dict[int, list[int]] = {}
    for opening_id, (_code, _kind, site_id) in openings.items():
        by_site.setdefault(site_id, []).append(opening_id)
    query = select(Site.id, Site.site_ref, Site.name, Site.municipality_code).order_by(
        Site.municipality_code, Site.site_ref
    )
    if municipalities:
        query = query.where(Site.municipality_code.in_(municipalities))
    region = Tally()
    current: str | None = None  # the municipality being written, and its tally
    municipality = Tally()

    def site_tallies(site_id: int) -> dict[str, Tally]:
        """The site's openings by type: those counted at the end and those with placements."""
        per_type: dict[str, Tally] = {}
        for opening_id in by_site.get(site_id, ()):
            at_end = state.get(opening_id)
            counted = at_end is not None and at_end[3] != "closed"
            counts = placements.get((opening_id,))
            if not counted and counts is None:
                continue
            kind = openings[opening_id][1]
            tally = per_type.get(kind)
            if tally is None:
                tally = per_type[kind] = Tally()
            if counted:
                tally.add_opening(site_id, *at_end)
            if counts:
                tally.add_counts(counts)
        return per_type

    for site_id, site_ref, site_name, code in session.execute(query.execution_options(yield_per=1000)):
        per_type = site_tallies(site_id)
        if not per_type:
            continue
        if code != current:
            if current is not None:
                yield Row(current, names.get(current, ""), None, values=municipality.result(), total="municipality")
            current, municipality = code, Tally()
        for kind in sorted(per_type, key=_type_order):
            municipality.merge(per_type[kind])
            region.merge(per_type[kind])
            yield Row(
                code,
                names.get(code, ""),
                kind,
                values=per_type[kind].result(),
                site_ref=site_ref,
                site_name=site_name,
            )
    if current is not None:
        yield Row(current, names.get(current, ""), None, values=municipality.result(), total="municipality")
    yield Row("", "", None, values=region.result(), total="region")
