"""Measure the catalogue's budgets on a generated database; prints medians.

    DATABASE_URL=sqlite:///bench/out/national.db python bench/generate.py --sites 10000
    DATABASE_URL=sqlite:///bench/out/national.db python bench/map_search.py

Budgets (issue: site catalogue, issue 16): /map's marker data <= 300 ms, a first view
(page + data) <= 250 KB compressed and a repeat view (page + 304) <= 20 KB; /sites with 3
filters median <= 50 ms; markers on screen in headless Chromium within 2 s of navigation.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import fixed_free_port, print_machine  # noqa: E402
from placements.permissions import SYSTEM  # noqa: E402

BENCH_EMAIL = "bench-worker@example.fi"
BENCH_PASSWORD = "bench password, not for production"  # noqa: S105


def timed(function, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def report(name: str, times: list[float], budget: float | None = None, unit: str = "ms") -> None:
    median = statistics.median(times)
    verdict = "" if budget is None else ("  OK" if median <= budget else "  OVER BUDGET")
    print(
        f"{name:<48} median {median:8.1f} {unit}  (min {min(times):.1f}, max {max(times):.1f}, n={len(times)}){verdict}"
    )


def ensure_user(app) -> None:
    from sqlalchemy import select

    from placements.extensions import db
    from placements.models import User
    from placements.services.users import create_user

    with app.app_context():
        if db.session.scalar(select(User).where(User.email == BENCH_EMAIL)) is None:
            create_user(
                db.session, SYSTEM, email=BENCH_EMAIL, name="Bench", role="social_worker", password=BENCH_PASSWORD
            )
            db.session.commit()


def logged_in_client(app):
    import re

    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"email": BENCH_EMAIL, "password": BENCH_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code
    return client


def server_side(app, repeats: int) -> None:
    import re

    client = logged_in_client(app)
    gzip = {"Accept-Encoding": "gzip"}
    page = client.get("/map", headers=gzip)
    assert page.status_code == 200
    found = re.search(r'data-markers-url="([^"]+)"', client.get("/map").get_data(as_text=True))
    if found is None:  # an earlier version: the marker data inside the page
        report("/map (all sites)", timed(lambda: client.get("/map"), repeats), 250)
        plain = client.get("/map")
        print(
            f"{'/map page with its marker data':<48} {len(plain.data) / 1024:8.0f} KB "
            f"({len(page.data) / 1024:.0f} KB gzip)"
        )
    else:
        data_url = found.group(1).replace("&amp;", "&")
        first = client.get(data_url, headers=gzip)
        plain = client.get(data_url)
        sites = len(plain.json["markers"])
        repeat = client.get(data_url, headers={**gzip, "If-None-Match": first.headers["ETag"]})
        assert repeat.status_code == 304, repeat.status_code
        report("/map page", timed(lambda: client.get("/map", headers=gzip), repeats))
        report("/map marker data, first view", timed(lambda: client.get(data_url, headers=gzip), repeats), 300)
        revalidate = {**gzip, "If-None-Match": first.headers["ETag"]}
        report("/map marker data, repeat view (304)", timed(lambda: client.get(data_url, headers=revalidate), repeats))
        print(
            f"{'/map first view: page + data, gzip':<48} {(len(page.data) + len(first.data)) / 1024:8.0f} KB "
            f"({len(page.data) / 1024:.1f} + {len(first.data) / 1024:.0f}; data uncompressed "
            f"{len(plain.data) / 1024:.0f} KB) for {sites} markers"
            f"{'  OK' if len(page.data) + len(first.data) <= 250 * 1024 else '  OVER'}"
        )
        print(
            f"{'/map repeat view: page + 304, gzip':<48} {(len(page.data) + len(repeat.data)) / 1024:8.1f} KB"
            f"{'  OK' if len(page.data) + len(repeat.data) <= 20 * 1024 else '  OVER'}"
        )
    three = "/sites?type=work_trial&task=kitchen&access=step_free_access"
    assert client.get(three).status_code == 200
    report("/sites, 3 filters (type, task, access)", timed(lambda: client.get(three), repeats * 2), 50)
    report("/sites, no filters, page 1", timed(lambda: client.get("/sites"), repeats))
    report("/sites near a point within 100 km", timed(lambda: client.get("/sites?near=62.0,25.7&km=100"), repeats))
    report("/sites text search", timed(lambda: client.get("/sites?q=verstas"), repeats))


def browser(app, repeats: int) -> None:
    from werkzeug.serving import make_server

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        print("Chromium not found: browser measurement skipped")
        return
    import logging

    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", fixed_free_port(8610), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
    ]
    with sync_playwright() as playwright:
        chrome = playwright.chromium.launch(executable_path=chromium, headless=True, args=args)
        page = chrome.new_page()
        page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())  # no internet here
        page.goto(base + "/login")
        page.fill("#email", BENCH_EMAIL)
        page.fill("#password", BENCH_PASSWORD)
        page.click("#submit")
        page.wait_for_load_state()
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            page.goto(base + "/map", wait_until="commit")
            page.wait_for_selector(".leaflet-marker-icon", state="visible", timeout=30000)
            times.append((time.perf_counter() - started) * 1000)
        report("Chromium: navigation to markers on screen", times, 2000)
        chrome.close()
    server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("PLACEMENTS_ENV", "development")
    os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
    from flask_migrate import upgrade

    from placements import create_app
    from placements.extensions import db
    from placements.models import Site

    app = create_app()
    with app.app_context():
        upgrade()
    ensure_user(app)
    with app.app_context():
        count = db.session.query(Site).count()
    print_machine()
    print(f"Database: {app.config['SQLALCHEMY_DATABASE_URI']} ({count} sites)")
    server_side(app, args.repeats)
    if not args.no_browser:
        browser(app, max(args.repeats // 3, 3))


if __name__ == "__main__":
    main()
