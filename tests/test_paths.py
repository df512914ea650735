"""Service paths (docs/rules.md §18): plans, the path, waiting lists and "Vaatii huomiota".

Expected free dates and queue positions are worked out by hand in each test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from placements import clock
from placements.errors import PermissionDenied, Refused
from placements.models import AuditEvent, Notification, OutboxMessage
from placements.services import clients as client_service
from placements.services import paths, placements, queue, sites
from tests.conftest import post_form

NOTE = "Luottamuksellinen tarvemuistiinpano"
GOAL = "Työkokeilu ja sen jälkeen palkkatuettu työ"
DAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 1.12.2026 in Finland


@pytest.fixture
def scene(build, db):
    site = build.site(places_total="1", places_external="0")
    worker = build.user("social_worker", name="Sanna Sosiaaliohjaaja")
    colleague = build.user("social_worker", name="Kalle Kollega")
    stranger = build.user("social_worker", name="Vieras Työntekijä")
    host = build.user("host", organisation=site.organisation, name="Heikki Host")
    clients = [build.client(worker, share_with=[colleague]) for _ in range(3)]
    for c in clients:
        build.needs(c, worker, note=NOTE)
    return {
        "opening": site.openings[0],
        "worker": worker,
        "colleague": colleague,
        "stranger": stranger,
        "host": host,
        "clients": clients,
    }


def _active(db, build, client, opening, worker, host, **values):
    """A placement accepted by the host (holds a place)."""
    placement = build.placement(client, opening, worker, **values)
    placements.accept(db.session, placement, host, now=clock.now())
    db.session.commit()
    return placement


def _queue(db, client, opening, user, at: datetime):
    with clock.fixed(at):
        entry = queue.join(db.session, client, opening, user, now=clock.now(), today=clock.today())
    db.session.commit()
    return entry


# --- the expected free date and queue order ---------------------------------------------------------


def test_expected_free_date_is_the_earliest_planned_end_or_the_accepting_from_date(db, build, scene):
    opening, worker, host = scene["opening"], scene["worker"], scene["host"]
    opening.places_total = 2
    db.session.commit()
    with clock.fixed(DAY):
        today = clock.today()
        assert queue.expected_free_dates(db.session, [opening], today) == {opening.id: today}  # 2 free
        a, b = scene["clients"][:2]
        # Planned ends 31.5.2027 and 15.4.2027 (KTT: 3–24 months after the 1.12.2026 start).
        _active(db, build, a, opening, worker, host, start_date=today, planned_end=date(2027, 5, 31))
        _active(db, build, b, opening, worker, host, start_date=today, planned_end=date(2027, 4, 15))
        db.session.refresh(opening)
        assert opening.free_places == 0
        assert queue.expected_free_dates(db.session, [opening], today) == {opening.id: date(2027, 4, 15)}
        # Accepting only from 1.6.2027, later than the earliest end: that date.
        opening.accepting_from = date(2027, 6, 1)
        db.session.commit()
        assert queue.expected_free_dates(db.session, [opening], today) == {opening.id: date(2027, 6, 1)}
        # Accepting from 1.1.2027, earlier than the earliest end: still 15.4.2027.
        opening.accepting_from = date(2027, 1, 1)
        db.session.commit()
        assert queue.expected_free_dates(db.session, [opening], today) == {opening.id: date(2027, 4, 15)}


def test_a_full_opening_without_planned_ends_has_no_expected_date_and_a_free_one_with_a_later_start_has_it(
    db, build, scene
):
    opening = scene["opening"]
    with clock.fixed(DAY):
        opening.places_external = 1  # the one place is taken by a participant from elsewhere
        db.session.commit()
        assert queue.expected_free_dates(db.session, [opening], clock.today()) == {opening.id: None}
        opening.places_external, opening.accepting_from = 0, date(2027, 1, 15)
        db.session.commit()
        assert queue.expected_free_dates(db.session, [opening], clock.today()) == {opening.id: date(2027, 1, 15)}


def test_queue_positions_follow_the_time_of_queueing_and_close_up(db, build, scene):
    opening, worker, host = scene["opening"], scene["worker"], scene["host"]
    a, b, c = scene["clients"]
    other = build.client(worker)
    _active(db, build, other, opening, worker, host, start_date=clock.today())
    # Queued in the order b (9:00), c (9:05), a (9:10).
    eb = _queue(db, b, opening, worker, DAY.replace(hour=9))
    ec = _queue(db, c, opening, worker, DAY.replace(hour=9, minute=5))
    ea = _queue(db, a, opening, scene["colleague"], DAY.replace(hour=9, minute=10))
    assert queue.positions(db.session, [opening.id]) == {eb.id: 1, ec.id: 2, ea.id: 3}
    with clock.fixed(DAY):
        queue.remove(db.session, eb, worker, now=clock.now())
    db.session.commit()
    assert queue.positions(db.session, [opening.id]) == {ec.id: 1, ea.id: 2}
    assert eb.status == "left" and eb.left_reason == "removed"


def test_a_client_cannot_queue_where_a_place_is_free_or_twice(db, build, scene):
    opening, worker = scene["opening"], scene["worker"]
    a = scene["clients"][0]
    with pytest.raises(Refused):
        queue.join(db.session, a, opening, worker, now=clock.now(), today=clock.today())
    db.session.rollback()
    opening.places_external = 1
    db.session.commit()
    _queue(db, a, opening, worker, clock.now())
    with pytest.raises(Refused):
        queue.join(db.session, a, opening, worker, now=clock.now(), today=clock.today())


# --- a freed place tells the first client's worker ---------------------------------------------------


def test_a_placement_ending_tells_the_first_clients_responsible_worker_inbox_and_mail(db, build, scene):
    opening, worker, colleague, host = scene["opening"], scene["worker"], scene["colleague"], scene["host"]
    a, b, c = scene["clients"]
    placement = _active(db, build, a, opening, worker, host, start_date=clock.today())
    # The colleague is b's responsible worker (asiakasvastaava).
    paths.save_plan(
        db.session,
        b,
        worker,
        responsible_worker_id=colleague.id,
        goal=GOAL,
        next_step="",
        next_step_on=None,
        review_on=None,
        today=clock.today(),
    )
    db.session.commit()
    eb = _queue(db, b, opening, worker, clock.now() - timedelta(hours=2))
    ec = _queue(db, c, opening, worker, clock.now() - timedelta(hours=1))

    placements.end(
        db.session,
        placement,
        host,
        ended_on=clock.today(),
        end_reason="completed",
        today=clock.today(),
        now=clock.now(),
    )
    db.session.commit()

    told = db.session.scalars(select(Notification).where(Notification.kind == "queue_place_free")).all()
    assert [(n.recipient_id, n.client_code) for n in told] == [(colleague.id, b.code)]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.recipient_id == colleague.id, OutboxMessage.kind == "queue_place_free")
        )
        == 1
    )
    db.session.refresh(eb)
    db.session.refresh(ec)
    assert (eb.status, ec.status) == ("offered", "waiting")
    assert NOTE not in (told[0].params or "")
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "queue_offered", AuditEvent.client_code == b.code)
        )
        == 1
    )

    # The capacity grows by one: the next waiting client's worker hears of it.
    sites.update_capacity(
        db.session,
        opening,
        host,
        places_total=2,
        places_external=0,
        status="open",
        accepting_from=None,
        expected_version=opening.version,
        now=clock.now(),
    )
    db.session.commit()
    told = db.session.scalars(
        select(Notification).where(Notification.kind == "queue_place_free").order_by(Notification.id)
    ).all()
    assert [n.client_code for n in told] == [b.code, c.code]


def test_a_reopened_opening_tells_the_first_worker(db, build, scene):
    opening, worker, host = scene["opening"], scene["worker"], scene["host"]
    a = scene["clients"][0]
    sites.update_capacity(
        db.session,
        opening,
        host,
        places_total=1,
        places_external=0,
        status="paused",
        accepting_from=None,
        expected_version=opening.version,
        now=clock.now(),
    )
    db.session.commit()
    _queue(db, a, opening, worker, clock.now())
    sites.update_capacity(
        db.session,
        opening,
        host,
        places_total=1,
        places_external=0,
        status="open",
        accepting_from=None,
        expected_version=opening.version,
        now=clock.now(),
    )
    db.session.commit()
    assert db.session.scalar(select(Notification.client_code).where(Notification.kind == "queue_place_free")) == a.code


def test_a_client_leaves_queues_when_placed_elsewhere_or_closed(db, build, scene):
    opening, worker, host = scene["opening"], scene["worker"], scene["host"]
    a, b, c = scene["clients"]
    elsewhere = build.opening(site_ref="ELSEWHERE-1", site_name="Toinen keittiö")
    _active(db, build, c, opening, worker, host, start_date=clock.today())
    ea = _queue(db, a, opening, worker, clock.now())
    eb = _queue(db, b, opening, worker, clock.now())
    host2 = build.user("host", organisation=elsewhere.site.organisation)
    _active(db, build, a, elsewhere, worker, host2)
    client_service.close_client(db.session, b, worker)
    db.session.commit()
    db.session.refresh(ea)
    db.session.refresh(eb)
    assert (ea.status, ea.left_reason) == ("left", "placed")
    assert (eb.status, eb.left_reason) == ("left", "closed")


# --- plans -------------------------------------------------------------------------------------------


def _plan(db, client, user, **values):
    defaults = dict(
        responsible_worker_id=client.owner_id,
        goal=GOAL,
        next_step="Tapaaminen työkokeilupaikalla",
        next_step_on=clock.today() + timedelta(days=7),
        review_on=clock.today() + timedelta(days=60),
        today=clock.today(),
    )
    return paths.save_plan(db.session, client, user, **(defaults | values))


def test_plan_texts_follow_the_free_text_rules_and_history_is_kept(db, scene):
    a = scene["clients"][0]
    with pytest.raises(Refused) as refused:
        _plan(db, a, scene["worker"], goal="Asiakas 010190-123A työkokeiluun")
    assert "goal" in refused.value.problems
    db.session.rollback()
    with pytest.raises(Refused) as refused:
        _plan(db, a, scene["worker"], next_step="Soita\x1b")
    assert "next_step" in refused.value.problems
    db.session.rollback()
    with pytest.raises(Refused) as refused:
        _plan(db, a, scene["worker"], responsible_worker_id=scene["stranger"].id)
    assert "responsible_worker_id" in refused.value.problems
    db.session.rollback()
    _plan(db, a, scene["worker"])
    _plan(db, a, scene["colleague"], goal="Palkkatuettu työ", responsible_worker_id=scene["colleague"].id)
    db.session.commit()
    history = paths.plan_history(db.session, a, scene["worker"])
    assert [h.goal for h in history] == ["Palkkatuettu työ", GOAL]
    assert paths.responsible_worker(db.session, a).id == scene["colleague"].id


def test_a_ktt_client_needs_a_plan_review_within_six_months(db, build, scene):
    opening, worker, host = scene["opening"], scene["worker"], scene["host"]
    a = scene["clients"][0]
    with clock.fixed(DAY):
        _active(db, build, a, opening, worker, host, start_date=clock.today())
        # No plan yet: due six months after the KTT start, 1.6.2027.
        assert paths.plan_review_due(db.session, a, worker) == date(2027, 6, 1)
        with pytest.raises(Refused) as refused:
            _plan(db, a, worker, review_on=date(2027, 6, 2))
        assert "review_on" in refused.value.problems
        db.session.rollback()
        with pytest.raises(Refused):
            _plan(db, a, worker, review_on=None)
        db.session.rollback()
        _plan(db, a, worker, review_on=date(2027, 3, 1))
        db.session.commit()
        assert paths.plan_review_due(db.session, a, worker) == date(2027, 3, 1)


# --- who sees what --------------------------------------------------------------------------------------


def test_a_host_never_sees_needs_or_plans_only_queue_codes(app, db, build, scene, login, client):
    opening, worker, host = scene["opening"], scene["worker"], scene["host"]
    a, b, c = scene["clients"]
    _active(db, build, c, opening, worker, host, start_date=clock.today())
    _plan(db, a, worker)
    db.session.commit()
    _queue(db, a, opening, worker, clock.now())
    login(host)
    page = client.get("/my/sites").get_data(as_text=True)
    assert a.code in page
    assert GOAL not in page and NOTE not in page
    assert client.get(f"/clients/{a.code}/plan").status_code in (403, 404)
    assert client.get(f"/clients/{a.code}").status_code in (403, 404)
    with pytest.raises(PermissionDenied):
        paths.current_plan(db.session, a, host)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "queue_listed", AuditEvent.client_codes.contains(f"|{a.code}|"))
        )
        == 1
    )


def test_another_worker_sees_nothing_of_a_client_not_shared_with_them(app, db, build, scene, login, client):
    opening, worker, stranger = scene["opening"], scene["worker"], scene["stranger"]
    a = scene["clients"][0]
    opening.places_external = 1
    _plan(db, a, worker)
    db.session.commit()
    _queue(db, a, opening, worker, clock.now())
    login(stranger)
    assert client.get(f"/clients/{a.code}/plan").status_code == 404
    assert post_form(client, f"/clients/{a.code}/queue/{opening.id}").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert a.code not in home and GOAL not in home
    for call in (
        lambda: paths.timeline(db.session, a, stranger),
        lambda: queue.client_queue(db.session, a, stranger, today=clock.today(), now=clock.now()),
        lambda: queue.join(db.session, a, opening, stranger, now=clock.now(), today=clock.today()),
    ):
        with pytest.raises(PermissionDenied):
            call()


# --- the pages --------------------------------------------------------------------------------------------


def test_the_worker_queues_from_the_matches_page_and_the_path_shows_each_step(app, db, build, scene, login, client):
    opening, worker, host = scene["opening"], scene["worker"], scene["host"]
    a, b, c = scene["clients"]
    held = _active(db, build, c, opening, worker, host, start_date=clock.today())
    login(worker)
    matches = client.get(f"/clients/{a.code}/matches?full=1").get_data(as_text=True)
    assert f"/clients/{a.code}/queue/{opening.id}" in matches
    response = post_form(client, f"/clients/{a.code}/queue/{opening.id}", token_from=f"/clients/{a.code}")
    assert response.status_code == 302
    page = client.get(f"/clients/{a.code}").get_data(as_text=True)
    assert "jonossa" in page.lower() or "jono" in page.lower()

    response = post_form(
        client,
        f"/clients/{a.code}/plan",
        {
            "responsible_worker_id": str(worker.id),
            "goal": GOAL,
            "next_step": "Tutustumiskäynti",
            "next_step_on": (clock.today() + timedelta(days=3)).isoformat(),
            "review_on": (clock.today() + timedelta(days=90)).isoformat(),
        },
        token_from=f"/clients/{a.code}/plan",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    viewed = select(func.count()).select_from(AuditEvent).where(AuditEvent.client_code == a.code)
    assert db.session.scalar(viewed.where(AuditEvent.action == "plan_viewed")) >= 1
    assert db.session.scalar(viewed.where(AuditEvent.action == "plan_saved")) == 1
    assert db.session.scalar(viewed.where(AuditEvent.action == "path_viewed")) >= 1
    assert db.session.scalar(viewed.where(AuditEvent.action == "queue_joined")) == 1

    placements.end(
        db.session, held, host, ended_on=clock.today(), end_reason="employed", today=clock.today(), now=clock.now()
    )
    db.session.commit()
    home = client.get("/").get_data(as_text=True)
    assert a.code in home  # a place freed up
    proposal = build.placement(a, opening, worker)
    placements.accept(db.session, proposal, host, now=clock.now())
    db.session.commit()

    steps = [s.kind for s in paths.timeline(db.session, a, worker)]
    for kind in ("needs", "plan", "queued", "offered", "proposed", "accepted", "left_queue"):
        assert kind in steps, (kind, steps)
    page = client.get(f"/clients/{a.code}").get_data(as_text=True)
    assert GOAL in page and "Palvelupolku" in page


def test_needs_attention_is_the_workers_home_page(app, db, build, scene, login, client):
    opening, worker, host = scene["opening"], scene["worker"], scene["host"]
    a, b, c = scene["clients"]
    with clock.fixed(DAY - timedelta(days=40)):
        idle = build.client(worker)
        build.needs(idle, worker)
    build.placement(a, opening, worker)  # waits for the host
    _active(db, build, b, opening, worker, host, start_date=clock.today() + timedelta(days=3))  # starts, no step
    login(worker)
    home = client.get("/").get_data(as_text=True)
    assert "Vaatii huomiota" in home
    assert idle.code in home and a.code in home and b.code in home
    assert f'href="/clients/{b.code}/plan"' in home
    assert f'href="/clients/{idle.code}/matches"' in home
    # The view is audited with every code it showed, so a search by code finds it (§12.3).
    db.session.expire_all()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attention_viewed")).one()
    assert {idle.code, a.code, b.code} <= set(filter(None, event.client_codes.split("|")))

    # A declined proposal stays on the list until its notice is opened.
    declined = build.placement(c, opening, worker)
    placements.decline(db.session, declined, host, reason="Ryhmä on täynnä keväällä.", now=clock.now())
    db.session.commit()
    notice = db.session.scalar(select(Notification).where(Notification.kind == "proposal_declined"))
    assert f'href="/notifications/{notice.id}"' in client.get("/").get_data(as_text=True)
    client.get(f"/notifications/{notice.id}")
    assert f'href="/notifications/{notice.id}"' not in client.get("/").get_data(as_text=True)


def test_queue_entries_older_than_90_days_ask_to_be_confirmed_and_moves_are_shown(app, db, build, scene):
    opening, worker, host = scene["opening"], scene["worker"], scene["host"]
    a, b, c = scene["clients"]
    _active(db, build, c, opening, worker, host, start_date=clock.today())
    ea = _queue(db, a, opening, worker, clock.now() - timedelta(days=91))
    eb = _queue(db, b, opening, worker, clock.now() - timedelta(days=10))
    kinds = {(i.kind, i.client_code) for i in paths.attention(db.session, worker, today=clock.today(), now=clock.now())}
    assert ("confirm", a.code) in kinds and ("confirm", b.code) not in kinds
    queue.remove(db.session, ea, worker, now=clock.now())
    moved = [i for i in paths.attention(db.session, worker, today=clock.today(), now=clock.now()) if i.kind == "moved"]
    assert [(i.client_code, i.was, i.position) for i in moved] == [(b.code, 2, 1)]
    # Shown once: the next look has nothing moved.
    assert not [
        i for i in paths.attention(db.session, worker, today=clock.today(), now=clock.now()) if i.kind == "moved"
    ]
    queue.confirm(db.session, eb, worker, now=clock.now())


def test_a_plan_saved_before_the_ktt_start_counts_from_the_start():
    plan = type("Plan", (), {"review_on": None, "created_at": DAY - timedelta(days=60)})()
    # Saved 2.10.2026, KTT from 1.12.2026: due 1.6.2027; saved after the start: six months after the save.
    assert paths.review_due(plan, date(2026, 12, 1)) == date(2027, 6, 1)
    plan.created_at = DAY + timedelta(days=31)  # 1.1.2027
    assert paths.review_due(plan, date(2026, 12, 1)) == date(2027, 7, 1)
    plan.review_on = date(2027, 3, 1)
    assert paths.review_due(plan, date(2026, 12, 1)) == date(2027, 3, 1)
    assert paths.review_due(None, None) is None


def test_an_archived_openings_queue_empties(db, build, scene):
    opening, worker = scene["opening"], scene["worker"]
    a = scene["clients"][0]
    opening.places_external = 1
    db.session.commit()
    entry = _queue(db, a, opening, worker, clock.now())
    sites.archive_opening(db.session, opening, build.user("coordinator"), expected_version=opening.version)
    db.session.commit()
    db.session.refresh(entry)
    assert (entry.status, entry.left_reason) == ("left", "archived")
    assert not db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.kind == "queue_place_free")
    )


def test_a_paused_opening_with_free_places_has_no_expected_free_date(db, build):
    """§18.4: today only when the opening could take a participant now."""
    site = build.site()
    opening = site.openings[0]
    opening.places_total, opening.places_external, opening.status = 3, 0, "paused"
    db.session.flush()
    today = clock.today()
    assert not queue.takes_new_participant(opening, today)
    assert queue.expected_free_dates(db.session, [opening], today)[opening.id] is None
    opening.status = "open"
    db.session.flush()
    assert queue.expected_free_dates(db.session, [opening], today)[opening.id] == today
