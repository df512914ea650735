"""Exporting sites in the import format, one row per opening (docs/rules.md §10.10)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, contains_eager

from placements.models import Opening, Site
from placements.services.site_csv import join_codes

# Coordinates found by a fallback are left empty so that re-importing finds them the same way.
EXPORTED_PRECISIONS = {"exact", "manual"}


def export_query(site_ids: Select | list[int] | None = None) -> Select:
    """Live openings of live sites, in a stable order; optionally limited to ``site_ids``."""
    query = (
        select(Opening)
        .join(Opening.site)
        .options(contains_eager(Opening.site).joinedload(Site.organisation))
        .where(Site.archived_at.is_(None), Opening.archived_at.is_(None))
        .order_by(Site.site_ref, Opening.id)
    )
    if site_ids is not None:
        query = query.where(Site.id.in_(site_ids))
    return query


def export_rows(session: Session, site_ids: Select | list[int] | None = None) -> Iterator[dict[str, object]]:
    """Rows for ``site_csv.write``, read in batches so large exports stay in constant memory."""
    result = session.execute(export_query(site_ids).execution_options(yield_per=500))
    for opening in result.scalars():
        yield opening_row(opening)


def opening_row(opening: Opening) -> dict[str, object]:
    site = opening.site
    located = site.geocode_precision in EXPORTED_PRECISIONS
    return {
        "site_ref": site.site_ref,
        "organisation": site.organisation.name,
        "organisation_kind": site.organisation.kind,
        "site_name": site.name,
        "street_address": site.street_address,
        "postal_code": site.postal_code,
        "municipality_code": site.municipality_code,
        "latitude": site.latitude if located else None,
        "longitude": site.longitude if located else None,
        "accessibility": join_codes(site.accessibility),
        "contact_name": site.contact_name,
        "contact_phone": site.contact_phone,
        "contact_email": site.contact_email,
        "opening_type": opening.type,
        "opening_title": opening.title,
        "task_areas": join_codes(opening.task_areas),
        "days_per_week_min": opening.days_per_week_min,
        "days_per_week_max": opening.days_per_week_max,
        "hours_per_day_min": float(opening.hours_per_day_min),
        "hours_per_day_max": float(opening.hours_per_day_max),
        "places_total": opening.places_total,
        "places_external": opening.places_external,
        "supports": join_codes(opening.supports),
        "physical_demand": opening.physical_demand,
        "social_intensity": opening.social_intensity,
        "languages": join_codes(opening.languages),
        "status": opening.status,
        "description": site.description,
        "last_confirmed": opening.last_confirmed_at.date().isoformat(),
    }
