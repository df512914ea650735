"""Changing sites, openings and organisations: details, capacity, confirmation, archiving.

Every function takes the acting user and checks the rule itself (docs/rules.md §2), and
takes the ``version`` of the row as the form showed it: a different current version
raises ``Conflict`` (docs/rules.md §3.7). Capacity changes write a CapacityEvent, every
change an AuditEvent. Services only flush; the unit of work commits.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from placements import clock, permissions
from placements.errors import Conflict, Refused
from placements.models import Opening, Organisation, PostalCode, Site
from placements.services import audit, capacity, reference
from placements.services.geocoding import Geocoder
from placements.services.search_text import refresh_search_text, search_text
from placements.services.validation import business_id_valid, inside_finland, postal_code_problem, schedule_problems

# How far ahead an opening can announce when it takes participants again.
LONGEST_LEAD_DAYS = 730


def check_version(row, expected: int | None) -> None:
    """The edit was made on the row as it is now; otherwise ``Conflict`` (409)."""
    if expected is None:
        raise Refused({"version": _("The form was incomplete. Reload the page and save again.")})
    if row.version != expected:
        raise Conflict(row)


def flush(session: Session, row) -> None:
    """Flush, turning a concurrent save of the same row into ``Conflict``."""
    try:
        session.flush()
    except StaleDataError as error:
        raise Conflict(row) from error


def _may_edit_opening(user, opening: Opening) -> None:
    permissions.require(permissions.can_edit_opening(user, opening), object_type="opening", object_id=opening.id)


# --- openings -----------------------------------------------------------------------------

CAPACITY_FIELDS = ("places_total", "places_external", "status", "accepting_from")


def update_capacity(
    session: Session,
    opening: Opening,
    user,
    *,
    expected_version: int | None,
    places_total: int,
    places_external: int,
    status: str,
    accepting_from: date | None,
    now: datetime | None = None,
) -> bool:
    """Set places and status; also counts as confirming the data. Returns whether anything changed."""
    _may_edit_opening(user, opening)
    check_version(opening, expected_version)
    now = now or clock.now()
    problems = {}
    if places_total < 0:
        problems["places_total"] = _("The number cannot be negative.")
    if places_external < 0:
        problems["places_external"] = _("The number cannot be negative.")
    elif places_external + opening.places_taken > places_total:
        problems["places_total"] = _(
            "Total places must cover the %(taken)s active placements and %(external)s participants from elsewhere.",
            taken=opening.places_taken,
            external=places_external,
        )
    if accepting_from is not None and (accepting_from - now.date()).days > LONGEST_LEAD_DAYS:
        problems["accepting_from"] = _("Give a date at most two years ahead, or leave it empty.")
    if problems:
        raise Refused(problems)
    before = capacity.snapshot(opening)
    old = {name: getattr(opening, name) for name in CAPACITY_FIELDS}
    opening.places_total, opening.places_external = places_total, places_external
    opening.status, opening.accepting_from = status, accepting_from
    opening.last_confirmed_at = now
    changed = [name for name in CAPACITY_FIELDS if getattr(opening, name) != old[name]]
    if changed:
        capacity.record_if_changed(session, opening, before, user=user, now=now)
        detail = ", ".join(f"{name}: {old[name]} -> {getattr(opening, name)}" for name in changed)
        audit.record(
            session, "opening_capacity_changed", user=user, object_type="opening", object_id=opening.id, detail=detail
        )
    else:
        _confirmed(session, opening, before, user, now)
    flush(session, opening)
    return bool(changed)


def confirm(
    session: Session, opening: Opening, user, *, expected_version: int | None, now: datetime | None = None
) -> None:
    """The host says the data is still right: one click, one event (docs/rules.md §4)."""
    _may_edit_opening(user, opening)
    check_version(opening, expected_version)
    now = now or clock.now()
    opening.last_confirmed_at = now
    _confirmed(session, opening, capacity.snapshot(opening), user, now)
    flush(session, opening)


def _confirmed(session: Session, opening: Opening, before, user, now: datetime) -> None:
    capacity.record(session, opening, before, user=user, now=now, kind="confirmed")
    audit.record(session, "opening_confirmed", user=user, object_type="opening", object_id=opening.id)


OPENING_DETAIL_FIELDS = (
    "type",
    "title",
    "task_areas",
    "days_per_week_min",
    "days_per_week_max",
    "hours_per_day_min",
    "hours_per_day_max",
    "supports",
    "physical_demand",
    "social_intensity",
    "languages",
)


def _check_opening_values(site: Site, values: dict, opening: Opening | None) -> None:
    problems = {}
    schedule = [
        values[name] for name in ("days_per_week_min", "days_per_week_max", "hours_per_day_min", "hours_per_day_max")
    ]
    for field_name, message in schedule_problems(values["type"], *schedule):
        problems.setdefault(field_name, message)
    if not values["task_areas"]:
        problems["task_areas"] = _("Choose at least one task area.")
    if not values["languages"]:
        problems["languages"] = _("Choose at least one working language.")
    for other in site.openings:
        if other is not opening and other.type == values["type"] and other.title == values["title"]:
            problems["title"] = _("The site already has an opening of this type with this title.")
    if problems:
        raise Refused(problems)


def update_opening(
    session: Session, opening: Opening, user, *, expected_version: int | None, values: dict, now: datetime | None = None
) -> None:
    _may_edit_opening(user, opening)
    check_version(opening, expected_version)
    _check_opening_values(opening.site, values, opening)
    changed = [name for name in OPENING_DETAIL_FIELDS if getattr(opening, name) != values[name]]
    for name in OPENING_DETAIL_FIELDS:
        setattr(opening, name, values[name])
    opening.last_confirmed_at = now or clock.now()
    refresh_search_text(session, opening.site)
    detail = "changed: " + (", ".join(changed) or "nothing")
    audit.record(session, "opening_updated", user=user, object_type="opening", object_id=opening.id, detail=detail)
    flush(session, opening)


def create_opening(
    session: Session,
    site: Site,
    user,
    *,
    values: dict,
    places_total: int,
    places_external: int,
    now: datetime | None = None,
) -> Opening:
    permissions.require(permissions.can_edit_site(user, site), object_type="site", object_id=site.id)
    now = now or clock.now()
    _check_opening_values(site, values, None)
    if places_external > places_total:
        raise Refused({"places_external": _("Places taken by outside participants exceed the total places.")})
    opening = Opening(
        site=site,
        places_total=places_total,
        places_external=places_external,
        places_taken=0,
        status="open",
        last_confirmed_at=now,
        **{name: values[name] for name in OPENING_DETAIL_FIELDS},
    )
    session.add(opening)
    session.flush()
    refresh_search_text(session, site)
    capacity.record(session, opening, None, user=user, now=now)
    audit.record(session, "opening_created", user=user, object_type="opening", object_id=opening.id)
    session.flush()
    return opening


def archive_opening(
    session: Session, opening: Opening, user, *, expected_version: int | None, now: datetime | None = None
) -> None:
    permissions.require(permissions.can_manage_registry(user), object_type="opening", object_id=opening.id)
    check_version(opening, expected_version)
    if opening.places_taken:
        message = _(
            "The opening has %(count)s active placements; end them before archiving.", count=opening.places_taken
        )
        raise Refused({"opening": message}, status=409)
    now = now or clock.now()
    before = capacity.snapshot(opening)
    opening.archived_at = now
    opening.status = "closed"
    capacity.record(session, opening, before, user=user, now=now)
    refresh_search_text(session, opening.site)
    audit.record(session, "opening_archived", user=user, object_type="opening", object_id=opening.id)
    flush(session, opening)


# --- sites --------------------------------------------------------------------------------

SITE_FIELDS = (
    "name",
    "street_address",
    "postal_code",
    "municipality_code",
    "accessibility",
    "description",
    "contact_name",
    "contact_phone",
    "contact_email",
)


def _location(site: Site | None, values: dict, geocoder: Geocoder) -> tuple[float, float, str] | None:
    """Where the site is: coordinates given by hand, else located from a new or changed
    address; None when nothing about the location changes."""
    latitude, longitude = values.get("latitude"), values.get("longitude")
    if latitude is not None and longitude is not None:
        if not inside_finland(latitude, longitude):
            raise Refused({"latitude": _("The coordinates are not in Finland (WGS84 decimal degrees).")})
        if site is not None and (round(latitude, 6), round(longitude, 6)) == (site.latitude, site.longitude):
            return None
        return round(latitude, 6), round(longitude, 6), "manual"
    address = ("street_address", "postal_code", "municipality_code")
    address_changed = site is None or any(getattr(site, name) != values[name] for name in address)
    if not address_changed and site.geocode_precision != "manual":
        return None
    located = geocoder.locate(values["street_address"], values["postal_code"], values["municipality_code"])
    return located.latitude, located.longitude, located.precision


def organisation_choices(session: Session, user) -> list[tuple[int, str]]:
    """The organisations a site may be given to by ``user``: any for the coordinator,
    a host's own otherwise."""
    query = (
        select(Organisation.id, Organisation.name).where(Organisation.archived_at.is_(None)).order_by(Organisation.name)
    )
    if not permissions.can_manage_registry(user):
        query = query.where(Organisation.id == user.organisation_id)
    return [(row.id, row.name) for row in session.execute(query)]


