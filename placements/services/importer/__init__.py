"""Importing the site CSV: validate every row, then apply all of it or nothing.

``validate`` reads and checks each row, ``plan`` compares the file with the stored data
and decides every change without writing, ``apply`` writes the plan in a few bulk
statements. A dry run (the preview) stops after the plan, so it counts exactly what the
import would do. The service only flushes; the unit of work commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from placements import clock, permissions
from placements.services import audit
from placements.services.geocoding import Geocoder
from placements.services.importer import apply
from placements.services.importer.plan import OPENING_FIELDS, check_against_database, load_stored, make_plan
from placements.services.importer.result import ImportResult
from placements.services.importer.validate import validate

__all__ = ["OPENING_FIELDS", "ImportResult", "import_sites", "validate"]

# Progress is counted in steps: each row is checked, then planned, then (unless a dry run)
# written. Writing is not reported as it goes (see ``progress`` below): its share of the
# bar fills when the job is done.


def import_sites(
    session: Session,
    data: bytes,
    user,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    geocoder: Geocoder | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Validate ``data`` and, when every row is valid and not ``dry_run``, apply it.

    Rows without coordinates are located by ``geocoder`` (offline fallbacks by default;
    a dry run never asks an online geocoder). ``progress(done, total)`` is told how far
    the check and the plan have come; nothing is reported once writing has begun.
    """
    permissions.require(permissions.can_manage_registry(user), object_type="site")
    now = now or clock.now()
    if geocoder is None or dry_run:
        geocoder = Geocoder(session)
    steps_per_row = 2 if dry_run else 3

    def checked(done: int, rows: int) -> None:
        if progress is not None:
            progress(done, rows * steps_per_row)

    groups, problems, row_count = validate(session, data, now.astimezone(clock.HELSINKI).date(), checked)
    result = ImportResult(problems=problems, rows=row_count, dry_run=dry_run)
    if not groups:
        return result
    stored = load_stored(session, [g.site_ref for g in groups])
    check_against_database(groups, stored, result.problems)
    if result.problems:
        return result

    def planned(rows_done: int) -> None:
        if progress is not None:
            progress(row_count + rows_done, row_count * steps_per_row)

    plan = make_plan(session, groups, stored, result, now, geocoder, planned)
    result.geocoding_skipped = geocoder.skipped
    if dry_run:
        return result
    apply.write(session, plan, user)
    counts = ("sites_created", "sites_updated", "openings_created", "openings_updated", "openings_archived")
    detail = f"rows={row_count} " + " ".join(f"{name}={getattr(result, name)}" for name in counts)
    audit.record(session, "sites_import", user=user, object_type="site", detail=detail)
    session.flush()
    return result
