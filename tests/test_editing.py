"""Keeping data current: hosts' capacity updates, conflicts, coordinator editing and import."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from placements.models import AuditEvent, CapacityEvent, Opening, Organisation, Site
from tests.builders import csv_bytes, site_row
from tests.conftest import csrf_token, run_jobs


def form_token(client, path):
    return csrf_token(client, path)


def field_error(html: str, field: str) -> str | None:
    """The error message shown under a form field, if any."""
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else None


def flashed(client, path: str) -> str:
    """The page the user lands on, with its flashed messages."""
    return client.get(path).get_data(as_text=True)


@pytest.fixture
def host_site(build):
    return build.site()


@pytest.fixture
def host(build, host_site, login):
    user = build.user("host", organisation=host_site.organisation)
    login(user)
    return user


def capacity_post(client, opening, **values):
    data = {
        "csrf_token": form_token(client, f"/openings/{opening.id}/capacity"),
        "version": opening.version,
        "places_total": 5,
        "places_external": 1,
        "status": "open",
        "accepting_from": "",
    } | values
    return client.post(f"/openings/{opening.id}/capacity", data=data)


def test_host_updates_capacity_and_the_free_count_shows_everywhere(client, db, host_site, host):
    opening = host_site.openings[0]

    response = capacity_post(client, opening, places_total=8, places_external=2)

    assert response.status_code == 302 and response.headers["Location"] == "/my/sites"
    db.session.expire_all()
    opening = db.session.get(Opening, opening.id)
    assert (opening.places_total, opening.places_external, opening.free_places, opening.version) == (8, 2, 6, 2)
    assert "6/8 vapaana" in client.get("/sites").get_data(as_text=True)
    assert "6/8 vapaana" in client.get(f"/sites/{host_site.id}/popup").get_data(as_text=True)
    event = db.session.scalars(select(CapacityEvent).order_by(CapacityEvent.id.desc())).first()
    assert (event.kind, event.places_total_before, event.places_total_after, event.user_id) == (
        "capacity_changed",
        5,
        8,
        host.id,
    )
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "opening_capacity_changed")).one()
    assert "places_total: 5 -> 8" in audit.detail


def test_an_edit_on_a_stale_form_is_refused_with_the_current_values(client, db, host_site, host, app):
    opening = host_site.openings[0]
    token = form_token(client, f"/openings/{opening.id}/capacity")
    # A colleague saves first.
    other = app.test_client()
    from tests.builders import PASSWORD
    from tests.conftest import log_in

    colleague = db.session.scalar(select(type(host)).where(type(host).id == host.id))
    log_in(other, colleague.email, PASSWORD)
    assert capacity_post(other, opening, places_total=7).status_code == 302

    stale = {"csrf_token": token, "version": 1, "places_total": 3, "places_external": 0, "status": "open"}
    response = client.post(f"/openings/{opening.id}/capacity", data=stale)

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Joku muu tallensi muutoksia ensin" in html
    assert 'value="7"' in html  # the current total is in the form
    db.session.expire_all()
    assert db.session.get(Opening, opening.id).places_total == 7


def test_a_host_cannot_change_another_organisations_opening(client, db, build, host):
    other = build.site(site_ref="OTHER", organisation="Toinen järjestö")
    opening = other.openings[0]
    before = (opening.places_total, opening.version)

    paths = (f"/openings/{opening.id}/capacity", f"/openings/{opening.id}/edit")
    for path in (*paths, f"/sites/{other.id}/edit", f"/sites/{other.id}/openings/new"):
        assert client.get(path).status_code == 403, path
    response = capacity_post(client, opening, places_total=1, places_external=0)
    confirm = client.post(f"/openings/{opening.id}/confirm", data={"csrf_token": form_token(client, "/my/sites")})

    assert response.status_code == 403 and confirm.status_code == 403
    db.session.expire_all()
    current = db.session.get(Opening, opening.id)
    assert (current.places_total, current.version) == before
    denied = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "permission_denied")
    )
    assert denied >= 6


def test_confirming_unchanged_data_takes_one_click(client, db, build, login):
    site = build.site(last_confirmed="2026-01-02")
    login(build.user("host", organisation=site.organisation))
    assert "Tarkista nämä ensin" in client.get("/my/sites").get_data(as_text=True)
    stale_list = re.search(r'<ul class="stale-list">(.*?)</ul>', client.get("/my/sites").get_data(as_text=True), re.S)
    assert "Keittiöapulainen" in stale_list.group(1)

    form = {"csrf_token": form_token(client, "/my/sites"), "version": 1}
    response = client.post(f"/openings/{site.openings[0].id}/confirm", data=form)

    assert response.status_code == 302
    assert "Kaikkien tehtäviesi tiedot on vahvistettu" in client.get("/my/sites").get_data(as_text=True)
    kinds = db.session.scalars(select(CapacityEvent.kind).order_by(CapacityEvent.id)).all()
    assert kinds[-1] == "confirmed"


def test_capacity_cannot_drop_below_active_placements(client, db, host_site, host):
    opening = host_site.openings[0]
    opening.places_taken = 3
    db.session.commit()
    response = capacity_post(client, opening, places_total=3, places_external=1)
    assert response.status_code == 200
    assert "käynnissä olevien sijoitusten (3)" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Opening, opening.id).places_total == 5


def test_negative_or_missing_numbers_are_explained_and_nothing_is_saved(client, db, host_site, host):
    opening = host_site.openings[0]
    events_before = db.session.scalar(select(func.count()).select_from(CapacityEvent))
    response = capacity_post(client, opening, places_total=-1, places_external="")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Tarkista lomake" in html
    assert field_error(html, "places_total") == "Täytyy olla välillä 0 - 10000."
    assert field_error(html, "places_external") == "Pakollinen."
    db.session.expire_all()
    stored = db.session.get(Opening, opening.id)
    assert (stored.places_total, stored.places_external, stored.version) == (5, 1, 1)
    assert db.session.scalar(select(func.count()).select_from(CapacityEvent)) == events_before


def test_opening_edit_checks_ktt_limits(client, db, host_site, host):
    opening = host_site.openings[0]  # KTT, 2–4 days a week, kitchen and cleaning, medium social intensity
    data = {
        "csrf_token": form_token(client, f"/openings/{opening.id}/edit"),
        "version": opening.version,
        "type": "rehabilitative_work",
        "title": "Keittiöapulainen",
        "task_areas": ["kitchen"],
        "days_per_week_min": 1,
        "days_per_week_max": 5,
        "hours_per_day_min": 4,
        "hours_per_day_max": 6,
        "physical_demand": "light",
        "social_intensity": "low",
        "languages": ["fi"],
    }
    response = client.post(f"/openings/{opening.id}/edit", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    limit = "Kuntouttavaa työtoimintaa on 1–4 päivänä viikossa (laki 189/2001, 13 §)."
    assert field_error(html, "days_per_week_max") == limit
    db.session.expire_all()
    refused = db.session.get(Opening, opening.id)
    assert (refused.days_per_week_min, refused.days_per_week_max, refused.task_areas) == (2, 4, ("cleaning", "kitchen"))

    data["days_per_week_max"] = 3
    response = client.post(f"/openings/{opening.id}/edit", data=data)
    assert response.status_code == 302 and response.headers["Location"] == "/my/sites"
    db.session.expire_all()
    saved = db.session.get(Opening, opening.id)
    assert (saved.days_per_week_min, saved.days_per_week_max, saved.task_areas) == (1, 3, ("kitchen",))
    assert (saved.social_intensity, saved.version) == ("low", 2)


@pytest.fixture
def coordinator(build, login):
    user = build.user("coordinator")
    login(user)
    return user


def test_business_id_check_digit_is_verified(client, db, coordinator):
    data = {
        "csrf_token": form_token(client, "/admin/organisations"),
        "name": "Uusi Osuuskunta",
        "kind": "social_enterprise",
        "business_id": "1234567-2",
    }
    html = client.post("/admin/organisations", data=data).get_data(as_text=True)
    assert "ei ole kelvollinen Y-tunnus" in field_error(html, "business_id")
    assert db.session.scalar(select(Organisation).where(Organisation.name == "Uusi Osuuskunta")) is None
    data["business_id"] = "1234567-1"
    assert client.post("/admin/organisations", data=data).status_code == 302
    saved = db.session.scalar(select(Organisation).where(Organisation.name == "Uusi Osuuskunta"))
    assert (saved.business_id, saved.kind) == ("1234567-1", "social_enterprise")


def test_an_organisations_kind_starts_unchosen_and_is_required(client, db, coordinator):
    """docs/rules.md §13.1: no preselected kind; a form without one saves nothing."""
    page = client.get("/admin/organisations").get_data(as_text=True)
    kind = re.search(r'<select[^>]*id="kind"[^>]*>(.*?)</select>', page, re.S)
    assert kind and kind.group(1).startswith('<option value="">Valitse…</option>') and "selected" not in kind.group(1)
    assert "required" in re.search(r'<select[^>]*id="kind"[^>]*>', page).group(0)
    data = {"csrf_token": form_token(client, "/admin/organisations"), "name": "Lajiton ry", "kind": ""}
    html = client.post("/admin/organisations", data=data).get_data(as_text=True)
    assert field_error(html, "kind") == "Valitse järjestäjän tyyppi."
    assert db.session.scalar(select(Organisation).where(Organisation.name == "Lajiton ry")) is None


def test_coordinator_creates_a_site_and_its_opening(client, db, build, coordinator):
    organisation = build.site().organisation
    data = {
        "csrf_token": form_token(client, "/sites/new"),
        "organisation": organisation.id,
        "name": "Uusi paja",
        "street_address": "Ratakatu 3",
        "postal_code": "88600",
        "municipality_code": "765",
        "accessibility": ["elevator"],
    }
    response = client.post("/sites/new", data=data)
    site = db.session.scalar(select(Site).where(Site.name == "Uusi paja"))
    assert response.headers["Location"] == f"/sites/{site.id}/openings/new"
    assert site.geocode_precision == "municipality" and site.municipality_code == "765"
    assert (site.street_address, site.postal_code, site.accessibility) == ("Ratakatu 3", "88600", ("elevator",))

    data = {
        "csrf_token": form_token(client, response.headers["Location"]),
        "type": "work_trial",
        "title": "Pajatyöt",
        "task_areas": ["carpentry"],
        "days_per_week_min": 3,
        "days_per_week_max": 5,
        "hours_per_day_min": 4,
        "hours_per_day_max": 6,
        "places_total": 2,
        "places_external": 0,
        "physical_demand": "moderate",
        "social_intensity": "low",
        "languages": ["fi"],
    }
    assert client.post(response.headers["Location"], data=data).status_code == 302
    opening = db.session.scalar(select(Opening).where(Opening.title == "Pajatyöt"))
    assert (opening.site_id, opening.type, opening.task_areas) == (site.id, "work_trial", ("carpentry",))
    assert opening.free_places == 2
    event = db.session.scalar(select(CapacityEvent).where(CapacityEvent.opening_id == opening.id))
    assert event.places_total_after == 2


def test_site_form_refuses_a_postal_code_of_another_municipality(client, db, host_site, coordinator):
    data = {
        "csrf_token": form_token(client, f"/sites/{host_site.id}/edit"),
        "version": host_site.version,
        "organisation": host_site.organisation_id,
        "name": "X",
        "street_address": "Y 1",
        "postal_code": "88600",
        "municipality_code": "205",
    }
    html = client.post(f"/sites/{host_site.id}/edit", data=data).get_data(as_text=True)
    assert field_error(html, "postal_code") == "Postinumero 88600 kuuluu kuntaan Sotkamo eikä kuntaan 205."
    db.session.expire_all()
    site = db.session.get(Site, host_site.id)
    assert (site.name, site.street_address, site.postal_code) == ("Testikeittiö", "Kauppakatu 1", "87100")
    assert site.version == 1


def test_archiving_keeps_the_rows(client, db, build, coordinator):
    second_opening = site_row(opening_type="work_trial", opening_title="Toinen", days_per_week_max="5")
    site = build.sites(site_row(), second_opening)[0]
    first, second = site.openings
    token = form_token(client, f"/sites/{site.id}")
    form = {"csrf_token": token, "version": first.version, "confirm": "yes"}
    response = client.post(f"/openings/{first.id}/archive", data=form)
    assert response.status_code == 302
    form = {"csrf_token": token, "version": site.version, "confirm": "yes"}
    response = client.post(f"/sites/{site.id}/archive", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Site, site.id).archived_at is not None
    assert all(o.archived_at is not None and o.status == "closed" for o in db.session.scalars(select(Opening)))
    assert db.session.scalar(select(func.count()).select_from(Opening)) == 2


def test_an_opening_with_active_placements_cannot_be_archived(client, db, build, coordinator):
    opening = build.opening()
    opening.places_taken = 1
    db.session.commit()
    form = {"csrf_token": form_token(client, "/"), "version": opening.version, "confirm": "yes"}
    response = client.post(f"/openings/{opening.id}/archive", data=form)
    assert response.headers["Location"] == f"/sites/{opening.site_id}"
    page = flashed(client, response.headers["Location"])
    assert "Tehtävässä on 1 käynnissä olevaa sijoitusta; päätä ne ennen arkistointia." in page
    assert "arkistoitiin" not in page
    db.session.expire_all()
    stored = db.session.get(Opening, opening.id)
    assert (stored.archived_at, stored.status) == (None, "open")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "opening_archived")) is None


def _upload(client, content: bytes, name="sites.csv"):
    token = form_token(client, "/admin/import")
    data = {"csrf_token": token, "file": (io.BytesIO(content), name)}
    return client.post("/admin/import", data=data, content_type="multipart/form-data")


def _follow_job(client, response):
    """The job's page after the worker has run the queued job (here, in this process)."""

    assert response.status_code == 303 and re.fullmatch(r"/jobs/\d+", response.headers["Location"])
    run_jobs()
    return client.get(response.headers["Location"])


