"""The edit lock cannot be bypassed (docs/rules.md §3.7, §3.9): a capacity, opening, site,
confirmation or archiving save without ``version``, or with a malformed one, is a 400 with a
clear message; an old version is refused as a conflict; only the current version saves.
Nothing is changed by a refused save."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from placements import clock
from placements.models import Opening, Site
from placements.permissions import SYSTEM
from placements.services import sites as site_service
from tests.conftest import csrf_token

INCOMPLETE = "Lomakkeesta puuttui tietoja. Lataa sivu uudelleen ja tallenna uudestaan."
# Missing, empty and malformed versions: none of them may stand for "whatever is current".
BAD_VERSIONS = [None, "", " ", "abc", "1.0", "-1", "+1", "1e0", "١", "¹", "0x1", "9" * 19, "1\x00", "[1]"]


@pytest.fixture
def site(build):
    site = build.site(last_confirmed="2026-01-02")
    # Someone saved the opening and the site once: their current version is 2, version 1 is old.
    site_service.update_capacity(
        build.session,
        site.openings[0],
        SYSTEM,
        expected_version=1,
        places_total=6,
        places_external=1,
        status="open",
        accepting_from=None,
    )
    site.contact_name = "Toinen Yhteyshenkilö"
    build.session.commit()
    assert (site.version, site.openings[0].version) == (2, 2)
    return site


@pytest.fixture
def host(build, site, login):
    user = build.user("host", organisation=site.organisation)
    login(user)
    return user


@pytest.fixture
def coordinator(build, login):
    user = build.user("coordinator")
    login(user)
    return user


def _with_version(data: dict, version) -> dict:
    data = dict(data)
    if version is not None:
        data["version"] = version
    return data


def _state(db, site_id: int) -> tuple:
    db.session.expire_all()
    site = db.session.get(Site, site_id)
    opening = site.openings[0]
    return (
        site.version,
        site.name,
        site.archived_at,
        opening.version,
        opening.places_total,
        opening.title,
        opening.archived_at,
        opening.last_confirmed_at,
    )


def capacity_form(client, opening) -> tuple[str, dict]:
    path = f"/openings/{opening.id}/capacity"
    return path, {
        "csrf_token": csrf_token(client, path),
        "places_total": 9,
        "places_external": 0,
        "status": "open",
        "accepting_from": "",
    }


def opening_form(client, opening) -> tuple[str, dict]:
    path = f"/openings/{opening.id}/edit"
    return path, {
        "csrf_token": csrf_token(client, path),
        "type": "rehabilitative_work",
        "title": "Uusi otsikko",
        "task_areas": ["kitchen"],
        "days_per_week_min": 1,
        "days_per_week_max": 4,
        "hours_per_day_min": 4,
        "hours_per_day_max": 6,
        "physical_demand": "light",
        "social_intensity": "low",
        "languages": ["fi"],
    }


def site_form(client, site) -> tuple[str, dict]:
    path = f"/sites/{site.id}/edit"
    return path, {
        "csrf_token": csrf_token(client, path),
        "organisation": site.organisation_id,
        "name": "Uusi nimi",
        "street_address": "Kauppakatu 1",
        "postal_code": "87100",
        "municipality_code": "205",
    }


EDIT_FORMS = {"capacity": capacity_form, "opening": opening_form}


def _refused_as_incomplete(client, db, site, path: str, data: dict) -> None:
    before = _state(db, site.id)
    for version in BAD_VERSIONS:
        response = client.post(path, data=_with_version(data, version))

        assert response.status_code == 400, repr(version)
        assert INCOMPLETE in response.get_data(as_text=True), repr(version)
        assert _state(db, site.id) == before, repr(version)


@pytest.mark.parametrize("form", ["capacity", "opening"])
def test_an_opening_save_without_a_valid_version_is_a_400(client, db, site, host, form):
    _refused_as_incomplete(client, db, site, *EDIT_FORMS[form](client, site.openings[0]))


def test_a_site_save_without_a_valid_version_is_a_400(client, db, site, host):
    _refused_as_incomplete(client, db, site, *site_form(client, site))


@pytest.mark.parametrize("form", ["capacity", "opening", "site"])
def test_an_old_version_is_a_conflict_and_the_current_one_saves(client, db, site, host, form):
    opening = site.openings[0]
    path, data = site_form(client, site) if form == "site" else EDIT_FORMS[form](client, opening)
    current = site.version if form == "site" else opening.version
    before = _state(db, site.id)

    stale = client.post(path, data=_with_version(data, current - 1))

    assert stale.status_code == 409
    assert "Joku muu tallensi muutoksia ensin" in stale.get_data(as_text=True)
    assert _state(db, site.id) == before

    saved = client.post(path, data=_with_version(data, current))

    assert saved.status_code == 302
    assert _state(db, site.id) != before


def test_a_confirmation_without_a_valid_version_is_a_400(client, db, site, host):
    data = {"csrf_token": csrf_token(client, "/my/sites")}
    _refused_as_incomplete(client, db, site, f"/openings/{site.openings[0].id}/confirm", data)


def test_a_confirmation_of_an_old_version_confirms_nothing(client, db, site, host):
    opening = site.openings[0]
    before = _state(db, site.id)
    token = csrf_token(client, "/my/sites")

    with clock.fixed(clock.now() + timedelta(days=1)):
        stale = client.post(f"/openings/{opening.id}/confirm", data={"csrf_token": token, "version": 1})

    assert stale.status_code == 303 and stale.headers["Location"] == f"/openings/{opening.id}/capacity"
    assert _state(db, site.id) == before
    with clock.fixed(clock.now() + timedelta(days=2)):
        current = client.post(f"/openings/{opening.id}/confirm", data={"csrf_token": token, "version": 2})
    assert current.status_code == 302
    assert _state(db, site.id)[7] > before[7]


@pytest.mark.parametrize("what", ["opening", "site"])
def test_archiving_without_a_valid_version_is_a_400(client, db, site, coordinator, what):
    target = f"/openings/{site.openings[0].id}/archive" if what == "opening" else f"/sites/{site.id}/archive"
    _refused_as_incomplete(client, db, site, target, {"csrf_token": csrf_token(client, f"/sites/{site.id}")})


@pytest.mark.parametrize("what", ["opening", "site"])
def test_archiving_an_old_version_archives_nothing(client, db, site, coordinator, what):
    opening = site.openings[0]
    target = f"/openings/{opening.id}/archive" if what == "opening" else f"/sites/{site.id}/archive"
    current = opening.version if what == "opening" else site.version
    token = csrf_token(client, f"/sites/{site.id}")
    before = _state(db, site.id)

    stale = client.post(target, data={"csrf_token": token, "version": current - 1, "confirm": "yes"})

    assert stale.status_code == 302
    assert "muutti" in client.get(stale.headers["Location"]).get_data(as_text=True)
    assert _state(db, site.id) == before
    assert client.post(target, data={"csrf_token": token, "version": current, "confirm": "yes"}).status_code == 302
    db.session.expire_all()
    archived = db.session.scalar(select(Opening.archived_at if what == "opening" else Site.archived_at))
    assert archived is not None
