"""Importing the site CSV: validate every row, then apply all of it or nothing.

``validate`` reads and checks, ``apply`` writes; the service only flushes, the unit of work
commits. A dry run applies inside a savepoint and rolls that back, so the preview counts
exactly what the import would do.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from placements import clock, permissions
from placements.models import Organisation
from placements.services import audit
from placements.services.geocoding import Geocoder
from placements.services.importer.apply import ImportResult, apply_site
from placements.services.importer.validate import check_against_database, existing_sites, validate

__all__ = ["ImportResult", "import_sites", "validate"]


def import_sites(
    session: Session,
    data: bytes,
    user,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    geocoder: Geocoder | None = None,
) -> ImportResult:
    """Validate ``data`` and, when every row is valid and not ``dry_run``, apply it.

    Rows without coordinates are located by ``geocoder`` (offline fallbacks by default;
    a dry run never asks an online geocoder).
    """
    permissions.require(permissions.can_manage_registry(user), object_type="site")
    now = now or clock.now()
    if geocoder is None or dry_run:
        geocoder = Geocoder(session)
    groups, problems, row_count = validate(session, data, now.astimezone(clock.HELSINKI).date())
    result = ImportResult(problems=problems, rows=row_count, dry_run=dry_run)
    if not groups:
        return result
    existing = existing_sites(session, [g.site_ref for g in groups])
    check_against_database(groups, existing, result.problems)
    if result.problems:
        return result
    savepoint = session.begin_nested() if dry_run else None
    names = {group.values["organisation"] for group in groups}
    with session.no_autoflush:
        organisations = {o.name: o for o in session.scalars(select(Organisation).where(Organisation.name.in_(names)))}
        for group in groups:
            apply_site(session, group, existing.get(group.site_ref), organisations, result, user, now, geocoder)
    if savepoint is not None:
        savepoint.rollback()
        return result
    session.flush()
    counts = ("sites_created", "sites_updated", "openings_created", "openings_updated", "openings_archived")
    detail = f"rows={row_count} " + " ".join(f"{name}={getattr(result, name)}" for name in counts)
    audit.record(session, "sites_import", user=user, object_type="site", detail=detail)
    return result