def save_site(
    session: Session,
    site: Site | None,
    user,
    *,
    values: dict,
    organisation_id: int | None,
    geocoder: Geocoder,
    expected_version: int | None = None,
) -> Site:
    """Create (``site`` None) or update a site; locates it when the address changes."""
    if site is None:
        permissions.require(permissions.can_manage_registry(user), object_type="site")
    else:
        permissions.require(permissions.can_edit_site(user, site), object_type="site", object_id=site.id)
        check_version(site, expected_version)
    allowed = dict(organisation_choices(session, user))
    if organisation_id not in allowed:
        raise Refused({"organisation": _("Choose an organisation.")})
    names = reference.municipality_names(session)
    if values["municipality_code"] not in names:
        raise Refused({"municipality_code": _("Choose a municipality.")})
    postal = session.get(PostalCode, values["postal_code"])
    problem = postal_code_problem(values["postal_code"], postal, values["municipality_code"], names)
    if problem:
        raise Refused({"postal_code": problem})
    location = _location(site, values, geocoder)  # before any row changes: it may query
    created = site is None
    organisation = session.get(Organisation, organisation_id)
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
    flush(session, site)
    detail = None if created else "changed: " + (", ".join(changed) or "nothing")
    action = "site_created" if created else "site_updated"
    audit.record(session, action, user=user, object_type="site", object_id=site.id, detail=detail)
    return site


