"""Locating sites: Nominatim through geopy, cached in the database, with offline fallbacks.

Order: a cached or fresh Nominatim answer for the street address ("exact"); else the
postal code area's centre ("postal_code", looked up once and kept); else the
municipality's centre ("municipality"). Nominatim is asked at most once a second per
process, with the configured user agent, and every answer (also "not found") is cached.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from geopy.exc import GeopyError
from geopy.geocoders import Nominatim
from sqlalchemy import select
from sqlalchemy.orm import Session

from placements import geo
from placements.models import GeocodeCache, Municipality, PostalCode

log = logging.getLogger(__name__)

# An answer farther than this from the municipality's centre is not believed.
MAX_KM_FROM_MUNICIPALITY = 90


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    precision: str


class _Throttle:
    """At most one request per ``interval`` seconds in this process (Nominatim's policy)."""

    def __init__(self, interval: float):
        self.interval = interval
        self._lock = threading.Lock()
        self._last = 0.0

    def wait(self) -> None:
        with self._lock:
            pause = self._last + self.interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self._last = time.monotonic()


_throttles: dict[str, _Throttle] = {}


def _throttle_for(url: str, interval: float) -> _Throttle:
    return _throttles.setdefault(url, _Throttle(interval))


class Geocoder:
    def __init__(
        self,
        session: Session,
        *,
        mode: str = "offline",
        url: str = "",
        user_agent: str = "",
        timeout: float = 5.0,
        min_interval: float = 1.0,
        max_lookups: int | None = None,
    ):
        self.session = session
        self.online = mode == "nominatim" and bool(url)
        self.url = url
        self.timeout = timeout
        self.lookups_left = max_lookups
        self.skipped = 0  # addresses not looked up because the lookup budget ran out
        self._memo: dict[str, tuple[float, float] | None] = {}  # answers of this unit of work
        self._municipalities: dict[str, Municipality | None] = {}
        self._postal_codes: dict[str, PostalCode | None] = {}
        if self.online:
            parts = urlsplit(url)
            self._nominatim = Nominatim(
                user_agent=user_agent,
                domain=parts.netloc + parts.path.rstrip("/"),
                scheme=parts.scheme or "https",
                timeout=timeout,
            )
            self._throttle = _throttle_for(url, min_interval)

    @classmethod
    def from_config(cls, session: Session, config, **overrides) -> Geocoder:
        return cls(
            session,
            mode=config.get("GEOCODER", "offline"),
            url=config.get("NOMINATIM_URL", ""),
            user_agent=config.get("NOMINATIM_USER_AGENT", ""),
            **overrides,
        )

    # --- public -------------------------------------------------------------------

    def prefetch(self, addresses: Iterable[tuple[str, str, str]]) -> None:
        """Read the cached answers for many (street address, postal code, municipality code)
        at once, so that ``locate`` asks the database nothing more for them (an import)."""
        keys = []
        for street_address, postal_code, municipality_code in addresses:
            municipality = self._municipality(municipality_code)
            if municipality is not None:
                keys.append(self._key(street_address, postal_code, municipality))
        keys = [key for key in dict.fromkeys(keys) if key not in self._memo]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            with self.session.no_autoflush:
                rows = self.session.execute(
                    select(GeocodeCache.query, GeocodeCache.found, GeocodeCache.latitude, GeocodeCache.longitude).where(
                        GeocodeCache.query.in_(chunk)
                    )
                )
                for key, found, latitude, longitude in rows:
                    self._memo[key] = (latitude, longitude) if found else None
            if not self.online:  # nothing else will be asked: the rest are simply not known
                for key in chunk:
                    self._memo.setdefault(key, None)

    def locate(self, street_address: str, postal_code: str, municipality_code: str) -> Location:
        municipality = self._municipality(municipality_code)
        if municipality is None:
            raise ValueError(f"unknown municipality {municipality_code}")
        query = self._key(street_address, postal_code, municipality)
        point = self._lookup(
            query,
            {"street": street_address, "postalcode": postal_code, "city": municipality.name_fi, "country": "Finland"},
            municipality,
        )
        if point:
            return Location(point[0], point[1], "exact")
        return self.fallback(postal_code, municipality)

    def fallback(self, postal_code: str, municipality: Municipality) -> Location:
        postal = self._postal_code(postal_code)
        if postal is not None and postal.centre_lat is None and self.online:
            point = self._lookup(
                f"postal code {postal_code}, Finland", {"postalcode": postal_code, "country": "Finland"}, municipality
            )
            if point:
                postal.centre_lat, postal.centre_lon = point
        if postal is not None and postal.centre_lat is not None and postal.centre_lon is not None:
            return Location(postal.centre_lat, postal.centre_lon, "postal_code")
        return Location(municipality.centre_lat, municipality.centre_lon, "municipality")

    # --- internals ----------------------------------------------------------------

    @staticmethod
    def _key(street_address: str, postal_code: str, municipality: Municipality) -> str:
        return f"{street_address}, {postal_code} {municipality.name_fi}, Finland".casefold()

    def _municipality(self, code: str) -> Municipality | None:
        if code not in self._municipalities:
            with self.session.no_autoflush:
                self._municipalities[code] = self.session.get(Municipality, code)
        return self._municipalities[code]

    def _postal_code(self, code: str) -> PostalCode | None:
        if code not in self._postal_codes:
            with self.session.no_autoflush:
                self._postal_codes[code] = self.session.get(PostalCode, code)
        return self._postal_codes[code]

    def _lookup(self, key: str, query: dict, municipality: Municipality) -> tuple[float, float] | None:
        if key in self._memo:
            return self._memo[key]
        with self.session.no_autoflush:
            cached = self.session.scalar(select(GeocodeCache).where(GeocodeCache.query == key))
        if cached is not None:
            return (cached.latitude, cached.longitude) if cached.found else None
        if not self.online:
            return None
        if self.lookups_left is not None:
            if self.lookups_left <= 0:
                self.skipped += 1
                return None
            self.lookups_left -= 1
        self._throttle.wait()
        try:
            answer = self._nominatim.geocode(query, exactly_one=True, country_codes="fi", timeout=self.timeout)
        except GeopyError as error:  # timeouts, HTTP errors, refused connections: try again later
            log.warning("Geocoder did not answer (%s); using a fallback location", type(error).__name__)
            return None
        point = None
        if answer is not None:
            candidate = (round(answer.latitude, 6), round(answer.longitude, 6))
            if (
                geo.geodesic_km(candidate, (municipality.centre_lat, municipality.centre_lon))
                <= MAX_KM_FROM_MUNICIPALITY
            ):
                point = candidate
        self.session.add(
            GeocodeCache(
                query=key,
                found=point is not None,
                latitude=point[0] if point else None,
                longitude=point[1] if point else None,
            )
        )
        self._memo[key] = point
        return point


def fallback_location(session: Session, postal_code: str, municipality_code: str) -> Location:
    """The best location known without asking the geocoder."""
    municipality = session.get(Municipality, municipality_code)
    if municipality is None:
        raise ValueError(f"unknown municipality {municipality_code}")
    return Geocoder(session).fallback(postal_code, municipality)
