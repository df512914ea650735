"""Places freeing in the next 30, 60 and 90 days (docs/rules.md §8.8).

A place is expected to free when an active placement reaches its planned end. The planned
end counts as host-confirmed once the placement is ``active``: the host accepted the
proposal with that planned end (docs/rules.md §5.5). Proposals, placements without a planned
end and planned ends already passed (the placement is still running, so the date no longer
tells when it ends) are not counted. Counts of places only, never clients.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from placements.models import Placement

HORIZONS = (30, 60, 90)


@dataclass(frozen=True)
class Ahead:
    """Places of one opening freeing within 30, 60 and 90 days (each includes the shorter)."""

    within_30: int = 0
    within_60: int = 0
    within_90: int = 0

    @property
    def any(self) -> bool:
        return self.within_90 > 0

    def counts(self) -> list[tuple[int, int]]:
        return [(30, self.within_30), (60, self.within_60), (90, self.within_90)]


NONE = Ahead()


def freeing(session: Session, opening_ids: Iterable[int], *, today: date) -> dict[int, Ahead]:
    """Opening id -> places freeing, for a page of openings in one grouped query.

    A planned end from today to today + N days (both included) counts within N days.
    Openings with nothing freeing are absent: use ``.get(id, NONE)``.
    """
    ids = sorted(set(opening_ids))
    if not ids:
        return {}
    horizon = {days: today + timedelta(days=days) for days in HORIZONS}
    rows = session.execute(
        select(
            Placement.opening_id,
            func.sum(case((Placement.planned_end <= horizon[30], 1), else_=0)),
            func.sum(case((Placement.planned_end <= horizon[60], 1), else_=0)),
            func.count(),
        )
        .where(
            Placement.opening_id.in_(ids),
            Placement.status == "active",
            Placement.planned_end >= today,
            Placement.planned_end <= horizon[90],
        )
        .group_by(Placement.opening_id)
    )
    return {opening_id: Ahead(int(a or 0), int(b or 0), int(c or 0)) for opening_id, a, b, c in rows}
