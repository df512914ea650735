"""Region summary for the home page: sites, openings and free places by municipality."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from placements.models import Municipality, Opening, Site


@dataclass(frozen=True)
class MunicipalityRow:
    code: str
    name: str
    sites: int
    openings: int
    places_total: int
    places_free: int


def region_overview(session: Session) -> list[MunicipalityRow]:
    """One row per municipality, counting live (not archived) sites and open openings."""
    opening_counts = (
        select(
            Site.municipality_code.label("code"),
            func.count(func.distinct(Site.id)).label("sites"),
            func.count(Opening.id).label("openings"),
            func.coalesce(func.sum(Opening.places_total), 0).label("places_total"),
            func.coalesce(func.sum(Opening.free_places), 0).label("places_free"),
        )
        .join(Opening, Opening.site_id == Site.id)
        .where(
            Site.archived_at.is_(None),
            Opening.archived_at.is_(None),
            Opening.status == "open",
        )
        .group_by(Site.municipality_code)
        .subquery()
    )
    rows = session.execute(
        select(
            Municipality.code,
            Municipality.name_fi,
            func.coalesce(opening_counts.c.sites, 0),
            func.coalesce(opening_counts.c.openings, 0),
            func.coalesce(opening_counts.c.places_total, 0),
            func.coalesce(opening_counts.c.places_free, 0),
        )
        .outerjoin(opening_counts, opening_counts.c.code == Municipality.code)
        .order_by(Municipality.name_fi)
    )
    return [MunicipalityRow(*row) for row in rows]
