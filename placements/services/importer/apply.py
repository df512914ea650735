"""Applying a checked site CSV: organisations, sites and openings created, updated or
archived, each capacity change recorded (docs/rules.md §10.6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from sqlalchemy.orm import Session

from placements.models import Opening, Organisation, Site
from placements.services import capacity
from placements.services.geocoding import Geocoder
from placements.services.importer.validate import SiteGroup
from placements.services.search_text import search_text
from placements.services.site_csv import Problem


@dataclass
class ImportResult:
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0
    sites_created: int = 0
    sites_updated: int = 0
    sites_unchanged: int = 0
    openings_created: int = 0
    openings_updated: int = 0
    openings_archived: int = 0
    dry_run: bool = False
    # (site_ref, opening title, "field: old → new" …) for each changed opening, for the preview
    changes: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def apply_site(
    session: Session,
    group: SiteGroup,
    site: Site | None,
    organisations: dict[str, Organisation],
    result: ImportResult,
    user,
    now: datetime,
    geocoder: Geocoder,
) -> None:
    values = group.values
    # Locate first: the geocoder may query the database, which must not see half-made rows.
    latitude, longitude = values["latitude"], values["longitude"]
    if latitude is None:
        location = geocoder.locate(values["street_address"], values["postal_code"], values["municipality_code"])
        latitude, longitude, precision = location.latitude, location.longitude, location.precision
    elif site is not None and (site.latitude, site.longitude) == (latitude, longitude):
        precision = site.geocode_precision  # unchanged coordinates keep how they were found
    else:
        precision = "manual"
    organisation = organisations.get(values["organisation"])
    if organisation is None:
        organisation = Organisation(name=values["organisation"], kind=values["organisation_kind"])
        session.add(organisation)
        organisations[organisation.name] = organisation
    else:
        organisation.kind = values["organisation_kind"]
    created = site is None
    if created:
        site = Site(site_ref=group.site_ref)
        session.add(site)
        result.sites_created += 1
    changes_before = result.openings_created + result.openings_updated + result.openings_archived
    site.organisation = organisation
    site.name = values["site_name"]
    site.street_address = values["street_address"]
    site.postal_code = values["postal_code"]
    site.municipality_code = values["municipality_code"]
    site.latitude, site.longitude, site.geocode_precision = latitude, longitude, precision
    site.accessibility = values["accessibility"]
    site.contact_name = values["contact_name"]
    site.contact_phone = values["contact_phone"]
    site.contact_email = values["contact_email"]
    site.description = values["description"]
    site.archived_at = None
    current = {(o.type, o.title): o for o in site.openings}
    seen = set()
    for row in group.openings:
        key = (row.values["type"], row.values["title"])
        seen.add(key)
        _apply_opening(session, site, current.get(key), row.values, result, user, now)
    for key, opening in current.items():
        if key not in seen and opening.archived_at is None:
            before = capacity.snapshot(opening)
            opening.archived_at = now
            opening.status = "closed"
            capacity.record(session, opening, before, user=user, now=now)
            result.openings_archived += 1
    site.search_text = search_text(site)
    if not created:
        changed = (
            session.is_modified(site)
            or organisation in session.new
            or (result.openings_created + result.openings_updated + result.openings_archived > changes_before)
        )
        if changed:
            result.sites_updated += 1
        else:
            result.sites_unchanged += 1


OPENING_FIELDS = (
    "type",
    "title",
    "task_areas",
    "days_per_week_min",
    "days_per_week_max",
    "hours_per_day_min",
    "hours_per_day_max",
    "places_total",
    "places_external",
    "supports",
    "physical_demand",
    "social_intensity",
    "languages",
    "status",
)


def _apply_opening(
    session: Session, site: Site, opening: Opening | None, values: dict, result: ImportResult, user, now: datetime
) -> None:
    before = capacity.snapshot(opening)
    if opening is None:
        opening = Opening(site=site, places_taken=0)
        session.add(opening)
        result.openings_created += 1
        changed = True
    else:
        fields = [name for name in OPENING_FIELDS if getattr(opening, name) != values[name]]
        changed = opening.archived_at is not None or bool(fields)
        if changed:
            result.openings_updated += 1
            result.changes.append(
                (
                    site.site_ref,
                    opening.title,
                    tuple(
                        f"{name}: {getattr(opening, name)} → {values[name]}"
                        for name in fields
                        if name not in ("type", "title")
                    ),
                )
            )
    for name in OPENING_FIELDS:
        setattr(opening, name, values[name])
    opening.archived_at = None
    confirmed = values["last_confirmed"]
    if confirmed is not None:
        stamp = datetime.combine(confirmed, time(12), tzinfo=UTC)
        # A file never moves a confirmation back: a host may have confirmed since the export.
        if opening.last_confirmed_at is None or opening.last_confirmed_at.date() < confirmed:
            opening.last_confirmed_at = stamp
    elif changed:
        opening.last_confirmed_at = now
    capacity.record_if_changed(session, opening, before, user=user, now=now)
