"""Logging in and the coordinator's pages in a real browser: accessible, no CSP violations."""

from __future__ import annotations

import re

import pytest

from placements.extensions import db
from placements.services import outbox
from tests.e2e.conftest import log_in_as
from tests.e2e.test_smoke import assert_accessible
from tests.mail_server import text_of

pytestmark = pytest.mark.e2e


def _csp_or_script_errors(page) -> list[str]:
    return [m.text for m in page.console_messages if m.type == "error"]


def test_coordinator_logs_in_and_uses_the_user_and_audit_pages(page, live_server, live_accounts):
    email, password = live_accounts["coordinator"]
    page.goto(live_server + "/login")
    assert_accessible(page)
    page.get_by_label("Sähköpostiosoite").fill(email)
    page.get_by_label("Salasana").fill(password)
    page.get_by_role("button", name="Kirjaudu sisään").click()
    page.wait_for_load_state()
    if page.locator("html").get_attribute("lang") != "fi":  # the account remembers its last language
        page.get_by_role("button", name="Suomeksi").click()
        page.wait_for_load_state()

    page.get_by_role("link", name="Käyttäjät").click()
    assert page.locator("h1").inner_text() == "Käyttäjät"
    assert_accessible(page)

    page.get_by_role("link", name="Lokitiedot").click()
    assert page.locator("h1").inner_text() == "Lokitiedot"
    events = page.locator("table.audit-events td")  # the event's name, then its object
    assert events.filter(has=page.get_by_text("kirjautui sisään", exact=True)).count() >= 1
    assert_accessible(page)

    page.get_by_role("button", name="Kirjaudu ulos").click()
    page.wait_for_load_state()
    assert "Olet kirjautunut ulos." in page.content()
    assert _csp_or_script_errors(page) == []


def test_wrong_password_shows_a_generic_error(page, live_server, live_accounts):
    email, _ = live_accounts["social_worker"]
    page.goto(live_server + "/login")
    page.get_by_label("Sähköpostiosoite").fill(email)
    page.get_by_label("Salasana").fill("not the right one")
    page.get_by_role("button", name="Kirjaudu sisään").click()
    page.wait_for_load_state()
    assert "Sähköpostiosoite tai salasana on väärin." in page.content()
    assert_accessible(page)


def _new_worker_through_the_link(browser, coordinator, live_server, live_app, mail_server, email: str, name: str):
    """The coordinator creates the account; its owner gets the link by e-mail and sets the password."""
    coordinator.goto(live_server + "/admin/users")
    coordinator.get_by_label("Sähköpostiosoite").fill(email)
    coordinator.get_by_label("Nimi", exact=True).fill(name)
    coordinator.get_by_label("Rooli").select_option("social_worker")
    coordinator.get_by_role("button", name="Luo käyttäjätunnus").click()
    coordinator.wait_for_load_state()
    assert coordinator.locator("h1").inner_text() == "Käyttäjät"
    assert f"lähetettiin sähköpostiin osoitteeseen {email}" in coordinator.locator(".flashes").inner_text()
    assert "/account/set-password/" not in coordinator.content()  # the coordinator never sees it
    assert_accessible(coordinator)
    with live_app.app_context():
        outbox.send_pending(db.session)
        db.session.remove()
    [message] = mail_server.wait_for(email)
    link = re.search(r"http://127\.0\.0\.1:5000(/account/set-password/\S+)", text_of(message)).group(1)
    link = live_server + link

    context = browser.new_context(locale="fi-FI", viewport={"width": 390, "height": 844})
    owner = context.new_page()
    owner.goto(link)
    assert owner.locator("h1").inner_text() == "Aseta salasanasi"
    assert_accessible(owner)
    owner.get_by_label("Uusi salasana", exact=True).fill(NEW_PASSWORD)
    owner.get_by_label("Uusi salasana uudelleen").fill(NEW_PASSWORD)
    owner.get_by_role("button", name="Aseta salasana").click()
    owner.wait_for_load_state()
    assert owner.locator("h1").inner_text() == "Asiakkaat"
    if name.startswith("Lähtevä"):
        owner.get_by_role("link", name="Uusi asiakas").click()
        owner.get_by_label("Asuinkunta").select_option("205")
        owner.get_by_label("Ikäryhmä").select_option("30-39")
        owner.get_by_role("button", name="Tallenna").click()
        owner.wait_for_load_state()
    owner.goto(link)
    assert owner.locator("h1").inner_text() == "Linkki on jo käytetty"
    assert_accessible(owner)
    context.close()


NEW_PASSWORD = "selaimen oma uusi salasana"


def test_accounts_by_link_and_moving_clients_fit_the_screen(
    browser, page, live_server, live_app, live_accounts, mail_server
):
    log_in_as(page, live_server, live_accounts["coordinator"])
    for email, name in (("lahteva@example.fi", "Lähtevä Ohjaaja"), ("jatkava@example.fi", "Jatkava Ohjaaja")):
        _new_worker_through_the_link(browser, page, live_server, live_app, mail_server, email, name)

    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server + "/admin/users")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert_accessible(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(live_server + "/admin/users")
    row = page.locator("tr", has_text="lahteva@example.fi")
    move = row.get_by_role("link", name="Siirrä asiakkaat")
    box = move.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1366  # not cut off
    assert page.locator("tr", has_text="jatkava@example.fi").get_by_role("link", name="Siirrä asiakkaat").count() == 0

    row.get_by_role("button", name="Poista käytöstä").click()  # asks first
    page.wait_for_load_state()
    assert "Poistetaanko" in page.locator("h1").inner_text()
    assert_accessible(page)
    page.get_by_role("link", name="Peruuta").click()
    page.wait_for_load_state()

    page.locator("tr", has_text="lahteva@example.fi").get_by_role("link", name="Siirrä asiakkaat").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_label("Sosiaaliohjaaja, jolle asiakkaat siirretään").select_option(
        label="Jatkava Ohjaaja (jatkava@example.fi)"
    )
    page.get_by_role("button", name="Siirrä 1 asiakas").click()
    page.wait_for_load_state()
    assert "Asiakkaita siirrettiin 1" in page.content()
    assert _csp_or_script_errors(page) == []


def test_organisations_page_has_search_and_the_add_form_first(page, live_server, live_accounts):
    log_in_as(page, live_server, live_accounts["coordinator"])
    page.goto(live_server + "/admin/organisations")
    page.get_by_label("Hae järjestäjiä").fill("kajaanin")
    page.get_by_role("button", name="Hae", exact=True).click()
    page.wait_for_load_state()
    assert "kajaanin" in page.url
    assert_accessible(page)
    page.get_by_text("Uusi järjestäjä").click()  # the add form opens at the top
    assert page.get_by_label("Nimi", exact=True).is_visible()
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
