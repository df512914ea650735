"""Placements: proposing within the rules, accepting atomically, declining, ending."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from placements import clock
from placements.errors import Refused
from placements.models import AuditEvent, CapacityEvent, Opening, Placement
from placements.services import placements as placement_service
from placements.services.placements import add_months
from tests.builders import PASSWORD
from tests.conftest import csrf_token, log_in


@pytest.fixture
def scene(build):
    """A KTT opening with 2 free places, its host, a worker and the worker's client with needs."""
    site = build.site(places_total="3", places_external="1")
    opening = site.openings[0]
    worker = build.user("social_worker")
    host = build.user("host", organisation=site.organisation)
    client = build.client(worker)
    build.needs(client, worker)
    return {"opening": opening, "worker": worker, "host": host, "client": client, "site": site}


def as_user(app, user):
    browser = app.test_client()
    assert log_in(browser, user.email, PASSWORD).status_code == 302
    return browser


def flashed(browser, response) -> str:
    """The page a step redirected to, with its message."""
    assert response.status_code == 302, response.status_code
    return browser.get(response.headers["Location"]).get_data(as_text=True)


def active_count(db, opening_id) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Placement)
        .where(Placement.opening_id == opening_id, Placement.status == "active")
    )


def assert_counter_matches(db, opening_id) -> None:
    db.session.expire_all()
    assert db.session.get(Opening, opening_id).places_taken == active_count(db, opening_id)


START = clock.today() + timedelta(days=7)
FAR = clock.today() + timedelta(days=800)  # more than two years ahead


@pytest.mark.parametrize(
    "values, field, words",
    [
        ({"days_per_week": 1}, "days_per_week", "2–4 päivänä viikossa"),
        ({"days_per_week": 5}, "days_per_week", "2–4 päivänä viikossa"),
        ({"hours_per_day": 3.5}, "hours_per_day", "4–6 tuntia"),
        ({"planned_end": None}, "planned_end", "suunniteltu päättyminen"),
        ({"planned_end": add_months(START, 2)}, "planned_end", "3–24 kuukautta"),
        ({"planned_end": add_months(START, 25)}, "planned_end", "3–24 kuukautta"),
        ({"start_date": clock.today() - timedelta(days=1)}, "start_date", "menneisyydessä"),
        ({"start_date": FAR, "planned_end": add_months(FAR, 6)}, "start_date", "kahden vuoden"),
        ({"note_for_host": "hetu 131052-308T"}, "note_for_host", "henkilötunnukselta"),
    ],
)
def test_a_proposal_outside_the_rules_is_refused(app, db, build, scene, values, field, words):
    with pytest.raises(Refused) as refused:
        build.placement(scene["client"], scene["opening"], scene["worker"], **values)
    db.session.rollback()
    assert words in refused.value.problems[field]
    assert db.session.scalar(select(func.count()).select_from(Placement)) == 0


def test_a_period_of_exactly_three_or_twenty_four_months_is_fine_and_a_day_more_or_less_is_not(db, build, scene):
    worker, opening = scene["worker"], scene["opening"]
    for months in (3, 24):
        placement = build.placement(build.client(worker), opening, worker, planned_end=add_months(START, months))
        db.session.expire_all()
        stored = db.session.get(Placement, placement.id)
        assert (stored.status, stored.start_date, stored.planned_end) == ("proposed", START, add_months(START, months))
    for planned_end in (add_months(START, 3) - timedelta(days=1), add_months(START, 24) + timedelta(days=1)):
        with pytest.raises(Refused) as refused:
            build.placement(build.client(worker), opening, worker, planned_end=planned_end)
        db.session.rollback()
        assert "3–24 kuukautta" in refused.value.problems["planned_end"], planned_end
    assert db.session.scalar(select(func.count()).select_from(Placement)) == 2


def test_the_opening_must_be_taking_participants_from_the_start_date(db, build, scene):
    scene["opening"].accepting_from = START + timedelta(days=30)
    db.session.commit()
    with pytest.raises(Refused) as refused:
        build.placement(scene["client"], scene["opening"], scene["worker"])
    assert "otetaan uusia osallistujia" in refused.value.problems["start_date"]


