"""Security headers, caching, CSRF, login throttling (database, memory and Redis)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from placements import clock, create_app
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


def test_the_anonymous_public_catalogue_says_how_it_may_be_cached(app, client, build):
    app.config["PUBLIC_CATALOGUE"] = True
    site = build.site()
    for page in ("/", "/sites", f"/sites/{site.id}", "/login"):
        # Pages carry this browser's form tokens: only the browser keeps them, and asks again.
        assert client.get(page).headers["Cache-Control"] == "private, no-cache", page
    api = client.get("/api/v1/sites")
    assert api.headers["Cache-Control"] == "public, max-age=60"  # the same data for everyone
    assert "Cookie" in api.headers["Vary"]
    assert client.get("/api/v1/sites/999999").headers["Cache-Control"] == "private, no-cache"  # 404


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


def test_every_app_server_sees_the_same_account_count_and_a_restart_forgets_nothing(
    backend, database_urls, build, tmp_path
):
    """docs/rules.md §11.4: failed logins per account are counted in the database, not in
    each server's (here: each app instance's own memory) rate-limit storage."""
    user = build.user("coordinator")
    config = base_config(database_urls[backend], tmp_path)  # memory:// limiter storage each
    server_a, server_b = create_app(config), create_app(config)
    server_a.test_client_class = server_b.test_client_class = IsolatedClient

    assert _fail_logins(server_a.test_client(), user.email, 3) == [200] * 3
    assert _fail_logins(server_b.test_client(), user.email, 2) == [200] * 2
    assert _fail_logins(server_a.test_client(), user.email, 1) == [429]
    assert _fail_logins(server_b.test_client(), user.email, 1) == [429]

    restarted = create_app(config)
    restarted.test_client_class = IsolatedClient
    assert log_in(restarted.test_client(), user.email, PASSWORD).status_code == 429


def test_the_account_limit_lifts_when_the_window_has_passed(client, db, build):
    user = build.user("coordinator")
    start = datetime.now(UTC)
    with clock.fixed(start):
        assert _fail_logins(client, user.email, 5) == [200] * 5
    with clock.fixed(start + timedelta(minutes=14)):
        assert log_in(client, user.email, PASSWORD).status_code == 429
    with clock.fixed(start + timedelta(minutes=15, seconds=1)):
        assert log_in(client, user.email, PASSWORD).status_code == 302


def test_an_unknown_address_is_throttled_like_an_account(client, build):
    assert _fail_logins(client, "ei-ketaan@example.fi", 6) == [200] * 5 + [429]


def test_parallel_guesses_cannot_slip_past_the_account_limit(app, build):
    email = build.user("coordinator").email
    browsers = [app.test_client() for _ in range(10)]
    tokens = [csrf_token(browser, "/login") for browser in browsers]

    def guess(number: int) -> int:
        data = {"email": email, "password": f"wrong guess {number:04d}", "csrf_token": tokens[number]}
        return browsers[number].post("/login", data=data).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(guess, range(10)))

    assert sorted(statuses) == [200] * 5 + [429] * 5


def _from(app, address: str):
    """A test client whose requests come from ``address``."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def _address() -> str:
    """An address of this test's own, so counts kept elsewhere (Redis) never meet."""
    number = uuid.uuid4().int
    return f"10.{number % 250}.{(number >> 8) % 250}.{(number >> 16) % 250 + 1}"


def test_the_address_limit_is_shared_through_the_database(backend, database_urls, db, tmp_path):
    """The default RATELIMIT_STORAGE_URI=database:// : one count for every worker and server."""
    config = base_config(database_urls[backend], tmp_path) | {"RATELIMIT_STORAGE_URI": "database://"}
    server_a, server_b = create_app(config), create_app(config)
    server_a.test_client_class = server_b.test_client_class = IsolatedClient
    address = _address()
    statuses = []
    for number in range(30):
        server = (server_a, server_b)[number % 2]
        statuses += _fail_logins(_from(server, address), f"guess{number}@example.fi", 1)
    assert statuses == [200] * 30
    assert _fail_logins(_from(server_a, address), "guess-a@example.fi", 1) == [429]
    assert _fail_logins(_from(server_b, address), "guess-b@example.fi", 1) == [429]
    restarted = create_app(config)
    restarted.test_client_class = IsolatedClient
    assert _fail_logins(_from(restarted, address), "guess-c@example.fi", 1) == [429]
    assert _fail_logins(_from(restarted, _address()), "guess-d@example.fi", 1) == [200]  # another address


def test_the_database_rate_limit_storage_counts_in_fixed_windows(app):
    from placements.web.rate_limits import DatabaseStorage

    storage = DatabaseStorage()
    start = datetime.now(UTC)
    with clock.fixed(start):
        assert storage.check()
        assert storage.get("k") == 0
        assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
        assert storage.incr("other", 60, amount=2) == 2
        assert storage.get("k") == 3
        assert storage.get_expiry("k") == pytest.approx((start + timedelta(seconds=60)).timestamp())
    with clock.fixed(start + timedelta(seconds=61)):
        assert storage.get("k") == 0  # the window has passed
        assert storage.incr("k", 60) == 1
        storage.clear("k")
        assert storage.get("k") == 0
        assert storage.reset() >= 0
        assert storage.get("other") == 0


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping())
    except Exception:
        return False


def test_the_address_limit_is_counted_in_redis_across_app_servers(backend, database_urls, db, tmp_path):
    require(_redis_available(), "Redis is not running on 127.0.0.1:6379: Redis rate-limit test skipped")
    # The counts outlive the test in Redis: this test's own address keeps them apart. (A key
    # prefix would not: Flask-Limiter keeps the first one it was given for the process.)
    config = base_config(database_urls[backend], tmp_path) | {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15"}
    server_a, server_b = create_app(config), create_app(config)
    server_a.test_client_class = server_b.test_client_class = IsolatedClient
    address = _address()

    statuses = []
    for number in range(30):
        server = (server_a, server_b)[number % 2]
        statuses += _fail_logins(_from(server, address), f"redis-{number}@example.fi", 1)
    assert statuses == [200] * 30
    assert _fail_logins(_from(server_a, address), "redis-a@example.fi", 1) == [429]
    assert _fail_logins(_from(server_b, address), "redis-b@example.fi", 1) == [429]


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
