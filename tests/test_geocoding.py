"""Geocoding through geopy against a Nominatim stand-in on loopback (never the internet)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from placements.models import GeocodeCache, PostalCode, Site
from placements.permissions import SYSTEM
from placements.services.geocoding import Geocoder
from tests.builders import csv_bytes, site_row
from tests.nominatim_stub import NominatimStub

KAJAANI_CENTRE = (64.2222, 27.7278)
USER_AGENT = "kainuu-placement-registry-tests/1.0 (test@example.fi)"


@pytest.fixture
def nominatim():
    with NominatimStub() as stub:
        yield stub


def geocoder(db, stub, **kwargs) -> Geocoder:
    options = {
        "mode": "nominatim",
        "url": stub.url,
        "user_agent": USER_AGENT,
        "timeout": 1.0,
        "min_interval": 0.0,
    } | kwargs
    return Geocoder(db.session, **options)


def test_an_address_found_is_exact_and_cached(db, nominatim):
    nominatim.answers["Kauppakatu 1"] = ("ok", 64.2261, 27.7312)
    coder = geocoder(db, nominatim)

    first = coder.locate("Kauppakatu 1", "87100", "205")
    second = coder.locate("Kauppakatu 1", "87100", "205")

    assert (first.latitude, first.longitude, first.precision) == (64.2261, 27.7312, "exact")
    assert second == first
    assert len(nominatim.requests) == 1  # the second answer came from the cache
    request = nominatim.requests[0]
    assert request["path"] == "/search"
    assert request["params"]["postalcode"] == "87100" and request["params"]["countrycodes"] == "fi"
    assert request["headers"]["User-Agent"] == USER_AGENT
    assert db.session.scalar(select(func.count()).select_from(GeocodeCache)) == 1


def test_no_result_falls_back_to_the_postal_code_centre_and_is_remembered(db, nominatim):
    nominatim.answers["87100"] = ("ok", 64.2255, 27.7290)  # the postal code area's centre
    coder = geocoder(db, nominatim)

    location = coder.locate("Olematon tie 99", "87100", "205")

    assert (location.latitude, location.longitude, location.precision) == (64.2255, 27.729, "postal_code")
    assert db.session.get(PostalCode, "87100").centre_lat == 64.2255
    asked = len(nominatim.requests)
    assert coder.locate("Olematon tie 99", "87100", "205") == location
    assert len(nominatim.requests) == asked  # "not found" is cached too


def test_nothing_found_at_all_falls_back_to_the_municipality_centre(db, nominatim):
    location = geocoder(db, nominatim).locate("Olematon tie 99", "87100", "205")
    assert (location.latitude, location.longitude, location.precision) == (*KAJAANI_CENTRE, "municipality")


def test_an_answer_far_from_the_municipality_is_not_believed(db, nominatim):
    nominatim.answers["Kauppakatu 1"] = ("ok", 60.1699, 24.9384)  # Helsinki
    location = geocoder(db, nominatim).locate("Kauppakatu 1", "87100", "205")
    assert location.precision == "municipality"


@pytest.mark.parametrize("answer", [("slow", 1.5), ("error", 500)], ids=["timeout", "http-500"])
def test_a_failing_geocoder_falls_back_and_is_asked_again_later(db, nominatim, answer):
    nominatim.answers["Kauppakatu 1"] = answer
    coder = geocoder(db, nominatim)

    location = coder.locate("Kauppakatu 1", "87100", "205")

    assert location.precision == "municipality"
    assert (
        db.session.scalar(select(func.count()).select_from(GeocodeCache).where(GeocodeCache.query.like("kauppakatu%")))
        == 0
    )
    nominatim.answers["Kauppakatu 1"] = ("ok", 64.2261, 27.7312)
    assert coder.locate("Kauppakatu 1", "87100", "205").precision == "exact"


def test_at_most_one_request_a_second(db, nominatim):
    coder = geocoder(db, nominatim, min_interval=1.0, url=nominatim.url + "/")
    coder.locate("Katu 1", "87100", "205")
    coder.locate("Katu 2", "87100", "205")
    times = [r["at"] for r in nominatim.requests]
    assert len(times) >= 3
    assert all(b - a >= 0.95 for a, b in zip(times, times[1:], strict=False))


def test_offline_mode_never_asks(db, nominatim):
    location = Geocoder(db.session, mode="offline", url=nominatim.url).locate("Kauppakatu 1", "87100", "205")
    assert location.precision == "municipality" and nominatim.requests == []


def test_lookup_budget_leaves_the_rest_to_fallbacks(db, nominatim):
    nominatim.answers["Katu 1"] = ("ok", 64.2261, 27.7312)
    nominatim.answers["Katu 2"] = ("ok", 64.2262, 27.7313)
    coder = geocoder(db, nominatim, max_lookups=1)
    assert coder.locate("Katu 1", "87100", "205").precision == "exact"
    assert coder.locate("Katu 2", "87100", "205").precision == "municipality"
    assert coder.skipped >= 1


def test_import_locates_rows_without_coordinates_online(db, nominatim):
    from placements.services.importer import import_sites

    nominatim.answers["Kauppakatu 1"] = ("ok", 64.2261, 27.7312)
    result = import_sites(
        db.session, csv_bytes([site_row(latitude="", longitude="")]), SYSTEM, geocoder=geocoder(db, nominatim)
    )
    db.session.commit()
    assert result.ok
    site = db.session.scalar(select(Site))
    assert (site.latitude, site.longitude, site.geocode_precision) == (64.2261, 27.7312, "exact")


def test_geocode_command_looks_up_sites_placed_by_fallback(app, db, runner, nominatim, build):
    build.site(latitude="", longitude="")
    nominatim.answers["Kauppakatu 1"] = ("ok", 64.2261, 27.7312)
    app.config.update(GEOCODER="nominatim", NOMINATIM_URL=nominatim.url, NOMINATIM_USER_AGENT=USER_AGENT)

    result = runner.invoke(args=["sites", "geocode"])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(Site.geocode_precision)) == "exact"
