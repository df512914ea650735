"""Destructive steps ask first, in a real browser (docs/rules.md §5.1, §11.10): the agreed
placement's page, and the confirmation steps of cancelling, declining, ending and archiving,
at 390 px and 1366 px, in Finnish and English: each fits the window and passes axe, and
nothing changes until the step's own button is pressed."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from placements import clock
from placements.extensions import db
from placements.models import Opening, Placement, Site, User
from placements.services import placements as placement_service
from tests.builders import Builder
from tests.e2e.conftest import log_in_as
from tests.e2e.test_smoke import assert_accessible

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


def _open_openings(host: User) -> list[Opening]:
    query = (
        select(Opening)
        .join(Site)
        .where(Site.organisation_id == host.organisation_id, Site.archived_at.is_(None))
        .where(Opening.archived_at.is_(None), Opening.status == "open")
        .order_by(Opening.id)
    )
    return [o for o in db.session.scalars(query) if o.free_places > 0 and o.accepting_from is None]


def _propose(build: Builder, worker: User, opening: Opening, start):
    client = build.client(worker)
    return build.placement(
        client,
        opening,
        worker,
        start_date=start,
        days_per_week=opening.days_per_week_min,
        hours_per_day=opening.hours_per_day_min,
        planned_end=placement_service.add_months(start, 6),
    )


@pytest.fixture
def placements(live_app, live_accounts):
    """A waiting proposal, an agreed placement (starts in ten days) and an active one, at the
    host's openings; each of them is closed again afterwards so other tests find the places free."""
    with live_app.app_context():
        worker = db.session.scalar(select(User).where(User.email == live_accounts["social_worker"][0]))
        host = db.session.scalar(select(User).where(User.email == live_accounts["host"][0]))
        build = Builder(db.session)
        openings = _open_openings(host)
        assert len(openings) >= 2, "the sample data has too few free places at the host's openings"
        later = clock.today() + timedelta(days=10)
        proposal = _propose(build, worker, openings[0], later)
        agreed = _propose(build, worker, openings[0], later)
        active = _propose(build, worker, openings[1], clock.today())
        for placement in (agreed, active):
            placement_service.accept(db.session, placement, host, now=clock.now())
        db.session.commit()
        ids = {"proposal": proposal.id, "agreed": agreed.id, "active": active.id, "site": openings[0].site_id}
        db.session.remove()
    yield ids
    with live_app.app_context():
        worker = db.session.scalar(select(User).where(User.email == live_accounts["social_worker"][0]))
        for key in ("proposal", "agreed", "active"):
            placement = db.session.get(Placement, ids[key])
            if placement.status == "proposed":
                placement_service.cancel(db.session, placement, worker, now=clock.now())
            elif placement.state == "agreed":
                placement_service.cancel(db.session, placement, worker, now=clock.now())
            elif placement.status == "active":
                placement_service.end(
                    db.session,
                    placement,
                    worker,
                    ended_on=clock.today(),
                    end_reason="other",
                    today=clock.today(),
                    now=clock.now(),
                )
            db.session.commit()
        db.session.remove()


def _check(page, name: str, size: str, language: str) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{name}: {width} px wide in a {inner} px window"
    assert page.locator("html").get_attribute("lang") == language
    assert_accessible(page)
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}-{language}-{SIZES[size]['width']}.png", full_page=True)


def _session(browser, live_server, account, size: str, language: str):
    context = browser.new_context(locale="fi-FI", viewport=SIZES[size])
    page = context.new_page()
    log_in_as(page, live_server, account)
    if language == "en":
        page.get_by_role("button", name="In English").click()
        page.wait_for_load_state()
    return context, page


def _status(live_app, placement_id: int) -> str:
    with live_app.app_context():
        status = db.session.get(Placement, placement_id).status
        db.session.remove()
    return status


WORDS = {
    "fi": {
        "cancel_before_start": "Peru sijoitus ennen sen alkua",
        "cancel_heading": "Perutaanko sijoitus ennen sen alkua?",
        "cancel_button": "Peru sijoitus",
        "back": "Palaa tekemättä muutoksia",
        "end": "Päätä sijoitus",
        "end_heading": "Päätetäänkö sijoitus?",
        "reason": "Hylkäämisen syy",
        "decline": "Hylkää",
        "decline_heading": "Hylätäänkö ehdotus?",
        "archive_opening": "Arkistoi tehtävä",
        "archive_opening_heading": "Arkistoidaanko tehtävä?",
        "archive_site": "Arkistoi toimipaikka",
        "archive_site_heading": "Arkistoidaanko toimipaikka?",
        "agreed": "sovittu, alkaa",
    },
    "en": {
        "cancel_before_start": "Cancel the placement before it starts",
        "cancel_heading": "Cancel the placement before it starts?",
        "cancel_button": "Cancel the placement",
        "back": "Go back without changes",
        "end": "End the placement",
        "end_heading": "End the placement?",
        "reason": "Reason for declining",
        "decline": "Decline",
        "decline_heading": "Decline the proposal?",
        "archive_opening": "Archive the opening",
        "archive_opening_heading": "Archive the opening?",
        "archive_site": "Archive the site",
        "archive_site_heading": "Archive the site?",
        "agreed": "agreed, starts on",
    },
}


