"""Coordinator: user management and the audit trail."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from placements.models import AuditEvent, Client, ClientTransfer, Needs, User
from placements.services import audit
from tests.builders import PASSWORD
from tests.conftest import csrf_token, log_in, post_form


def shown_link(client, response) -> str:
    """Follow the POST's redirect to the page that shows the set-password link once; its path."""
    assert response.status_code == 302, response.status_code
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    match = re.search(r'class="one-time-link"><code>https?://[^/<]+(/account/set-password/[^<]+)</code>', html)
    assert match, html[:3000]
    return match.group(1)


def test_coordinator_creates_a_host_who_sets_their_own_password(client, db, build, login, app):
    login(build.user("coordinator"))
    site = build.site()

    form = {"email": "Uusi@Example.fi", "name": "Uusi Isäntä", "role": "host", "organisation": site.organisation_id}
    response = post_form(client, "/admin/users", form, token_from="/admin/users")

    assert response.headers["Location"].startswith("/admin/users/")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Käyttäjätunnus luotu" in html and "salasana" not in html.split("one-time-link")[1].split("</code>")[0]
    link = re.search(r'class="one-time-link"><code>https?://[^/<]+(/account/set-password/[^<]+)</code>', html).group(1)
    user = db.session.scalar(select(User).where(User.email == "uusi@example.fi"))
    assert user.role == "host" and user.organisation_id == site.organisation_id
    assert user.password_set_at is None and not user.has_own_password
    assert link not in client.get(response.headers["Location"]).get_data(as_text=True)  # shown once only

    newcomer = app.test_client()
    set_response = post_form(newcomer, link, {"new_password": PASSWORD, "confirm": PASSWORD}, token_from=link)
    assert set_response.headers["Location"] == "/my/sites"  # logged in, on the host's first screen
    assert newcomer.get("/my/sites").status_code == 200
    assert log_in(app.test_client(), "uusi@example.fi", PASSWORD).status_code == 302


@pytest.mark.parametrize("organisation", ["0", ""])
def test_a_host_account_needs_an_organisation(client, db, build, login, organisation):
    login(build.user("coordinator"))
    form = {"email": "h@example.fi", "name": "H", "role": "host", "organisation": organisation}
    response = post_form(client, "/admin/users", form, token_from="/admin/users")
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="organisation-error">Valitse järjestäjä', html)
    assert db.session.scalar(select(User).where(User.email == "h@example.fi")) is None


def test_duplicate_email_is_explained(client, db, build, login):
    login(build.user("coordinator"))
    build.user("social_worker", email="sama@example.fi")
    form = {"email": "sama@example.fi", "name": "X", "role": "social_worker"}
    response = post_form(client, "/admin/users", form, token_from="/admin/users")
    assert "Tällä sähköpostiosoitteella on jo käyttäjätunnus." in response.get_data(as_text=True)


def test_deactivation_ends_every_session_and_reactivation_restores_login(client, db, build, login, app):
    login(build.user("coordinator"))
    worker = build.user("social_worker")
    worker_client = app.test_client()
    log_in(worker_client, worker.email, PASSWORD)
    assert worker_client.get("/account/password").status_code == 200

    asked = post_form(client, f"/admin/users/{worker.id}/deactivate")  # the confirmation step
    assert asked.status_code == 200 and "kirjataan ulos kaikkialta" in asked.get_data(as_text=True)
    assert worker_client.get("/account/password").status_code == 200  # nothing changed yet

    done = post_form(client, f"/admin/users/{worker.id}/deactivate", {"confirm": "yes"})
    assert done.status_code == 302 and done.headers["Location"] == "/admin/users"  # post/redirect/get

    assert worker_client.get("/account/password").headers["Location"] == "/login"
    assert log_in(app.test_client(), worker.email, PASSWORD).status_code == 200  # refused

    post_form(client, f"/admin/users/{worker.id}/reactivate")
    assert log_in(app.test_client(), worker.email, PASSWORD).status_code == 302
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(worker.id))).all()
    assert "user_deactivated" in actions and "user_reactivated" in actions


