"""The catalogue on a phone (390×844) and a desktop (1366×900), in Finnish and English: every page
fits without sideways scrolling and passes axe, results or the map show on the first screen,
markers match the legend and the site page, popups are readable, and the site page prints cleanly."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import log_in_as
from tests.e2e.test_smoke import assert_accessible

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SIZES = {"phone": PHONE, "desktop": DESKTOP}


@pytest.fixture
def screen(browser, request):
    """A page of its own viewport size; closes its context whatever happens."""
    contexts = []

    def open_page(size: dict):
        context = browser.new_context(locale="fi-FI", viewport=size)
        contexts.append(context)
        page = context.new_page()
        page.console_messages = []
        page.on("console", lambda message: page.console_messages.append(message))
        return page

    try:
        yield open_page
    finally:
        for context in contexts:
            context.close()


def _signed_in(screen, live_server, account, size: dict, language: str):
    page = screen(size)
    log_in_as(page, live_server, account)
    if language == "en":
        page.get_by_role("button", name="In English").click()
        page.wait_for_load_state()
    return page


def _fits(page, path: str) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{path}: {width} px wide in a {inner} px window"


def _top(page, selector: str) -> float:
    return page.evaluate("(s) => document.querySelector(s).getBoundingClientRect().top", selector)


def _visit(page, live_server, path: str) -> None:
    page.goto(live_server + path)
    page.wait_for_load_state()
    if page.locator(".map-frame").count():
        page.wait_for_selector(".map-frame[data-ready]", timeout=10000)


@pytest.mark.parametrize("language", ["fi", "en"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_catalogue_pages_fit_the_screen_and_pass_axe(screen, live_server, live_accounts, size, language):
    viewport = SIZES[size]
    host = _signed_in(screen, live_server, live_accounts["host"], viewport, language)
    _visit(host, live_server, "/my/sites")
    site = host.locator(".my-site h3 a").first.get_attribute("href")
    capacity = host.locator("a[href$='/capacity']").first.get_attribute("href")
    opening_edit = host.locator("a[href^='/openings/'][href$='/edit']").first.get_attribute("href")
    # A host's page: every action is in reach without scrolling sideways.
    for link in host.locator("main td.actions a").all():
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], link.inner_text()
    paths = [
        "/my/sites",
        "/sites",
        "/sites?municipality=205&task=kitchen",
        "/map",
        "/map?municipality=290&free=1",
        site,
        site + "/edit",
        site + "/openings/new",
        opening_edit,
        capacity,
    ]
    for path in paths:
        _visit(host, live_server, path)
        _fits(host, path)
        assert_accessible(host)
        if path.startswith("/sites?") or path == "/sites":
            assert _top(host, ".site-results > li") < viewport["height"], f"{path}: no result on the first screen"
        if path.startswith("/map"):
            assert _top(host, ".map-frame") < viewport["height"] - 100, f"{path}: the map is below the first screen"

    coordinator = _signed_in(screen, live_server, live_accounts["coordinator"], viewport, language)
    for path in (site, "/sites/new"):
        _visit(coordinator, live_server, path)
        _fits(coordinator, path)
        assert_accessible(coordinator)
    errors = [m.text for page in (host, coordinator) for m in page.console_messages if m.type == "error"]
    assert errors == []


SHAPE = """(el) => { const s = getComputedStyle(el);
    return [s.transform, s.borderTopLeftRadius, s.backgroundColor, el.textContent.trim()]; }"""


def test_markers_look_like_the_legend_and_agree_with_the_site_page(screen, live_server, live_accounts):
    page = _signed_in(screen, live_server, live_accounts["social_worker"], DESKTOP, "fi")
    _visit(page, live_server, "/map")
    legend = {state: page.locator(".legend li .site-marker").nth(n).evaluate(SHAPE) for n, state in enumerate("fxs")}
    # Three different shapes: a circle, a square and a square turned into a diamond.
    assert legend["f"][1] == "50%" != legend["x"][1] and legend["x"][1] == legend["s"][1]
    assert legend["f"][0] == legend["x"][0] == "none" and legend["s"][0].startswith("matrix(0.707")
    markers = page.evaluate(
        "fetch(document.querySelector('.map-frame').dataset.markersUrl).then(r => r.json()).then(d => d.markers)"
    )
    by_state = {}
    for _lat, _lon, site_id, state, _name in markers:
        by_state.setdefault(state, site_id)
    assert set(by_state) == {"f", "x", "s"}, "the sample data has free, full and stale sites"
    for state, site_id in by_state.items():
        _visit(page, live_server, f"/sites/{site_id}")
        marker = page.locator(".small-map .site-marker")
        assert f"site-marker-{state}" in marker.get_attribute("class"), f"site {site_id} is {state} on the map"
        assert marker.evaluate(SHAPE) == legend[state], f"site {site_id}: its marker is not the legend's {state}"
        assert page.locator(".availability").get_attribute("data-availability") == state
        assert page.locator(".availability .site-marker").evaluate(SHAPE) == legend[state]


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_popup_is_readable_and_opens_inside_the_map(screen, live_server, live_accounts, size):
    viewport = SIZES[size]
    page = _signed_in(screen, live_server, live_accounts["social_worker"], viewport, "fi")
    _visit(page, live_server, "/map?municipality=697")  # Ristijärvi: a few sites, no clusters
    page.locator(".map-frame").scroll_into_view_if_needed()
    marker = page.locator(".leaflet-marker-icon").first
    marker.click()
    page.wait_for_selector(".leaflet-popup-content a", timeout=5000)
    page.wait_for_timeout(500)  # the pan after the content arrived
    content = page.locator(".leaflet-popup-content")
    width = content.evaluate("(el) => el.getBoundingClientRect().width")
    assert (250 if size == "desktop" else 200) <= width <= 330
    popup, frame = page.locator(".leaflet-popup").bounding_box(), page.locator(".map-frame").bounding_box()
    assert popup["y"] >= frame["y"] and popup["y"] + popup["height"] <= frame["y"] + frame["height"]
    assert popup["x"] >= frame["x"] and popup["x"] + popup["width"] <= frame["x"] + frame["width"]
    text = content.inner_text()
    assert re.search(r"\d{5} Ristijärvi", text), "the address"
    assert re.search(r"\d+/\d+ vapaana", text) and "Avaa toimipaikan sivu" in text
    lines = content.evaluate("(el) => el.querySelector('.popup-title strong').getClientRects().length")
    assert lines <= 2, "the name wraps word by word"


def test_the_site_page_prints_without_navigation_buttons_or_map(screen, live_server, live_accounts):
    page = _signed_in(screen, live_server, live_accounts["coordinator"], DESKTOP, "fi")
    _visit(page, live_server, "/sites")
    site = page.locator(".site-results h2 a").first.get_attribute("href")
    _visit(page, live_server, site)
    assert page.locator("nav.main-nav").is_visible() and page.locator("main button").first.is_visible()
    page.emulate_media(media="print")
    for hidden in ("header", "footer", "nav", "main button", ".small-map", ".leaflet-control-zoom", ".breadcrumb"):
        shown = [el for el in page.locator(hidden).all() if el.is_visible()]
        assert shown == [], hidden
    main = page.locator("main").inner_text()
    address = page.locator(".facts dd").nth(1).inner_text()
    assert re.search(r"\d{5} ", address) and address in main
    assert "@example.fi" in main and re.search(r"040 \d{3} \d{4}", main)
    assert re.search(r"Koordinaatit: 6\d\.\d{5}, 2\d\.\d{5} \(WGS84\)", main)
    assert page.locator(".opening").count() >= 1 and page.locator(".opening").first.is_visible()
    assert re.search(r"tulostettu \d+\.\d+\.\d{4}", main)
    assert len(page.pdf(format="A4")) > 1000
