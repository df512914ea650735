"""The social worker's client pages: "why not this one?" answers in place and names the
requirement, the list finds one client among many, notices of proposals, forms that start
empty, no second proposal to the same opening, closing asks first, the matches page prints."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from placements import clock
from placements.models import AuditEvent, Client, Placement
from placements.services.placements import decline
from tests.conftest import csrf_token


@pytest.fixture
def worker(build, login):
    user = build.user("social_worker")
    login(user)
    return user


def post(client, path, data, token_from=None):
    return client.post(path, data={"csrf_token": csrf_token(client, token_from or path)} | data)


def english(client):
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": csrf_token(client)})


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- "Why not this one?" (docs/rules.md §7.8) -------------------------------------------------


@pytest.fixture
def far_site(build):
    """A kitchen in Sotkamo (about 36 km from central Kajaani) without a work instructor."""
    return build.site(
        site_ref="FAR-1",
        site_name="Sotkamon Verstas",
        municipality_code="765",
        postal_code="88600",
        street_address="Kainuuntie 1",
        latitude="64.1300",
        longitude="28.3900",
        supports="meal_provided",
    )


def test_why_not_answers_where_the_user_is_and_names_the_requirement(client, db, build, worker, far_site):
    person = build.client(worker)
    build.needs(person, worker, supports=("work_instructor",), max_travel_km=30)
    opening = far_site.openings[0]
    page = client.get(f"/clients/{person.code}/matches?why={opening.id}").get_data(as_text=True)
    # The form comes back to the answer, which takes focus.
    assert f'action="/clients/{person.code}/matches#why-not-answer"' in page
    answer = re.search(r'<div class="why" id="why-not-answer" tabindex="-1" autofocus.*?</div>', page, re.S)
    assert answer, "the answer has an anchor and takes focus"
    words = text_of(answer.group(0))
    assert "ei asiakkaan tarvitsemaa tukea: työnohjaaja" in words
    assert re.search(r"\b\d\d,\d km; asiakkaan raja 30 km", words), words

    english(client)
    words = text_of(client.get(f"/clients/{person.code}/matches?why={opening.id}").get_data(as_text=True))
    assert "no work instructor, which the client needs" in words
    assert re.search(r"\b\d\d\.\d km; the client's limit is 30 km", words), words


def test_why_not_picker_is_grouped_by_municipality_and_narrows_by_name(client, db, build, worker, far_site):
    build.site(site_ref="NEAR-1", site_name="Kajaanin Tupa")
    person = build.client(worker)
    build.needs(person, worker)
    page = client.get(f"/clients/{person.code}/matches").get_data(as_text=True)
    groups = re.findall(r'<optgroup label="([^"]+)">', page)
    assert groups == sorted(groups) and {"Kajaani", "Sotkamo"} <= set(groups)
    narrowed = client.get(f"/clients/{person.code}/matches?find=verstas&narrow=1").get_data(as_text=True)
    assert re.findall(r'<optgroup label="([^"]+)">', narrowed) == ["Sotkamo"]
    assert "Kajaanin Tupa" not in re.search(r"<select id=\"why\".*?</select>", narrowed, re.S).group(0)
    assert 'id="why-not-answer"' not in narrowed  # narrowing the list explains nothing yet
    nothing = client.get(f"/clients/{person.code}/matches?find=zzzz&narrow=1")
    assert nothing.status_code == 200 and "zzzz" in nothing.get_data(as_text=True)


def test_matches_map_markers_use_the_one_availability_rule(client, db, build, worker):
    """docs/rules.md §8.6: a matching opening whose data is stale is drawn stale, as on /map."""
    stale_site = build.site(site_ref="STALE-1", site_name="Vanha Keittiö")
    stale_site.openings[0].last_confirmed_at = clock.now() - timedelta(days=200)
    db.session.commit()
    person = build.client(worker)
    build.needs(person, worker)
    page = client.get(f"/clients/{person.code}/matches").get_data(as_text=True)
    data = re.search(r'<script type="application/json" id="map-data-[^"]+"[^>]*>(.*?)</script>', page, re.S)
    assert data
    import json

    markers = {m[2]: m[3] for m in json.loads(data.group(1))}
    assert markers[stale_site.id] == "s"


def test_matches_page_prints_the_address_and_contacts(client, db, build, worker):
    build.site(site_ref="PRINT-1", site_name="Tulostettava Keittiö", contact_phone="040 123 4567")
    person = build.client(worker)
    build.needs(person, worker)
    page = client.get(f"/clients/{person.code}/matches").get_data(as_text=True)
    assert "Kauppakatu 1, 87100 Kajaani" in page
    assert re.search(r'class="print-only match-contact">[^<]*040 123 4567', page)
    assert 'class="print-only"' in page  # the printed page says where it comes from and when


def test_the_print_stylesheet_hides_the_matches_page_controls():
    from tests.conftest import ROOT

    css = (ROOT / "static" / "css" / "app.css").read_text()
    blocks = re.findall(r"@media print \{(.*?)\n\}", css, re.S)
    hidden = " ".join(blocks)
    for selector in (".inline-switch", ".why-not", ".match-action", ".small-map", ".site-header", "button"):
        assert selector in hidden, selector


# --- propose: one open proposal per opening, KTT's planned end (docs/rules.md §5.2) -------------


def test_propose_is_not_offered_where_the_client_already_has_a_proposal(client, db, build, worker):
    opening = build.opening()
    person = build.client(worker)
    build.needs(person, worker)
    path = f"/clients/{person.code}/propose/{opening.id}"
    page = client.get(f"/clients/{person.code}/matches").get_data(as_text=True)
    assert f'href="{path}"' in page
    build.placement(person, opening, worker)
    page = client.get(f"/clients/{person.code}/matches").get_data(as_text=True)
    assert f'href="{path}"' not in page and "Tähän on jo ehdotettu sijoitusta" in page
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Asiakkaalla on jo ehdotus tai sijoitus tähän tehtävään." in html
    assert 'name="start_date"' not in html
    # Posted anyway, the service refuses and nothing more is stored.
    data = {"start_date": "2030-01-07", "planned_end": "2030-07-07", "days_per_week": 3, "hours_per_day": 5}
    refused = post(client, path, data, token_from=f"/clients/{person.code}")
    assert refused.status_code in (200, 409)
    assert db.session.scalar(select(func.count()).select_from(Placement)) == 1


def test_ktt_planned_end_defaults_to_six_months_after_the_start(client, db, build, worker):
    opening = build.opening()
    person = build.client(worker)
    build.needs(person, worker)
    with clock.fixed(datetime(2026, 11, 27, 10, tzinfo=UTC)):
        page = client.get(f"/clients/{person.code}/propose/{opening.id}").get_data(as_text=True)
    assert re.search(r'id="start_date"[^>]*value="2026-11-27"', page)
    assert re.search(r'id="planned_end"[^>]*value="2027-05-27"', page)


# --- the client form starts empty where a default would be a guess -----------------------------


def test_new_client_form_starts_with_choose_and_explains_a_missing_choice(client, db, worker):
    page = client.get("/clients/new").get_data(as_text=True)
    for name in ("municipality_code", "age_band"):
        select_html = re.search(rf'<select[^>]*id="{name}".*?</select>', page, re.S).group(0)
        first = re.search(r"<option([^>]*)>([^<]*)</option>", select_html)
        assert first.group(2) == "Valitse…" and 'value=""' in first.group(1)
        assert "selected" not in select_html
    response = post(
        client, "/clients/new", {"municipality_code": "", "age_band": "", "gender": "unknown"}, "/clients/new"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Valitse kunta." in html and "Valitse ikäryhmä." in html
    assert db.session.scalar(select(Client)) is None


def test_needs_form_keeps_the_bus_checkbox_inside_its_label_and_the_note_roomy(client, db, build, worker):
    person = build.client(worker)
    page = client.get(f"/clients/{person.code}/needs").get_data(as_text=True)
    assert re.search(r'<label for="needs_public_transport"><input[^>]*id="needs_public_transport"', page)
    assert re.search(r'<textarea[^>]*id="note"[^>]*rows="6"', page)


# --- closing asks first (docs/rules.md §6.7, §11.10) -------------------------------------------


def test_closing_a_client_asks_first_and_acts_only_when_confirmed(client, db, build, worker):
    person = build.client(worker)
    path = f"/clients/{person.code}/close"
    first = post(client, path, {}, token_from=f"/clients/{person.code}")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert "Päätetäänkö asiakkuus" in html and 'name="confirm" value="yes"' in html
    assert "Sijoitushistoria säilyy selvitystä varten." in html
    db.session.expire_all()
    assert db.session.get(Client, person.id).status == "active"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "client_closed")) is None
    done = post(client, path, {"confirm": "yes"}, token_from=f"/clients/{person.code}")
    assert done.status_code == 303 and done.headers["Location"] == f"/clients/{person.code}"
    db.session.expire_all()
    assert db.session.get(Client, person.id).status == "closed"


def test_the_confirmation_says_when_a_placement_must_end_first(client, db, build, worker):
    person = build.client(worker)
    build.placement(person, build.opening(), worker)
    html = post(client, f"/clients/{person.code}/close", {}, token_from=f"/clients/{person.code}").get_data(
        as_text=True
    )
    assert "ennen asiakkuuden päättämistä" in html
    assert 'name="confirm"' not in html


def test_another_workers_client_cannot_be_closed(client, db, build, worker):
    other = build.user("social_worker")
    theirs = build.client(other)
    response = post(client, f"/clients/{theirs.code}/close", {"confirm": "yes"}, token_from="/clients")
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Client, theirs.id).status == "active"


# --- notices: declined and waiting (issue item 10; docs/rules.md §6.11) ----------------------


def test_list_and_client_page_show_waiting_days_and_the_decline_reason(app, client, db, build, worker):
    host = build.user("host")
    site = host.organisation.sites[0]
    opening = site.openings[0]
    waiting, declined = build.client(worker), build.client(worker)
    with clock.fixed(datetime.now(UTC) - timedelta(days=5)):
        build.placement(waiting, opening, worker)
    refused = build.placement(declined, opening, worker)
    decline(db.session, refused, host, reason="Ei sopivaa työnohjaajaa syksyllä.", now=clock.now())
    db.session.commit()
    listing = text_of(client.get("/clients").get_data(as_text=True))
    assert "Odottaa vastausta (5 pv)" in listing
    assert "Hylätty: " in listing and "Ei sopivaa työnohjaajaa syksyllä." in listing
    assert "Odottaa vastausta (5 pv)" in text_of(client.get(f"/clients/{waiting.code}").get_data(as_text=True))
    page = text_of(client.get(f"/clients/{declined.code}").get_data(as_text=True))
    assert "Hylätty: " in page and "Ei sopivaa työnohjaajaa syksyllä." in page
    english(client)
    assert "Waiting for an answer (5 days)" in text_of(client.get("/clients").get_data(as_text=True))


# --- the list: search, status, order, dates (docs/rules.md §6.11) -----------------------------


@pytest.fixture
def many(db, build, worker):
    """Three clients created on different days; the oldest changed last (needs saved today)."""
    made = []
    for days in (30, 20, 10):
        with clock.fixed(datetime.now(UTC) - timedelta(days=days)):
            made.append(build.client(worker))
    build.needs(made[0], worker)
    return made


def codes_in(html: str) -> list[str]:
    return re.findall(r'class="client-code">(K-[0-9A-Z]{4}-[0-9A-Z]{4})<', html)


def test_list_sorts_by_last_change_and_by_creation(client, db, many):
    oldest, middle, newest = many
    assert codes_in(client.get("/clients").get_data(as_text=True)) == [oldest.code, newest.code, middle.code]
    by_created = client.get("/clients?sort=created").get_data(as_text=True)
    assert codes_in(by_created) == [newest.code, middle.code, oldest.code]
    assert codes_in(client.get("/clients?sort=code").get_data(as_text=True)) == sorted(c.code for c in many)


def test_list_shows_created_and_changed_dates_in_the_users_language(client, db, many):
    oldest = many[0]
    created = (oldest.created_at.astimezone(clock.HELSINKI)).date()
    html = client.get("/clients").get_data(as_text=True)
    assert f"{created.day}.{created.month}.{created.year}" in html
    english(client)
    html = client.get("/clients").get_data(as_text=True)
    assert created.strftime("%b") in html and f"{created.day}.{created.month}." not in html


def test_list_filters_by_status(client, db, build, worker, many):
    oldest, middle, newest = many
    build.placement(middle, build.opening(), worker)
    assert codes_in(client.get("/clients?status=waiting").get_data(as_text=True)) == [middle.code]
    active = codes_in(client.get("/clients?status=active").get_data(as_text=True))
    assert set(active) == {oldest.code, newest.code}
    assert codes_in(client.get("/clients?status=closed").get_data(as_text=True)) == []


def test_the_code_search_is_posted_and_one_hit_opens_the_client(client, db, many):
    oldest = many[0]
    # Any case, with or without the dashes: exactly one client fits, so its page opens.
    response = post(client, "/clients", {"code": oldest.code.replace("-", "")[1:].lower()}, "/clients")
    assert response.status_code == 303 and response.headers["Location"] == f"/clients/{oldest.code}"
    # "K" is in every code: all three are listed.
    assert sorted(codes_in(post(client, "/clients", {"code": "k-"}, "/clients").get_data(as_text=True))) == sorted(
        c.code for c in many
    )
    found = post(client, "/clients", {"code": "ZZZZZZZZZ"}, "/clients")
    assert found.status_code == 200 and codes_in(found.get_data(as_text=True)) == []
    html = client.get("/clients").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/clients[^"]*"', html), "the code search is posted"
    assert not re.search(r'<form method="get"[^>]*>(?:(?!</form>).)*name="code"', html, re.S)


@pytest.mark.parametrize("query", ["status=gone", "sort=%00", "status=closed&sort=nope", "status=" + "x" * 500])
def test_unknown_list_filters_are_explained_not_a_500(client, db, many, query):
    response = client.get("/clients?" + query)
    assert response.status_code == 400
    assert "Tuntematon" in response.get_data(as_text=True)


def test_another_workers_clients_are_not_listed_or_found(client, db, build, worker, many):
    other = build.user("social_worker")
    theirs = build.client(other)
    response = post(client, "/clients", {"code": theirs.code}, "/clients")
    assert response.status_code == 200 and theirs.code not in codes_in(response.get_data(as_text=True))
    assert theirs.code not in client.get("/clients").get_data(as_text=True)