def test_a_coordinator_cannot_deactivate_themselves(client, db, build, login):
    me = build.user("coordinator")
    login(me)
    response = post_form(client, f"/admin/users/{me.id}/deactivate")
    assert response.status_code == 302
    assert "Et voi poistaa omaa" in client.get("/admin/users").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, me.id).active


def test_password_reset_asks_first_then_gives_a_link_and_ends_the_old_password(client, db, build, login, app):
    login(build.user("coordinator"))
    worker = build.user("social_worker")
    worker_client = app.test_client()
    log_in(worker_client, worker.email, PASSWORD)

    asked = post_form(client, f"/admin/users/{worker.id}/reset-password")
    assert asked.status_code == 200 and "lakkaa toimimasta heti" in asked.get_data(as_text=True)
    assert log_in(app.test_client(), worker.email, PASSWORD).status_code == 302  # nothing changed yet

    link = shown_link(client, post_form(client, f"/admin/users/{worker.id}/reset-password", {"confirm": "yes"}))

    assert worker_client.get("/account/password").headers["Location"] == "/login"  # old session ended
    assert log_in(app.test_client(), worker.email, PASSWORD).status_code == 200  # old password gone
    new_password = "uusi oma salasana 2026"
    browser = app.test_client()
    response = post_form(browser, link, {"new_password": new_password, "confirm": new_password}, token_from=link)
    assert response.headers["Location"] == "/clients"
    assert log_in(app.test_client(), worker.email, new_password).status_code == 302


def _clients_of(db, owner, count):
    made = []
    for number in range(count):
        code = f"K-TR{owner.id:02d}-{number:04d}"
        client = Client(code=code, owner_id=owner.id, municipality_code="205", age_band="25-29")
        db.session.add(client)
        db.session.flush()
        note = "Luottamuksellinen muistiinpano"
        db.session.add(Needs(client_id=client.id, days_per_week=3, hours_per_day=4, max_travel_km=20, note=note))
        made.append(client)
    db.session.commit()
    return made


def ready(db, user):
    """A worker who has set their own password and logged in once (may receive clients)."""
    user.last_login_at = datetime.now(UTC)
    db.session.commit()
    return user


def test_transfer_moves_clients_without_showing_them(client, db, build, login):
    login(build.user("coordinator"))
    leaving, staying = build.user("social_worker"), ready(db, build.user("social_worker"))
    moved = _clients_of(db, leaving, 3)

    page = client.get("/admin/users").get_data(as_text=True)
    assert f'href="/admin/users/{leaving.id}/transfer-clients"' in page
    assert "K-TR" not in page and "Luottamuksellinen" not in page
    form = client.get(f"/admin/users/{leaving.id}/transfer-clients").get_data(as_text=True)
    assert "kaikki 3 asiakasta" in form and "K-TR" not in form and "Luottamuksellinen" not in form

    response = post_form(
        client,
        f"/admin/users/{leaving.id}/transfer-clients",
        {"target": staying.id, "confirm": "yes"},
        token_from=f"/admin/users/{leaving.id}/transfer-clients",
    )

    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    db.session.expire_all()
    assert {c.owner_id for c in db.session.scalars(select(Client))} == {staying.id}
    transfer = db.session.scalars(select(ClientTransfer)).one()
    assert (transfer.from_user_id, transfer.to_user_id, transfer.client_count) == (leaving.id, staying.id, 3)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "client_transferred")).all()
    assert sorted(e.client_code for e in events) == sorted(c.code for c in moved)
    assert {e.detail for e in events} == {f"transfer={transfer.id} from_user={leaving.id} to_user={staying.id}"}
    assert "Luottamuksellinen" not in client.get("/admin/users").get_data(as_text=True)


def test_transfer_without_the_confirmation_changes_nothing(client, db, build, login):
    login(build.user("coordinator"))
    leaving, staying = build.user("social_worker"), ready(db, build.user("social_worker"))
    _clients_of(db, leaving, 2)
    response = post_form(client, f"/admin/users/{leaving.id}/transfer-clients", {"target": staying.id})
    assert response.status_code == 200 and "Siirrä 2 asiakasta" in response.get_data(as_text=True)
    db.session.expire_all()
    assert {c.owner_id for c in db.session.scalars(select(Client))} == {leaving.id}


