"""A survey round's frozen figures and its report (docs/rules.md §17.4–§17.6).

Closing copies each opening's figures into ``round_snapshot_rows`` (the answer where the
organisation sent one, else the registry's last known values) and the participants from
outside the registry by age band and gender into ``round_snapshot_groups``. The report reads
only those rows, so later edits of openings or answers never change a closed round's numbers.
Rows are municipality × opening type; totals count each site once (as the survey, §9.7);
participant counts of 1–4 are shown as "<5" (§9.6).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session

from placements.models import (
    Opening,
    Organisation,
    Placement,
    ResponseLine,
    RoundResponse,
    RoundSnapshotGroup,
    RoundSnapshotRow,
    Site,
    SurveyRound,
)
from placements.services import reference

COLUMNS = ("sites", "openings", "places_total", "places_external", "participants_registry", "participants_outside")
PEOPLE_COLUMNS = ("participants_registry", "participants_outside")
TYPE_ORDER = ("rehabilitative_work", "work_trial", "pay_subsidy", "ips_job")


def _registry_participants(session: Session, survey_round: SurveyRound, opening_ids) -> dict[int, int]:
    """Placements through the registry in the round's period, per opening."""
    query = (
        select(Placement.opening_id, func.count())
        .where(
            Placement.status.in_(("active", "ended")),
            Placement.start_date <= survey_round.period_end,
            or_(Placement.ended_on.is_(None), Placement.ended_on >= survey_round.period_start),
        )
        .group_by(Placement.opening_id)
    )
    return {opening_id: count for opening_id, count in session.execute(query) if opening_id in opening_ids}


def freeze(session: Session, survey_round: SurveyRound) -> int:
    """Write the round's snapshot rows; how many (called by ``rounds.close_round``)."""
    query = (
        select(
            ResponseLine,
            RoundResponse.status,
            RoundResponse.organisation_id,
            Organisation.name,
            Site.id,
            Site.municipality_code,
            Opening,
        )
        .join(RoundResponse, RoundResponse.id == ResponseLine.response_id)
        .join(Organisation, Organisation.id == RoundResponse.organisation_id)
        .join(Opening, Opening.id == ResponseLine.opening_id)
        .join(Site, Site.id == Opening.site_id)
        .where(RoundResponse.round_id == survey_round.id)
        # Only the organisation's live openings: one moved to another organisation during the
        # round is counted there, an archived one not at all (§17.4).
        .where(Site.organisation_id == RoundResponse.organisation_id)
        .where(Opening.archived_at.is_(None), Site.archived_at.is_(None))
    )
    found = session.execute(query).all()
    registry = _registry_participants(session, survey_round, {row[6].id for row in found})
    rows = []
    for line, status, organisation_id, organisation_name, site_id, municipality, opening in found:
        answered = status == "submitted"
        source = line if answered else opening
        rows.append(
            {
                "round_id": survey_round.id,
                "organisation_id": organisation_id,
                "organisation_name": organisation_name,
                "site_id": site_id,
                "opening_id": opening.id,
                "municipality_code": municipality,
                "opening_type": opening.type,
                "status": source.status,
                "places_total": source.places_total,
                "places_external": source.places_external,
                "participants_registry": registry.get(opening.id, 0),
                "participants_outside": (line.participants_outside or 0) if answered else 0,
                "answered": answered,
            }
        )
    for start in range(0, len(rows), 5000):
        session.execute(insert(RoundSnapshotRow), rows[start : start + 5000])
    groups = []
    submitted = session.execute(
        select(RoundResponse.organisation_id, RoundResponse.outside_groups).where(
            RoundResponse.round_id == survey_round.id, RoundResponse.status == "submitted"
        )
    ).all()
    for organisation_id, text in submitted:
        for band, by_gender in json.loads(text or "{}").items():
            for gender, count in by_gender.items():
                if count:
                    groups.append(
                        {
                            "round_id": survey_round.id,
                            "organisation_id": organisation_id,
                            "age_band": band,
                            "gender": gender,
                            "count": count,
                        }
                    )
    if groups:
        session.execute(insert(RoundSnapshotGroup), groups)
    session.flush()
    return len(rows)


class Tally:
    """One row's or total's counts; ``sites`` counts distinct sites (§9.7)."""

    def __init__(self) -> None:
        self.values = dict.fromkeys(COLUMNS, 0)
        self.site_ids: set[int] = set()

    def add(self, row) -> None:
        if row.status != "closed":
            self.site_ids.add(row.site_id)
            self.values["openings"] += 1
            self.values["places_total"] += row.places_total
            self.values["places_external"] += row.places_external
        self.values["participants_registry"] += row.participants_registry
        self.values["participants_outside"] += row.participants_outside

    def merge(self, other: Tally) -> None:
        for column in COLUMNS:
            self.values[column] += other.values[column]
        self.site_ids |= other.site_ids

    def result(self) -> dict[str, int]:
        return self.values | {"sites": len(self.site_ids)}


@dataclass
class Line:
    municipality_code: str
    municipality: str
    opening_type: str | None  # None: the municipality's total
    values: dict[str, int]
    change: dict[str, int | None] = field(default_factory=dict)  # vs the previous round


@dataclass
class Missing:
    organisation: str
    places_total: int


