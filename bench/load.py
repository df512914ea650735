"""Load test: simulated users of each role against gunicorn on loopback. Prints throughput,
server CPU per request, and per page the median and p95 latency, bytes sent and errors.

    DATABASE_URL=sqlite:///$PWD/bench/out/national.db python bench/load.py --users 20 --duration 60
    DATABASE_URL=sqlite:///$PWD/bench/out/national.db python bench/load.py --saturate --users 8

Every run works on a fresh copy of the database named by DATABASE_URL, which stays as it
was: SQLite through the backup API into bench/out/load-run.db, PostgreSQL with
``CREATE DATABASE <name>_run TEMPLATE <name>``; the copy is removed afterwards. So runs are
repeatable, and the accounts the run creates are not left behind.

With --saturate the users do not pause between journeys: the server is kept busy, and the
throughput measured is what it manages at saturation. The CPU time is that of gunicorn's
master and workers over the measured interval (from /proc), and for PostgreSQL that of the
server processes serving the run's database, when they run on this machine; both divided by
the requests answered. A browser's habits are kept: it sends Accept-Encoding, fetches the
map's marker data when the map page names it, and revalidates it with If-None-Match.

--app DIR serves another checkout of the app (bench/compare.py uses it to measure an earlier
commit in the same run); the bench code stays this one.

Budget (issue: production): 2 workers on this 2-core machine, 20 concurrent users with 1-3 s
between journeys, p95 <= 500 ms on every page and zero errors.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import (  # noqa: E402
    children,
    fixed_free_port,
    machine,
    process_cpu_seconds,
    wait_until_ready,
)

MUNICIPALITIES = ["205", "765", "290", "777"]
# Seconds a simulated user waits between journeys (people read the page before the next click).
THINK = (1.0, 3.0)
# The password of every account the run creates (only in the run's copy of the database).
LOAD_PASSWORD = "load password, not for production"  # noqa: S105
TASKS = ["kitchen", "cleaning", "recycling", "office", "gardening"]


def prepare(per_role: int) -> dict[str, list]:
    """Accounts for every simulated user: hosts of organisations with openings, social
    workers with a client and needs, coordinators."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from placements import create_app
    from placements.extensions import db
    from placements.models import Opening, Organisation, Site
    from placements.permissions import SYSTEM
    from placements.services import clients
    from placements.services.users import create_user

    app = create_app()
    accounts: dict[str, list] = {"social_worker": [], "host": [], "coordinator": []}
    with app.app_context():
        upgrade()
        tag = uuid.uuid4().hex[:6]
        organisations = db.session.scalars(
            select(Organisation.id)
            .join(Site)
            .join(Opening)
            .where(Opening.status == "open")
            .group_by(Organisation.id)
            .having(func.count(Opening.id) >= 2)
            .limit(per_role)
        ).all()
        for n in range(per_role):
            worker = create_user(
                db.session,
                SYSTEM,
                email=f"load-w{n}-{tag}@example.fi",
                name=f"Load worker {n}",
                role="social_worker",
                password=LOAD_PASSWORD,
            )
            person = clients.create_client(
                db.session,
                worker,
                municipality_code=MUNICIPALITIES[n % 4],
                home_postal_code=None,
                age_band="30-39",
                gender="unknown",
            )
            clients.save_needs(
                db.session,
                person,
                worker,
                {
                    "wanted_types": ("rehabilitative_work", "work_trial", "pay_subsidy", "ips_job"),
                    "task_areas": (TASKS[n % 5],),
                    "days_per_week": 5,
                    "hours_per_day": 8.0,
                    "max_travel_km": 60,
                    "needs_public_transport": False,
                    "accessibility": (),
                    "supports": (),
                    "max_physical_demand": "heavy",
                    "max_social_intensity": "high",
                    "languages": ("fi",),
                    "earliest_start": None,
                    "note": None,
                },
            )
            accounts["social_worker"].append((worker.email, person.code))
            host = create_user(
                db.session,
                SYSTEM,
                email=f"load-h{n}-{tag}@example.fi",
                name=f"Load host {n}",
                role="host",
                password=LOAD_PASSWORD,
                organisation_id=organisations[n % len(organisations)],
            )
            openings = db.session.scalars(
                select(Opening.id)
                .join(Site)
                .where(
                    Site.organisation_id == host.organisation_id,
                    Opening.status == "open",
                    Opening.archived_at.is_(None),
                )
            ).all()
            accounts["host"].append((host.email, openings))
            coordinator = create_user(
                db.session,
                SYSTEM,
                email=f"load-c{n}-{tag}@example.fi",
                name=f"Load coordinator {n}",
                role="coordinator",
                password=LOAD_PASSWORD,
            )
            accounts["coordinator"].append((coordinator.email, None))
        db.session.commit()
    return accounts