def test_transfer_to_a_non_worker_is_refused(client, db, build, login):
    coordinator = build.user("coordinator")
    login(coordinator)
    leaving = build.user("social_worker")
    ready(db, build.user("social_worker"))
    _clients_of(db, leaving, 1)
    response = post_form(
        client,
        f"/admin/users/{leaving.id}/transfer-clients",
        {"target": coordinator.id, "confirm": "yes"},
    )
    assert response.status_code == 200
    assert "vain sosiaaliohjaajalta toiselle" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Client.owner_id)) == leaving.id


@pytest.fixture
def audit_trail(db, build, login):
    """Five marked events that differ from each other in one thing at a time."""
    coordinator = build.user("coordinator")
    login(coordinator)
    worker, colleague = build.user("social_worker"), build.user("social_worker")
    now = datetime.now(UTC)
    events = [
        ("A", worker, "client_viewed", "K-AAAA-1111", now),
        ("B", worker, "client_viewed", "K-BBBB-2222", now),
        ("C", worker, "client_viewed", "K-AAAA-1111", now - timedelta(days=40)),
        ("D", worker, "needs_viewed", "K-AAAA-1111", now),
        ("E", colleague, "client_viewed", "K-AAAA-1111", now),
    ]
    for marker, user, action, code, when in events:
        event = audit.record(db.session, action, user=user, client_code=code, detail=f"merkki-{marker}")
        event.occurred_at = when
    db.session.commit()
    return {"coordinator": coordinator, "worker": worker, "colleague": colleague}


def listed(client, **filters) -> set[str]:
    """Which of the marked events /admin/audit lists for these filters (the form must accept them)."""
    response = post_form(client, "/admin/audit", filters, token_from="/admin/audit")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "error-summary" not in html, html[-3000:]
    return set(re.findall(r"merkki-([A-E])", html))


def test_audit_trail_filters_by_user_client_action_and_date(client, audit_trail):
    worker, colleague = audit_trail["worker"].email, audit_trail["colleague"].email
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()

    assert listed(client) == {"A", "B", "C", "D", "E"}
    assert listed(client, client_code="k-aaaa-1111") == {"A", "C", "D", "E"}
    assert listed(client, user_email=worker) == {"A", "B", "C", "D"}
    assert listed(client, user_email=colleague) == {"E"}
    assert listed(client, action="needs_viewed") == {"D"}
    assert listed(client, action="client_viewed") == {"A", "B", "C", "E"}
    assert listed(client, since=two_days_ago) == {"A", "B", "D", "E"}
    assert listed(client, until=two_days_ago) == {"C"}
    assert listed(client, until=datetime.now(UTC).date().isoformat()) == {"A", "B", "C", "D", "E"}  # inclusive
    everything = {"user_email": worker, "client_code": "K-AAAA-1111", "action": "client_viewed", "since": two_days_ago}
    assert listed(client, **everything) == {"A"}
    assert listed(client, user_email=audit_trail["coordinator"].email) == set()


def test_audit_filters_are_posted_so_client_codes_stay_out_of_addresses(client, build, login):
    login(build.user("coordinator"))
    html = client.get("/admin/audit").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/admin/audit"', html)


def test_the_widest_accepted_dates_are_no_error_and_the_other_filters_still_apply(client, audit_trail):
    assert listed(client, since="1900-01-01", until="2100-12-31") == {"A", "B", "C", "D", "E"}
    assert listed(client, since="1900-01-01", until="2100-12-31", client_code="K-BBBB-2222") == {"B"}


@pytest.mark.parametrize("since, until", [("0001-01-01", "2026-01-01"), ("2026-01-01", "9999-12-31")])
def test_dates_outside_1900_to_2100_are_a_field_error(client, audit_trail, since, until):
    response = post_form(client, "/admin/audit", {"since": since, "until": until}, token_from="/admin/audit")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "error-summary" in html and "1900" in html


