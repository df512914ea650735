"""A live server on loopback with the sample data, and headless Debian Chromium."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from placements import create_app
from placements.extensions import db
from placements.models import Organisation
from placements.services.importer import import_sites
from placements.services.users import create_user
from tests.conftest import ROOT, base_config, migrate_database, require

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


LIVE_PASSWORD = "selain testaa paikkarekisteriä"
LIVE_ACCOUNTS = {
    "coordinator": ("koordinaattori@example.fi", LIVE_PASSWORD),
    "social_worker": ("ohjaaja@example.fi", LIVE_PASSWORD),
    "host": ("isanta@example.fi", LIVE_PASSWORD),
}


@pytest.fixture(scope="session")
def live_accounts(live_server):
    return LIVE_ACCOUNTS


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The real app served by a real HTTP server in a thread, on its own SQLite database."""
    folder = tmp_path_factory.mktemp("live")
    url = "sqlite:///" + str(folder / "live.db")
    migrate_database(url, folder)
    app = create_app(base_config(url, folder))
    with app.app_context():
        result = import_sites(db.session, (ROOT / "data" / "seed_sites.csv").read_bytes())
        assert result.ok
        organisation = db.session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
        for role, (email, password) in LIVE_ACCOUNTS.items():
            create_user(db.session, email=email, name=f"Testi {role}", role=role, password=password,
                        organisation_id=organisation.id if role == "host" else None)
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    require(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}: browser tests skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements-dev installs it
        require(False, "Playwright for Python is not installed: browser tests skipped")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fi-FI")
    page = context.new_page()
    page.console_messages = []
    page.on("console", lambda message: page.console_messages.append(message))
    yield page
    context.close()
