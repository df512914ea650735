"""The home page in a real browser, in Finnish and English, with no accessibility violations."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.e2e

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def assert_accessible(page) -> None:
    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()


def test_home_page_in_finnish_then_english_is_accessible(page, live_server):
    page.goto(live_server + "/")

    assert page.locator("html").get_attribute("lang") == "fi"
    assert page.locator("h1").inner_text() == "Kuntouttavan työtoiminnan ja tuetun työllistymisen paikat Kainuussa"
    assert page.locator("tbody tr").count() == 8
    assert_accessible(page)

    page.get_by_role("button", name="In English").click()
    page.wait_for_load_state()

    assert page.locator("html").get_attribute("lang") == "en"
    assert (
        page.locator("h1").inner_text() == "Places for rehabilitative work activity and supported employment in Kainuu"
    )
    assert_accessible(page)
    errors = [m.text for m in page.console_messages if m.type == "error"]
    assert errors == []


def test_skip_link_moves_keyboard_focus_to_the_content(page, live_server):
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Siirry sisältöön"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_the_accessibility_check_does_find_violations(page):
    """Guards the check above: a page with an unlabelled image must fail it."""
    page.set_content('<html lang="fi"><head><title>t</title></head><body><main><img src="data:,"></main></body></html>')
    assert Axe().run(page, options=WCAG_21_AA).violations_count > 0