def test_audit_csv_download(client, db, build, login):
    login(build.user("coordinator"))
    audit.record(db.session, "client_viewed", client_code="K-CCCC-3333", detail="=cmd|' /C calc'!A0")
    db.session.commit()

    response = post_form(client, "/admin/audit", {"download": "1"}, token_from="/admin/audit")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    viewed = [r for r in rows if r["action"] == "client_viewed"][0]
    assert viewed["client_code"] == "K-CCCC-3333"
    assert viewed["detail"].startswith("'=")  # neutralised for spreadsheets
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit_exported")) is not None


def test_no_route_can_edit_or_delete_audit_events(app):
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.endpoint == "admin.audit_log", rule.rule


# --- audit trail: pages and words (issue 12, item 15) ---------------------------------------------


def _hidden_fields(html: str, rel: str) -> dict[str, str]:
    """The hidden fields of the paging form whose button is ``rel`` (prev/next)."""
    forms = re.findall(r'<form method="post" action="/admin/audit" class="inline-form">(.*?)</form>', html, re.S)
    form = next(f for f in forms if f'data-rel="{rel}"' in f)
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))


def test_the_audit_trail_pages_by_50_and_the_paging_keeps_the_posted_filters(client, db, build, login):
    """docs/rules.md §12.5: 51 matching events are two pages; the next and previous buttons post
    the filters again (hidden fields), so page 2 lists only matching events and no code is in an address."""
    login(build.user("coordinator"))
    worker = build.user("social_worker")
    start = datetime.now(UTC) - timedelta(hours=1)
    for n in range(51):
        event = audit.record(db.session, "client_viewed", user=worker, client_code="K-PAGE-0001", detail=f"nro-{n}")
        event.occurred_at = start + timedelta(seconds=n)
    for n in range(10):  # other clients' events fill no page of the filtered trail
        audit.record(db.session, "client_viewed", user=worker, client_code="K-MUUT-0002", detail=f"muu-{n}")
    db.session.commit()

    first = post_form(client, "/admin/audit", {"client_code": "K-PAGE-0001"}, token_from="/admin/audit")
    html = first.get_data(as_text=True)
    assert "51 tapahtumaa – tapahtumat 1–50, sivu 1/2" in html
    assert '<details class="filters" open>' in html  # the set filters stay in view
    assert '<details class="filters">' in client.get("/admin/audit").get_data(as_text=True)  # folded: none set
    assert set(re.findall(r"nro-(\d+)", html)) == {str(n) for n in range(1, 51)}  # newest first
    assert "muu-" not in html and 'data-rel="prev"' not in html
    hidden = _hidden_fields(html, "next")
    assert hidden["client_code"] == "K-PAGE-0001" and hidden["page"] == "2"

    second = client.post("/admin/audit", data=hidden)
    html = second.get_data(as_text=True)
    assert second.status_code == 200 and "sivu 2/2" in html
    assert re.findall(r"nro-(\d+)", html) == ["0"] and "muu-" not in html
    assert 'data-rel="next"' not in html
    assert re.search(r'id="client_code"[^>]*value="K-PAGE-0001"', html)  # the filter form still shows it
    back = _hidden_fields(html, "prev")
    assert (back["client_code"], back["page"]) == ("K-PAGE-0001", "1")
    assert "K-PAGE" not in second.request.url

    beyond = client.post("/admin/audit", data=hidden | {"page": "99999999999999999999"})
    assert beyond.status_code == 200 and "sivu 1/2" in beyond.get_data(as_text=True)  # not a number: first page