@pytest.mark.parametrize("language", ["fi", "en"])
@pytest.mark.parametrize("size", list(SIZES))
def test_confirmation_steps_fit_the_screen_pass_axe_and_change_nothing_until_confirmed(
    browser, live_server, live_app, live_accounts, placements, size, language
):
    words = WORDS[language]
    contexts = []
    try:
        # The host: the agreed placement's page, then the cancel step, left without changes.
        context, host = _session(browser, live_server, live_accounts["host"], size, language)
        contexts.append(context)
        agreed_url = f"{live_server}/placements/{placements['agreed']}"
        host.goto(agreed_url)
        assert words["agreed"] in host.locator(".placement-state").inner_text()
        assert host.get_by_role("button", name=words["end"]).count() == 0  # an agreed placement is not ended
        _check(host, "placement-agreed", size, language)
        host.get_by_role("button", name=words["cancel_before_start"]).click()
        host.wait_for_load_state()
        assert host.locator("h1").inner_text() == words["cancel_heading"]
        _check(host, "confirm-cancel", size, language)
        host.get_by_role("link", name=words["back"]).click()
        host.wait_for_load_state()
        assert host.url == agreed_url
        assert _status(live_app, placements["agreed"]) == "active"

        # The host declines the waiting proposal: the step repeats the reason.
        host.goto(f"{live_server}/placements/{placements['proposal']}")
        host.get_by_label(words["reason"]).fill("Ryhmä on täynnä keväällä.")
        host.get_by_role("button", name=words["decline"], exact=True).click()
        host.wait_for_load_state()
        assert host.locator("h1").inner_text() == words["decline_heading"]
        assert "Ryhmä on täynnä keväällä." in host.locator("main").inner_text()
        _check(host, "confirm-decline", size, language)
        assert _status(live_app, placements["proposal"]) == "proposed"

        # The host's end step of the active placement.
        host.goto(f"{live_server}/placements/{placements['active']}")
        host.get_by_role("button", name=words["end"]).click()
        host.wait_for_load_state()
        assert host.locator("h1").inner_text() == words["end_heading"]
        _check(host, "confirm-end", size, language)
        assert _status(live_app, placements["active"]) == "active"

        # Omat toimipaikat: who proposed, and the agreed placement apart from the started ones.
        host.goto(f"{live_server}/my/sites")
        placements_section = host.locator("section", has=host.locator("#placements-heading")).inner_text()
        assert "ohjaaja@example.fi" in placements_section and words["agreed"] in placements_section
        _check(host, "my-sites", size, language)

        # The coordinator's archive steps, left without changes.
        context, coordinator = _session(browser, live_server, live_accounts["coordinator"], size, language)
        contexts.append(context)
        site_url = f"{live_server}/sites/{placements['site']}"
        coordinator.goto(site_url)
        coordinator.get_by_role("button", name=words["archive_opening"]).first.click()
        coordinator.wait_for_load_state()
        assert coordinator.locator("h1").inner_text() == words["archive_opening_heading"]
        _check(coordinator, "confirm-archive-opening", size, language)
        coordinator.goto(site_url)
        coordinator.get_by_role("button", name=words["archive_site"]).click()
        coordinator.wait_for_load_state()
        assert coordinator.locator("h1").inner_text() == words["archive_site_heading"]
        _check(coordinator, "confirm-archive-site", size, language)
        coordinator.get_by_role("link", name=words["back"]).click()
        coordinator.wait_for_load_state()
        assert coordinator.url == site_url
        with live_app.app_context():
            site = db.session.get(Site, placements["site"])
            assert site.archived_at is None and all(o.archived_at is None for o in site.openings)
            db.session.remove()
    finally:
        for context in contexts:
            context.close()


def test_cancelling_an_agreed_placement_through_its_step(browser, live_server, live_app, live_accounts, placements):
    context, worker = _session(browser, live_server, live_accounts["social_worker"], "desktop", "fi")
    try:
        url = f"{live_server}/placements/{placements['agreed']}"
        worker.goto(url)
        worker.get_by_role("button", name="Peru sijoitus ennen sen alkua").click()
        worker.wait_for_load_state()
        assert "Toimipaikan yhdyshenkilöt saavat tiedon." in worker.locator("main").inner_text()
        worker.get_by_role("button", name="Peru sijoitus", exact=True).click()
        worker.wait_for_load_state()
        assert worker.url == url  # post/redirect/get
        assert "Sijoitus peruttiin ennen sen alkua, ja paikka on taas vapaana." in worker.locator("main").inner_text()
        assert "Ehdotus peruttiin" not in worker.content()
        assert _status(live_app, placements["agreed"]) == "cancelled"
    finally:
        context.close()
