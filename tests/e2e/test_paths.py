"""A service path in a real browser (docs/rules.md §18): a worker queues a client at a full
opening, the host ends the placement holding the place, the worker is told (inbox and
e-mail on the loopback SMTP server), proposes, the host accepts, and the client's path shows
each step. The new pages pass axe in Finnish and English."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from placements import clock
from placements.extensions import db
from placements.models import Opening, Site, User
from placements.services import clients, outbox, placements, sites
from tests.e2e.conftest import log_in_as
from tests.e2e.test_smoke import assert_accessible

pytestmark = pytest.mark.e2e

NEEDS = {
    "wanted_types": ("rehabilitative_work", "work_trial", "pay_subsidy", "ips_job"),
    "task_areas": (),
    "days_per_week": 7,
    "hours_per_day": 24.0,
    "max_travel_km": 1000,
    "needs_public_transport": False,
    "accessibility": (),
    "supports": ("language_support",),
    "max_physical_demand": "heavy",
    "max_social_intensity": "high",
    "languages": ("fi", "sv", "en"),
    "earliest_start": None,
    "note": None,
}


def _scene(live_app, live_accounts):
    """A new one-place opening at the host's organisation, held by another client of the
    worker, and a client of the worker whose needs match it."""
    with live_app.app_context():
        session = db.session
        session.execute(update(User).values(language="fi"))
        worker = session.scalar(select(User).where(User.email == live_accounts["social_worker"][0]))
        host = session.scalar(select(User).where(User.email == live_accounts["host"][0]))
        site = session.scalars(
            select(Site).where(Site.organisation_id == host.organisation_id).order_by(Site.id)
        ).first()
        model = session.scalars(select(Opening).where(Opening.site_id == site.id, Opening.type == "work_trial")).first()
        model = model or site.openings[0]
        values = {name: getattr(model, name) for name in sites.OPENING_DETAIL_FIELDS}
        values |= {"title": "Jonopolun testipaikka", "status": "open", "accepting_from": None}
        values["supports"] = tuple(sorted(set(values["supports"]) | {"language_support"}))
        opening = sites.create_opening(session, site, host, values=values, places_total=1, places_external=0)
        session.commit()
        today = clock.today()
        holder = clients.create_client(
            session, worker, municipality_code="205", home_postal_code=None, age_band="40-49", gender="unknown"
        )
        held = placements.propose(
            session, holder, opening, worker, days_per_week=opening.days_per_week_min,
            hours_per_day=opening.hours_per_day_min, start_date=today,
            planned_end=placements.add_months(today, 6), note_for_host=None, today=today,
        )  # fmt: skip
        placements.accept(session, held, host, now=clock.now())
        person = clients.create_client(
            session, worker, municipality_code="205", home_postal_code="87100", age_band="25-29", gender="unknown"
        )
        clients.save_needs(session, person, worker, NEEDS)
        session.commit()
        found = (opening.id, opening.title, site.name, held.id, person.code)
        outbox.send_pending(session)
        session.commit()
        db.session.remove()
    return found


def test_a_queued_client_is_told_of_the_freed_place_and_the_path_shows_each_step(
    browser, page, live_server, live_app, live_accounts, mail_server
):
    opening_id, title, site_name, held_id, code = _scene(live_app, live_accounts)
    worker_email = live_accounts["social_worker"][0]
    mail_before = len(mail_server.to(worker_email))

    # The worker queues the client from the matches page (full openings shown).
    log_in_as(page, live_server, live_accounts["social_worker"])
    page.get_by_role("link", name="Etusivu").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Vaatii huomiota"
    assert_accessible(page)
    page.goto(f"{live_server}/clients/{code}/matches?full=1")
    page.locator(f'form[action$="/queue/{opening_id}"] button').click()
    page.wait_for_load_state()
    queues = page.locator("section", has=page.get_by_role("heading", name="Jonot")).inner_text()
    assert f"{title}, {site_name}" in queues and "sija 1/1" in queues
    assert_accessible(page)

    # The host sees the queue (the code only) and ends the placement holding the place.
    host_page = browser.new_context(locale="fi-FI").new_page()
    log_in_as(host_page, live_server, live_accounts["host"])
    host_page.goto(live_server + "/my/sites")
    host_queues = host_page.locator("section", has=host_page.get_by_role("heading", name="Jonot")).inner_text()
    assert code in host_queues
    assert_accessible(host_page)
    host_page.goto(f"{live_server}/placements/{held_id}")
    host_page.get_by_label("Päättymisen syy").select_option("employed")
    host_page.get_by_role("button", name="Päätä sijoitus").click()
    host_page.wait_for_load_state()
    assert host_page.locator("h1").inner_text() == "Päätetäänkö sijoitus?"  # it asks first (§11.10)
    host_page.get_by_role("button", name="Päätä sijoitus").click()
    host_page.wait_for_load_state()

    # The worker is told: on the home page, in the inbox and by e-mail.
    page.goto(live_server + "/")
    assert code in page.locator("main").inner_text()
    page.locator(".notifications-link").click()
    page.wait_for_load_state()
    assert f"Paikka vapautui: {title}, {site_name}" in page.locator("main").inner_text()
    with live_app.app_context():
        outbox.send_pending(db.session)
        db.session.remove()
    received = mail_server.wait_for(worker_email, mail_before + 1)[mail_before:]
    assert [m["Subject"] for m in received] == [f"Paikka vapautui: {title}, {site_name}"]

    # The worker proposes; the host accepts.
    page.goto(f"{live_server}/clients/{code}/propose/{opening_id}")
    start = clock.today() + timedelta(days=1)
    page.get_by_label("Aloituspäivä").fill(start.isoformat())
    page.get_by_label("Suunniteltu päättyminen").fill(placements.add_months(start, 6).isoformat())
    page.get_by_role("button", name="Ehdota sijoitusta").click()
    page.wait_for_load_state()
    assert "Sijoitusta ehdotettiin" in page.locator(".flashes").inner_text()
    host_page.goto(live_server + "/my/sites")
    host_page.get_by_role("link", name=f"Asiakas {code}").first.click()
    host_page.wait_for_load_state()
    # The start is tomorrow: the placement is agreed to start then (docs/rules.md §5.1).
    host_page.get_by_role("button", name=re.compile(r"^Hyväksy sijoitus alkamaan")).click()
    host_page.wait_for_load_state()
    host_page.context.close()

    # The path shows each step, newest first; the queue is gone.
    page.goto(f"{live_server}/clients/{code}")
    path = page.locator("section", has=page.get_by_role("heading", name="Palvelupolku")).inner_text()
    for words in ("Tarpeet kirjattu", "lisätty jonoon", "paikka vapautui", "ehdotettu", "hyväksyi", "sijoitettu"):
        assert words in path, (words, path)
    assert page.locator("h2", has_text="Jonot").count() == 0
    assert_accessible(page)


@pytest.mark.parametrize("language", ["fi", "en"])
def test_the_plan_page_and_the_home_page_are_accessible(browser, live_server, live_app, live_accounts, language):
    with live_app.app_context():
        worker = db.session.scalar(select(User).where(User.email == live_accounts["social_worker"][0]))
        person = clients.create_client(
            db.session, worker, municipality_code="205", home_postal_code=None, age_band="50-59", gender="unknown"
        )
        db.session.commit()
        code = person.code
        db.session.remove()
    page = browser.new_context(locale="fi-FI").new_page()
    log_in_as(page, live_server, live_accounts["social_worker"])
    if language == "en":
        page.get_by_role("button", name="In English").click()
        page.wait_for_load_state()
    page.goto(f"{live_server}/clients/{code}/plan")
    page.get_by_role("button").filter(has_text="Tallenna suunnitelma" if language == "fi" else "Save the plan").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary").count() == 1  # the goal is required
    assert_accessible(page)
    page.goto(live_server + "/")
    assert_accessible(page)
    page.context.close()
