"""The coordinator imports a CSV, opens the survey and downloads it, in a real browser."""

from __future__ import annotations

import csv
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.builders import csv_bytes, site_row
from tests.conftest import ROOT
from tests.e2e.conftest import log_in_as
from tests.e2e.test_smoke import assert_accessible

pytestmark = pytest.mark.e2e


def test_import_then_survey_then_download(page, live_server, live_accounts, tmp_path):
    log_in_as(page, live_server, live_accounts["coordinator"])
    page.goto(live_server + "/admin/import")
    assert_accessible(page)
    upload = tmp_path / "uudet.csv"
    upload.write_bytes(
        csv_bytes(
            [site_row(site_ref="E2E-IMPORT", site_name="Selaintestin paja", places_total="7", places_external="0")],
            delimiter=";",
            bom=True,
        )
    )
    page.get_by_label("Toimipaikkojen CSV-tiedosto").set_input_files(str(upload))
    page.get_by_role("button", name="Tarkista tiedosto").click()
    page.get_by_text("Tiedosto on kunnossa: 1 riviä.").wait_for()  # the job's page shows the check when done
    assert_accessible(page)
    page.get_by_role("button", name="Tuo tiedosto").click()
    page.get_by_text("Tuotiin 1 riviä").wait_for()
    assert_accessible(page)

    page.get_by_role("link", name="Selvitys").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Paikkojen ja sijoitusten selvitys"
    assert_accessible(page)
    total = page.locator("tfoot tr").first.locator("td.num").nth(2).inner_text()
    assert int(total.replace("\u00a0", "").replace(" ", "")) > 7

    with page.expect_download() as download_info:
        page.get_by_role("link", name="kunnittain, suomalainen Excel").click()
    download = download_info.value
    assert download.suggested_filename.startswith("survey-") and download.suggested_filename.endswith("-excel.csv")
    content = open(download.path(), "rb").read()
    header = content.decode("utf-8-sig").splitlines()[0].split(";")
    assert content.startswith(b"\xef\xbb\xbf") and header[:4] == [
        "Ajanjakson alku",
        "Ajanjakson loppu",
        "Kuntanumero",
        "Kunta",
    ]

    page.get_by_role("button", name="In English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Survey of places and placements"
    assert_accessible(page)
    page.goto(live_server + "/admin/import")
    assert_accessible(page)


def _seed_sites(municipality_code: str) -> tuple[int, int]:
    """(distinct sites, openings) open or paused in the sample data of one municipality."""
    with open(ROOT / "data" / "seed_sites.csv", encoding="utf-8") as file:
        rows = [
            r for r in csv.DictReader(file) if r["municipality_code"] == municipality_code and r["status"] != "closed"
        ]
    return len({r["site_ref"] for r in rows}), len(rows)


def test_survey_totals_period_fields_and_small_screen(browser, live_server, live_accounts):
    context = browser.new_context(locale="fi-FI", viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in_as(page, live_server, live_accounts["coordinator"])
    page.goto(live_server + "/survey?period=year&year=2026&municipality=765")
    sites, openings = _seed_sites("765")
    assert sites < openings  # the sample data has sites with openings of several types
    total = page.locator("tfoot tr.region-total td.num")
    assert (total.nth(0).inner_text(), total.nth(1).inner_text()) == (str(sites), str(openings))
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert page.locator(".survey-charts figure").count() == 2
    assert_accessible(page)

    assert page.get_by_label("Vuosi", exact=True).is_visible() and not page.get_by_label("Kuukausi (1–12)").is_visible()
    page.get_by_label("Ajanjakso", exact=True).select_option("month")
    assert (
        page.get_by_label("Kuukausi (1–12)").is_visible() and not page.get_by_label("Vuosineljännes (1–4)").is_visible()
    )
    page.get_by_label("Kuukausi (1–12)").fill("3")
    page.get_by_role("button", name="Näytä").click()
    page.wait_for_load_state()
    assert parse_qsl(urlsplit(page.url).query) == [
        ("period", "month"),
        ("year", "2026"),
        ("month", "3"),
        ("municipality", "765"),
    ]
    assert page.locator("h2").first.inner_text() == "1.3.2026 – 31.3.2026"

    page.get_by_label("Ajanjakso", exact=True).select_option("custom")
    assert not page.get_by_label("Vuosi", exact=True).is_visible()
    page.get_by_label("Omat päivämäärät: alkaen").fill("2026-02-01")
    page.get_by_label("päättyen", exact=True).fill("2026-02-14")
    page.get_by_role("button", name="Näytä").click()
    page.wait_for_load_state()
    assert [k for k, _v in parse_qsl(urlsplit(page.url).query)] == ["period", "start", "end", "municipality"]
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    context.close()


def test_a_wrong_period_is_shown_on_its_field(page, live_server, live_accounts):
    log_in_as(page, live_server, live_accounts["coordinator"])
    page.goto(live_server + "/survey?period=quarter&year=2026&quarter=0")
    assert page.locator(".error-summary").inner_text().count("Vuosineljännes: valitse 1–4.") == 1
    assert page.get_by_label("Vuosineljännes (1–4)").get_attribute("aria-invalid") == "true"
    assert page.get_by_role("link", name="kunnittain").count() == 0  # nothing to download
    assert_accessible(page)