@dataclass
class Report:
    survey_round: SurveyRound
    lines: list[Line]
    totals: dict[str, int]
    organisations: int
    answered: int
    missing: list[Missing]
    groups: dict[tuple[str, str], int]
    previous: SurveyRound | None = None
    total_change: dict[str, int | None] = field(default_factory=dict)

    @property
    def coverage(self) -> int:
        return self.answered * 100 // self.organisations if self.organisations else 0


def suppress(column: str, value: int | None) -> int | str | None:
    """People counts of 1–4 as "<5" (§9.6); places are not people."""
    if column in PEOPLE_COLUMNS and value is not None and 0 < value < 5:
        return "<5"
    return value


def _tallies(rows) -> tuple[dict[tuple[str, str], Tally], dict[str, Tally], Tally]:
    cells: dict[tuple[str, str], Tally] = {}
    for row in rows:
        cells.setdefault((row.municipality_code, row.opening_type), Tally()).add(row)
    municipalities: dict[str, Tally] = {}
    region = Tally()
    for (code, _kind), tally in cells.items():
        municipalities.setdefault(code, Tally()).merge(tally)
        region.merge(tally)
    return cells, municipalities, region


def previous_round(session: Session, survey_round: SurveyRound) -> SurveyRound | None:
    """The closed round with the latest reference date before this one's."""
    return session.scalar(
        select(SurveyRound)
        .where(SurveyRound.status == "closed", SurveyRound.reference_date < survey_round.reference_date)
        .order_by(SurveyRound.reference_date.desc(), SurveyRound.id.desc())
        .limit(1)
    )


def _change(now: dict[str, int], before: dict[str, int] | None) -> dict[str, int | None]:
    """Places and openings compare as numbers; people only when neither side is suppressed."""
    result: dict[str, int | None] = {}
    for column in ("openings", "places_total", "participants_registry", "participants_outside"):
        old = (before or {}).get(column, 0)
        new = now.get(column, 0)
        hidden = column in PEOPLE_COLUMNS and (0 < old < 5 or 0 < new < 5)
        result[column] = None if hidden else new - old
    return result


def _snapshot(session: Session, round_id: int):
    """The round's snapshot rows as plain tuples (20,000 rows load in a fraction of a second)."""
    columns = (
        RoundSnapshotRow.organisation_id,
        RoundSnapshotRow.organisation_name,
        RoundSnapshotRow.site_id,
        RoundSnapshotRow.municipality_code,
        RoundSnapshotRow.opening_type,
        RoundSnapshotRow.status,
        RoundSnapshotRow.places_total,
        RoundSnapshotRow.places_external,
        RoundSnapshotRow.participants_registry,
        RoundSnapshotRow.participants_outside,
        RoundSnapshotRow.answered,
    )
    return session.execute(select(*columns).where(RoundSnapshotRow.round_id == round_id)).all()


def report(session: Session, survey_round: SurveyRound) -> Report:
    """The frozen figures of a closed round (the caller checks ``can_manage_rounds``)."""
    names = reference.municipality_names(session)
    rows = _snapshot(session, survey_round.id)
    cells, municipalities, region = _tallies(rows)
    previous = previous_round(session, survey_round)
    old_cells: dict = {}
    old_municipalities: dict = {}
    old_region = None
    if previous is not None:
        old_cells, old_municipalities, old_region = _tallies(_snapshot(session, previous.id))
    lines = []
    codes = sorted(set(municipalities) | set(old_municipalities), key=lambda c: names.get(c, c))
    for code in codes:
        kinds = {kind for (c, kind) in set(cells) | set(old_cells) if c == code}
        for kind in sorted(kinds, key=lambda k: TYPE_ORDER.index(k) if k in TYPE_ORDER else 99):
            values = cells[(code, kind)].result() if (code, kind) in cells else dict.fromkeys(COLUMNS, 0)
            old = old_cells[(code, kind)].result() if (code, kind) in old_cells else None
            change = _change(values, old) if previous else {}
            lines.append(Line(code, names.get(code, code), kind, values, change))
        values = municipalities[code].result() if code in municipalities else dict.fromkeys(COLUMNS, 0)
        old = old_municipalities[code].result() if code in old_municipalities else None
        lines.append(Line(code, names.get(code, code), None, values, _change(values, old) if previous else {}))
    organisations: dict[int, tuple[str, bool, int]] = {}
    for row in rows:
        name, answered, places = organisations.get(row.organisation_id, (row.organisation_name, row.answered, 0))
        organisations[row.organisation_id] = (
            name,
            answered,
            places + (row.places_total if row.status != "closed" else 0),
        )
    missing = sorted(
        (Missing(name, places) for name, answered, places in organisations.values() if not answered),
        key=lambda m: m.organisation,
    )
    groups: dict[tuple[str, str], int] = {}
    for group in session.scalars(select(RoundSnapshotGroup).where(RoundSnapshotGroup.round_id == survey_round.id)):
        groups[(group.age_band, group.gender)] = groups.get((group.age_band, group.gender), 0) + group.count
    totals = region.result()
    return Report(
        survey_round,
        lines,
        totals,
        len(organisations),
        sum(1 for _n, answered, _p in organisations.values() if answered),
        missing,
        groups,
        previous,
        _change(totals, old_region.result()) if previous else {},
    )
