"""The catalogue in a real browser: hosts update places, workers filter the map, axe finds nothing."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import log_in_as, open_site_popup
from tests.e2e.test_smoke import assert_accessible

pytestmark = pytest.mark.e2e


def _wait_for_markers(page) -> int:
    page.wait_for_selector(".map-frame[data-ready]", timeout=5000)
    return int(page.get_attribute(".map-frame", "data-ready"))


def test_host_updates_places_and_the_list_and_map_popup_show_it(page, live_server, live_accounts):
    log_in_as(page, live_server, live_accounts["host"])
    assert page.locator("h1").inner_text() == "Omat toimipaikat"
    assert_accessible(page)

    page.get_by_role("link", name=re.compile("^Päivitä paikat: ")).first.click()
    assert_accessible(page)
    title = page.locator("h1").inner_text().split(": ", 1)[1]
    page.get_by_label("Paikkoja yhteensä").fill("9")
    page.get_by_label("Niistä muualta ohjattujen osallistujien käytössä").fill("2")
    page.get_by_role("button", name="Tallenna").click()
    page.wait_for_load_state()
    assert "Paikat tallennettu: " in page.content()

    page.goto(live_server + "/sites?q=" + title.split()[0])
    assert page.get_by_text(f"{title} – ").first.is_visible()
    item = page.locator("li", has_text=title).first
    assert "7/9 vapaana" in item.inner_text()
    site_link = page.locator(".site-result", has=page.locator("li", has_text=title)).first.get_by_role("link").first
    site_id = site_link.get_attribute("href").rsplit("/", 1)[1]

    page.goto(live_server + "/map")
    _wait_for_markers(page)
    assert "7/9 vapaana" in open_site_popup(page, site_id)


def test_worker_filters_the_map_by_municipality_and_task(page, live_server, live_accounts):
    log_in_as(page, live_server, live_accounts["social_worker"])
    page.goto(live_server + "/map")
    everything = _wait_for_markers(page)

    filters = page.get_by_role("search")
    filters.locator("summary", has_text="Lisää hakuehtoja").click()
    filters.locator("summary", has_text="Kunta").click()
    page.get_by_label("Kuhmo").check()
    filters.locator("summary", has_text="Tehtäväalueet").click()
    page.get_by_label("metsätyöt").check()
    page.get_by_role("button", name="Hae").click()
    page.wait_for_load_state()
    shown = _wait_for_markers(page)

    assert 0 < shown < everything
    assert "municipality=290" in page.url and "task=forestry" in page.url
    data = page.evaluate("fetch(document.querySelector('.map-frame').dataset.markersUrl).then(r => r.json())")
    assert len(data["markers"]) == shown == sum(data["counts"].values())
    assert page.locator("#map-count").inner_text() == f"{shown} toimipaikka{'' if shown == 1 else 'a'} kartalla"
    assert [int(n) for n in page.locator(".legend-count").all_inner_texts()] == list(data["counts"].values())
    page.get_by_role("link", name="Näytä luettelona").click()
    page.wait_for_load_state()
    assert f"<strong>{shown} toimipaik" in page.content()
    for meta in page.locator(".site-result .meta").all_inner_texts():
        assert meta.startswith("Kuhmo")
    # The panel stays open with the chosen filters named, and each row shows why it matched.
    assert page.locator("details.filter-panel").get_attribute("open") is not None
    assert "Kunta: Kuhmo" in page.locator("details.filter-panel").inner_text()
    assert page.locator(".site-result mark.task-match", has_text="metsätyöt").count() >= 1


def test_a_marker_popup_opens_from_the_keyboard(page, live_server, live_accounts):
    log_in_as(page, live_server, live_accounts["social_worker"])
    page.goto(live_server + "/map?municipality=697")  # Ristijärvi: a few sites, no clusters at fit zoom
    _wait_for_markers(page)
    marker = page.locator(".leaflet-marker-icon.map-marker").first
    marker.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector(".leaflet-popup-content a", timeout=5000)
    assert "Avaa toimipaikan sivu" in page.locator(".leaflet-popup-content").inner_text()


def test_the_map_asks_nothing_from_outside_but_the_tile_server(page, live_server, live_accounts, tile_server):
    log_in_as(page, live_server, live_accounts["social_worker"])
    page.requested.clear()
    page.goto(live_server + "/map")
    _wait_for_markers(page)
    page.wait_for_load_state("networkidle")
    outside = [
        url
        for url in page.requested
        if not (url.startswith(live_server + "/") or url.startswith(tile_server + "/") or url.startswith("data:"))
    ]
    assert outside == []
    assert any(url.startswith(tile_server + "/") for url in page.requested), "tiles come from MAP_TILES_URL"
    assert [m.text for m in page.console_messages if m.type == "error"] == []


@pytest.mark.parametrize("language", ["fi", "en"])
def test_catalogue_pages_and_forms_have_no_accessibility_violations(page, live_server, live_accounts, language):
    log_in_as(page, live_server, live_accounts["coordinator"])
    if language == "en":
        page.get_by_role("button", name="In English").click()
        page.wait_for_load_state()
    page.goto(live_server + "/sites")
    assert_accessible(page)
    site_href = page.locator(".site-result h2 a").first.get_attribute("href")
    page.goto(live_server + "/map")
    _wait_for_markers(page)
    assert_accessible(page)
    page.goto(live_server + site_href)
    _wait_for_markers(page)
    assert_accessible(page)
    for link in ("/edit",):
        page.goto(live_server + site_href + link)
        assert_accessible(page)
    page.goto(live_server + site_href)
    capacity = page.locator("a[href$='/capacity']").first.get_attribute("href")
    opening_edit = page.locator("a[href^='/openings/'][href$='/edit']").first.get_attribute("href")
    for path in (capacity, opening_edit, "/sites/new", "/admin/import", "/admin/organisations", "/admin/stale"):
        page.goto(live_server + path)
        assert_accessible(page)
    assert [m.text for m in page.console_messages if m.type == "error"] == []


def test_my_sites_in_english_is_accessible(page, live_server, live_accounts):
    log_in_as(page, live_server, live_accounts["host"])
    page.get_by_role("button", name="In English").click()
    page.wait_for_load_state()
    page.goto(live_server + "/my/sites")
    assert page.locator("h1").inner_text() == "My sites"
    assert_accessible(page)
