"""Two gunicorn servers on one PostgreSQL and one Redis, as in production behind a load
balancer: sessions work on either, placements never overbook, failed logins add up."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from placements import create_app
from placements.extensions import db as _db
from placements.models import Placement
from tests.builders import PASSWORD, Builder
from tests.conftest import POSTGRES_URL, ROOT, base_config, empty_tables, require
from tests.test_security import _redis_available

GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def servers(database_urls, tmp_path_factory):
    require(bool(POSTGRES_URL), "TEST_DATABASE_URL is not set: multi-server test skipped")
    require(_redis_available(), "Redis is not running on 127.0.0.1:6379: multi-server test skipped")
    env = os.environ | {
        "DATABASE_URL": POSTGRES_URL,
        "SECRET_KEY": "shared-by-every-app-server-" + uuid.uuid4().hex,
        "PLACEMENTS_ENV": "production",
        "SESSION_COOKIE_SECURE": "0",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14",
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("servers")),
    }
    processes, urls = [], []
    for _ in range(2):
        port = _free_port()
        processes.append(
            subprocess.Popen(
                [str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    for url, process in zip(urls, processes, strict=True):
        while True:
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # still booting
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)
    yield urls
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=20)


@pytest.fixture
def pg(servers, tmp_path):
    """Test data in the servers' database, through the app's own services."""
    app = create_app(base_config(POSTGRES_URL, tmp_path))
    with app.app_context():
        yield Builder(_db.session)
        empty_tables()
        _db.session.remove()
        _db.engine.dispose()


def session_on(url: str, email: str, password: str = PASSWORD) -> requests.Session:
    browser = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', browser.get(url + "/login").text).group(1)
    response = browser.post(
        url + "/login", data={"email": email, "password": password, "csrf_token": token}, allow_redirects=False
    )
    assert response.status_code == 302, response.status_code
    return browser


def token_from(browser: requests.Session, url: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', browser.get(url).text).group(1)


def test_a_session_from_one_server_works_on_the_other(servers, pg):
    a, b = servers
    user = pg.user("coordinator", email=f"lb-{uuid.uuid4().hex[:8]}@example.fi")
    browser = session_on(a, user.email)
    response = browser.get(b + "/admin/users", allow_redirects=False)
    assert response.status_code == 200 and user.email in response.text
    token = token_from(browser, a + "/admin/users")  # a form from A, posted to B
    response = browser.post(b + "/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status_code == 302
    assert browser.get(a + "/admin/users", allow_redirects=False).headers["Location"] == "/login"


def test_forty_concurrent_acceptances_on_two_servers_fill_exactly_five_places(servers, pg):
    a, b = servers
    site = pg.site(
        site_ref=f"LB-{uuid.uuid4().hex[:6]}",
        organisation=f"Kuormantasaus {uuid.uuid4().hex[:6]}",
        opening_type="work_trial",
        opening_title="Kilpailtu",
        days_per_week_max="5",
        places_total="5",
        places_external="0",
    )
    opening = site.openings[0]
    worker = pg.user("social_worker")
    host = pg.user("host", organisation=site.organisation)
    ids = [pg.placement(pg.client(worker), opening, worker, planned_end=None).id for _ in range(40)]
    browsers = {a: session_on(a, host.email), b: session_on(b, host.email)}
    tokens = {url: token_from(browser, url + "/my/sites") for url, browser in browsers.items()}

    def accept(n: int) -> int:
        url = (a, b)[n % 2]
        return (
            browsers[url]
            .post(
                f"{url}/placements/{ids[n]}/accept", data={"csrf_token": tokens[url]}, allow_redirects=False, timeout=60
            )
            .status_code
        )

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(accept, range(40)))

    assert statuses == [302] * 40  # started or refused with a message; never an error
    pg.session.expire_all()
    active = pg.session.scalar(
        select(func.count())
        .select_from(Placement)
        .where(Placement.opening_id == opening.id, Placement.status == "active")
    )
    assert active == 5
    pg.session.refresh(opening)
    assert opening.places_taken == 5 and opening.free_places == 0


def test_failed_logins_are_counted_across_both_servers(servers, pg):
    a, b = servers
    user = pg.user("coordinator", email=f"guess-{uuid.uuid4().hex[:8]}@example.fi")

    def fail(url: str) -> int:
        browser = requests.Session()
        token = token_from(browser, url + "/login")
        return browser.post(
            url + "/login",
            data={"email": user.email, "password": "wrong password!!", "csrf_token": token},
            allow_redirects=False,
        ).status_code

    statuses = [fail(a), fail(b), fail(a), fail(b), fail(a)]
    assert statuses == [200] * 5
    assert fail(b) == 429 and fail(a) == 429
