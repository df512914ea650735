"""The hand-off in a real browser: a worker proposes, the host is told (header and e-mail),
accepts, and the worker is told (inbox and e-mail). The pages of notifications pass axe."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from placements.extensions import db
from placements.models import Notification, Opening, Site, User
from placements.services import outbox, tokens
from tests.e2e.conftest import log_in_as
from tests.e2e.test_smoke import assert_accessible
from tests.mail_server import text_of

pytestmark = pytest.mark.e2e


def _host_opening(live_app, host_email: str):
    """An open opening with free places at the host's organisation: (id, title, site name)."""
    with live_app.app_context():
        host = db.session.scalar(select(User).where(User.email == host_email))
        db.session.execute(update(Notification).values(read_at=db.func.now()))
        # Earlier tests may have switched these accounts to English; mail follows the account.
        db.session.execute(update(User).values(language="fi"))
        db.session.commit()
        opening = db.session.scalars(
            select(Opening)
            .join(Site)
            .where(Site.organisation_id == host.organisation_id, Opening.status == "open")
            .where(Opening.places_total - Opening.places_external - Opening.places_taken > 1)
            .order_by(Opening.id)
        ).first()
        found = (opening.id, opening.title, opening.site.name, opening.type)
        db.session.remove()
    return found


def _send(live_app):
    with live_app.app_context():
        outbox.send_pending(db.session)
        db.session.remove()


def test_a_proposal_and_its_acceptance_reach_both_people(
    browser, page, live_server, live_app, live_accounts, mail_server
):
    host_email = live_accounts["host"][0]
    worker_email = live_accounts["social_worker"][0]
    opening_id, title, site_name, kind = _host_opening(live_app, host_email)
    _send(live_app)  # what earlier tests left in the outbox
    host_mail_before = len(mail_server.to(host_email))
    worker_mail_before = len(mail_server.to(worker_email))

    # The worker creates a client and proposes a placement.
    log_in_as(page, live_server, live_accounts["social_worker"])
    page.goto(live_server + "/clients/new")
    page.get_by_label("Asuinkunta").select_option("205")
    page.get_by_label("Ikäryhmä").select_option("30-39")
    page.get_by_role("button", name="Tallenna").click()
    page.wait_for_load_state()
    code = re.search(r"K-[A-Z0-9]{4}-[A-Z0-9]{4}", page.locator("h1").inner_text()).group(0)
    page.goto(f"{live_server}/clients/{code}/propose/{opening_id}")
    page.get_by_role("button", name="Ehdota sijoitusta").click()
    page.wait_for_load_state()
    assert "Sijoitusta ehdotettiin" in page.locator(".flashes").inner_text()

    # The host sees one unread notification in the header, and has the e-mail.
    host_page = browser.new_context(locale="fi-FI").new_page()
    log_in_as(host_page, live_server, live_accounts["host"])
    badge = host_page.locator(".notifications-link .badge")
    assert badge.inner_text() == "1"
    _send(live_app)
    received = mail_server.wait_for(host_email, host_mail_before + 1)[host_mail_before:]
    assert [m["Subject"] for m in received] == [f"Uusi sijoitusehdotus: {title}, {site_name}"]
    assert code in text_of(received[0])

    # From the inbox to the placement, and accept it.
    host_page.locator(".notifications-link").click()
    host_page.wait_for_load_state()
    assert_accessible(host_page)
    host_page.get_by_role("link", name=f"Uusi sijoitusehdotus: {title}, {site_name}").first.click()
    host_page.wait_for_load_state()
    assert code in host_page.locator("main").inner_text()
    host_page.get_by_role("button", name="Hyväksy ja aloita sijoitus").click()
    host_page.wait_for_load_state()
    assert host_page.locator(".notifications-link .badge").count() == 0

    # The worker is told: in the registry and by e-mail.
    page.reload()
    assert page.locator(".notifications-link .badge").inner_text() == "1"
    page.locator(".notifications-link").click()
    page.wait_for_load_state()
    assert f"Ehdotus hyväksytty: {title}, {site_name}" in page.locator("main").inner_text()
    _send(live_app)
    accepted = mail_server.wait_for(worker_email, worker_mail_before + 1)[worker_mail_before:]
    assert [m["Subject"] for m in accepted] == [f"Ehdotus hyväksytty: {title}, {site_name}"]
    host_page.context.close()


@pytest.mark.parametrize("language", ["fi", "en"])
def test_the_notification_pages_are_accessible(browser, live_server, live_app, live_accounts, language):
    context = browser.new_context(locale="fi-FI")
    page = context.new_page()
    log_in_as(page, live_server, live_accounts["host"])
    if language == "en":
        page.get_by_role("button", name="In English").click()
        page.wait_for_load_state()
    for path in ("/notifications", "/account/preferences"):
        page.goto(live_server + path)
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page)
    with live_app.app_context():
        host = db.session.scalar(select(User).where(User.email == live_accounts["host"][0]))
        opening = db.session.scalars(
            select(Opening).join(Site).where(Site.organisation_id == host.organisation_id)
        ).first()
        link = tokens.confirm_link(opening.id, host.id, opening.last_confirmed_at)
        db.session.remove()
    page.goto(live_server + link)
    assert page.get_by_role("button").filter(has_text=re.compile("ajan tasalla|up to date")).count() == 1
    assert_accessible(page)
    page.goto(live_server + "/confirm/not-a-real-token")
    assert_accessible(page)
    context.close()
