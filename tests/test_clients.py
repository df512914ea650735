"""Clients under pseudonymous codes: creation, visibility, needs, closing, retention."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from placements.codes import CLIENT_CODE
from placements.models import AuditEvent, Client, Needs, Placement
from placements.permissions import SYSTEM
from placements.services.clients import contains_identity_code, purge_closed
from tests.conftest import csrf_token


@pytest.fixture
def worker(build, login):
    user = build.user("social_worker")
    login(user)
    return user


def post(client, path, data, token_from=None):
    return client.post(path, data={"csrf_token": csrf_token(client, token_from or path)} | data)


def test_a_client_gets_a_generated_pseudonymous_code(client, db, worker):
    response = post(
        client,
        "/clients/new",
        {"municipality_code": "765", "home_postal_code": "88600", "age_band": "25-29", "gender": "male"},
    )
    created = db.session.scalar(select(Client))
    assert CLIENT_CODE.fullmatch(created.code)
    assert response.headers["Location"] == f"/clients/{created.code}/needs"
    assert (
        created.municipality_code,
        created.home_postal_code,
        created.age_band,
        created.gender,
        created.owner_id,
    ) == ("765", "88600", "25-29", "male", worker.id)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "client_created"))
    assert event.client_code == created.code and event.user_id == worker.id


@pytest.mark.parametrize(
    "text", ["131052-308T", "010203A123B", "Asiakas 311299-999X soitti", "131052 - 308T", "010101Y1234", "290226+0001"]
)
def test_identity_codes_are_recognised(text):
    assert contains_identity_code(text)


@pytest.mark.parametrize("text", ["K-7F3Q-92XD", "puhelin 040 123 4567", "2026-11-27", "1234567-1", "131399-308T"])
def test_ordinary_text_is_not_mistaken_for_an_identity_code(text):
    assert not contains_identity_code(text)


def test_needs_note_with_an_identity_code_is_refused_and_nothing_saved(client, db, build, worker):
    person = build.client(worker)
    data = {
        "wanted_types": ["work_trial"],
        "days_per_week": 3,
        "hours_per_day": 5,
        "max_travel_km": 20,
        "max_physical_demand": "heavy",
        "max_social_intensity": "high",
        "languages": ["fi"],
        "note": "Hetu 131052-308T tarkistettu",
    }
    response = post(client, f"/clients/{person.code}/needs", data)
    assert response.status_code == 200
    assert "näyttää henkilötunnukselta" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Needs)) == 0


def test_needs_are_versioned_and_validated(client, db, build, worker):
    person = build.client(worker)
    missing = post(
        client,
        f"/clients/{person.code}/needs",
        {
            "days_per_week": 9,
            "hours_per_day": 5,
            "max_travel_km": 20,
            "max_physical_demand": "heavy",
            "max_social_intensity": "high",
        },
    )
    html = missing.get_data(as_text=True)
    assert "Valitse vähintään yksi paikkatyyppi." in html and "Valitse vähintään yksi kieli" in html
    data = {
        "wanted_types": ["work_trial"],
        "task_areas": ["office"],
        "days_per_week": 2,
        "hours_per_day": 4.5,
        "max_travel_km": 15,
        "needs_public_transport": "y",
        "accessibility": ["elevator"],
        "supports": ["job_coach"],
        "max_physical_demand": "light",
        "max_social_intensity": "low",
        "languages": ["fi", "en"],
        "earliest_start": "2027-01-15",
        "note": "Aamut vaikeita.",
    }
    assert post(client, f"/clients/{person.code}/needs", data).headers["Location"] == f"/clients/{person.code}/matches"
    data["days_per_week"] = 3
    post(client, f"/clients/{person.code}/needs", data)
    versions = db.session.scalars(select(Needs).order_by(Needs.id)).all()
    assert [v.days_per_week for v in versions] == [2, 3]
    latest = versions[-1]
    assert (latest.needs_public_transport, latest.accessibility, latest.languages, latest.hours_per_day) == (
        True,
        ("elevator",),
        ("en", "fi"),
        4.5,
    )


def test_the_list_shows_only_own_and_shared_clients(client, db, build, worker):
    colleague = build.user("social_worker")
    own = build.client(worker)
    shared = build.client(colleague, share_with=[worker])
    hidden = build.client(colleague)
    html = client.get("/clients").get_data(as_text=True)
    assert own.code in html and shared.code in html and hidden.code not in html
    assert "jaettu sinulle" in html


def test_another_workers_client_is_not_found_and_the_attempt_is_logged(client, db, build, worker):
    other = build.client(build.user("social_worker"))
    for path in (
        f"/clients/{other.code}",
        f"/clients/{other.code}/needs",
        f"/clients/{other.code}/matches",
        f"/clients/{other.code}/edit",
    ):
        assert client.get(path).status_code == 404, path
    denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "permission_denied")).all()
    assert len(denied) == 4 and {e.client_code for e in denied} == {other.code}


def test_a_shared_worker_reads_the_needs_but_not_the_owners_note(client, db, build, worker):
    owner = build.user("social_worker")
    person = build.client(owner, share_with=[worker])
    build.needs(person, owner)
    html = client.get(f"/clients/{person.code}/needs").get_data(as_text=True)
    assert "Luottamuksellinen tarvemuistiinpano" not in html
    assert 'name="note"' not in html
    assert client.get(f"/clients/{person.code}").status_code == 200


@pytest.mark.parametrize("role", ["host", "coordinator"])
def test_hosts_and_coordinators_never_see_a_client(app, db, build, role):
    from tests.builders import PASSWORD
    from tests.conftest import log_in

    person = build.client(build.user("social_worker"))
    user = build.user(role)
    browser = app.test_client()
    log_in(browser, user.email, PASSWORD)
    for path in (f"/clients/{person.code}", f"/clients/{person.code}/needs", f"/clients/{person.code}/matches"):
        assert browser.get(path).status_code in (403, 404), path
    assert browser.get("/clients").status_code == 403


def test_unknown_or_malformed_codes_are_404(client, worker):
    assert client.get("/clients/K-AAAA-AAAA").status_code == 404
    assert client.get("/clients/<script>").status_code == 404


def test_client_pages_are_never_cached(client, build, worker):
    person = build.client(worker)
    assert client.get(f"/clients/{person.code}").headers["Cache-Control"] == "no-store"


def test_client_codes_never_appear_in_query_strings(client, db, build, worker, seed_csv):
    from placements.services.importer import import_sites

    import_sites(db.session, seed_csv, SYSTEM)
    db.session.commit()
    person = build.client(worker)
    build.needs(person, worker)
    for path in (f"/clients/{person.code}", f"/clients/{person.code}/matches", "/clients"):
        html = client.get(path).get_data(as_text=True)
        for href in re.findall(r'(?:href|action)="([^"]+)"', html):
            if "?" in href:
                assert person.code not in href.split("?", 1)[1], href


def test_closing_keeps_history_and_refuses_while_placed(client, db, build, worker):
    person = build.client(worker)
    opening = build.opening()
    placement = build.placement(person, opening, worker)
    post(client, f"/clients/{person.code}/close", {"confirm": "yes"}, token_from=f"/clients/{person.code}")
    db.session.expire_all()
    assert db.session.get(Client, person.id).status == "active"
    placement.status = "cancelled"
    db.session.commit()
    post(client, f"/clients/{person.code}/close", {"confirm": "yes"}, token_from=f"/clients/{person.code}")
    db.session.expire_all()
    closed = db.session.get(Client, person.id)
    assert closed.status == "closed" and closed.closed_at is not None
    assert db.session.scalar(select(func.count()).select_from(Placement)) == 1


def test_purge_removes_needs_and_notes_but_keeps_the_survey_facts(runner, db, build):
    worker = build.user("social_worker")
    colleague = build.user("social_worker")
    old = build.client(worker, share_with=[colleague])
    recent = build.client(worker)
    build.needs(old, worker)
    build.needs(recent, worker)
    opening = build.opening()
    placement = build.placement(old, opening, worker)
    placement.status = "cancelled"
    for person, days in ((old, 400), (recent, 10)):
        person.status, person.closed_at = "closed", datetime.now(UTC) - timedelta(days=days)
    db.session.commit()

    result = runner.invoke(args=["clients", "purge", "--older-than", "365"])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    purged, kept = db.session.get(Client, old.id), db.session.get(Client, recent.id)
    assert purged.purged_at is not None and purged.home_postal_code is None and purged.shared_with == []
    assert (purged.municipality_code, purged.age_band, purged.gender) == ("205", "30-39", "female")
    assert db.session.scalar(select(func.count()).select_from(Needs).where(Needs.client_id == old.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(Needs).where(Needs.client_id == recent.id)) == 1
    kept_placement = db.session.get(Placement, placement.id)
    assert kept_placement.note_for_host is None and kept_placement.start_date is not None
    assert kept.purged_at is None


def test_purge_defaults_to_the_configured_retention(app, db, build):
    worker = build.user("social_worker")
    person = build.client(worker)
    person.status, person.closed_at = (
        "closed",
        datetime.now(UTC) - timedelta(days=app.config["CLIENT_RETENTION_DAYS"] + 1),
    )
    db.session.commit()
    assert (
        purge_closed(db.session, SYSTEM, older_than_days=app.config["CLIENT_RETENTION_DAYS"], now=datetime.now(UTC))
        == 1
    )
