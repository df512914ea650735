"""Outcomes and places freeing in a real browser: in Finnish and English, at 390 and 1366 px,
with no accessibility violations and no sideways scrolling (docs/rules.md §8.8, §19)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from placements import clock
from placements.extensions import db
from placements.models import Client, Needs, Opening, Placement, User
from placements.services.clients import create_client
from tests.e2e.conftest import log_in_as
from tests.e2e.test_smoke import assert_accessible

pytestmark = pytest.mark.e2e

TYPES = ("rehabilitative_work", "work_trial", "pay_subsidy", "ips_job")


@pytest.fixture
def paths(live_app, live_accounts):
    """Six clients of the live worker who went KTT → work trial → pay subsidy → employed in
    2026, and one placement at the first KTT opening ending in 20 days; removed afterwards."""
    with live_app.app_context():
        worker = db.session.scalar(select(User).where(User.email == live_accounts["social_worker"][0]))
        openings = {
            kind: db.session.scalar(select(Opening).where(Opening.type == kind).order_by(Opening.id).limit(1))
            for kind in TYPES
        }
        made = []
        for number in range(6):
            client = create_client(
                db.session,
                worker,
                municipality_code="205",
                home_postal_code=None,
                age_band="30-39",
                gender="unknown",
                share_with=[],
            )
            made.append(client.id)
            steps = [
                ("rehabilitative_work", date(2026, 1, 5), date(2026, 4, 5), "completed"),
                ("work_trial", date(2026, 4, 10), date(2026, 6, 10), "completed"),
                ("pay_subsidy", date(2026, 6, 15), date(2026, 10, 15 + number), "employed"),
            ]
            for kind, start, end, reason in steps:
                db.session.add(
                    Placement(
                        client_id=client.id,
                        opening_id=openings[kind].id,
                        status="ended",
                        days_per_week=3,
                        hours_per_day=5.0,
                        start_date=start,
                        ended_on=end,
                        end_reason=reason,
                    )
                )
        db.session.add(
            Placement(
                client_id=made[0],
                opening_id=openings["rehabilitative_work"].id,
                status="active",
                days_per_week=3,
                hours_per_day=5.0,
                start_date=clock.today() - timedelta(days=100),
                planned_end=clock.today() + timedelta(days=20),
            )
        )
        site_id = openings["rehabilitative_work"].site_id
        db.session.commit()
        db.session.remove()
    try:
        yield site_id
    finally:
        with live_app.app_context():
            db.session.execute(delete(Placement).where(Placement.client_id.in_(made)))
            db.session.execute(delete(Needs).where(Needs.client_id.in_(made)))
            db.session.execute(delete(Client).where(Client.id.in_(made)))
            db.session.commit()
            db.session.remove()


def _shot(page, name: str) -> None:
    """A full-page screenshot into $SCREENSHOT_DIR, when set (to look at the layouts)."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def _fits(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow} px"


def _switch_to_english(page) -> None:
    page.get_by_role("button", name="In English").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("width", [390, 1366])
def test_outcome_pages_in_both_languages(browser, live_server, live_accounts, paths, width):
    context = browser.new_context(locale="fi-FI", viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        log_in_as(page, live_server, live_accounts["coordinator"])
        page.get_by_role("link", name="Tulokset").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Sijoitusten ja palvelupolkujen tulokset"
        page.goto(live_server + "/admin/outcomes?period=year&year=2026")
        paths_table = page.locator("table.outcomes-paths")
        ktt_row = paths_table.locator("tbody tr").first
        assert ktt_row.locator("th").inner_text() == "kuntouttava työtoiminta"
        assert ktt_row.locator("td").nth(1).inner_text() == "6"  # six clients went on to a work trial
        assert page.locator("svg.path-bars title").text_content() == "Polun siirtymät pinottuina pylväinä"
        assert page.locator("svg.path-bars rect").count() >= 3
        _fits(page)
        assert_accessible(page)
        _shot(page, f"outcomes-region-fi-{width}.png")
        _switch_to_english(page)
        assert page.locator("h1").inner_text() == "Outcomes of placements and paths"
        _fits(page)
        assert_accessible(page)
        _shot(page, f"outcomes-region-en-{width}.png")
        page.get_by_role("button", name="Suomeksi").click()  # the account's language for other tests
        page.wait_for_load_state()
        page.get_by_role("button", name="Kirjaudu ulos").click()
        page.wait_for_load_state()

        log_in_as(page, live_server, live_accounts["social_worker"])
        page.goto(live_server + "/clients/outcomes?period=year&year=2026")
        assert page.locator("h1").inner_text() == "Asiakkaideni tulokset"
        assert page.locator("table.outcomes-paths tbody tr").first.locator("td").nth(1).inner_text() == "6"
        _fits(page)
        assert_accessible(page)
        _shot(page, f"outcomes-own-fi-{width}.png")
        page.goto(live_server + f"/sites/{paths}")
        assert "30 päivän sisällä: 1" in page.locator(".capacity-ahead").first.inner_text()
        _fits(page)
        assert_accessible(page)
        _shot(page, f"outcomes-site-fi-{width}.png")
        _switch_to_english(page)
        page.goto(live_server + "/clients/outcomes?period=year&year=2026")
        assert page.locator("h1").inner_text() == "Outcomes of my clients"
        _fits(page)
        assert_accessible(page)
        page.goto(live_server + f"/sites/{paths}")
        assert "in 30 days: 1" in page.locator(".capacity-ahead").first.inner_text()
        _fits(page)
        assert_accessible(page)
        page.goto(live_server + "/sites?type=rehabilitative_work")
        _fits(page)
        assert_accessible(page)
        _shot(page, f"outcomes-sites-en-{width}.png")
        page.get_by_role("button", name="Suomeksi").click()  # the account's language for other tests
        page.wait_for_load_state()
    finally:
        context.close()
