"""The social worker's client pages on a phone (390×844) and a desktop (1366×900), in Finnish
and English: the list, the client page, the client and needs forms, the matches page, the
close confirmation and the proposal page fit without sideways scrolling and pass axe, and
"why not this one?" answers where the worker is."""

from __future__ import annotations

import pytest

from tests.e2e.test_catalogue_screens import SIZES, _fits, _signed_in, _visit, screen  # noqa: F401
from tests.e2e.test_smoke import assert_accessible

pytestmark = pytest.mark.e2e


def _new_client_with_needs(page, live_server) -> str:
    """A client in Kajaani looking for rehabilitative work; the path of its matches page."""
    _visit(page, live_server, "/clients/new")
    page.select_option("#municipality_code", "205")
    page.select_option("#age_band", "30-39")
    page.locator("form.client-form [type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/needs"), page.url
    page.check("input[name=wanted_types][value=rehabilitative_work]")
    page.locator("form.client-form [type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/matches"), page.url
    return page.url.removeprefix(live_server)


def _check(page, path: str) -> None:
    _fits(page, path)
    assert_accessible(page)


@pytest.mark.parametrize("language", ["fi", "en"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_client_pages_fit_the_screen_and_pass_axe(screen, live_server, live_accounts, size, language):  # noqa: F811
    viewport = SIZES[size]
    page = _signed_in(screen, live_server, live_accounts["social_worker"], viewport, language)
    _visit(page, live_server, "/clients/new")
    _check(page, "/clients/new")
    matches = _new_client_with_needs(page, live_server)
    client_path = matches.removesuffix("/matches")
    page.wait_for_selector(".map-frame[data-ready]", timeout=10000)
    _check(page, matches)

    # "Why not this one?": the answer comes into view with focus after "Explain".
    page.locator("#why").select_option(index=3)
    page.locator(".why-form button:not([name=narrow])").click()
    page.wait_for_load_state()
    page.wait_for_selector("#why-not-answer")
    focused = page.evaluate("document.activeElement && document.activeElement.id")
    assert focused == "why-not-answer"
    top, bottom = page.evaluate(
        "(() => { const r = document.getElementById('why-not-answer').getBoundingClientRect();"
        " return [r.top, r.bottom]; })()"
    )
    assert 0 <= top < viewport["height"], (top, bottom)
    _check(page, matches + " (why not)")

    propose = page.locator("a[href*='/propose/']").first.get_attribute("href")
    for path in ("/clients", client_path, client_path + "/edit", client_path + "/needs", propose):
        _visit(page, live_server, path)
        _check(page, path)

    _visit(page, live_server, client_path)
    page.locator("form[action$='/close'] button").click()
    page.wait_for_load_state()
    assert page.locator("input[name=confirm]").count() == 1
    _check(page, client_path + "/close")
    errors = [m.text for m in page.console_messages if m.type == "error"]
    assert errors == []