class Recorder:
    """Latency, bytes and status of every request; only while ``measuring`` (after the
    warm-up), and at most ``limit`` requests."""

    def __init__(self, limit: int):
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.sizes: dict[str, list[int]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()
        self.count = 0
        self.limit = limit
        self.measuring = False

    def call(self, name: str, method, url: str, expected=(200, 302), **kwargs):
        started = time.perf_counter()
        try:
            response = method(url, allow_redirects=False, timeout=30, **kwargs)
            status = response.status_code
            # Bytes on the wire: Content-Length is the compressed size when the body is compressed.
            size = int(response.headers.get("Content-Length") or len(response.content))
        except requests.RequestException:
            response, status, size = None, 0, 0
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            if self.measuring:
                self.samples[name].append(elapsed)
                self.sizes[name].append(size)
                self.count += 1
                if status not in expected:
                    self.errors[name] += 1
        return response

    @property
    def full(self) -> bool:
        return self.count >= self.limit


def token(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def log_in(base: str, email: str) -> requests.Session:
    browser = requests.Session()
    browser.post(
        base + "/login",
        data={"email": email, "password": LOAD_PASSWORD, "csrf_token": token(browser.get(base + "/login").text)},
    )
    return browser


def map_page(base, recorder, browser, url) -> None:
    """The map as a browser loads it: the page, then its marker data if the page names an
    address for it (kept with its ETag and revalidated, as the browser's cache does)."""
    page = recorder.call("map /map", browser.get, url)
    found = re.search(r'data-markers-url="([^"]+)"', page.text) if page is not None else None
    if found is None:
        return
    address = base + found.group(1).replace("&amp;", "&")
    cache = browser.__dict__.setdefault("etags", {})
    headers = {"If-None-Match": cache[address]} if address in cache else {}
    data = recorder.call("map data", browser.get, address, expected=(200, 304), headers=headers)
    if data is not None and data.status_code == 200 and "ETag" in data.headers:
        cache[address] = data.headers["ETag"]


def worker_journey(base, recorder, account, stop, rng, think):
    email, code = account
    browser = log_in(base, email)
    while not stop.is_set() and not recorder.full:
        municipality = rng.choice(MUNICIPALITIES)
        recorder.call(
            "search /sites", browser.get, f"{base}/sites?municipality={municipality}&task={rng.choice(TASKS)}&free=1"
        )
        map_page(base, recorder, browser, f"{base}/map?municipality={municipality}")
        page = recorder.call("matches", browser.get, f"{base}/clients/{code}/matches")
        links = re.findall(r'href="(/clients/[^"]+/propose/\d+)"', page.text) if page is not None else []
        if links:
            link = rng.choice(links[:10])
            form = recorder.call("propose form", browser.get, base + link)
            if form is not None and form.status_code == 200:
                fields = dict(
                    re.findall(
                        r'name="(start_date|planned_end|days_per_week|hours_per_day)"[^>]*value="([^"]*)"', form.text
                    )
                )
                result = recorder.call(
                    "placement propose", browser.post, base + link, data={"csrf_token": token(form.text), **fields}
                )
                if (
                    result is not None
                    and result.status_code == 302
                    and "/placements/" in result.headers.get("Location", "")
                ):
                    placement = result.headers["Location"]
                    detail = recorder.call("placement page", browser.get, base + placement)
                    recorder.call(
                        "placement cancel",
                        browser.post,
                        f"{base}{placement}/cancel",
                        data={"csrf_token": token(detail.text)},
                    )
        time.sleep(rng.uniform(*think))


def host_journey(base, recorder, account, stop, rng, think):
    email, openings = account
    browser = log_in(base, email)
    while not stop.is_set() and not recorder.full:
        recorder.call("my sites", browser.get, f"{base}/my/sites")
        opening = rng.choice(openings)
        form = recorder.call("capacity form", browser.get, f"{base}/openings/{opening}/capacity")
        if form is not None and form.status_code == 200:
            values = dict(re.findall(r'name="(version|places_total|places_external)"[^>]*value="([^"]*)"', form.text))
            total = int(values.get("places_total", 5))
            data = {
                "csrf_token": token(form.text),
                "version": values.get("version", ""),
                "places_total": total + rng.choice([-1, 1])
                if total > int(values.get("places_external", 0)) + 3
                else total + 1,
                "places_external": values.get("places_external", 0),
                "status": "open",
                "accepting_from": "",
            }
            updated = recorder.call(
                "capacity update",
                browser.post,
                f"{base}/openings/{opening}/capacity",
                expected=(200, 302, 409),
                data=data,
            )
            # A confirmation names the version it confirms (docs/rules.md §3.9): the saved one.
            version = int(values.get("version") or 0) + (updated is not None and updated.status_code == 302)
            recorder.call(
                "confirm",
                browser.post,
                f"{base}/openings/{opening}/confirm",
                expected=(302, 303),  # 303: another host changed it meanwhile (a conflict, answered)
                data={"csrf_token": token(form.text), "version": version},
            )
        time.sleep(rng.uniform(*think))


def coordinator_journey(base, recorder, account, stop, rng, think):
    browser = log_in(base, account[0])
    while not stop.is_set() and not recorder.full:
        recorder.call("search /sites", browser.get, f"{base}/sites?q=verstas&page={rng.randint(1, 3)}")
        map_page(base, recorder, browser, f"{base}/map?type=work_trial")
        recorder.call("stale overview", browser.get, f"{base}/admin/stale")
        time.sleep(rng.uniform(*think))


def fresh_copy(template_url: str) -> tuple[str, object]:
    """A copy of the template database for this run, and a function that removes it."""
    from sqlalchemy.engine import make_url

    url = make_url(template_url)
    if url.get_backend_name() == "sqlite":
        source = Path(url.database)
        target = ROOT / "bench" / "out" / "load-run.db"
        target.parent.mkdir(parents=True, exist_ok=True)

        def remove() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)

        remove()
        with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
            original.backup(copy)
        return url.set(database=str(target)).render_as_string(hide_password=False), remove
    import psycopg

    name = f"{url.database}_run"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)

    def run(statement: str) -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(statement)

    def remove() -> None:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    remove()
    run(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"')
    return url.set(database=name).render_as_string(hide_password=False), remove


class ServerCpu:
    """CPU seconds used by gunicorn (master and workers) and, for PostgreSQL on this machine,
    by the server processes of the run's database, between ``start()`` and ``stop()``."""

    def __init__(self, server: subprocess.Popen, database_url: str):
        self.master = server.pid
        self.database_url = database_url
        self.postgres = database_url.startswith("postgresql")

    def _gunicorn(self) -> dict[int, float]:
        return {pid: process_cpu_seconds(pid) for pid in (self.master, *children(self.master))}

    def _backends(self) -> dict[int, float] | None:
        if not self.postgres:
            return None
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        query = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        with psycopg.connect(plain, autocommit=True) as connection:
            pids = [row[0] for row in connection.execute(query, (url.database,))]
        if not pids or not Path(f"/proc/{pids[0]}/stat").exists():
            return None  # the server runs elsewhere: not measurable here
        return {pid: process_cpu_seconds(pid) for pid in pids}

    @staticmethod
    def _delta(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(max(seconds - before.get(pid, 0.0), 0.0) for pid, seconds in after.items())

    def start(self) -> None:
        self.gunicorn_before, self.backends_before = self._gunicorn(), self._backends()

    def stop(self) -> tuple[float, float | None]:
        gunicorn = self._delta(self.gunicorn_before, self._gunicorn())
        backends_after = self._backends()
        if backends_after is None:
            return gunicorn, None
        return gunicorn, self._delta(self.backends_before or {}, backends_after)


def percentile(times: list[float], fraction: float) -> float:
    ordered = sorted(times)
    return ordered[min(round(fraction * (len(ordered) - 1)), len(ordered) - 1)]


def run_load(args, app_dir: Path, template: str) -> dict:
    think = (0.0, 0.0) if args.saturate else THINK
    database_url, remove_copy = fresh_copy(template)
    os.environ.setdefault("PLACEMENTS_ENV", "development")
    os.environ["DATABASE_URL"] = database_url
    os.environ["SESSION_COOKIE_SECURE"] = "0"
    os.environ["GEOCODER"] = "offline"
    os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex)
    per_role = max(args.users // 3, 1)
    server = None
    try:
        accounts = prepare(per_role + 1)
        port = fixed_free_port(args.port)
        base = f"http://127.0.0.1:{port}"
        env = os.environ | {"PLACEMENTS_ENV": "production", "PYTHONPATH": str(app_dir)}
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        command = [gunicorn, "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}", "wsgi:app"]
        server = subprocess.Popen(command, cwd=app_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603 (our own gunicorn)
        waited = wait_until_ready(
            lambda: requests.get(base + "/healthz", timeout=5).status_code == 200, timeout=300, process=server
        )
        recorder, stop = Recorder(args.max_requests), threading.Event()
        roles = (
            [("social_worker", worker_journey)] * (args.users - 2 * per_role)
            + [("host", host_journey)] * per_role
            + [("coordinator", coordinator_journey)] * per_role
        )
        threads = []
        for n, (role, journey) in enumerate(roles):
            account = accounts[role][n % len(accounts[role])]
            rng = random.Random(n)  # noqa: S311 (a bench's choices)
            threads.append(
                threading.Thread(target=journey, args=(base, recorder, account, stop, rng, think), daemon=True)
            )
        for thread in threads:
            thread.start()
        time.sleep(args.warmup)
        cpu = ServerCpu(server, database_url)
        cpu.start()
        recorder.measuring = True
        started = time.perf_counter()
        time.sleep(args.duration)
        recorder.measuring = False
        elapsed = time.perf_counter() - started
        gunicorn_cpu, database_cpu = cpu.stop()
        load_after = os.getloadavg()
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        remove_copy()
    done = max(recorder.count, 1)
    return {
        "label": args.label or str(app_dir),
        "machine": machine(),
        "load_average_after": load_after,
        "database": database_url.split("://", 1)[0],
        "users": len(roles),
        "saturate": args.saturate,
        "workers": args.workers,
        "seconds": elapsed,
        "server_ready_after_s": waited,
        "requests": recorder.count,
        "throughput": recorder.count / elapsed,
        "gunicorn_cpu_ms_per_request": 1000 * gunicorn_cpu / done,
        "database_cpu_ms_per_request": None if database_cpu is None else 1000 * database_cpu / done,
        "errors": sum(recorder.errors.values()),
        "pages": {
            name: {
                "requests": len(times),
                "median_ms": statistics.median(times),
                "p95_ms": percentile(times, 0.95),
                "median_bytes": statistics.median(recorder.sizes[name]),
                "errors": recorder.errors[name],
            }
            for name, times in sorted(recorder.samples.items())
        },
    }


def report(results: dict) -> None:
    pauses = " without pauses" if results["saturate"] else ""
    load = " ".join(f"{value:.2f}" for value in results["load_average_after"])
    print(
        f"{results['label']}: {results['users']} users{pauses}, {results['workers']} gunicorn workers, "
        f"{results['database']}, {results['seconds']:.0f} s measured; load average after: {load}"
    )
    print(f"{'page':<22}{'requests':>9}{'median ms':>11}{'p95 ms':>9}{'median KB':>11}{'errors':>8}")
    worst = 0.0
    for name, page in results["pages"].items():
        worst = max(worst, page["p95_ms"])
        print(
            f"{name:<22}{page['requests']:>9}{page['median_ms']:>11.0f}{page['p95_ms']:>9.0f}"
            f"{page['median_bytes'] / 1024:>11.1f}{page['errors']:>8}"
        )
    database = results["database_cpu_ms_per_request"]
    print(
        f"all: {results['requests']} requests, {results['throughput']:.1f} req/s, "
        f"server CPU {results['gunicorn_cpu_ms_per_request']:.1f} ms/request"
        + ("" if database is None else f" + PostgreSQL {database:.1f} ms/request")
        + f", worst p95 {worst:.0f} ms, {results['errors']} errors",
        flush=True,
    )
    if not results["saturate"]:
        ok = worst <= 500 and results["errors"] == 0
        print("budget: p95 <= 500 ms on every page and no errors:", "OK" if ok else "NOT MET")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20, help="concurrent users in all, split over the three roles")
    parser.add_argument("--duration", type=float, default=60, help="seconds measured (after the warm-up)")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load before measuring")
    parser.add_argument("--saturate", action="store_true", help="no pause between journeys")
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8600, help="the first port tried (the first free one is used)")
    parser.add_argument("--app", type=Path, default=ROOT, help="the checkout of the app to serve")
    parser.add_argument("--label", default="", help="a name for this run in the output")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    app_dir = args.app.resolve()
    if app_dir != ROOT:
        sys.path.insert(0, str(app_dir))  # the app's own code; bench/ stays this checkout's
    template = os.environ.get("DATABASE_URL")
    if not template:
        sys.exit("Set DATABASE_URL to the generated bench database.")
    print(f"Machine: {machine()}", flush=True)
    results = run_load(args, app_dir, template)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