def test_import_preview_lists_every_problem_and_imports_nothing(client, db, coordinator):
    response = _upload(client, csv_bytes([site_row(), site_row(site_ref="B", postal_code="00100", places_total="x")]))
    html = _follow_job(client, response).get_data(as_text=True)
    assert "Tiedostossa on 2 virhettä; mitään ei tuotu." in html
    assert re.search(r"<td>3</td><td>postal_code</td><td>00100 ei ole kainuulainen", html)
    assert re.search(r"<td>3</td><td>places_total</td>", html)
    assert db.session.scalar(select(func.count()).select_from(Site)) == 0


def test_import_preview_then_confirm(client, db, coordinator, seed_csv):
    html = _follow_job(client, _upload(client, seed_csv)).get_data(as_text=True)
    assert "Tiedosto on kunnossa: 160 riviä." in html and db.session.scalar(select(func.count()).select_from(Site)) == 0
    token = re.search(r'name="token" (?:type="hidden" )?value="([^"]+)"', html).group(1)
    confirm = {"csrf_token": form_token(client, "/admin/import"), "token": token}
    html = _follow_job(client, client.post("/admin/import/confirm", data=confirm)).get_data(as_text=True)
    assert "Tuotiin 160 riviä: toimipaikkoja 86 uutta ja 0 muuttunutta" in html
    assert db.session.scalar(select(func.count()).select_from(Site)) == 86
    assert "sites_import" in db.session.scalars(select(AuditEvent.action)).all()
    again = client.post("/admin/import/confirm", data=confirm)
    assert again.status_code == 303  # the same import again: its page, nothing imported twice
    main = re.compile(r"<main.*</main>", re.S)  # the page's forms carry a fresh CSRF token each second
    assert main.search(_follow_job(client, again).get_data(as_text=True)).group(0) == main.search(html).group(0)
    assert db.session.scalar(select(func.count()).select_from(Site)) == 86


