"""Two gunicorn servers on one PostgreSQL and one Redis, as in production behind a load
balancer: sessions work on either, placements never overbook, failed logins add up."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from placements import create_app
from placements.extensions import db as _db
from placements.models import Placement
from tests.builders import PASSWORD, Builder
from tests.conftest import POSTGRES_URL, ROOT, base_config, describe, empty_tables, require, running_in_group
from tests.test_security import _redis_available

GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


READY_WITHIN = 120  # seconds: two servers of two workers each start slowly on a busy 2-core machine
STOP_WITHIN = 60  # more than gunicorn's graceful_timeout (30 s)


def _log_tail(log: Path) -> str:
    text = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    return text or "(gunicorn wrote nothing)"


def _wait_until_ready(url: str, process: subprocess.Popen, log: Path, deadline: float) -> None:
    """Poll /healthz until it answers 200. Any request error, a read timeout included, only means
    "not yet": a slow start is normal under load. Fail at the deadline, or at once if gunicorn exits."""
    problem = "no answer yet"
    while True:
        if process.poll() is not None:
            pytest.fail(f"gunicorn for {url} exited with {process.returncode} while starting:\n{_log_tail(log)}")
        try:
            response = requests.get(url + "/healthz", timeout=10)
            if response.status_code == 200:
                return
            problem = f"/healthz answered {response.status_code}"
        except requests.RequestException as error:
            problem = f"{type(error).__name__}: {error}"
        if time.monotonic() > deadline:
            pytest.fail(f"gunicorn for {url} was not ready within {READY_WITHIN} s ({problem}):\n{_log_tail(log)}")
        time.sleep(0.5)


def _stop(processes: list[subprocess.Popen]) -> list[str]:
    """Stop each gunicorn and its workers: TERM for a graceful stop, KILL for the whole process
    group if that takes too long. Returns the processes still running after that (none)."""
    for process in processes:
        if process.poll() is None:
            process.terminate()  # all at once, so they stop in parallel
    for process in processes:
        try:
            process.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            warnings.warn(f"gunicorn {process.pid} ignored SIGTERM for {STOP_WITHIN} s; killed", stacklevel=1)
            _kill_group(process.pid)
            process.wait(timeout=STOP_WITHIN)
        if not _ended(process.pid, within=STOP_WITHIN):  # the workers stop with their master
            warnings.warn(f"workers of gunicorn {process.pid} outlived it by {STOP_WITHIN} s; killed", stacklevel=1)
            _kill_group(process.pid)
            _ended(process.pid, within=5)
    return [describe(pid) for process in processes for pid in running_in_group(process.pid)]


def _ended(group: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while running_in_group(group):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def servers(database_urls, tmp_path_factory):
    require(bool(POSTGRES_URL), "TEST_DATABASE_URL is not set: multi-server test skipped")
    require(_redis_available(), "Redis is not running on 127.0.0.1:6379: multi-server test skipped")
    folder = tmp_path_factory.mktemp("servers")
    env = os.environ | {
        "DATABASE_URL": POSTGRES_URL,
        "SECRET_KEY": "shared-by-every-app-server-" + uuid.uuid4().hex,
        "PLACEMENTS_ENV": "production",
        "SESSION_COOKIE_SECURE": "0",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14",
        "INSTANCE_PATH": str(folder),
    }
    processes: list[subprocess.Popen] = []
    try:
        started = []
        for number in range(2):
            port = _free_port()
            log = folder / f"gunicorn-{number}.log"
            command = [str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"]
            with log.open("wb") as output:  # a file, not a pipe nobody reads: a full pipe would block gunicorn
                # A session of its own, so the master and its workers can be stopped as one group.
                process = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
                )
            processes.append(process)
            started.append((f"http://127.0.0.1:{port}", process, log))
        deadline = time.monotonic() + READY_WITHIN
        for url, process, log in started:
            _wait_until_ready(url, process, log, deadline)
        yield [url for url, _, _ in started]
    finally:
        still_running = _stop(processes)
    assert still_running == []


@pytest.fixture
def pg(servers, tmp_path):
    """Test data in the servers' database, through the app's own services."""
    app = create_app(base_config(POSTGRES_URL, tmp_path))
    with app.app_context():
        try:
            yield Builder(_db.session)
        finally:
            empty_tables()
            _db.session.remove()
            _db.engine.dispose()


def session_on(url: str, email: str, password: str = PASSWORD) -> requests.Session:
    browser = requests.Session()
    token = token_from(browser, url + "/login")
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
        response = browsers[url].post(
            f"{url}/placements/{ids[n]}/accept", data={"csrf_token": tokens[url]}, allow_redirects=False, timeout=60
        )
        return response.status_code

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
        data = {"email": user.email, "password": "wrong password!!", "csrf_token": token}
        return browser.post(url + "/login", data=data, allow_redirects=False).status_code

    statuses = [fail(a), fail(b), fail(a), fail(b), fail(a)]
    assert statuses == [200] * 5
    assert fail(b) == 429 and fail(a) == 429
