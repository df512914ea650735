"""Logging in and the coordinator's pages in a real browser: accessible, no CSP violations."""

from __future__ import annotations

import pytest

from tests.e2e.test_smoke import assert_accessible

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

    page.get_by_role("link", name="Käyttäjät").click()
    assert page.locator("h1").inner_text() == "Käyttäjät"
    assert_accessible(page)

    page.get_by_role("link", name="Lokitiedot").click()
    assert page.locator("h1").inner_text() == "Lokitiedot"
    assert page.get_by_role("cell", name="kirjautui sisään", exact=True).count() >= 1
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
