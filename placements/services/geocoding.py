"""Locating sites. Offline fallback: the postal code's centre, else the municipality's."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from placements.models import Municipality, PostalCode


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    precision: str


def fallback_location(session: Session, postal_code: str, municipality_code: str) -> Location:
    """The best location known without an address lookup."""
    postal = session.get(PostalCode, postal_code)
    if postal is not None and postal.centre_lat is not None and postal.centre_lon is not None:
        return Location(postal.centre_lat, postal.centre_lon, "postal_code")
    municipality = session.get(Municipality, municipality_code)
    if municipality is None:
        raise ValueError(f"unknown municipality {municipality_code}")
    return Location(municipality.centre_lat, municipality.centre_lon, "municipality")
