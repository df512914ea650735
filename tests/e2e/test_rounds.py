"""A whole survey round in a real browser (issue 14, "Done when"): the coordinator opens it,
two hosts get the invitation by e-mail, one confirms all but one opening and corrects that,
the other does not answer and gets the reminder, the rate shows 50 %, the round is closed,
the report, CSVs and PDF show the frozen numbers, a later edit does not change them, and the
next year's round shows the change. Every round page passes axe."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from placements import clock
from placements.extensions import db
from placements.models import Opening, Organisation, Site, SurveyRound, User
from placements.permissions import SYSTEM
from placements.services import outbox, sites
from placements.services.users import create_user
from tests.e2e.conftest import LIVE_PASSWORD, log_in_as
from tests.e2e.test_smoke import assert_accessible

pytestmark = pytest.mark.e2e

SECOND_HOST = ("isanta.kierros@example.fi", LIVE_PASSWORD)


def _live_openings(organisation_id: int) -> list[Opening]:
    return db.session.scalars(
        select(Opening)
        .join(Site)
        .where(Site.organisation_id == organisation_id, Opening.archived_at.is_(None), Site.archived_at.is_(None))
        .order_by(Opening.id)
    ).all()


def _prepare(live_app, host_email: str):
    """The first host's organisation and another one with openings, and a host for it."""
    with live_app.app_context():
        db.session.execute(update(User).values(language="fi"))
        first = db.session.scalar(select(User).where(User.email == host_email)).organisation_id
        second = db.session.scalar(
            select(Organisation.id).join(Site).where(Organisation.id != first).order_by(Organisation.id).limit(1)
        )
        if db.session.scalar(select(User).where(User.email == SECOND_HOST[0])) is None:
            create_user(
                db.session,
                SYSTEM,
                email=SECOND_HOST[0],
                name="Toinen isäntä",
                role="host",
                password=LIVE_PASSWORD,
                organisation_id=second,
            )
        db.session.commit()
        ids = (first, second)
        db.session.remove()
    return ids


def _figures(live_app, organisation_ids) -> tuple[int, int]:
    """(places in total, distinct sites) of the organisations' live openings that are not closed."""
    with live_app.app_context():
        openings = [o for oid in organisation_ids for o in _live_openings(oid) if o.status != "closed"]
        result = (sum(o.places_total for o in openings), len({o.site_id for o in openings}))
        db.session.remove()
    return result


def _send(live_app):
    with live_app.app_context():
        outbox.send_pending(db.session)
        db.session.remove()


def _round_opened(live_app, name: str) -> int:
    for _ in range(150):
        with live_app.app_context():
            found = db.session.scalar(select(SurveyRound).where(SurveyRound.name == name))
            state = (found.id, found.status) if found else None
            db.session.remove()
        if state and state[1] == "open":
            return state[0]
        time.sleep(0.2)
    raise AssertionError(f"the round {name} did not open")


def _create(page, live_server, live_app, name: str, year: int, organisation_ids) -> int:
    page.goto(live_server + "/admin/rounds")
    page.get_by_label("Nimi").fill(name)
    page.get_by_label("Viitepäivä").fill(f"{year}-12-31")
    page.get_by_label("Jakso alkaen").fill(f"{year}-01-01")
    page.get_by_label("Jakso päättyen").fill(f"{year}-12-31")
    page.get_by_label("Määräpäivä").fill((clock.today() + timedelta(days=10)).isoformat())
    page.get_by_label("Organisaatiot (jos mitään ei valita: kaikki)").select_option([str(i) for i in organisation_ids])
    page.get_by_role("button", name="Avaa kyselykierros").click()
    page.wait_for_load_state()
    assert "/jobs/" in page.url
    return _round_opened(live_app, name)


def _close(page, live_server, round_id: int) -> None:
    page.goto(f"{live_server}/admin/rounds/{round_id}")
    page.get_by_role("link", name="Sulje kyselykierros").click()
    page.wait_for_load_state()
    assert_accessible(page)
    page.get_by_role("button", name="Sulje kyselykierros ja jäädytä luvut").click()
    page.wait_for_load_state()
    assert f"/admin/rounds/{round_id}/report" in page.url


def _total_row(page, round_id: int) -> dict:
    response = page.request.get(f"{page.url.split('/admin')[0]}/admin/rounds/{round_id}/report.csv")
    rows = list(csv.DictReader(io.StringIO(response.text())))
    return rows[-1]


