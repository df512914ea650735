"""The registry as `make run` serves it: gunicorn with two workers on one SQLite database,
no Redis, with the default settings (docs/rules.md §11.4, docs/deploy.md).

Failed logins add up across the workers and survive a restart; forwarded headers from
loopback are ignored when TRUSTED_PROXIES=0.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid

import pytest
import requests

from placements import create_app
from placements.extensions import db as _db
from tests.builders import PASSWORD, Builder
from tests.conftest import ROOT, base_config, migrate_database
from tests.test_multiserver import GUNICORN, _free_port


class Server:
    """One gunicorn with two workers; restartable on the same port."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.url + "/healthz", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not start: {self.process.stderr.read().decode()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
            self.process = None


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gunicorn")
    url = "sqlite:///" + str(folder / "registry.db")
    migrate_database(url, folder)
    return url, folder


@pytest.fixture(scope="module")
def server(database):
    url, folder = database
    env = {key: value for key, value in os.environ.items() if not key.startswith(("RATELIMIT_", "TRUSTED_"))}
    env |= {
        "DATABASE_URL": url,
        "SECRET_KEY": "gunicorn-test-" + uuid.uuid4().hex,
        "PLACEMENTS_ENV": "production",
        "SESSION_COOKIE_SECURE": "0",
        "INSTANCE_PATH": str(folder),
    }
    running = Server(env)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def account(database):
    url, folder = database
    app = create_app(base_config(url, folder))
    with app.app_context():
        user = Builder(_db.session).user("coordinator", email=f"gunicorn-{uuid.uuid4().hex[:8]}@example.fi")
        email = user.email
        _db.session.remove()
        _db.engine.dispose()
    return email


def attempt(url: str, email: str, password: str = "not the password") -> int:
    browser = requests.Session()
    page = browser.get(url + "/login", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = browser.post(
        url + "/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    return response.status_code


def test_failed_logins_add_up_across_two_workers_and_a_restart(server, account):
    assert [attempt(server.url, account) for _ in range(5)] == [200] * 5
    # The 6th attempt, on whichever worker takes it, and every one after: also the right password.
    assert [attempt(server.url, account) for _ in range(6)] == [429] * 6
    assert attempt(server.url, account, PASSWORD) == 429

    server.stop()
    server.start()
    assert attempt(server.url, account, PASSWORD) == 429  # a restart forgot nothing
    # (The per-address limit's database:// storage is shared the same way:
    # tests/test_security.py, test_the_address_limit_is_shared_through_the_database.)


def test_forwarded_headers_from_loopback_are_ignored_without_trusted_proxies(server):
    """TRUSTED_PROXIES=0: a local client cannot claim HTTPS (gunicorn trusts 127.0.0.1 by default)."""
    response = requests.get(server.url + "/", headers={"X-Forwarded-Proto": "https"}, timeout=30)
    assert "Strict-Transport-Security" not in response.headers
    response = requests.get(server.url + "/", headers={"X-Forwarded-Ssl": "on"}, timeout=30)
    assert "Strict-Transport-Security" not in response.headers