def test_worker_proposes_from_a_match_and_host_accepts(app, db, scene):
    worker = as_user(app, scene["worker"])
    opening, person = scene["opening"], scene["client"]
    path = f"/clients/{person.code}/propose/{opening.id}"
    data = {
        "csrf_token": csrf_token(worker, path),
        "start_date": START.isoformat(),
        "planned_end": add_months(START, 6).isoformat(),
        "days_per_week": 3,
        "hours_per_day": 5,
        "note_for_host": "Aloitus aamupäivisin.",
    }
    response = worker.post(path, data=data)
    placement = db.session.scalar(select(Placement))
    assert response.headers["Location"] == f"/placements/{placement.id}"

    host = as_user(app, scene["host"])
    page = host.get("/my/sites").get_data(as_text=True)
    assert person.code in page and "Odottavat päätöstäsi" in page
    detail = host.get(f"/placements/{placement.id}").get_data(as_text=True)
    assert person.code in detail and "Aloitus aamupäivisin." in detail
    assert "Luottamuksellinen tarvemuistiinpano" not in detail and "keittiötyöt" not in detail  # never the needs

    token = csrf_token(host, f"/placements/{placement.id}")
    response = host.post(f"/placements/{placement.id}/accept", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == "active"
    assert db.session.get(Opening, opening.id).free_places == 1
    assert_counter_matches(db, opening.id)
    event = db.session.scalar(select(CapacityEvent).where(CapacityEvent.kind == "placement_started"))
    assert (event.places_taken_before, event.places_taken_after, event.placement_id) == (0, 1, placement.id)
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.client_code == person.code)).all()
    assert {"placement_proposed", "placement_viewed", "placement_accepted"} <= set(actions)
    assert "1/3 vapaana" in worker.get("/sites").get_data(as_text=True)


