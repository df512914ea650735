"""Openings as Open Referral HSDS 3.1 ``service`` objects.

Stable identifiers: the opening's, site's and organisation's stored UUIDs; the UUIDs of
linking objects (service at location, address, capacity, accessibility, language) are
derived from them with UUID 5, so they too stay the same from one request to the next.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from placements import codes
from placements.models import Opening

NAMESPACE = uuid.UUID("6f1c2a4e-9b0d-5c3e-8f7a-1d2e3f4a5b6c")
HSDS_STATUS = {"open": "active", "paused": "temporarily closed", "closed": "inactive"}
PLACE_UNIT_ID = str(uuid.uuid5(NAMESPACE, "unit:place"))


def derived(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def service(opening: Opening) -> dict:
    site, organisation = opening.site, opening.site.organisation
    tasks = ", ".join(str(codes.TASK_AREAS.get(code, code)) for code in opening.task_areas)
    description = (
        f"{codes.OPENING_TYPES[opening.type]}: {tasks}. "
        f"{opening.days_per_week_min}–{opening.days_per_week_max} d/wk, "
        f"{opening.hours_per_day_min:g}–{opening.hours_per_day_max:g} h/d."
    )
    location = {
        "id": site.uuid,
        "location_type": "physical",
        "organization_id": organisation.uuid,
        "name": site.name,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "addresses": [
            {
                "id": derived("address", site.uuid),
                "location_id": site.uuid,
                "address_1": site.street_address,
                "city": site.municipality.name_fi,
                "state_province": "Kainuu",
                "postal_code": site.postal_code,
                "country": "FI",
                "address_type": "physical",
            }
        ],
        "accessibility": [
            {
                "id": derived("accessibility", site.uuid, code),
                "location_id": site.uuid,
                "description": str(codes.ACCESSIBILITY.get(code, code)),
                "details": code,
            }
            for code in site.accessibility
        ],
    }
    if site.description:
        location["description"] = site.description
    result = {
        "id": opening.uuid,
        "organization_id": organisation.uuid,
        "name": opening.title,
        "description": description,
        "status": "inactive" if opening.archived_at else HSDS_STATUS[opening.status],
        "last_modified": timestamp(max(opening.updated_at, opening.last_confirmed_at)),
        "languages": [
            {
                "id": derived("language", opening.uuid, code),
                "service_id": opening.uuid,
                "code": code,
                "name": str(codes.COMMON_LANGUAGES.get(code, code)),
            }
            for code in opening.languages
        ],
        "organization": {
            "id": organisation.uuid,
            "name": organisation.name,
            "description": str(codes.ORGANISATION_KINDS[organisation.kind]),
        },
        "service_at_locations": [
            {
                "id": derived("service_at_location", opening.uuid, site.uuid),
                "service_id": opening.uuid,
                "location_id": site.uuid,
                "location": location,
            }
        ],
        "capacities": [
            {
                "id": derived("capacity", opening.uuid),
                "service_id": opening.uuid,
                "unit": {"id": PLACE_UNIT_ID, "name": "place", "identifier": "place"},
                "available": opening.free_places if opening.status == "open" else 0,
                "maximum": opening.places_total,
                "description": "Free places: total minus participants referred from elsewhere minus active placements.",
                "updated": timestamp(opening.last_confirmed_at),
            }
        ],
    }
    if site.contact_email:
        result["email"] = site.contact_email
    return result
