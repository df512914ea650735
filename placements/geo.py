"""Distances and areas on the map, computed one way everywhere (docs/rules.md §7.3).

The fast spherical (haversine) estimate ranks and prefilters; it differs from the
geodesic on the WGS84 ellipsoid by under 0.5 %, so near a limit the geodesic decides,
and every distance shown to people is the geodesic.
"""

from __future__ import annotations

import math

from geopy.distance import geodesic

EARTH_RADIUS_KM = 6371.0088
# The estimate's largest error against the geodesic, with a margin.
ESTIMATE_MARGIN = 0.01

Point = tuple[float, float]


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle distance on a sphere of the Earth's mean radius."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(h, 1.0)))


def geodesic_km(a: Point, b: Point) -> float:
    """Straight-line distance on the WGS84 ellipsoid."""
    return geodesic(a, b).km


def within(point: Point, target: Point, km: float) -> tuple[bool, float]:
    """Is ``target`` within ``km`` of ``point``, and how far is it? The estimate decides unless
    it is within its error of the limit; then the geodesic decides."""
    estimate = haversine_km(point, target)
    if estimate < km * (1 - ESTIMATE_MARGIN) or estimate > km * (1 + ESTIMATE_MARGIN):
        return estimate <= km, estimate
    exact = geodesic_km(point, target)
    return exact <= km, exact


def bounding_box(point: Point, km: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) of a latitude/longitude box holding every place within ``km``.

    The longitude span is taken at the box's latitude furthest from the equator, where
    degrees of longitude are shortest.
    """
    lat, lon = point
    dlat = math.degrees(km * (1 + ESTIMATE_MARGIN) / EARTH_RADIUS_KM)
    widest = math.cos(math.radians(min(abs(lat) + dlat, 89.9)))
    dlon = math.degrees(km * (1 + ESTIMATE_MARGIN) / (EARTH_RADIUS_KM * max(widest, 0.01)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def box_conditions(latitude_column, longitude_column, point: Point, km: float) -> list:
    """SQL conditions: the columns lie inside ``bounding_box(point, km)``."""
    south, north, west, east = bounding_box(point, km)
    return [latitude_column.between(south, north), longitude_column.between(west, east)]