def test_a_whole_survey_round(browser, page, live_server, live_app, live_accounts, mail_server):
    from pypdf import PdfReader

    host_email = live_accounts["host"][0]
    first, second = _prepare(live_app, host_email)
    _send(live_app)  # what earlier tests left in the outbox
    before = {email: len(mail_server.to(email)) for email in (host_email, SECOND_HOST[0])}

    # The coordinator opens the round for the two organisations.
    name = "Kainuun sosiaalisen työllistämisen paikat 2026"
    log_in_as(page, live_server, live_accounts["coordinator"])
    page.goto(live_server + "/admin/rounds")
    assert_accessible(page)
    round_id = _create(page, live_server, live_app, name, 2026, (first, second))

    # Both hosts get the invitation.
    _send(live_app)
    for email in (host_email, SECOND_HOST[0]):
        received = mail_server.wait_for(email, before[email] + 1)[before[email] :]
        assert [m["Subject"] for m in received] == [f"Kyselykierros: {name}"]

    # The first host confirms every opening but one and corrects that one (two more places).
    with live_app.app_context():
        openings = [(o.id, o.places_total, o.places_external) for o in _live_openings(first) if o.status != "closed"]
        db.session.remove()
    corrected_id, corrected_total, _external = openings[0]
    host_page = browser.new_context(locale="fi-FI").new_page()
    log_in_as(host_page, live_server, live_accounts["host"])
    host_page.goto(live_server + "/my/sites")
    host_page.get_by_role("link", name="Avaa vastaus").click()
    host_page.wait_for_load_state()
    assert_accessible(host_page)
    for opening_id, _total, _ext in openings:
        value = "corrected" if opening_id == corrected_id else "confirmed"
        host_page.locator(f'input[name="answer-{opening_id}"][value="{value}"]').check()
    host_page.locator(f"#places_total-{corrected_id}").fill(str(corrected_total + 2))
    host_page.locator(f"#outside-{corrected_id}").fill("6")
    host_page.get_by_role("button", name="Lähetä vastaus").click()
    host_page.wait_for_load_state()
    assert "Vastaus lähetettiin" in host_page.locator(".flashes").inner_text()
    host_page.get_by_role("button", name="In English").click()
    host_page.wait_for_load_state()
    assert "Send the answer" in host_page.content()
    assert_accessible(host_page)
    host_page.get_by_role("button", name="Suomeksi").click()
    host_page.context.close()
    with live_app.app_context():
        assert db.session.get(Opening, corrected_id).places_total == corrected_total + 2  # the live opening too
        db.session.remove()

    # The coordinator sees 50 % and reminds the one who has not answered.
    page.goto(f"{live_server}/admin/rounds/{round_id}")
    assert "50 %" in page.locator(".round-rate").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Lähetä muistutus kaikille vastaamattomille").click()
    page.wait_for_load_state()
    _send(live_app)
    reminded = mail_server.wait_for(SECOND_HOST[0], before[SECOND_HOST[0]] + 2)[before[SECOND_HOST[0]] :]
    assert [m["Subject"] for m in reminded][-1] == f"Muistutus: kyselykierros {name}"
    assert len(mail_server.to(host_email)) == before[host_email] + 1  # the host who answered is not reminded

    # Closing freezes the numbers; they are counted by hand from the openings.
    places, site_count = _figures(live_app, (first, second))
    _close(page, live_server, round_id)
    assert_accessible(page)
    assert "Jäädytetyt luvut" in page.content()
    total = _total_row(page, round_id)
    assert (int(total["places_total"]), int(total["sites"])) == (places, site_count)
    assert total["participants_outside"] == "6"
    excel = page.request.get(f"{live_server}/admin/rounds/{round_id}/report.csv?dialect=excel-fi").text()
    assert excel.startswith("\ufeffKyselykierros;Viitepäivä;")
    pdf = page.request.get(f"{live_server}/admin/rounds/{round_id}/report.pdf").body()
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert name in text and "Kainuu yhteensä" in text and str(places) in text

    # A later edit in the registry does not change the closed round.
    with live_app.app_context():
        opening = _live_openings(second)[0]
        sites.update_capacity(
            db.session,
            opening,
            SYSTEM,
            expected_version=opening.version,
            places_total=opening.places_total + 3,
            places_external=opening.places_external,
            status=opening.status,
            accepting_from=opening.accepting_from,
        )
        db.session.commit()
        db.session.remove()
    assert int(_total_row(page, round_id)["places_total"]) == places

    # Next year's round, closed as it is, shows the change: three places more.
    next_id = _create(
        page, live_server, live_app, "Kainuun sosiaalisen työllistämisen paikat 2027", 2027, (first, second)
    )
    _close(page, live_server, next_id)
    assert int(_total_row(page, next_id)["places_total"]) == places + 3
    total_row = page.locator("tr.total").inner_text()
    assert "▲ +3" in total_row
    assert f"kyselykierrokseen {name}" in page.content()

    # The round pages in English pass axe too.
    page.get_by_role("button", name="In English").click()
    page.wait_for_load_state()
    assert "Frozen figures" in page.content()
    assert_accessible(page)
    for path in ("/admin/rounds", f"/admin/rounds/{next_id}", f"/admin/rounds/{next_id}/reopen"):
        page.goto(live_server + path)
        assert_accessible(page)
    page.get_by_role("button", name="Suomeksi").click()
