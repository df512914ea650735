"""Security headers, CSRF, login throttling (memory and Redis)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from placements import create_app
from placements.models import AuditEvent
from tests.builders import PASSWORD
from tests.conftest import IsolatedClient, base_config, csrf_token, log_in, require

PAGES = ["/", "/login", "/healthz", "/no-such-page", "/static/css/app.css"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in directives["script-src"] and "'nonce-" in directives["script-src"]
    assert directives["img-src"] == "'self' data: https://tile.openstreetmap.org"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in headers


def test_the_nonce_differs_on_every_response(client):
    first = client.get("/").headers["Content-Security-Policy"]
    second = client.get("/").headers["Content-Security-Policy"]
    assert first != second


def test_hsts_when_served_over_https(client):
    headers = client.get("/", base_url="https://localhost").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_tile_host_with_subdomains_is_allowed_for_images(tmp_path, database_urls):
    config = base_config(database_urls["sqlite"], tmp_path) | {
        "MAP_TILES_URL": "https://{s}.tiles.example.fi/{z}/{x}/{y}.png"
    }
    app = create_app(config)
    csp = app.test_client().get("/healthz").headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tiles.example.fi;" in csp


def test_logged_in_pages_are_never_cached(client, build, login):
    login(build.user("coordinator"))
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/admin/users").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_state_changes_without_a_valid_csrf_token_are_refused_and_logged(client, db, build, login, token):
    login(build.user("coordinator"))
    target = build.user("social_worker")
    data = {} if token is None else {"csrf_token": token}

    response = client.post(f"/admin/users/{target.id}/deactivate", data=data)

    assert response.status_code == 400
    assert "Lomake oli vanhentunut" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(target), target.id).active is True
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action == "csrf_failed")).all() == [
        "csrf_failed"
    ]


def test_login_form_needs_a_csrf_token(client, build):
    user = build.user("coordinator")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Kirjaudu ulos" not in client.get("/").get_data(as_text=True)


def _fail_logins(client, email: str, times: int) -> list[int]:
    token = csrf_token(client, "/login")
    return [
        client.post("/login", data={"email": email, "password": "not the password", "csrf_token": token}).status_code
        for _ in range(times)
    ]


def test_sixth_wrong_password_gets_429_in_finnish(client, build):
    user = build.user("coordinator")
    assert _fail_logins(client, user.email, 5) == [200] * 5

    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})

    assert response.status_code == 429
    assert "Liian monta yritystä" in response.get_data(as_text=True)


def test_the_account_limit_does_not_lock_other_accounts(client, build):
    locked, other = build.user("coordinator"), build.user("host")
    _fail_logins(client, locked.email, 5)
    assert log_in(client, other.email, PASSWORD).status_code == 302


def test_successful_logins_do_not_count_towards_the_limit(app, build):
    user = build.user("coordinator")
    for _ in range(7):
        client = app.test_client()
        assert log_in(client, user.email, PASSWORD).status_code == 302


def test_the_address_limit_stops_guessing_across_accounts(client, app, build):
    statuses = []
    for number in range(31):
        statuses += _fail_logins(client, f"guess{number}@example.fi", 1)
    assert statuses[:30] == [200] * 30 and statuses[30] == 429


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping())
    except Exception:
        return False


def test_failures_are_counted_in_redis_across_app_servers(backend, database_urls, build, tmp_path):
    require(_redis_available(), "Redis is not running on 127.0.0.1:6379: Redis rate-limit test skipped")
    # A fresh account name: the counts outlive the test in Redis.
    user = build.user("coordinator", email=f"redis-{uuid.uuid4().hex[:12]}@example.fi")
    config = base_config(database_urls[backend], tmp_path) | {
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
    }
    server_a, server_b = create_app(config), create_app(config)
    server_a.test_client_class = server_b.test_client_class = IsolatedClient

    assert _fail_logins(server_a.test_client(), user.email, 3) == [200] * 3
    assert _fail_logins(server_b.test_client(), user.email, 2) == [200] * 2
    assert _fail_logins(server_a.test_client(), user.email, 1) == [429]
    assert _fail_logins(server_b.test_client(), user.email, 1) == [429]


def test_forwarded_headers_are_ignored_unless_a_proxy_is_trusted(client, db, build):
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    assert "Strict-Transport-Security" not in client.get("/", headers=headers).headers


def test_behind_a_trusted_proxy_the_client_address_and_https_are_used(tmp_path, db, build):
    user = build.user("coordinator")
    url = db.engine.url.render_as_string(hide_password=False)
    app = create_app(base_config(url, tmp_path) | {"TRUSTED_PROXIES": 1})
    app.test_client_class = IsolatedClient
    proxied = app.test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    assert proxied.get("/", headers=headers).headers["Strict-Transport-Security"].startswith("max-age=")
    token = csrf_token(proxied, "/login")
    # Over HTTPS the CSRF check also wants a same-origin Referer, as browsers send.
    proxied.post(
        "/login",
        data={"email": user.email, "password": "wrong password 1", "csrf_token": token},
        headers=headers | {"Referer": "https://localhost/login"},
    )
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).one()
    assert event.ip_address == "203.0.113.7"
