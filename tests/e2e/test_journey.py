"""The whole journey in a real browser: client, needs, matches, proposal, acceptance, end."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import log_in_as, open_site_popup
from tests.e2e.test_smoke import assert_accessible

pytestmark = pytest.mark.e2e


def free_of(text: str, title: str) -> tuple[int, int]:
    match = re.search(re.escape(title) + r" – (\d+)/(\d+) vapaana", text)
    assert match, f"{title!r} not found with free places"
    return int(match.group(1)), int(match.group(2))


def site_result(page, site_name: str) -> str:
    """The text of one site's row on the list."""
    return page.locator(".site-result", has=page.get_by_role("link", name=site_name, exact=True)).inner_text()


def popup_text(page, site_id: str) -> str:
    return page.evaluate("(id) => fetch('/sites/' + id + '/popup').then(r => r.text())", site_id)


def test_from_needs_to_an_active_placement_and_back(browser, page, live_server, live_accounts):
    log_in_as(page, live_server, live_accounts["social_worker"])
    assert page.locator("h1").inner_text() == "Asiakkaat"

    # A new client: only a generated code, never a name.
    page.get_by_role("link", name="Uusi asiakas").click()
    page.get_by_label("Asuinkunta").select_option("205")
    page.get_by_label("Kodin postinumero").fill("87100")
    page.get_by_label("Ikäryhmä").select_option("30-39")
    assert_accessible(page)
    page.get_by_role("button", name="Tallenna").click()
    page.wait_for_load_state()
    code = re.search(r"K-[A-Z0-9]{4}-[A-Z0-9]{4}", page.locator("h1").inner_text()).group(0)

    # Needs, wide enough that the host's own openings fit.
    for label in ("kuntouttava työtoiminta", "työkokeilu", "palkkatuettu työ", "IPS-työpaikka (tuettu työllistyminen)"):
        page.get_by_role("group", name="Millaista paikkaa asiakas etsii").get_by_label(label, exact=True).check()
    page.get_by_role("group", name="Toivotut tehtäväalueet").get_by_label("kierrätys", exact=True).check()
    page.get_by_label("Päiviä viikossa, joina asiakas jaksaa työskennellä").fill("4")
    page.get_by_label("Tunteja päivässä, jotka asiakas jaksaa työskennellä").fill("6")
    page.get_by_label("Pisin mahdollinen etäisyys kotoa (km, linnuntietä)").fill("10")
    assert_accessible(page)
    page.get_by_role("button", name="Tallenna tarpeet").click()
    page.wait_for_load_state()

    # Matches with reasons; propose at the host's site.
    assert "Asiakkaalle " + code + " sopivat tehtävät" in page.locator("h1").inner_text()
    assert page.locator(".match .reasons").first.inner_text().count("·") >= 1
    page.wait_for_selector(".map-frame[data-ready]")
    assert_accessible(page)
    host_site = "Kierrätyskeskus Kiertokulku, Kajaani"
    match = page.locator(".match", has=page.locator(".meta", has_text=host_site)).first
    title = match.locator("h2 a").inner_text()
    match.get_by_role("link", name=re.compile("Ehdota sijoitusta")).click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_role("button", name="Ehdota sijoitusta").click()
    page.wait_for_load_state()
    assert "Sijoitusta ehdotettiin" in page.content()
    placement_url = page.url
    assert_accessible(page)
    site_id = page.get_by_role("link", name=host_site).get_attribute("href").rsplit("/", 1)[1]
    listing = live_server + "/sites?q=" + host_site.split(",")[0]
    page.goto(listing)
    before = free_of(site_result(page, host_site), title)

    # The host accepts.
    host_context = browser.new_context(locale="fi-FI")
    host = host_context.new_page()
    log_in_as(host, live_server, live_accounts["host"])
    assert code in host.content()
    host.goto(placement_url)
    assert "tarpeet" not in host.locator("main").inner_text().lower()
    assert_accessible(host)
    host.get_by_role("button", name="Hyväksy ja aloita sijoitus").click()
    host.wait_for_load_state()
    assert "Sijoitus alkoi" in host.content()
    host_context.close()

    page.goto(listing)
    assert free_of(site_result(page, host_site), title) == (before[0] - 1, before[1])
    assert f"{before[0] - 1}/{before[1]} vapaana" in popup_text(page, site_id)
    page.goto(live_server + "/map")
    page.wait_for_selector(".map-frame[data-ready]")
    assert f"{before[0] - 1}/{before[1]} vapaana" in open_site_popup(page, site_id)

    # The worker ends the placement; the place is free again.
    page.goto(placement_url)
    page.get_by_label("Päättymisen syy").select_option("employed")
    page.get_by_role("button", name="Päätä sijoitus").click()
    page.wait_for_load_state()
    # The confirmation step states the consequence; nothing has ended yet (docs/rules.md §11.10).
    assert page.locator("h1").inner_text() == "Päätetäänkö sijoitus?"
    assert "syy: työllistyi." in page.locator("main").inner_text()
    assert_accessible(page)
    page.goto(listing)
    assert free_of(site_result(page, host_site), title) == (before[0] - 1, before[1])
    page.goto(placement_url)
    page.get_by_label("Päättymisen syy").select_option("employed")
    page.get_by_role("button", name="Päätä sijoitus").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Päätä sijoitus").click()
    page.wait_for_load_state()
    assert page.url == placement_url  # post/redirect/get
    assert "paikka on taas vapaana" in page.content()
    page.goto(listing)
    assert free_of(site_result(page, host_site), title) == before
    assert [m.text for m in page.console_messages if m.type == "error"] == []

    # The same pages in English.
    page.get_by_role("button", name="In English").click()
    page.wait_for_load_state()
    for path in ("/clients", f"/clients/{code}", f"/clients/{code}/needs", f"/clients/{code}/matches", placement_url):
        page.goto(path if path.startswith("http") else live_server + path)
        if "/matches" in path:
            page.wait_for_selector(".map-frame[data-ready]")
        assert page.locator("html").get_attribute("lang") == "en"
        assert_accessible(page)
