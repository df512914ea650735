"""Accounts without passwords the coordinator knows (docs/rules.md §6.8, §11.1, §11.8–§11.10).

A new account and a reset give the person a single-use, expiring set-password link; the
coordinator never sees or sets a password, and clients move only to a worker who has set
their own password and logged in. Destructive steps on the users page ask first.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from placements import clock
from placements.errors import PermissionDenied
from placements.models import AuditEvent, Client, ClientTransfer, PasswordLink, User
from placements.services import users
from tests.builders import PASSWORD
from tests.conftest import csrf_token, log_in, post_form

NEW_PASSWORD = "oma salasana jota kukaan ei tiedä"
READS = ("client_viewed", "needs_viewed", "matches_viewed", "needs_saved")


def link_from(client, response) -> str:
    """The set-password link's path on the page the POST redirected to (shown once)."""
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    match = re.search(r'class="one-time-link"><code>https?://[^/<]+(/account/set-password/([^<]+))</code>', html)
    assert match, html[:3000]
    return match.group(1)


def create_account(client, **values) -> str:
    data = {"email": "uusi@example.fi", "name": "Uusi Ohjaaja", "role": "social_worker"} | values
    return link_from(client, post_form(client, "/admin/users", data, token_from="/admin/users"))


def set_password(browser, link: str, password: str = NEW_PASSWORD):
    return post_form(browser, link, {"new_password": password, "confirm": password}, token_from=link)


def readers(db) -> set[str]:
    """Everyone who has read or changed a client's needs, per the audit trail."""
    return set(db.session.scalars(select(AuditEvent.user_email).where(AuditEvent.action.in_(READS))))


@pytest.fixture
def worker_with_clients(db, build, client):
    """A social worker in everyday use, with two clients and their confidential needs."""
    worker = build.user("social_worker", email="tyontekija@example.fi")
    worker.last_login_at = datetime.now(UTC)
    db.session.commit()
    for _ in range(2):
        build.needs(build.client(worker), worker, note="Luottamuksellinen muistiinpano")
    return worker


# --- the reproductions: the coordinator cannot read clients' needs -------------------------------


def test_a_new_account_cannot_receive_clients_nor_be_logged_into_by_the_coordinator(
    client, db, build, login, app, worker_with_clients
):
    """The coordinator creates a social-worker account, tries to move a worker's clients to it
    and to log in as it: no needs are read by anyone but their worker."""
    coordinator = build.user("coordinator")
    login(coordinator)
    create_account(client, email="valetili@example.fi")
    fake = db.session.scalar(select(User).where(User.email == "valetili@example.fi"))

    page = client.get(f"/admin/users/{worker_with_clients.id}/transfer-clients").get_data(as_text=True)
    assert "valetili@example.fi" not in page  # not offered as a receiver
    response = post_form(
        client,
        f"/admin/users/{worker_with_clients.id}/transfer-clients",
        {"target": fake.id, "confirm": "yes"},
    )
    assert "ei ole vielä asettanut omaa salasanaansa" in response.get_data(as_text=True)
    db.session.expire_all()
    assert {c.owner_id for c in db.session.scalars(select(Client))} == {worker_with_clients.id}

    for guess in ("", PASSWORD, "valetili@example.fi"):  # the account has no password anybody knows
        assert log_in(app.test_client(), "valetili@example.fi", guess).status_code != 302
    assert readers(db) <= {worker_with_clients.email}
    assert db.session.scalars(select(ClientTransfer)).all() == []


