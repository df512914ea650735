"""Fixtures: one migrated database per backend, a fresh app per test, data builders.

The suite runs on SQLite and, when TEST_DATABASE_URL points at an empty PostgreSQL
database, on PostgreSQL as well: every test that uses ``app`` runs once per backend.
Tests are isolated by emptying every non-reference table after each test.

With pytest-xdist (``make test`` runs one process per core) each worker process gets its
own databases: SQLite files in its own temporary folder, and a PostgreSQL database named
after TEST_DATABASE_URL's with the worker's id appended, created here and dropped when
the worker finishes.
"""

from __future__ import annotations

import contextvars
import os
import signal
import time
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
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
REFERENCE_TABLES = {"municipalities", "postal_codes", "alembic_version"}


def _database_of_this_process(url: str) -> str:
    """TEST_DATABASE_URL itself, or in an xdist worker a fresh database of its own beside it."""
    if not url or not WORKER:
        return url
    if os.environ.get("PLACEMENTS_TEST_WORKER_DATABASE"):  # a process the worker started
        return os.environ["PLACEMENTS_TEST_WORKER_DATABASE"]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"{admin.url.database}_{WORKER}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    own = admin.url.set(database=name).render_as_string(hide_password=False)
    os.environ["PLACEMENTS_TEST_WORKER_DATABASE"] = own
    return own


def drop_database(url: str) -> None:
    """Drop the database ``url`` names, from a connection to the server's own database."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    admin.dispose()


POSTGRES_URL = _database_of_this_process(os.environ.get("TEST_DATABASE_URL", ""))
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


def run_job():
    """Run the oldest queued job here, as the worker (`flask jobs work`) would; its id or None."""
    from flask import current_app

    from placements.services import jobs

    return jobs.run_once(current_app._get_current_object())


def run_jobs() -> int:
    """Run every queued job here, as `flask jobs work --once` would; how many ran."""
    from flask import current_app

    from placements.services import jobs

    return jobs.work(current_app._get_current_object(), once=True)


# --- Guards for the whole run -----------------------------------------------------------------
# Under CI=true every test must run: a skip or an xfail, however it comes about (a marker,
# pytest.skip in a test or fixture, pytest.importorskip, pytest.xfail), fails the run.
# And no test may leave a process behind: whatever a test starts, it stops.

_not_run: list[str] = []
_left_behind: list[str] = []


def _reason(report) -> str:
    if hasattr(report, "wasxfail"):
        return report.wasxfail or "xfail"
    if isinstance(report.longrepr, tuple):  # (file, line, "Skipped: reason")
        return report.longrepr[2].removeprefix("Skipped: ")
    return str(report.longrepr)


def pytest_runtest_logreport(report):
    if hasattr(report, "wasxfail"):
        kind = "xpassed" if report.passed else "xfailed"
    elif report.skipped:
        kind = "skipped"
    else:
        return
    _not_run.append(f"{kind} {report.nodeid} ({report.when}): {_reason(report)}")


def pytest_collectreport(report):
    if report.skipped:  # a whole module: pytest.importorskip or pytest.skip(allow_module_level=True)
        _not_run.append(f"skipped {report.nodeid} (collection): {_reason(report)}")


def _processes() -> dict[int, tuple[str, int, int]]:
    """Every process on the machine: pid -> (state, parent pid, process group), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        state, ppid, group = stat[stat.rindex(")") + 2 :].split()[:3]  # after "pid (command) "
        found[int(entry.name)] = (state, int(ppid), int(group))
    return found


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid``, and by those, and so on (zombies included)."""
    processes = _processes()
    result, parents = [], {pid}
    while parents:
        children = [child for child, (_, ppid, _) in processes.items() if ppid in parents and child not in result]
        result += children
        parents = set(children)
    return result


def running_in_group(group: int) -> list[int]:
    """The live processes of a process group (zombies have ended; only their parent can reap them)."""
    return [pid for pid, (state, _, pgid) in _processes().items() if pgid == group and state != "Z"]


def describe(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        command = "(ended)"
    return f"pid {pid}: {command[:300] or '(zombie)'}"


def _stop_leftovers(pids: list[int]) -> None:
    """Kill what a test left running, so one bad test does not slow or break the rest of the machine."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in pids:
        try:
            os.waitpid(pid, 0)  # our own children: reap them (a killed process ends at once)
        except ChildProcessError:  # a grandchild, or reaped already
            pass


def _xdist_controller(config) -> bool:
    """This process hands tests to xdist workers and runs none itself."""
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))


def pytest_testnodedown(node, error):
    """(xdist controller) What a worker found it had left running."""
    _left_behind.extend(getattr(node, "workeroutput", {}).get("left_behind", []))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_sessionfinish(session):
    """After every fixture is torn down: fail the run for skips under CI and for leftover processes.

    ``trylast`` makes this the innermost wrapper: it runs after the fixtures' teardown and
    before the terminal summary, which lists what it found. Under xdist each worker checks
    its own processes and drops its own database, and tells the controller."""
    try:
        return (yield)
    finally:
        if not _xdist_controller(session.config):
            deadline = time.monotonic() + 5  # time for processes that were just told to stop
            while (left := descendants(os.getpid())) and time.monotonic() < deadline:
                time.sleep(0.2)
            if left:
                _left_behind.extend(describe(pid) for pid in left)
                _stop_leftovers(left)
        if WORKER and POSTGRES_URL:
            drop_database(POSTGRES_URL)
        if hasattr(session.config, "workeroutput"):
            session.config.workeroutput["left_behind"] = list(_left_behind)
        if (_left_behind or (IN_CI and _not_run)) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if IN_CI and _not_run:
        terminalreporter.section("not run, which CI=true does not allow", sep="=", red=True, bold=True)
        for line in _not_run:
            terminalreporter.line(line, red=True)
    if _left_behind:
        terminalreporter.section("processes the tests left running (now killed)", sep="=", red=True, bold=True)
        for line in _left_behind:
            terminalreporter.line(line, red=True)
