"""Fixtures: one migrated database per backend, a fresh app per test, data builders.

The suite runs on SQLite and, when TEST_DATABASE_URL points at an empty PostgreSQL
database, on PostgreSQL as well: every test that uses ``app`` runs once per backend.
Tests are isolated by emptying every non-reference table after each test.
"""

from __future__ import annotations

import contextvars
import os
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from placements import create_app
from placements.extensions import db as _db
from tests.builders import Builder

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
REFERENCE_TABLES = {"municipalities", "postal_codes", "alembic_version"}

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def require(available: bool, reason: str) -> None:
    """Skip when a component is missing, but fail under CI=true, where nothing may be skipped."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


def base_config(database_url: str, instance_path: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SESSION_COOKIE_SECURE": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "GEOCODER": "offline",
        "INSTANCE_PATH": str(instance_path),
    }


def reset_postgresql(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def migrate_database(url: str, instance_path: Path) -> None:
    app = create_app(base_config(url, instance_path))
    with app.app_context():
        upgrade()
        _db.engine.dispose()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory) -> dict[str, str]:
    """Migrated, empty databases, one per backend, created once per test session."""
    instance = tmp_path_factory.mktemp("instance")
    urls = {"sqlite": "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")}
    if POSTGRES_URL:
        reset_postgresql(POSTGRES_URL)
        urls["postgresql"] = POSTGRES_URL
    for url in urls.values():
        migrate_database(url, instance)
    return urls


def empty_tables() -> None:
    tables = [t for t in reversed(_db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
    _db.session.rollback()
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        _db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        _db.session.execute(text("UPDATE postal_codes SET centre_lat = NULL, centre_lon = NULL"))
    else:
        for table in tables:
            _db.session.execute(table.delete())
        _db.session.execute(text("UPDATE postal_codes SET centre_lat = NULL, centre_lon = NULL"))
    _db.session.commit()


class IsolatedClient(FlaskClient):
    """Runs each request in its own application context, as a real server does.

    The fixtures keep an app context open for the test's own database work; without this,
    requests would share its ``g`` (cached locale, logged-in user) with each other.
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)  # streamed bodies are read inside that context
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(autouse=True)
def fast_password_hashing(request, monkeypatch):
    """Argon2id with tiny costs keeps the suite fast; tests marked real_password_hashing
    (and production) use the library's recommended parameters."""
    if "real_password_hashing" in request.keywords:
        return
    from argon2 import PasswordHasher

    from placements.services import passwords

    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", fast)
    # An unknown address verifies the dummy hash: as fast as the accounts' hashes here.
    monkeypatch.setattr(passwords, "_DUMMY_HASH", fast.hash("no such account, nothing to find here"))


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def app(backend, database_urls, tmp_path):
    app = create_app(base_config(database_urls[backend], tmp_path))
    app.test_client_class = IsolatedClient
    with app.app_context():
        try:
            yield app
        finally:
            empty_tables()
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def build(app) -> Builder:
    """Builds organisations, sites, openings and users through the app's own services."""
    return Builder(_db.session)


@pytest.fixture
def seed_csv() -> bytes:
    return (ROOT / "data" / "seed_sites.csv").read_bytes()


def csrf_token(client, path: str = "/") -> str:
    """The CSRF token a real form on ``path`` would carry."""
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client, email: str, password: str):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def login(client):
    """Log the test client in as ``user`` (created by ``build.user``)."""
    from tests.builders import PASSWORD

    def do(user, password: str = PASSWORD):
        response = log_in(client, user.email, password)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return do


def post_form(client, path: str, data: dict | None = None, token_from: str = "/"):
    """POST like a browser form: with a valid CSRF token."""
    payload = {"csrf_token": csrf_token(client, token_from)}
    payload.update(data or {})
    return client.post(path, data=payload)
