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
from placements.permissions import SYSTEM
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


# A valid 1x1 PNG: what the stand-in tile server answers for every tile.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cff00000040101005b7a5d5a0000000049454e44ae426082"
)


@pytest.fixture(scope="session")
def tile_server():
    """Map tiles from loopback, so tests can tell the tile server from everything else."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        if thread.is_alive():
            server.shutdown()
            thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def mail_server():
    """A real SMTP server on loopback that receives the live app's e-mail."""
    from tests.mail_server import MailServer

    server = MailServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, tile_server, mail_server):
    """The real app on its own SQLite database, with the sample data and one account per role."""
    folder = tmp_path_factory.mktemp("live")
    url = "sqlite:///" + str(folder / "live.db")
    migrate_database(url, folder)
    tiles = {"MAP_TILES_URL": tile_server + "/{z}/{x}/{y}.png", "MAP_TILES_ATTRIBUTION": "Testitiilet"}
    app = create_app(base_config(url, folder) | tiles | mail_server.config())
    with app.app_context():
        result = import_sites(db.session, (ROOT / "data" / "seed_sites.csv").read_bytes(), SYSTEM)
        assert result.ok
        organisation = db.session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
        for role, (email, password) in LIVE_ACCOUNTS.items():
            create_user(
                db.session,
                SYSTEM,
                email=email,
                name=f"Testi {role}",
                role=role,
                password=password,
                organisation_id=organisation.id if role == "host" else None,
            )
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture(scope="session")
def live_server(live_app):
    """The live app served by a real HTTP server in a thread, with a job worker beside it."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    stop_worker = threading.Event()
    worker = threading.Thread(target=_job_worker, args=(live_app, stop_worker), daemon=True)
    try:
        thread.start()
        worker.start()
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        stop_worker.set()
        if worker.is_alive():
            worker.join(timeout=30)
        if thread.is_alive():
            server.shutdown()
            thread.join(timeout=10)
        server.server_close()


def _job_worker(app, stop: threading.Event) -> None:
    """What `flask jobs work` does next to the server: runs the jobs the pages queue."""
    from placements.services import jobs

    with app.app_context():
        jobs.work(app, poll=0.2, stop=stop)


@pytest.fixture(scope="session")
def browser():
    require(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}: browser tests skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - requirements-dev installs it
        require(False, "Playwright for Python is not installed: browser tests skipped")
    with sync_playwright() as playwright:  # stops the Playwright driver, whatever happens
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fi-FI")
    try:
        page = context.new_page()
        page.console_messages = []
        page.requested = []
        page.on("console", lambda message: page.console_messages.append(message))
        page.on("request", lambda request: page.requested.append(request.url))
        yield page
    finally:
        context.close()


def log_in_as(page, live_server, account) -> None:
    email, password = account
    page.goto(live_server + "/login")
    page.get_by_label("Sähköpostiosoite").fill(email)
    page.get_by_label("Salasana").fill(password)
    page.get_by_role("button", name="Kirjaudu sisään").click()
    page.wait_for_load_state()
    if page.locator("html").get_attribute("lang") != "fi":
        # The account remembers the last language chosen; the tests start in Finnish.
        page.get_by_role("button", name="Suomeksi").click()
        page.wait_for_load_state()


def open_site_popup(page, site_id: str) -> str:
    """Open a site's marker popup on the map page (zooming into its cluster); its text."""
    page.wait_for_selector(".map-frame[data-ready]")
    page.evaluate(
        """(siteId) => {
            const frame = document.querySelector('.map-frame');
            const marker = frame.markerLayer.getLayers().find(m => String(m.options.siteId) === siteId);
            frame.markerLayer.zoomToShowLayer(marker, () => marker.openPopup());
        }""",
        site_id,
    )
    page.wait_for_selector(".leaflet-popup-content a", timeout=5000)
    return page.locator(".leaflet-popup-content").inner_text()