def test_a_reset_gives_the_coordinator_no_password_to_log_in_with(client, db, build, login, app, worker_with_clients):
    """The coordinator resets the worker's password: they get a link for the worker, no
    password, and the old one stops working; nobody but the worker reads the needs."""
    login(build.user("coordinator"))
    response = post_form(client, f"/admin/users/{worker_with_clients.id}/reset-password", {"confirm": "yes"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "/account/set-password/" in page and "salasana on" not in page.lower()
    assert log_in(app.test_client(), worker_with_clients.email, PASSWORD).status_code == 200
    assert readers(db) <= {worker_with_clients.email}


def test_a_coordinator_cannot_give_an_account_a_password(db, build):
    coordinator = build.user("coordinator")
    with pytest.raises(PermissionDenied):
        users.create_user(db.session, coordinator, email="x@example.fi", name="X", role="host", password=PASSWORD)


# --- the set-password link -----------------------------------------------------------------------


def test_a_new_account_sets_its_password_with_the_link_once(client, db, build, login, app):
    login(build.user("coordinator"))
    link = create_account(client)
    user = db.session.scalar(select(User).where(User.email == "uusi@example.fi"))
    assert log_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 200  # not before the link

    newcomer = app.test_client()
    form = newcomer.get(link)
    assert form.status_code == 200 and "Aseta salasanasi" in form.get_data(as_text=True)
    assert form.headers["Cache-Control"] == "no-store" and form.headers["Referrer-Policy"] == "no-referrer"
    short = set_password(newcomer, link, "lyhyt")
    assert short.status_code == 200 and "vähintään 12" in short.get_data(as_text=True)

    response = set_password(newcomer, link)
    assert response.headers["Location"] == "/clients"  # a worker's first screen, logged in
    assert "Tervetuloa" in newcomer.get("/clients").get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.has_own_password and user.last_login_at is not None

    again = app.test_client().get(link)
    assert again.status_code == 410 and "Linkki on jo käytetty" in again.get_data(as_text=True)
    assert 'href="/login"' in again.get_data(as_text=True)
    assert set_password(app.test_client(), link, "toinen yritys salasanaksi").status_code == 410
    assert log_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 302
    assert "password_set" in db.session.scalars(select(AuditEvent.action)).all()


def test_only_a_hash_of_the_link_is_stored(client, db, build, login):
    login(build.user("coordinator"))
    token = create_account(client).rsplit("/", 1)[1]
    stored = db.session.scalars(select(PasswordLink)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr([getattr(stored, c.key) for c in PasswordLink.__table__.columns])
    assert stored.expires_at - stored.created_at == timedelta(hours=72)


def test_the_link_expires_after_72_hours(client, db, build, login, app):
    login(build.user("coordinator"))
    start = datetime.now(UTC)
    with clock.fixed(start):
        link = create_account(client)
    with clock.fixed(start + timedelta(hours=71, minutes=59)):
        assert app.test_client().get(link).status_code == 200
    with clock.fixed(start + timedelta(hours=72)):
        response = app.test_client().get(link)
        assert response.status_code == 410 and "Linkki on vanhentunut" in response.get_data(as_text=True)
        assert set_password(app.test_client(), link).status_code == 410


@pytest.mark.parametrize("path", ["/account/set-password/nonsense", "/account/set-password/" + "x" * 500])
def test_an_unknown_link_explains_itself(client, path):
    response = client.get(path)
    assert response.status_code == 404 and "Tuntematon linkki" in response.get_data(as_text=True)


def test_a_newer_link_and_a_deactivation_end_the_older_link(client, db, build, login, app):
    login(build.user("coordinator"))
    first = create_account(client)
    user = db.session.scalar(select(User).where(User.email == "uusi@example.fi"))
    second = link_from(client, post_form(client, f"/admin/users/{user.id}/reset-password", {"confirm": "yes"}))
    assert app.test_client().get(first).status_code == 410
    assert app.test_client().get(second).status_code == 200
    post_form(client, f"/admin/users/{user.id}/deactivate", {"confirm": "yes"})
    response = app.test_client().get(second)
    assert response.status_code == 410 and "Linkki ei enää toimi" in response.get_data(as_text=True)


def test_the_link_is_refused_in_a_browser_where_someone_is_logged_in(client, db, build, login):
    login(build.user("coordinator"))
    link = create_account(client)
    page = client.get(link)
    assert page.status_code == 200 and "Kirjaudu ensin ulos" in page.get_data(as_text=True)
    response = set_password(client, link)
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "uusi@example.fi")).password_set_at is None


def test_the_link_is_shown_once_and_not_after_a_reload(client, db, build, login):
    login(build.user("coordinator"))
    response = post_form(client, "/admin/users", {"email": "u@example.fi", "name": "U", "role": "coordinator"})
    first = client.get(response.headers["Location"])
    assert "/account/set-password/" in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store"
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "/account/set-password/" not in again and "näytettiin vain kerran" in again


def test_the_link_uses_the_configured_server_name(client, app, build, login):
    login(build.user("coordinator"))
    token = csrf_token(client, "/admin/users")
    app.config |= {"SERVER_NAME": "rekisteri.kainuu.example", "PREFERRED_URL_SCHEME": "https"}
    data = {"email": "u@example.fi", "name": "U", "role": "coordinator", "csrf_token": token}
    response = client.post("/admin/users", data=data, base_url="http://localhost")
    page = response.headers["Location"]
    html = client.get(page, base_url="http://localhost").get_data(as_text=True)  # not the request's host
    assert "https://rekisteri.kainuu.example/account/set-password/" in html and "localhost" not in html


# --- destructive steps ask first -----------------------------------------------------------------


@pytest.mark.parametrize(
    "action, consequence", [("deactivate", "kirjataan ulos kaikkialta"), ("reset-password", "lakkaa toimimasta")]
)
def test_destructive_steps_change_nothing_without_their_confirmation(
    client, db, build, login, app, action, consequence
):
    login(build.user("coordinator"))
    worker = build.user("social_worker")
    before = (worker.active, worker.password_hash, worker.session_version)

    for data in ({}, {"confirm": "no"}):
        response = post_form(client, f"/admin/users/{worker.id}/{action}", data)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and consequence in html
        assert 'name="confirm" value="yes"' in html
    db.session.expire_all()
    worker = db.session.get(User, worker.id)
    assert (worker.active, worker.password_hash, worker.session_version) == before
    assert log_in(app.test_client(), worker.email, PASSWORD).status_code == 302


def test_a_coordinator_is_not_asked_to_confirm_what_they_may_not_do(client, db, build, login):
    me = build.user("coordinator")
    login(me)
    for action in ("deactivate", "reset-password"):
        response = post_form(client, f"/admin/users/{me.id}/{action}")
        assert response.status_code == 302 and response.headers["Location"] == "/admin/users"


# --- moving clients ------------------------------------------------------------------------------


def test_clients_move_only_to_a_worker_who_set_their_password_and_logged_in(db, build):
    coordinator = build.user("coordinator")
    leaving = build.user("social_worker")
    build.client(leaving)
    invited, _token = users.invite_user(db.session, coordinator, email="i@example.fi", name="I", role="social_worker")
    never_logged_in = build.user("social_worker")  # own password, but has never logged in
    for target in (invited, never_logged_in):
        with pytest.raises(users.Refused):
            users.transfer_clients(db.session, leaving, target, by=coordinator)
    never_logged_in.last_login_at = datetime.now(UTC)
    transfer = users.transfer_clients(db.session, leaving, never_logged_in, by=coordinator)
    assert transfer.client_count == 1


def test_both_workers_see_the_move_on_their_client_list(client, db, build, login, app):
    coordinator = build.user("coordinator", name="Kaisa Koordinaattori")
    leaving = build.user("social_worker", name="Lähtevä Ohjaaja")
    staying = build.user("social_worker", name="Jatkava Ohjaaja")
    staying.last_login_at = datetime.now(UTC)
    db.session.commit()
    for _ in range(3):
        build.client(leaving)
    moment = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    with clock.fixed(moment):
        users.transfer_clients(db.session, leaving, staying, by=coordinator)
        db.session.commit()

    with clock.fixed(moment + timedelta(days=1)):
        login(staying)
        assert "Siirretty sinulle 28.11.2026: 3 asiakasta sosiaaliohjaajalta Lähtevä Ohjaaja." in client.get(
            "/clients"
        ).get_data(as_text=True)
        other = app.test_client()
        log_in(other, leaving.email, PASSWORD)
        assert "Siirretty sinulta 28.11.2026: 3 asiakasta sosiaaliohjaajalle Jatkava Ohjaaja." in other.get(
            "/clients"
        ).get_data(as_text=True)
    with clock.fixed(moment + timedelta(days=users.TRANSFER_NOTICE_DAYS + 1)):
        assert "Siirretty" not in client.get("/clients").get_data(as_text=True)


def test_the_move_control_appears_only_where_a_colleague_can_receive(client, db, build, login):
    login(build.user("coordinator"))
    leaving = build.user("social_worker")
    build.client(leaving)
    move = f'href="/admin/users/{leaving.id}/transfer-clients"'
    assert move not in client.get("/admin/users").get_data(as_text=True)  # nobody can receive yet
    colleague = build.user("social_worker")
    assert move not in client.get("/admin/users").get_data(as_text=True)  # has never logged in
    colleague.last_login_at = datetime.now(UTC)
    db.session.commit()
    page = client.get("/admin/users").get_data(as_text=True)
    assert move in page
    assert f'href="/admin/users/{colleague.id}/transfer-clients"' not in page  # has no clients


# --- the organisations page ----------------------------------------------------------------------


def test_organisations_have_search_and_the_add_form_at_the_top(client, build, login):
    login(build.user("coordinator"))
    build.site(site_ref="A-1", organisation="Äänekosken Työpaja ry")
    build.site(site_ref="B-1", organisation="Kajaanin Seurakunta")
    page = client.get("/admin/organisations").get_data(as_text=True)
    assert page.index('role="search"') < page.index('id="name"') < page.index("<table")

    found = client.get("/admin/organisations?q=ääneKOSKEN").get_data(as_text=True)
    assert "Äänekosken Työpaja ry" in found and "Kajaanin Seurakunta" not in found
    assert "1 järjestäjä" in found
    nothing = client.get("/admin/organisations?q=" + "x" * 5000)
    assert nothing.status_code == 200 and "<table" not in nothing.get_data(as_text=True)
