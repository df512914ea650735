"""Survey rounds (docs/rules.md §17): opening, answering, following, reminding, freezing,
reopening and the frozen report, with numbers computed by hand."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from placements import clock, permissions
from placements.errors import PermissionDenied, Refused
from placements.models import AuditEvent, Opening, OutboxMessage, RoundResponse, SurveyRound
from placements.services import round_report, rounds, sites
from tests.builders import site_row
from tests.conftest import post_form, run_jobs


@pytest.fixture
def region(build, db):
    """Org A (Kajaani): one site with a KTT opening (5 places, 1 from elsewhere) and a work
    trial (3 places); org B (Sotkamo): a KTT opening (8 places, 2 from elsewhere)."""
    build.sites(
        site_row(site_ref="A-1", opening_title="Keittiöapulainen"),
        site_row(
            site_ref="A-1", opening_type="work_trial", opening_title="Varastotyö", places_total=3, places_external=0
        ),
        site_row(
            site_ref="B-1",
            organisation="Sotkamon Paja ry",
            site_name="Paja",
            street_address="Kainuuntie 1",
            postal_code="88600",
            municipality_code="765",
            latitude="64.1310",
            longitude="28.3900",
            opening_title="Puutyö",
            places_total=8,
            places_external=2,
        ),
    )
    openings = {o.title: o for o in db.session.scalars(select(Opening))}
    org_a = openings["Keittiöapulainen"].site.organisation
    org_b = openings["Puutyö"].site.organisation
    host_a = build.user("host", organisation=org_a)
    host_b = build.user("host", organisation=org_b)
    coordinator = build.user("coordinator")
    return {
        "openings": openings,
        "org_a": org_a,
        "org_b": org_b,
        "host_a": host_a,
        "host_b": host_b,
        "coordinator": coordinator,
    }


def _open(db, coordinator, *, year=2026, **scope) -> SurveyRound:
    survey_round, _job = rounds.create_round(
        db.session,
        coordinator,
        name=f"Kainuun sosiaalisen työllistämisen paikat {year}",
        reference_date=date(year, 12, 31),
        period_start=date(year, 1, 1),
        period_end=date(year, 12, 31),
        deadline=clock.today() + timedelta(days=10),
        **scope,
    )
    db.session.commit()
    assert run_jobs() == 1
    db.session.expire_all()
    return db.session.get(SurveyRound, survey_round.id)


def _answer_a(db, region, survey_round, *, submit=True):
    o = region["openings"]
    response = rounds.response_for(db.session, region["host_a"], survey_round.id)
    rounds.save_response(
        db.session,
        region["host_a"],
        response,
        answers={
            o["Keittiöapulainen"].id: rounds.Answer("confirmed", participants_outside=6),
            o["Varastotyö"].id: rounds.Answer("corrected", places_total=4, places_external=1, participants_outside=2),
        },
        comment="Varastossa yksi paikka lisää.",
        groups={"18-24": {"female": 3}},
        submit=submit,
    )
    db.session.commit()
    return response


def test_opening_a_round_makes_one_response_per_organisation_and_invites_their_hosts(db, region):
    survey_round = _open(db, region["coordinator"])
    assert survey_round.status == "open"
    responses = db.session.scalars(select(RoundResponse).where(RoundResponse.round_id == survey_round.id)).all()
    assert sorted(r.organisation_id for r in responses) == sorted([region["org_a"].id, region["org_b"].id])
    assert sorted(len(r.lines) for r in responses) == [1, 2]
    invited = db.session.scalars(select(OutboxMessage.recipient_email).where(OutboxMessage.kind == "round_invitation"))
    assert sorted(invited) == sorted([region["host_a"].email, region["host_b"].email])


def test_scope_limits_the_organisations_asked(db, region):
    survey_round = _open(db, region["coordinator"], municipalities=["765"])
    assert [r.organisation_id for r in survey_round.responses] == [region["org_b"].id]


def test_a_correction_updates_the_live_opening_with_a_capacity_event(db, region):
    survey_round = _open(db, region["coordinator"])
    _answer_a(db, region, survey_round)
    trial = db.session.get(Opening, region["openings"]["Varastotyö"].id)
    assert (trial.places_total, trial.places_external) == (4, 1)
    from placements.models import CapacityEvent

    event = db.session.scalars(
        select(CapacityEvent).where(CapacityEvent.opening_id == trial.id).order_by(CapacityEvent.id.desc())
    ).first()
    assert (event.places_total_before, event.places_total_after) == (3, 4)
    assert event.user_id == region["host_a"].id


def test_sending_needs_every_opening_answered_but_saving_part_is_allowed(db, region):
    survey_round = _open(db, region["coordinator"])
    o = region["openings"]
    response = rounds.response_for(db.session, region["host_a"], survey_round.id)
    answers = {o["Keittiöapulainen"].id: rounds.Answer("confirmed")}
    with pytest.raises(Refused):
        rounds.save_response(
            db.session, region["host_a"], response, answers=answers, comment="", groups={}, submit=True
        )
    db.session.rollback()
    rounds.save_response(db.session, region["host_a"], response, answers=answers, comment="", groups={}, submit=False)
    assert response.status == "in_progress"


def test_following_shows_the_rate_and_who_has_not_answered(db, region):
    survey_round = _open(db, region["coordinator"])
    _answer_a(db, region, survey_round)
    following = rounds.follow(db.session, region["coordinator"], survey_round)
    assert (following.overall.submitted, following.overall.total, following.overall.percent) == (1, 2, 50)
    assert {rate.label: rate.percent for rate in following.by_municipality} == {"Kajaani": 100, "Sotkamo": 0}
    assert [(r.organisation_id, [h.email for h in hosts]) for r, hosts in following.missing] == [
        (region["org_b"].id, [region["host_b"].email])
    ]


def test_reminders_go_to_those_who_have_not_answered_and_automatic_ones_only_once(db, region):
    survey_round = _open(db, region["coordinator"])
    _answer_a(db, region, survey_round)
    assert rounds.remind(db.session, region["coordinator"], survey_round) == 1
    assert rounds.automatic_reminders(db.session, survey_round.deadline - timedelta(days=7)) == 1
    assert rounds.automatic_reminders(db.session, survey_round.deadline - timedelta(days=7)) == 0
    assert rounds.automatic_reminders(db.session, survey_round.deadline - timedelta(days=5)) == 0
    assert rounds.automatic_reminders(db.session, survey_round.deadline - timedelta(days=2)) == 1
    reminded = db.session.scalars(select(OutboxMessage.recipient_email).where(OutboxMessage.kind == "round_reminder"))
    assert set(reminded) == {region["host_b"].email}


def _close(db, region, survey_round):
    rounds.close_round(db.session, region["coordinator"], survey_round)
    db.session.commit()


def test_the_report_counts_by_hand_and_stays_frozen_after_later_edits(db, region):
    survey_round = _open(db, region["coordinator"])
    _answer_a(db, region, survey_round)
    _close(db, region, survey_round)
    report = round_report.report(db.session, survey_round)
    lines = {(line.municipality, line.opening_type): line.values for line in report.lines}
    assert lines[("Kajaani", "rehabilitative_work")] | {} == {
        "sites": 1,
        "openings": 1,
        "places_total": 5,
        "places_external": 1,
        "participants_registry": 0,
        "participants_outside": 6,
    }
    assert lines[("Kajaani", "work_trial")]["places_total"] == 4
    # One site with two opening types is one site in the municipality's total (§9.7).
    assert lines[("Kajaani", None)]["sites"] == 1
    assert lines[("Kajaani", None)]["places_total"] == 9
    assert lines[("Sotkamo", None)]["places_total"] == 8  # not answered: last known places
    assert report.totals == {
        "sites": 2,
        "openings": 3,
        "places_total": 17,
        "places_external": 4,
        "participants_registry": 0,
        "participants_outside": 8,
    }
    assert (report.answered, report.organisations, report.coverage) == (1, 2, 50)
    assert [(m.organisation, m.places_total) for m in report.missing] == [("Sotkamon Paja ry", 8)]
    assert report.groups == {("18-24", "female"): 3}
    assert round_report.suppress("participants_outside", 2) == "<5"
    assert round_report.suppress("places_total", 2) == 2

    kitchen = db.session.get(Opening, region["openings"]["Keittiöapulainen"].id)
    sites.update_capacity(
        db.session,
        kitchen,
        region["coordinator"],
        expected_version=kitchen.version,
        places_total=10,
        places_external=1,
        status="open",
        accepting_from=None,
    )
    db.session.commit()
    again = round_report.report(db.session, survey_round)
    assert again.totals == report.totals
    assert [line.values for line in again.lines] == [line.values for line in report.lines]


def test_a_closed_round_refuses_answers_and_reopening_needs_a_coordinator_and_a_reason(db, region):
    survey_round = _open(db, region["coordinator"])
    _close(db, region, survey_round)
    response = rounds.response_for(db.session, region["host_a"], survey_round.id)
    with pytest.raises(Refused):
        rounds.save_response(db.session, region["host_a"], response, answers={}, comment="", groups={}, submit=False)
    with pytest.raises(PermissionDenied):
        rounds.reopen_round(db.session, region["host_a"], survey_round, reason="x")
    with pytest.raises(PermissionDenied):
        rounds.reopen_round(db.session, permissions.SYSTEM, survey_round, reason="x")
    with pytest.raises(Refused):
        rounds.reopen_round(db.session, region["coordinator"], survey_round, reason="  ")
    rounds.reopen_round(db.session, region["coordinator"], survey_round, reason="Paja vastasi myöhässä")
    db.session.commit()
    assert survey_round.status == "open"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "round_reopened")).one()
    assert event.detail == "Paja vastasi myöhässä" and event.user_id == region["coordinator"].id


def test_the_next_round_compares_with_the_previous_one(db, region):
    first = _open(db, region["coordinator"])
    _answer_a(db, region, first)
    _close(db, region, first)
    kitchen = db.session.get(Opening, region["openings"]["Keittiöapulainen"].id)
    sites.update_capacity(
        db.session,
        kitchen,
        region["coordinator"],
        expected_version=kitchen.version,
        places_total=10,
        places_external=1,
        status="open",
        accepting_from=None,
    )
    db.session.commit()
    second = _open(db, region["coordinator"], year=2027)
    _close(db, region, second)
    report = round_report.report(db.session, second)
    assert report.previous.id == first.id
    lines = {(line.municipality, line.opening_type): line for line in report.lines}
    assert lines[("Kajaani", "rehabilitative_work")].change["places_total"] == 5
    assert lines[("Sotkamo", "rehabilitative_work")].change["places_total"] == 0
    assert report.total_change["places_total"] == 5


# --- permissions (docs/rules.md §17.1, §17.2) -------------------------------------------------


@pytest.mark.parametrize("role", ["host", "social_worker"])
def test_only_a_coordinator_manages_rounds(db, region, build, role):
    user = region["host_a"] if role == "host" else build.user("social_worker")
    assert not permissions.can_manage_rounds(user)
    with pytest.raises(PermissionDenied):
        rounds.create_round(
            db.session,
            user,
            name="x",
            reference_date=date(2026, 12, 31),
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
            deadline=clock.today(),
        )
    survey_round = _open(db, region["coordinator"])
    for call in (
        lambda: rounds.follow(db.session, user, survey_round),
        lambda: rounds.remind(db.session, user, survey_round),
        lambda: rounds.close_round(db.session, user, survey_round),
        lambda: rounds.round_or_404(db.session, user, survey_round.id),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_a_host_answers_only_for_their_own_organisation(db, region, build):
    survey_round = _open(db, region["coordinator"])
    response_a = rounds.response_for(db.session, region["host_a"], survey_round.id)
    assert permissions.can_answer_round(region["host_a"], response_a)
    assert not permissions.can_answer_round(region["host_b"], response_a)
    assert not permissions.can_answer_round(region["coordinator"], response_a)
    assert not permissions.can_answer_round(build.user("social_worker"), response_a)
    with pytest.raises(PermissionDenied):
        rounds.save_response(db.session, region["host_b"], response_a, answers={}, comment="", groups={}, submit=False)
    outsider = build.user("host")  # an organisation outside the round
    with pytest.raises(PermissionDenied) as denied:
        rounds.response_for(db.session, outsider, survey_round.id)
    assert denied.value.status == 404


# --- pages ------------------------------------------------------------------------------------


def test_round_pages_for_the_coordinator_and_the_host(db, region, client, login):
    login(region["coordinator"])
    response = post_form(
        client,
        "/admin/rounds",
        {
            "name": "Kainuun sosiaalisen työllistämisen paikat 2026",
            "reference_date": "2026-12-31",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "deadline": (clock.today() + timedelta(days=10)).isoformat(),
        },
        token_from="/admin/rounds",
    )
    assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
    run_jobs()
    survey_round = db.session.scalars(select(SurveyRound)).one()
    html = client.get(f"/admin/rounds/{survey_round.id}").get_data(as_text=True)
    assert "0 %" in html and "Sotkamon Paja ry" in html
    client.get("/logout")
    client.post("/logout")

    client2 = client.application.test_client()
    login2 = client2
    from tests.builders import PASSWORD
    from tests.conftest import log_in

    log_in(login2, region["host_a"].email, PASSWORD)
    assert "Kainuun sosiaalisen" in client2.get("/my/sites").get_data(as_text=True)
    page = client2.get(f"/rounds/{survey_round.id}")
    assert page.status_code == 200
    o = region["openings"]
    k, v = o["Keittiöapulainen"].id, o["Varastotyö"].id
    sent = post_form(
        client2,
        f"/rounds/{survey_round.id}",
        {
            f"answer-{k}": "confirmed",
            f"places_total-{k}": "5",
            f"places_external-{k}": "1",
            f"status-{k}": "open",
            f"outside-{k}": "6",
            f"answer-{v}": "corrected",
            f"places_total-{v}": "4",
            f"places_external-{v}": "1",
            f"status-{v}": "open",
            f"outside-{v}": "2",
            "group-18-24-female": "3",
            "comment": "Kiitos",
            "action": "submit",
        },
        token_from=f"/rounds/{survey_round.id}",
    )
    assert sent.status_code == 303
    db.session.expire_all()
    assert rounds.response_for(db.session, region["host_a"], survey_round.id).status == "submitted"
    assert client2.get("/admin/rounds").status_code == 403


def test_csv_and_pdf_show_the_frozen_numbers(db, region, client, login, tmp_path):
    survey_round = _open(db, region["coordinator"])
    _answer_a(db, region, survey_round)
    _close(db, region, survey_round)
    name, round_id = survey_round.name, survey_round.id
    login(region["coordinator"])
    page = client.get(f"/admin/rounds/{round_id}/report").get_data(as_text=True)
    assert "Jäädytetyt luvut" in page
    standard = client.get(f"/admin/rounds/{round_id}/report.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(standard)))
    assert rows[-1]["municipality"] == "total" and rows[-1]["places_total"] == "17"
    assert rows[-1]["participants_outside"] == "8"
    work_trial = next(r for r in rows if r["opening_type"] == "work_trial")
    assert work_trial["participants_outside"] == "<5"
    excel = client.get(f"/admin/rounds/{round_id}/report.csv?dialect=excel-fi").get_data(as_text=True)
    assert excel.startswith("\ufeffKyselykierros;Viitepäivä;")
    assert "Yhteensä" in excel
    pdf = client.get(f"/admin/rounds/{round_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    from pypdf import PdfReader

    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert name in text and "Kainuu yhteensä" in text and "17" in text
    (tmp_path / "report.pdf").write_bytes(pdf.data)


@pytest.mark.parametrize("path", ["/admin/rounds", "/admin/rounds/{id}", "/admin/rounds/{id}/report"])
def test_hosts_and_social_workers_cannot_open_the_coordinators_pages(db, region, build, client, login, path):
    survey_round = _open(db, region["coordinator"])
    login(build.user("social_worker"))
    assert client.get(path.format(id=survey_round.id)).status_code == 403
    assert client.get(f"/rounds/{survey_round.id}").status_code == 403


def test_registry_placements_in_the_period_are_counted_beside_participants_from_elsewhere(db, region, build):
    """An accepted placement that starts in the period counts for its opening (§17.4); a
    mere proposal does not."""
    from placements.services import placements as placement_service

    worker = build.user("social_worker")
    kitchen = region["openings"]["Keittiöapulainen"]
    accepted = build.placement(build.client(worker), kitchen, worker)
    placement_service.accept(db.session, accepted, region["host_a"], now=clock.now())
    build.placement(build.client(worker), kitchen, worker)  # only proposed
    db.session.commit()
    survey_round = _open(db, region["coordinator"])
    _answer_a(db, region, survey_round)
    _close(db, region, survey_round)
    report = round_report.report(db.session, survey_round)
    lines = {(line.municipality, line.opening_type): line.values for line in report.lines}
    assert lines[("Kajaani", "rehabilitative_work")]["participants_registry"] == 1
    assert report.totals["participants_registry"] == 1
    assert round_report.suppress("participants_registry", 1) == "<5"


# --- the answer and the live registry (§17.2, §17.4) -----------------------------------------


def _one_opening_round(db, build, **row):
    build.sites(site_row(site_ref="A-1", opening_title="Keittiö", places_total=5, places_external=1, **row))
    opening = db.session.scalars(select(Opening)).one()
    host = build.user("host", organisation=opening.site.organisation)
    survey_round = _open(db, build.user("coordinator"))
    return survey_round, opening, host


def test_the_answer_page_shows_todays_values_and_a_stale_correction_is_a_conflict(db, build, client, login):
    survey_round, opening, host = _one_opening_round(db, build)
    # After the round opened, the host adds places on the capacity form: 5 -> 9.
    sites.update_capacity(
        db.session,
        opening,
        host,
        expected_version=opening.version,
        places_total=9,
        places_external=1,
        status="open",
        accepting_from=None,
    )
    db.session.commit()
    login(host)
    path = f"/rounds/{survey_round.id}"
    page = client.get(path).get_data(as_text=True)
    oid = opening.id
    assert re.search(rf'name="places_total-{oid}"[^>]*value="9"', page)
    version = re.search(rf'name="version-{oid}" value="(\d+)"', page).group(1)
    # Correcting "from elsewhere" with the page as shown keeps the 9 places.
    answer = {f"answer-{oid}": "corrected", f"places_total-{oid}": "9", f"places_external-{oid}": "2"}
    answer |= {f"status-{oid}": "open", f"version-{oid}": version, "action": "save"}
    assert post_form(client, path, answer, token_from=path).status_code in (302, 303)
    db.session.expire_all()
    assert (opening.places_total, opening.places_external) == (9, 2)
    # The same form again, now older than the opening: refused as a conflict, nothing changed.
    answer[f"places_total-{oid}"] = "5"
    assert post_form(client, path, answer, token_from=path).status_code == 409
    db.session.expire_all()
    assert (opening.places_total, opening.places_external) == (9, 2)


def test_a_site_moved_to_another_organisation_is_answered_and_counted_there_only(db, region):
    o = region["openings"]
    survey_round = _open(db, region["coordinator"])
    moved = o["Keittiöapulainen"].site  # org A's one site, with 5 + 3 places
    moved.organisation_id = region["org_b"].id  # as a site CSV import may do
    db.session.commit()
    db.session.expire_all()

    response_a = rounds.response_for(db.session, region["host_a"], survey_round.id)
    assert rounds.page_lines(db.session, response_a) == []
    rounds.save_response(db.session, region["host_a"], response_a, answers={}, comment="", groups={}, submit=True)
    response_b = rounds.response_for(db.session, region["host_b"], survey_round.id)
    assert {line.opening.id for line in rounds.page_lines(db.session, response_b)} == {x.id for x in o.values()}
    answers = {x.id: rounds.Answer("confirmed") for x in o.values()}
    rounds.save_response(db.session, region["host_b"], response_b, answers=answers, comment="", groups={}, submit=True)
    db.session.commit()
    rounds.close_round(db.session, region["coordinator"], db.session.get(SurveyRound, survey_round.id))
    db.session.commit()
    assert round_report.report(db.session, survey_round).totals["places_total"] == 16  # 5 + 3 + 8, each once