def test_the_audit_trail_names_objects_and_puts_purposes_and_details_into_words(client, db, build, login):
    """Objects by name, not "järjestäjä 50"; purposes and details in the reader's language."""
    coordinator = build.user("coordinator")
    login(coordinator)
    site = build.site(site_name="Työtoimintakeskus Tupa, Kajaani", organisation="Kainuun hyvinvointialue")
    plain = build.site(site_ref="PLAIN-1", site_name="Paja", municipality_code="765", postal_code="88600")
    opening = site.openings[0]
    records = [
        ("survey_exported", "survey", None, None, "period=2026-01-01_2026-12-31 level=site split=- suppress=0"),
        ("organisation_updated", "organisation", site.organisation_id, None, None),
        ("site_updated", "site", site.id, None, "changed: name, street_address"),
        ("site_updated", "site", plain.id, None, "changed: nothing"),
        ("opening_capacity_changed", "opening", opening.id, None, "places_total: 5 -> 9, status: open -> paused"),
        ("matches_viewed", "client", 7, "matching", None),
    ]
    for action, object_type, object_id, purpose, detail in records:
        audit.record(
            db.session,
            action,
            user=coordinator,
            object_type=object_type,
            object_id=object_id,
            client_code="K-TUPA-0001" if object_type == "client" else None,
            purpose=purpose,
            detail=detail,
        )
    db.session.commit()

    html = client.get("/admin/audit").get_data(as_text=True)

    assert "Jakso 1.1.–31.12.2026, toimipaikoittain" in html and "period=" not in html
    assert "Kainuun hyvinvointialue" in html and "järjestäjä " + str(site.organisation_id) not in html
    assert "Työtoimintakeskus Tupa, Kajaani" in html
    assert "Paja, Sotkamo" in html  # the municipality is added when the name lacks it
    assert "Muutettu: Nimi, Katuosoite" in html and "ei muutoksia" in html
    assert "Kuntouttava työtoiminta: Keittiöapulainen – Työtoimintakeskus Tupa, Kajaani" in html
    assert "Paikkoja yhteensä 5 → 9; Tila avoinna → tauolla" in html
    assert "Käyttötarkoitus: sopivan paikan etsiminen" in html and "K-TUPA-0001" in html

    client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en", "next": "/"})
    english = client.get("/admin/audit").get_data(as_text=True)
    assert "Period 1 Jan – 31 Dec 2026, by site" in english
    assert "Purpose: looking for a suitable place" in english


def test_a_detail_the_page_does_not_understand_is_shown_as_stored(app, db, build):
    event = audit.record(db.session, "survey_exported", detail="period=garbage level=site")
    other = audit.record(db.session, "site_updated", object_type="site", object_id="99999999999999999999999")
    db.session.flush()
    first, second = audit.readable(db.session, [event, other])
    assert first.detail == "period=garbage level=site"
    assert second.object_name == "toimipaikka 99999999999999999999999"


# --- the import page: template and columns (issue 12, item 16) ---------------------------------------


def test_the_import_template_is_a_valid_file_of_two_example_rows(client, db, build, login):
    from placements.models import Opening, Site
    from placements.permissions import SYSTEM
    from placements.services.importer import import_sites

    login(build.user("coordinator"))
    page = client.get("/admin/import").get_data(as_text=True)
    assert 'href="/admin/import/template.csv"' in page and 'href="/admin/import/columns"' in page

    for query in ("", "?dialect=excel-fi"):
        response = client.get("/admin/import/template.csv" + query)
        assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
        content = response.get_data()
        assert len(content.decode("utf-8-sig").strip().splitlines()) == 3  # header + two rows
        result = import_sites(db.session, content, SYSTEM)
        assert result.ok, [str(p) for p in result.problems]
        assert (result.sites_created or result.sites_unchanged, result.rows) == (1, 2)
        db.session.commit()
    assert db.session.scalar(select(Site.name)) == "Esimerkkipaja, Kajaani"
    assert len(db.session.scalars(select(Opening)).all()) == 2


def test_the_columns_page_describes_every_column_in_both_languages(client, build, login):
    from placements.services.site_csv import COLUMNS, OPTIONAL_COLUMNS

    login(build.user("coordinator"))
    finnish = client.get("/admin/import/columns").get_data(as_text=True)
    for column in COLUMNS + OPTIONAL_COLUMNS:
        assert f"<code>{column}</code>" in finnish, column
    assert "Sarakkeet" in finnish and "<code>kitchen</code> – keittiö" in finnish
    assert "<code>205</code> – Kajaani" in finnish

    client.post("/language", data={"csrf_token": csrf_token(client), "lang": "en", "next": "/"})
    english = client.get("/admin/import/columns").get_data(as_text=True)
    assert "Columns of the site CSV" in english and "<code>kitchen</code> – kitchen" in english


@pytest.mark.parametrize("path", ["/admin/import/columns", "/admin/import/template.csv"])
def test_only_the_coordinator_sees_the_import_help(client, build, login, path):
    login(build.user("social_worker"))
    assert client.get(path).status_code == 403