def test_accepting_without_a_free_place_is_refused_clearly(app, db, build, scene):
    opening = scene["opening"]
    clients = [scene["client"]] + [build.client(scene["worker"]) for _ in range(2)]
    placements = [build.placement(c, opening, scene["worker"]) for c in clients]
    for placement in placements[:2]:
        placement_service.accept(db.session, placement, scene["host"], now=clock.now())
        db.session.commit()

    with pytest.raises(placement_service.NoFreePlace):
        placement_service.accept(db.session, placements[2], scene["host"], now=clock.now())
    db.session.rollback()

    host = as_user(app, scene["host"])
    path = f"/placements/{placements[2].id}"
    host.post(f"{path}/accept", data={"csrf_token": csrf_token(host, path)})
    assert "Tehtävässä ei ole nyt vapaata paikkaa" in host.get(f"/placements/{placements[2].id}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Placement, placements[2].id).status == "proposed"
    assert db.session.get(Opening, opening.id).places_taken == 2
    assert_counter_matches(db, opening.id)


def test_a_paused_opening_starts_no_placement(db, build, scene):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"])
    scene["opening"].status = "paused"
    db.session.commit()
    with pytest.raises(placement_service.NoFreePlace):
        placement_service.accept(db.session, placement, scene["host"], now=clock.now())


def test_accepting_twice_takes_one_place(db, build, scene):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"])
    placement_service.accept(db.session, placement, scene["host"], now=clock.now())
    db.session.commit()
    with pytest.raises(Refused):
        placement_service.accept(db.session, placement, scene["host"], now=clock.now())
    db.session.rollback()
    assert_counter_matches(db, scene["opening"].id)


def test_declining_needs_a_reason_the_worker_sees(app, db, build, scene):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"])
    host = as_user(app, scene["host"])
    token = csrf_token(host, f"/placements/{placement.id}")
    host.post(f"/placements/{placement.id}/decline", data={"csrf_token": token, "reason": ""})
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == "proposed"
    form = {"csrf_token": token, "reason": "Ryhmä on täynnä keväällä.", "confirm": "yes"}
    host.post(f"/placements/{placement.id}/decline", data=form)
    worker = as_user(app, scene["worker"])
    assert "Ryhmä on täynnä keväällä." in worker.get(f"/placements/{placement.id}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == "declined"


@pytest.mark.parametrize("who", ["worker", "host"])
def test_ending_frees_the_place(app, db, build, scene, who):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"], start_date=clock.today())
    placement_service.accept(db.session, placement, scene["host"], now=clock.now())
    db.session.commit()
    browser = as_user(app, scene[who])
    token = csrf_token(browser, f"/placements/{placement.id}")
    form = {"csrf_token": token, "ended_on": clock.today().isoformat(), "end_reason": "employed", "confirm": "yes"}
    browser.post(f"/placements/{placement.id}/end", data=form)
    db.session.expire_all()
    ended = db.session.get(Placement, placement.id)
    assert (ended.status, ended.end_reason, ended.ended_on) == ("ended", "employed", clock.today())
    assert db.session.get(Opening, scene["opening"].id).free_places == 2
    assert_counter_matches(db, scene["opening"].id)
    assert db.session.scalars(select(CapacityEvent.kind).order_by(CapacityEvent.id.desc())).first() == "placement_ended"


def test_an_end_date_in_the_future_or_before_the_start_is_refused(db, build, scene):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"], start_date=clock.today())
    placement_service.accept(db.session, placement, scene["host"], now=clock.now())
    db.session.commit()
    refusals = {
        clock.today() + timedelta(days=1): "tulevaisuudessa",
        clock.today() - timedelta(days=1): "ennen sijoituksen alkua",
    }
    for day, words in refusals.items():
        with pytest.raises(Refused) as refused:
            placement_service.end(
                db.session,
                placement,
                scene["worker"],
                ended_on=day,
                end_reason="other",
                today=clock.today(),
                now=clock.now(),
            )
        db.session.rollback()
        assert words in refused.value.problems["ended_on"], day
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == "active"


def test_the_worker_can_cancel_a_waiting_proposal(db, build, scene):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"])
    placement_service.cancel(db.session, placement, scene["worker"], now=clock.now())
    db.session.commit()
    assert db.session.get(Placement, placement.id).status == "cancelled"


def test_placements_are_private_to_the_worker_and_the_opening_host(app, db, build, scene):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"])
    other_host = build.user("host", organisation=build.site(site_ref="OTHER", organisation="Muu järjestö").organisation)
    for user in (other_host, build.user("social_worker"), build.user("coordinator")):
        browser = as_user(app, user)
        assert browser.get(f"/placements/{placement.id}").status_code in (403, 404)
        token = csrf_token(browser, "/")
        assert browser.post(f"/placements/{placement.id}/accept", data={"csrf_token": token}).status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == "proposed"


def test_a_worker_cannot_accept_their_own_proposal(app, db, build, scene):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"])
    worker = as_user(app, scene["worker"])
    response = worker.post(f"/placements/{placement.id}/accept", data={"csrf_token": csrf_token(worker, "/")})
    assert response.status_code == 403


def test_an_accepted_placement_that_has_not_started_can_be_cancelled_and_frees_its_place(app, db, build, scene):
    start = clock.today() + timedelta(days=5)
    placement = build.placement(scene["client"], scene["opening"], scene["worker"], start_date=start)
    placement_service.accept(db.session, placement, scene["host"], now=clock.now())
    db.session.commit()
    host = as_user(app, scene["host"])
    page = host.get(f"/placements/{placement.id}").get_data(as_text=True)
    assert "Peru sijoitus ennen sen alkua" in page
    path = f"/placements/{placement.id}"
    response = host.post(f"{path}/cancel", data={"csrf_token": csrf_token(host, path), "confirm": "yes"})
    page = flashed(host, response)
    assert "Sijoitus peruttiin ennen sen alkua, ja paikka on taas vapaana." in page
    assert "Ehdotus peruttiin" not in page  # docs/rules.md §5.7: an agreed placement is not a proposal
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == "cancelled"
    assert db.session.get(Opening, scene["opening"].id).free_places == 2
    assert_counter_matches(db, scene["opening"].id)


def test_a_started_placement_cannot_be_cancelled_only_ended(db, build, scene):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"], start_date=clock.today())
    placement_service.accept(db.session, placement, scene["host"], now=clock.now())
    db.session.commit()
    with pytest.raises(Refused):
        placement_service.cancel(db.session, placement, scene["worker"], now=clock.now(), today=clock.today())


# --- agreed: accepted, not started yet (docs/rules.md §5.1) --------------------------------------


def morning_of(day):
    """8 o'clock Finnish time on ``day``, for clock.fixed()."""
    from datetime import datetime, time

    return datetime.combine(day, time(8), tzinfo=clock.HELSINKI)


def test_a_placement_accepted_for_a_later_start_is_agreed_holds_its_place_and_cannot_be_ended(app, db, build, scene):
    from placements import formats

    placement = build.placement(scene["client"], scene["opening"], scene["worker"], start_date=START)
    host = as_user(app, scene["host"])
    path = f"/placements/{placement.id}"
    page = host.get(path).get_data(as_text=True)
    with app.test_request_context():
        day = formats.day(START)
    assert f"Hyväksy sijoitus alkamaan {day}" in page

    response = host.post(f"{path}/accept", data={"csrf_token": csrf_token(host, path)})
    page = flashed(host, response)
    assert f"Sijoitus sovittu alkamaan {day}. Tehtävässä on nyt 1 vapaa paikka." in page
    assert "Sijoitus alkoi" not in page
    assert f"sovittu, alkaa {day}" in page and "käynnissä" not in page
    assert "Päätä sijoitus" not in page and f"{path}/end" not in page  # no end form
    assert "Peru sijoitus ennen sen alkua" in page
    db.session.expire_all()
    stored = db.session.get(Placement, placement.id)
    assert (stored.status, stored.state) == ("active", "agreed")
    assert db.session.get(Opening, scene["opening"].id).free_places == 1  # counted from acceptance
    assert_counter_matches(db, scene["opening"].id)
    assert db.session.scalar(select(Placement.id).where(Placement.state == "agreed")) == placement.id

    with pytest.raises(Refused) as refused:
        placement_service.end(
            db.session,
            stored,
            scene["worker"],
            ended_on=clock.today(),
            end_reason="other",
            today=clock.today(),
            now=clock.now(),
        )
    db.session.rollback()
    assert f"Sijoitus ei ole vielä alkanut: se on sovittu alkamaan {day}." in refused.value.problems["placement"]

    worker = as_user(app, scene["worker"])
    form = {"csrf_token": csrf_token(worker, path), "ended_on": clock.today().isoformat(), "end_reason": "other"}
    for data in (form, form | {"confirm": "yes"}):
        page = flashed(worker, worker.post(f"{path}/end", data=data))
        assert "peru se" in page
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == "active"
    assert db.session.get(Opening, scene["opening"].id).free_places == 1

    listing = host.get("/my/sites").get_data(as_text=True)
    assert "Sovitut, alkavat myöhemmin" in listing and f"sovittu, alkaa {day}" in listing


def test_an_agreed_placement_becomes_active_on_its_start_date(app, db, build, scene):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"], start_date=START)
    placement_service.accept(db.session, placement, scene["host"], now=clock.now())
    db.session.commit()
    path = f"/placements/{placement.id}"
    assert placement.state_on(START - timedelta(days=1)) == "agreed"
    assert placement.state_on(START) == "active"

    with clock.fixed(morning_of(START - timedelta(days=1))):
        assert db.session.get(Placement, placement.id).state == "agreed"
        assert db.session.scalar(select(Placement.state).where(Placement.id == placement.id)) == "agreed"
    with clock.fixed(morning_of(START)):
        db.session.expire_all()
        assert db.session.get(Placement, placement.id).state == "active"
        assert db.session.scalar(select(Placement.state).where(Placement.id == placement.id)) == "active"
        worker = as_user(app, scene["worker"])
        page = worker.get(path).get_data(as_text=True)
        assert "käynnissä" in page and "sovittu" not in page
        assert "Päätä sijoitus" in page and "Peru sijoitus ennen sen alkua" not in page
        with pytest.raises(Refused):  # started: it can only be ended now
            placement_service.cancel(db.session, placement, scene["worker"], now=clock.now(), today=clock.today())
        db.session.rollback()
        form = {"csrf_token": csrf_token(worker, path), "ended_on": START.isoformat(), "end_reason": "employed"}
        page = flashed(worker, worker.post(f"{path}/end", data=form | {"confirm": "yes"}))
        assert "Sijoitus päättyi" in page
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == "ended"
    assert_counter_matches(db, scene["opening"].id)


def test_the_host_sees_who_proposed_the_placement(app, db, build, scene):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"])
    worker = scene["worker"]
    host = as_user(app, scene["host"])
    for path in (f"/placements/{placement.id}", "/my/sites"):
        page = host.get(path).get_data(as_text=True)
        assert worker.name in page and f'href="mailto:{worker.email}"' in page, path
    assert "Ehdottaja" in host.get(f"/placements/{placement.id}").get_data(as_text=True)


def test_notices_say_whether_a_placement_was_agreed_or_started_and_what_was_cancelled(app, db, build, scene):
    """docs/rules.md §5.1, §15.2: the words follow the state, as on the pages."""
    from placements import formats
    from placements.models import Notification
    from placements.services import notifications

    worker, host, opening = scene["worker"], scene["host"], scene["opening"]

    def last_line(user, kind) -> str:
        db.session.expire_all()
        notice = db.session.scalars(
            select(Notification)
            .where(Notification.recipient_id == user.id, Notification.kind == kind)
            .order_by(Notification.id.desc())
        ).first()
        with app.test_request_context():
            return " ".join(notifications.describe(notice).lines)

    agreed = build.placement(scene["client"], opening, worker, start_date=START)
    started = build.placement(build.client(worker), opening, worker, start_date=clock.today())
    proposal = build.placement(build.client(worker), opening, worker)
    with app.test_request_context():
        start, today = formats.day(START), formats.day(clock.today())
    placement_service.accept(db.session, agreed, host, now=clock.now())
    db.session.commit()
    assert f"sijoitus on sovittu alkamaan {start}." in last_line(worker, "proposal_accepted")
    placement_service.accept(db.session, started, host, now=clock.now())
    db.session.commit()
    assert f"sijoitus alkoi {today}." in last_line(worker, "proposal_accepted")

    placement_service.cancel(db.session, proposal, worker, now=clock.now(), today=clock.today())
    db.session.commit()
    line = last_line(host, "placement_cancelled")
    assert f"perui asiakkaan {proposal.client.code} sijoitusehdotuksen." in line
    placement_service.cancel(db.session, agreed, host, now=clock.now(), today=clock.today())
    db.session.commit()
    line = last_line(worker, "placement_cancelled")
    assert f"sijoituksen, joka oli sovittu alkamaan {start}. Paikka on taas vapaana." in line