def archive_site(
    session: Session, site: Site, user, *, expected_version: int | None, now: datetime | None = None
) -> None:
    permissions.require(permissions.can_manage_registry(user), object_type="site", object_id=site.id)
    check_version(site, expected_version)
    if any(o.archived_at is None and o.places_taken for o in site.openings):
        message = _("Openings of this site have active placements; end them before archiving the site.")
        raise Refused({"site": message}, status=409)
    now = now or clock.now()
    for opening in site.openings:
        if opening.archived_at is None:
            before = capacity.snapshot(opening)
            opening.archived_at, opening.status = now, "closed"
            capacity.record(session, opening, before, user=user, now=now)
    site.archived_at = now
    audit.record(session, "site_archived", user=user, object_type="site", object_id=site.id)
    flush(session, site)


# --- organisations ------------------------------------------------------------------------


def _taken(session: Session, column, value, organisation: Organisation | None) -> bool:
    others = select(func.count()).select_from(Organisation).where(column == value)
    if organisation is not None:
        others = others.where(Organisation.id != organisation.id)
    return bool(session.scalar(others))


def save_organisation(session: Session, organisation: Organisation | None, user, *, values: dict) -> Organisation:
    permissions.require(permissions.can_manage_registry(user), object_type="organisation")
    problems = {}
    business_id = (values.get("business_id") or "").strip() or None
    if business_id and not business_id_valid(business_id):
        problems["business_id"] = _(
            "“%(value)s” is not a valid business ID (e.g. 1234567-1; the check digit must match).", value=business_id
        )
    if _taken(session, Organisation.name, values["name"], organisation):
        problems["name"] = _("An organisation with this name already exists.")
    if business_id and _taken(session, Organisation.business_id, business_id, organisation):
        problems["business_id"] = _("Another organisation has this business ID.")
    if problems:
        raise Refused(problems)
    created = organisation is None
    if created:
        organisation = Organisation(name=values["name"], kind=values["kind"])
        session.add(organisation)
    organisation.name, organisation.kind, organisation.business_id = values["name"], values["kind"], business_id
    for name in ("contact_name", "contact_phone", "contact_email"):
        setattr(organisation, name, (values.get(name) or "").strip() or None)
    session.flush()
    action = "organisation_created" if created else "organisation_updated"
    audit.record(session, action, user=user, object_type="organisation", object_id=organisation.id)
    return organisation
