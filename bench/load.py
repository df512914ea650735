"""Load test: simulated users of each role against gunicorn on loopback; prints per-page
throughput, median and p95 latency and errors. Bounded in time and requests.

    DATABASE_URL=sqlite:///$PWD/bench/out/national.db python bench/load.py --users 20 --duration 60

Budget (issue: production): 2 workers on this 2-core machine, 20 concurrent users,
p95 <= 500 ms on every page and zero errors.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import requests

from placements.permissions import SYSTEM

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.map_search import BENCH_PASSWORD  # noqa: E402

MUNICIPALITIES = ["205", "765", "290", "777"]
# Seconds a simulated user waits between journeys (people read the page before the next click).
THINK = (1.0, 3.0)
TASKS = ["kitchen", "cleaning", "recycling", "office", "gardening"]


def prepare(per_role: int) -> dict[str, list]:
    """Accounts for every simulated user: hosts of organisations with openings, social
    workers with a client and needs, coordinators."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from placements import create_app
    from placements.extensions import db
    from placements.models import Opening, Organisation, Site
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
                password=BENCH_PASSWORD,
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
                password=BENCH_PASSWORD,
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
                password=BENCH_PASSWORD,
            )
            accounts["coordinator"].append((coordinator.email, None))
        db.session.commit()
    return accounts


class Recorder:
    def __init__(self, limit: int):
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()
        self.count = 0
        self.limit = limit

    def call(self, name: str, method, url: str, expected=(200, 302), **kwargs):
        started = time.perf_counter()
        try:
            response = method(url, allow_redirects=False, timeout=30, **kwargs)
            status = response.status_code
        except requests.RequestException:
            response, status = None, 0
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.samples[name].append(elapsed)
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
        data={"email": email, "password": BENCH_PASSWORD, "csrf_token": token(browser.get(base + "/login").text)},
    )
    return browser


def worker_journey(base, recorder, account, stop, rng):
    email, code = account
    browser = log_in(base, email)
    while not stop.is_set() and not recorder.full:
        municipality = rng.choice(MUNICIPALITIES)
        recorder.call(
            "search /sites", browser.get, f"{base}/sites?municipality={municipality}&task={rng.choice(TASKS)}&free=1"
        )
        recorder.call("map /map", browser.get, f"{base}/map?municipality={municipality}")
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
        time.sleep(rng.uniform(*THINK))


def host_journey(base, recorder, account, stop, rng):
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
            recorder.call(
                "capacity update",
                browser.post,
                f"{base}/openings/{opening}/capacity",
                expected=(200, 302, 409),
                data=data,
            )
            recorder.call(
                "confirm", browser.post, f"{base}/openings/{opening}/confirm", data={"csrf_token": token(form.text)}
            )
        time.sleep(rng.uniform(*THINK))


def coordinator_journey(base, recorder, account, stop, rng):
    browser = log_in(base, account[0])
    while not stop.is_set() and not recorder.full:
        recorder.call("search /sites", browser.get, f"{base}/sites?q=verstas&page={rng.randint(1, 3)}")
        recorder.call("map /map", browser.get, f"{base}/map?type=work_trial")
        recorder.call("stale overview", browser.get, f"{base}/admin/stale")
        time.sleep(rng.uniform(*THINK))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20, help="concurrent users in all, split over the three roles")
    parser.add_argument("--duration", type=float, default=60, help="seconds")
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("PLACEMENTS_ENV", "development")
    os.environ["SESSION_COOKIE_SECURE"] = "0"
    os.environ["GEOCODER"] = "offline"
    per_role = max(args.users // 3, 1)
    accounts = prepare(per_role + 1)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {"SECRET_KEY": os.environ.get("SECRET_KEY", uuid.uuid4().hex), "PLACEMENTS_ENV": "production"}
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers",
        str(args.workers),
        "--bind",
        f"127.0.0.1:{port}",
        "wsgi:app",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603 (our own gunicorn)
    try:
        for _ in range(300):
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        recorder, stop = Recorder(args.max_requests), threading.Event()
        roles = (
            [("social_worker", worker_journey)] * (args.users - 2 * per_role)
            + [("host", host_journey)] * per_role
            + [("coordinator", coordinator_journey)] * per_role
        )
        threads = []
        for n, (role, journey) in enumerate(roles):
            account = accounts[role][n % len(accounts[role])]
            threads.append(
                threading.Thread(target=journey, args=(base, recorder, account, stop, random.Random(n)), daemon=True)
            )  # noqa: S311
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(args.duration)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"{len(roles)} users ({', '.join(f'{r}: {sum(1 for x, _ in roles if x == r)}' for r in accounts)}), "
        f"{args.workers} gunicorn workers, {elapsed:.0f} s"
    )
    print(f"{'page':<22}{'requests':>9}{'per s':>8}{'median ms':>11}{'p95 ms':>9}{'errors':>8}")
    worst = 0.0
    for name in sorted(recorder.samples):
        times = recorder.samples[name]
        p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
        worst = max(worst, p95)
        print(
            f"{name:<22}{len(times):>9}{len(times) / elapsed:>8.1f}{statistics.median(times):>11.0f}"
            f"{p95:>9.0f}{recorder.errors[name]:>8}"
        )
    total_errors = sum(recorder.errors.values())
    print(f"{'all':<22}{recorder.count:>9}{recorder.count / elapsed:>8.1f}{'':>11}{worst:>9.0f}{total_errors:>8}")
    print(
        "budget: p95 <= 500 ms on every page and no errors:", "OK" if worst <= 500 and total_errors == 0 else "NOT MET"
    )


if __name__ == "__main__":
    main()