def test_an_upload_over_the_limit_gets_413(client, app, db, coordinator):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = _upload(client, b"x" * 4096)
    assert response.status_code == 413 and "Tiedosto on liian suuri" in response.get_data(as_text=True)


def test_stale_overview_lists_openings_with_host_contacts(client, db, build, coordinator):
    site = build.site(last_confirmed="2026-01-02")
    host = build.user("host", organisation=site.organisation, email="isanta@example.fi")
    build.site(site_ref="FRESH", opening_title="Tuore")
    html = client.get("/admin/stale").get_data(as_text=True)
    assert "Keittiöapulainen" in html and "Tuore" not in html and host.email in html


def test_changing_an_opening_keeps_the_site_form_valid_and_search_current(client, db, host_site, host):
    opening = host_site.openings[0]
    site_version = host_site.version
    data = {
        "csrf_token": form_token(client, f"/openings/{opening.id}/edit"),
        "version": opening.version,
        "type": "rehabilitative_work",
        "title": "Pyykkitupa",
        "task_areas": ["laundry"],
        "days_per_week_min": 1,
        "days_per_week_max": 4,
        "hours_per_day_min": 4,
        "hours_per_day_max": 6,
        "physical_demand": "light",
        "social_intensity": "low",
        "languages": ["fi"],
    }
    assert client.post(f"/openings/{opening.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Opening, opening.id)
    assert (saved.title, saved.task_areas) == ("Pyykkitupa", ("laundry",))
    site = db.session.get(Site, host_site.id)
    assert site.version == site_version
    assert "pyykkitupa" in site.search_text
    assert "Pyykkitupa" in client.get("/sites?q=pyykkitupa").get_data(as_text=True)
