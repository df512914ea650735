"""Login, logout, password change and session lifetime."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from placements.models import AuditEvent, User
from placements.services.passwords import MAX_LENGTH, policy_problems, verify_password
from tests.builders import PASSWORD
from tests.conftest import csrf_token, log_in, post_form

NEW_PASSWORD = "lumikenkä kantele pulla 42"


def actions(db) -> list[str]:
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_login_with_email_and_password(client, db, build):
    user = build.user("coordinator", email="kaisa@example.fi")

    response = log_in(client, "KAISA@example.fi ", PASSWORD)

    assert response.status_code == 302 and response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert "Kirjaudu ulos" in html and user.name in html
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at is not None
    assert actions(db)[-1] == "login_succeeded"


@pytest.mark.parametrize("email, password", [("kaisa@example.fi", "wrong password!!"), ("nobody@example.fi", PASSWORD)])
def test_failed_login_gives_one_generic_message(client, db, build, email, password):
    build.user("coordinator", email="kaisa@example.fi")

    response = log_in(client, email, password)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Sähköpostiosoite tai salasana on väärin." in html
    assert "Kirjaudu ulos" not in html
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).one()
    assert event.detail == f"email={email}"


def test_a_deactivated_account_cannot_log_in(client, db, build):
    user = build.user("social_worker")
    user.active = False
    db.session.commit()
    response = log_in(client, user.email, PASSWORD)
    assert "Sähköpostiosoite tai salasana on väärin." in response.get_data(as_text=True)


@pytest.mark.real_password_hashing
def test_passwords_are_hashed_with_argon2id(db, build):
    user = build.user("host")
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize(
    "password, words",
    [
        ("a" * 11, "vähintään 12"),
        ("x" * (MAX_LENGTH + 1), "enintään 128"),
        ("passwordpassword", "yleisesti käytettyjen"),
        ("Salasana1234", "yleisesti käytettyjen"),
        ("worker@example.fi", "sähköpostiosoitteesi"),
    ],
)
def test_password_policy_refuses(app, password, words):
    problems = policy_problems(password, "worker@example.fi")
    assert any(words in p for p in problems), problems


@pytest.mark.parametrize("password", ["x" * 12, "ä" * MAX_LENGTH, "kolme sanaa vain", "1234 5678 9012 !"])
def test_password_policy_accepts_any_characters_without_composition_rules(app, password):
    assert policy_problems(password) == []


def test_the_bundled_common_password_list_is_large_enough():
    from placements.services.passwords import common_passwords

    assert len(common_passwords()) >= 10_000


def test_logout_is_post_only_and_the_old_cookie_is_dead(client, db, build, login, app):
    user = build.user("coordinator")
    login(user)
    old_cookie = client.get_cookie("session").value
    assert client.get("/logout").status_code == 405

    response = post_form(client, "/logout")
    assert response.status_code == 302

    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    response = replay.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "logout" in actions(db)


def test_login_starts_a_new_session_keeping_only_the_language(client, build, login):
    user = build.user("coordinator")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["lang"] = "en"
    login(user)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"
        assert session["_user_id"] == f"{user.id}:{user.session_version}"


def test_the_page_asked_for_is_shown_after_login_without_a_query_string(client, build):
    user = build.user("coordinator")
    response = client.get("/admin/users")
    assert response.headers["Location"] == "/login"
    response = log_in(client, user.email, PASSWORD)
    assert response.headers["Location"] == "/admin/users"


def _age_session(client, **ages):
    with client.session_transaction() as session:
        for key, seconds in ages.items():
            session[key] = time.time() - seconds


def test_idle_timeout_logs_out(client, build, login, app):
    login(build.user("coordinator"))
    _age_session(client, seen_at=app.config["SESSION_IDLE_MINUTES"] * 60 + 5)
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Istuntosi vanheni" in client.get("/login").get_data(as_text=True)


def test_activity_keeps_the_session_alive(client, build, login, app):
    login(build.user("coordinator"))
    _age_session(client, seen_at=app.config["SESSION_IDLE_MINUTES"] * 60 - 60)
    assert client.get("/admin/users").status_code == 200
    _age_session(client, seen_at=app.config["SESSION_IDLE_MINUTES"] * 60 - 60)
    assert client.get("/admin/users").status_code == 200


def test_absolute_timeout_after_twelve_hours(client, build, login):
    login(build.user("coordinator"))
    _age_session(client, login_at=12 * 3600 + 5)
    assert client.get("/admin/users").headers["Location"] == "/login"


def test_session_cookie_flags(client, build, app):
    app.config["SESSION_COOKIE_SECURE"] = True
    user = build.user("coordinator")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}, base_url="https://localhost"
    )
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_change_password_keeps_this_session_and_ends_the_others(client, db, build, login, app):
    user = build.user("social_worker")
    other_device = app.test_client()
    log_in(other_device, user.email, PASSWORD)
    login(user)

    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        token_from="/account/password",
    )

    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200  # still logged in here
    assert other_device.get("/account/password").headers["Location"] == "/login"
    db.session.expire_all()
    assert verify_password(db.session.get(User, user.id).password_hash, NEW_PASSWORD)
    assert "password_changed" in actions(db)


@pytest.mark.parametrize(
    "current, new, confirm, message",
    [
        ("wrong current pw", NEW_PASSWORD, NEW_PASSWORD, "Nykyinen salasana on väärin."),
        (PASSWORD, "short", "short", "vähintään 12"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "Uudet salasanat eivät täsmää."),
        (PASSWORD, PASSWORD, PASSWORD, "eri kuin nykyinen"),
    ],
)
def test_change_password_mistakes_are_explained_and_change_nothing(
    client, db, build, login, current, new, confirm, message
):
    user = build.user("host")
    login(user)
    response = post_form(
        client,
        "/account/password",
        {"current_password": current, "new_password": new, "confirm": confirm},
        token_from="/account/password",
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert verify_password(db.session.get(User, user.id).password_hash, PASSWORD)


def _first_password_account(db, role: str, organisation=None) -> User:
    """An account whose password someone else knows (a demo account): it must be changed."""
    from placements.permissions import SYSTEM
    from placements.services.users import create_user

    user = create_user(
        db.session,
        SYSTEM,
        email=f"first-{role}@example.fi",
        name="Ensikertalainen",
        role=role,
        password=PASSWORD,
        organisation_id=organisation.id if organisation else None,
        must_change_password=True,
    )
    db.session.commit()
    return user


@pytest.mark.parametrize("role, home", [("social_worker", "/clients"), ("host", "/my/sites"), ("coordinator", "/")])
def test_a_first_password_is_changed_before_anything_else_then_the_role_home_opens(client, db, build, role, home):
    organisation = build.site().organisation if role == "host" else None
    user = _first_password_account(db, role, organisation)

    response = log_in(client, user.email, PASSWORD)
    assert response.headers["Location"] == "/account/password"
    assert client.get("/").headers["Location"] == "/account/password"
    page = client.get("/account/password").get_data(as_text=True)
    assert "Valitse oma salasanasi" in page
    assert "nollattu" not in page  # a brand-new account was never reset

    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        token_from="/account/password",
    )
    assert response.headers["Location"] == home
    assert client.get(home).status_code == 200
    db.session.expire_all()
    changed = db.session.get(User, user.id)
    assert not changed.must_change_password and changed.password_set_at is not None


def test_after_the_first_password_the_page_asked_for_opens(client, db, build):
    user = _first_password_account(db, "coordinator")
    assert client.get("/admin/audit").headers["Location"] == "/login"
    log_in(client, user.email, PASSWORD)
    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        token_from="/account/password",
    )
    assert response.headers["Location"] == "/admin/audit"


def test_idle_expiry_ends_only_that_session(client, db, build, login, app):
    """docs/rules.md §11.5: one device idling out must not log the user out everywhere."""
    user = build.user("coordinator")
    other_device = app.test_client()
    assert log_in(other_device, user.email, PASSWORD).status_code == 302
    login(user)
    _age_session(client, seen_at=app.config["SESSION_IDLE_MINUTES"] * 60 + 5)

    assert client.get("/admin/users").headers["Location"] == "/login"  # this one expired

    assert other_device.get("/admin/users").status_code == 200  # the other goes on
    assert "session_expired" in actions(db)


def test_logout_still_ends_every_session(client, db, build, login, app):
    user = build.user("coordinator")
    other_device = app.test_client()
    log_in(other_device, user.email, PASSWORD)
    login(user)
    post_form(client, "/logout")
    assert other_device.get("/admin/users").headers["Location"] == "/login"


def test_a_host_lands_on_the_stale_list(client, build):
    site = build.site()
    user = build.user("host", organisation=site.organisation)
    assert log_in(client, user.email, PASSWORD).headers["Location"] == "/my/sites"
