"""The coordinator imports a CSV, opens the survey and downloads it, in a real browser."""

from __future__ import annotations

import pytest

from tests.builders import csv_bytes, site_row
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
    page.wait_for_load_state()
    assert "Tiedosto on kunnossa: 1 riviä." in page.content()
    assert_accessible(page)
    page.get_by_role("button", name="Tuo tiedosto").click()
    page.wait_for_load_state()
    assert "Tuotiin 1 riviä" in page.content()

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
    assert content.startswith(b"\xef\xbb\xbf") and b";places_total;" in content.splitlines()[0]

    page.get_by_role("button", name="In English").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Survey of places and placements"
    assert_accessible(page)
    page.goto(live_server + "/admin/import")
    assert_accessible(page)
