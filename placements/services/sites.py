"""Changing sites and openings: details, capacity, confirmation, archiving.

Every function takes the expected ``version`` of the row as the form saw it; a different
current version raises ``StaleEdit`` (the views answer 409 and show the current values).
Capacity changes write a CapacityEvent, every change an AuditEvent. Services only flush.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from placements.models import Municipality, Opening, Organisation, PostalCode, Site
from placements.services import audit, capacity
from placements.services.geocoding import Geocoder
from placements.services.search_text import refresh_search_text, search_text
from placements.services.validation import business_id_valid, inside_finland, postal_code_problem, schedule_problems


class StaleEdit(Exception):
    """The row changed after the form was loaded."""

    def __init__(self, current):
        super().__init__("stale form")
        self.current = current


@dataclass
class EditError(ValueError):
    """Field name -> message; nothing was changed."""

    problems: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.problems.items())


def _check_version(row, expected: int | None) -> None:
    if expected is not None and row.version != expected:
        raise StaleEdit(row)


# --- openings -----------------------------------------------------------------------------

CAPACITY_FIELDS = ("places_total", "places_external", "status", "accepting_from")


def update_capacity(session: Session, opening: Opening, *, user, expected_version: int | None, places_total: int, places_external: int, status: str, accepting_from: date | None, now: datetime) -> bool:
    """Set places and status; also counts as confirming the data. Returns whether anything changed."""
    _check_version(opening, expected_version)
    problems = {}
    if places_total < 0:
        problems["places_total"] = _("The number cannot be negative.")
    if places_external < 0:
        problems["places_external"] = _("The number cannot be negative.")
    elif places_external + opening.places_taken > places_total:
        problems["places_total"] = _(
            "Total places must cover the %(taken)s active placements and %(external)s participants from elsewhere.",
            taken=opening.places_taken, external=places_external,
        )
    if accepting_from is not None and (accepting_from - now.date()).days > 730:
        problems["accepting_from"] = _("Give a date at most two years ahead, or leave it empty.")
    if problems:
        raise EditError(problems)
    before = capacity.snapshot(opening)
    old = {name: getattr(opening, name) for name in CAPACITY_FIELDS}
    opening.places_total, opening.places_external = places_total, places_external
    opening.status, opening.accepting_from = status, accepting_from
    opening.last_confirmed_at = now
    changed = any(getattr(opening, name) != old[name] for name in CAPACITY_FIELDS)
    if changed:
        capacity.record_if_changed(session, opening, before, user=user, now=now)
        detail = ", ".join(f"{n}: {old[n]} -> {getattr(opening, n)}" for n in CAPACITY_FIELDS if getattr(opening, n) != old[n])
        audit.record(session, "opening_capacity_changed", user=user, object_type="opening", object_id=opening.id, detail=detail)
    else:
        _confirmed(session, opening, before, user, now)
    session.flush()
    return changed


def confirm(session: Session, opening: Opening, *, user, expected_version: int | None, now: datetime) -> None:
    """The host says the data is still right: one click, one event."""
    _check_version(opening, expected_version)
    opening.last_confirmed_at = now
    _confirmed(session, opening, capacity.snapshot(opening), user, now)
    session.flush()


def _confirmed(session: Session, opening: Opening, before, user, now: datetime) -> None:
    capacity.record(session, opening, before, user=user, now=now, kind="confirmed")
    audit.record(session, "opening_confirmed", user=user, object_type="opening", object_id=opening.id)


OPENING_DETAIL_FIELDS = (
    "type", "title", "task_areas", "days_per_week_min", "days_per_week_max", "hours_per_day_min",
    "hours_per_day_max", "supports", "physical_demand", "social_intensity", "languages",
)  # fmt: skip


def _check_opening_values(site: Site, values: dict, opening: Opening | None) -> None:
    problems = {}
    for field_name, message in schedule_problems(values["type"], values["days_per_week_min"], values["days_per_week_max"], values["hours_per_day_min"], values["hours_per_day_max"]):
        problems.setdefault(field_name, message)
    if not values["task_areas"]:
        problems["task_areas"] = _("Choose at least one task area.")
    if not values["languages"]:
        problems["languages"] = _("Choose at least one working language.")
    for other in site.openings:
        if other is not opening and other.type == values["type"] and other.title == values["title"]:
            problems["title"] = _("The site already has an opening of this type with this title.")
    if problems:
        raise EditError(problems)


def update_opening(session: Session, opening: Opening, *, user, expected_version: int | None, values: dict, now: datetime) -> None:
    _check_version(opening, expected_version)
    _check_opening_values(opening.site, values, opening)
    changed = [name for name in OPENING_DETAIL_FIELDS if getattr(opening, name) != values[name]]
    for name in OPENING_DETAIL_FIELDS:
        setattr(opening, name, values[name])
    opening.last_confirmed_at = now
    refresh_search_text(session, opening.site)
    audit.record(session, "opening_updated", user=user, object_type="opening", object_id=opening.id, detail="changed: " + (", ".join(changed) or "nothing"))
    session.flush()


def create_opening(session: Session, site: Site, *, user, values: dict, places_total: int, places_external: int, now: datetime) -> Opening:
    _check_opening_values(site, values, None)
    if places_external > places_total:
        raise EditError({"places_external": _("Places taken by outside participants exceed the total places.")})
    opening = Opening(site=site, places_total=places_total, places_external=places_external, places_taken=0, status="open", last_confirmed_at=now, **{k: values[k] for k in OPENING_DETAIL_FIELDS})
    session.add(opening)
    session.flush()
    refresh_search_text(session, site)
    capacity.record(session, opening, None, user=user, now=now)
    audit.record(session, "opening_created", user=user, object_type="opening", object_id=opening.id)
    session.flush()
    return opening


def archive_opening(session: Session, opening: Opening, *, user, expected_version: int | None, now: datetime) -> None:
    _check_version(opening, expected_version)
    if opening.places_taken:
        raise EditError({"opening": _("The opening has %(count)s active placements; end them before archiving.", count=opening.places_taken)})
    before = capacity.snapshot(opening)
    opening.archived_at = now
    opening.status = "closed"
    capacity.record(session, opening, before, user=user, now=now)
    refresh_search_text(session, opening.site)
    audit.record(session, "opening_archived", user=user, object_type="opening", object_id=opening.id)
    session.flush()


# --- sites --------------------------------------------------------------------------------

SITE_FIELDS = ("name", "street_address", "postal_code", "municipality_code", "accessibility", "description", "contact_name", "contact_phone", "contact_email")


def _location(site: Site | None, values: dict, geocoder: Geocoder) -> tuple[float, float, str] | None:
    """Where the site is: coordinates given by hand, else located from a new or changed
    address; None when nothing about the location changes."""
    latitude, longitude = values.get("latitude"), values.get("longitude")
    if latitude is not None and longitude is not None:
        if not inside_finland(latitude, longitude):
            raise EditError({"latitude": _("The coordinates are not in Finland (WGS84 decimal degrees).")})
        if site is not None and (round(latitude, 6), round(longitude, 6)) == (site.latitude, site.longitude):
            return None
        return round(latitude, 6), round(longitude, 6), "manual"
    address_changed = site is None or any(getattr(site, name) != values[name] for name in ("street_address", "postal_code", "municipality_code"))
    if not address_changed and site.geocode_precision != "manual":
        return None
    located = geocoder.locate(values["street_address"], values["postal_code"], values["municipality_code"])
    return located.latitude, located.longitude, located.precision


def save_site(session: Session, site: Site | None, *, user, values: dict, organisation: Organisation, geocoder: Geocoder, expected_version: int | None = None, now: datetime) -> Site:
    """Create (``site`` None) or update a site; locates it when the address changes."""
    names = dict(session.execute(select(Municipality.code, Municipality.name_fi)).all())
    problem = postal_code_problem(values["postal_code"], session.get(PostalCode, values["postal_code"]), values["municipality_code"], names)
    if values["municipality_code"] not in names:
        raise EditError({"municipality_code": _("Choose a municipality.")})
    if problem:
        raise EditError({"postal_code": problem})
    created = site is None
    if not created:
        _check_version(site, expected_version)
    location = _location(site, values, geocoder)  # before any row changes: it may query
    if created:
        site = Site(site_ref="S-" + secrets.token_hex(4).upper(), organisation=organisation)
        session.add(site)
    changed = [name for name in SITE_FIELDS if getattr(site, name, None) != values[name]]
    for name in SITE_FIELDS:
        setattr(site, name, values[name])
    site.organisation = organisation
    if location is not None:
        site.latitude, site.longitude, site.geocode_precision = location
    site.search_text = search_text(site)
    session.flush()
    audit.record(session, "site_created" if created else "site_updated", user=user, object_type="site", object_id=site.id, detail=None if created else "changed: " + (", ".join(changed) or "nothing"))
    return site


def archive_site(session: Session, site: Site, *, user, expected_version: int | None, now: datetime) -> None:
    _check_version(site, expected_version)
    busy = [o for o in site.openings if o.archived_at is None and o.places_taken]
    if busy:
        raise EditError({"site": _("Openings of this site have active placements; end them before archiving the site.")})
    for opening in site.openings:
        if opening.archived_at is None:
            before = capacity.snapshot(opening)
            opening.archived_at, opening.status = now, "closed"
            capacity.record(session, opening, before, user=user, now=now)
    site.archived_at = now
    audit.record(session, "site_archived", user=user, object_type="site", object_id=site.id)
    session.flush()


# --- organisations ------------------------------------------------------------------------

def save_organisation(session: Session, organisation: Organisation | None, *, user, values: dict) -> Organisation:
    problems = {}
    business_id = (values.get("business_id") or "").strip() or None
    if business_id and not business_id_valid(business_id):
        problems["business_id"] = _("“%(value)s” is not a valid business ID (e.g. 1234567-1; the check digit must match).", value=business_id)
    same_name = session.scalar(select(func.count()).select_from(Organisation).where(Organisation.name == values["name"], Organisation.id != (organisation.id if organisation else -1)))
    if same_name:
        problems["name"] = _("An organisation with this name already exists.")
    if business_id:
        same_id = session.scalar(select(func.count()).select_from(Organisation).where(Organisation.business_id == business_id, Organisation.id != (organisation.id if organisation else -1)))
        if same_id:
            problems["business_id"] = _("Another organisation has this business ID.")
    if problems:
        raise EditError(problems)
    created = organisation is None
    if created:
        organisation = Organisation(name=values["name"], kind=values["kind"])
        session.add(organisation)
    organisation.name, organisation.kind, organisation.business_id = values["name"], values["kind"], business_id
    for name in ("contact_name", "contact_phone", "contact_email"):
        setattr(organisation, name, (values.get(name) or "").strip() or None)
    session.flush()
    audit.record(session, "organisation_created" if created else "organisation_updated", user=user, object_type="organisation", object_id=organisation.id)
    return organisation
