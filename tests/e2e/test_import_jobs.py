"""The import's job pages in a real browser: a progress bar while the worker runs the job,
which the page replaces with the result by itself (docs/rules.md §10.8, §16)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.builders import csv_bytes, site_row
from tests.e2e.conftest import log_in_as
from tests.e2e.test_smoke import assert_accessible

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")


def _wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"the job never reached {path.name}"
        time.sleep(0.05)


def _shoot(page, name: str) -> None:
    if SCREENSHOTS:
        for width in (390, 1366):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=f"{SCREENSHOTS}/{name}-{width}.png", full_page=True)


def test_the_progress_page_updates_itself_until_the_result_shows(page, live_server, live_app, live_accounts, tmp_path):
    hold = tmp_path / "hold"
    hold.touch()
    live_app.config["JOB_HOLD_FILE"] = str(hold)
    try:
        log_in_as(page, live_server, live_accounts["coordinator"])
        page.goto(live_server + "/admin/import")
        upload = tmp_path / "edistyminen.csv"
        upload.write_bytes(csv_bytes([site_row(site_ref=f"E2E-JOB-{n}", site_name=f"Paja {n}") for n in range(20)]))
        page.get_by_label("Toimipaikkojen CSV-tiedosto").set_input_files(str(upload))
        page.get_by_role("button", name="Tarkista tiedosto").click()
        _wait_for(Path(f"{hold}.checked"))  # the worker has checked every row and waits
        page.reload()

        assert page.locator("h1").inner_text() == "Tiedostoa tarkistetaan"
        bar = page.get_by_role("progressbar", name="Edistyminen")
        assert bar.get_attribute("max") == "100" and bar.get_attribute("value") == "100"
        assert "Käsittely on käynnissä" in page.locator("#job-status").inner_text()
        assert_accessible(page)
        _shoot(page, "job-progress-fi")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        hold.unlink()  # the worker finishes; the page notices and shows the preview
        page.get_by_text("Tiedosto on kunnossa: 20 riviä.").wait_for(timeout=20000)
        assert page.locator("h1").inner_text() == "Tuonnin esikatselu: edistyminen.csv"
        assert_accessible(page)
        _shoot(page, "job-preview-fi")

        page.get_by_role("button", name="Tuo tiedosto").click()
        page.get_by_text("Tuotiin 20 riviä").wait_for(timeout=20000)
        assert_accessible(page)
        _shoot(page, "job-done-fi")
        assert not [m for m in page.console_messages if m.type == "error"]
    finally:
        live_app.config["JOB_HOLD_FILE"] = ""
        hold.unlink(missing_ok=True)
