"""Rules live with the actions: every service that changes or reveals protected data checks
the acting user itself, so a caller that skips the pages (an e-mail link, a job, a command)
still cannot act. Each call below is made as a user the rule does not allow."""

from __future__ import annotations

from datetime import timedelta

import pytest

from placements import clock
from placements.errors import PermissionDenied
from placements.permissions import SYSTEM
from placements.services import audit, clients, importer, jobs, outcomes, paths, placements, queue, rounds, sites, users
from placements.services.geocoding import Geocoder
from placements.services.importer import jobs as import_jobs
from placements.services.survey import year
from tests.builders import csv_bytes, site_row


@pytest.fixture
def world(build):
    site = build.site(places_total="4", places_external="0")
    other_site = build.site(site_ref="OTHER-1", organisation="Toinen järjestö ry")
    worker = build.user("social_worker")
    colleague = build.user("social_worker")
    host = build.user("host", organisation=site.organisation)
    other_host = build.user("host", organisation=other_site.organisation)
    coordinator = build.user("coordinator")
    client = build.client(worker)
    build.needs(client, worker)
    proposal = build.placement(client, site.openings[0], worker)
    return {
        "site": site,
        "opening": site.openings[0],
        "other_opening": other_site.openings[0],
        "worker": worker,
        "colleague": colleague,
        "host": host,
        "other_host": other_host,
        "coordinator": coordinator,
        "client": client,
        "proposal": proposal,
    }


def _opening_values(opening):
    return {name: getattr(opening, name) for name in sites.OPENING_DETAIL_FIELDS}


def _site_values(site):
    return {name: getattr(site, name) for name in sites.SITE_FIELDS} | {"latitude": None, "longitude": None}


def _round(session):
    """An open survey round over every organisation (the services' own steps, as the system)."""
    survey_round, _job = rounds.create_round(
        session,
        SYSTEM,
        name="Kierros",
        reference_date=clock.today(),
        period_start=clock.today() - timedelta(days=365),
        period_end=clock.today(),
        deadline=clock.today() + timedelta(days=14),
    )
    rounds.open_round(session, SYSTEM, survey_round.id)
    return survey_round


def _response_of(session, survey_round, organisation_id):
    return next(r for r in survey_round.responses if r.organisation_id == organisation_id)


CALLS = {
    "update capacity of another organisation's opening": lambda s, w: sites.update_capacity(
        s,
        w["other_opening"],
        w["host"],
        expected_version=w["other_opening"].version,
        places_total=9,
        places_external=0,
        status="open",
        accepting_from=None,
    ),
    "confirm another organisation's opening": lambda s, w: sites.confirm(
        s, w["other_opening"], w["host"], expected_version=w["other_opening"].version
    ),
    "edit another organisation's opening": lambda s, w: sites.update_opening(
        s,
        w["other_opening"],
        w["host"],
        expected_version=w["other_opening"].version,
        values=_opening_values(w["other_opening"]),
    ),
    "a social worker edits an opening": lambda s, w: sites.confirm(
        s, w["opening"], w["worker"], expected_version=w["opening"].version
    ),
    "add an opening to another organisation's site": lambda s, w: sites.create_opening(
        s, w["other_opening"].site, w["host"], values=_opening_values(w["opening"]), places_total=1, places_external=0
    ),
    "a host archives an opening": lambda s, w: sites.archive_opening(
        s, w["opening"], w["host"], expected_version=w["opening"].version
    ),
    "a host creates a site": lambda s, w: sites.save_site(
        s,
        None,
        w["host"],
        values=_site_values(w["site"]),
        organisation_id=w["host"].organisation_id,
        geocoder=Geocoder(s),
    ),
    "a host edits another organisation's site": lambda s, w: sites.save_site(
        s,
        w["other_opening"].site,
        w["host"],
        values=_site_values(w["other_opening"].site),
        organisation_id=w["other_host"].organisation_id,
        geocoder=Geocoder(s),
        expected_version=w["other_opening"].site.version,
    ),
    "a host archives a site": lambda s, w: sites.archive_site(
        s, w["site"], w["host"], expected_version=w["site"].version
    ),
    "a host saves an organisation": lambda s, w: sites.save_organisation(
        s, None, w["host"], values={"name": "Uusi järjestö", "kind": "association"}
    ),
    "a host imports a site CSV": lambda s, w: importer.import_sites(
        s, csv_bytes([site_row(site_ref="NEW-1")]), w["host"]
    ),
    "a host starts a site CSV check": lambda s, w: import_jobs.start_check(
        s, w["host"], filename="sites.csv", content=csv_bytes([site_row()]), locale="fi"
    ),
    "a host confirms a site CSV import": lambda s, w: import_jobs.start_apply(s, w["host"], token="x", locale="fi"),
    "a host opens another user's job": lambda s, w: jobs.job_for(
        s, w["host"], jobs.enqueue(s, import_jobs.CHECK, owner=w["coordinator"]).id
    ),
    "another worker opens a worker's job": lambda s, w: jobs.job_for(
        s, w["colleague"], jobs.enqueue(s, "example", owner=w["worker"]).id
    ),
    "a coordinator creates a client": lambda s, w: clients.create_client(
        s, w["coordinator"], municipality_code="205", home_postal_code=None, age_band="30-39", gender=None
    ),
    "another worker updates a client": lambda s, w: clients.update_client(
        s, w["client"], w["colleague"], municipality_code="205", home_postal_code=None, age_band="30-39", gender=None
    ),
    "another worker reads the needs": lambda s, w: clients.current_needs(s, w["client"], w["colleague"]),
    "the coordinator reads the needs": lambda s, w: clients.current_needs(s, w["client"], w["coordinator"]),
    "a host reads the needs": lambda s, w: clients.current_needs(s, w["client"], w["host"]),
    "another worker saves needs": lambda s, w: clients.save_needs(
        s, w["client"], w["colleague"], {"wanted_types": ("work_trial",), "languages": ("fi",)}
    ),
    "another worker reads the home": lambda s, w: clients.home_location(s, w["client"], w["colleague"]),
    "another worker closes the client": lambda s, w: clients.close_client(s, w["client"], w["colleague"]),
    "another worker reopens the client": lambda s, w: clients.reopen_client(s, w["client"], w["colleague"]),
    "another worker lists the placements": lambda s, w: clients.client_placements(s, w["client"], w["colleague"]),
    "a coordinator purges clients": lambda s, w: clients.purge_closed(s, w["coordinator"], older_than_days=0),
    "a host lists clients": lambda s, w: clients.visible_clients_query(w["host"]),
    "another worker proposes for the client": lambda s, w: placements.propose(
        s,
        w["client"],
        w["opening"],
        w["colleague"],
        days_per_week=3,
        hours_per_day=5.0,
        start_date=clock.today() + timedelta(days=3),
        planned_end=clock.today() + timedelta(days=120),
        note_for_host=None,
        today=clock.today(),
    ),
    "the worker accepts their own proposal": lambda s, w: placements.accept(
        s, w["proposal"], w["worker"], now=clock.now()
    ),
    "another organisation's host accepts": lambda s, w: placements.accept(
        s, w["proposal"], w["other_host"], now=clock.now()
    ),
    "another organisation's host declines": lambda s, w: placements.decline(
        s, w["proposal"], w["other_host"], reason="Ei käy", now=clock.now()
    ),
    "another worker cancels": lambda s, w: placements.cancel(
        s, w["proposal"], w["colleague"], now=clock.now(), today=clock.today()
    ),
    "the coordinator ends a placement": lambda s, w: placements.end(
        s,
        w["proposal"],
        w["coordinator"],
        ended_on=clock.today(),
        end_reason="completed",
        today=clock.today(),
        now=clock.now(),
    ),
    "another organisation's host checks a decline": lambda s, w: placements.check_decline(
        w["proposal"], w["other_host"], reason="Ei käy"
    ),
    "another worker checks a cancel": lambda s, w: placements.check_cancel(
        w["proposal"], w["colleague"], today=clock.today()
    ),
    "the coordinator checks an end": lambda s, w: placements.check_end(
        w["proposal"], w["coordinator"], ended_on=clock.today(), today=clock.today()
    ),
    "a worker lists a host's placements": lambda s, w: placements.host_placements(s, w["worker"]),
    "a host creates an account": lambda s, w: users.create_user(
        s, w["host"], email="uusi@example.fi", name="Uusi", role="coordinator", password="pitkä ja hyvä salasana"
    ),
    "a coordinator gives an account a password": lambda s, w: users.create_user(
        s, w["coordinator"], email="uusi@example.fi", name="Uusi", role="host", password="pitkä ja hyvä salasana"
    ),
    "a host invites an account": lambda s, w: users.invite_user(
        s, w["host"], email="uusi@example.fi", name="Uusi", role="social_worker"
    ),
    "a worker deactivates an account": lambda s, w: users.set_active(s, w["host"], False, by=w["worker"]),
    "a host resets a password": lambda s, w: users.reset_password(s, w["worker"], by=w["host"]),
    "a worker moves clients": lambda s, w: users.transfer_clients(s, w["worker"], w["colleague"], by=w["colleague"]),
    "a worker reads the audit trail": lambda s, w: audit.search_query(w["worker"]),
    "the command line reads the needs": lambda s, w: clients.current_needs(s, w["client"], SYSTEM),
    "a host saves a client's plan": lambda s, w: paths.save_plan(
        s,
        w["client"],
        w["host"],
        responsible_worker_id=w["host"].id,
        goal="Työkokeilu",
        next_step="",
        next_step_on=None,
        review_on=None,
        today=clock.today(),
    ),
    "a colleague not shared with reads a plan": lambda s, w: paths.current_plan(s, w["client"], w["colleague"]),
    "a coordinator reads a client's path": lambda s, w: paths.timeline(s, w["client"], w["coordinator"]),
    "a host opens a worker's attention list": lambda s, w: paths.attention(
        s, w["host"], today=clock.today(), now=clock.now()
    ),
    "a colleague not shared with queues a client": lambda s, w: queue.join(
        s, w["client"], w["opening"], w["colleague"], now=clock.now(), today=clock.today()
    ),
    "a host reads a client's queues": lambda s, w: queue.client_queue(
        s, w["client"], w["host"], today=clock.today(), now=clock.now()
    ),
    "a worker lists a host's queues": lambda s, w: queue.host_queues(s, w["worker"], today=clock.today()),
    "a worker reads the region's outcomes": lambda s, w: outcomes.region_outcomes(s, w["worker"], year(2026)),
    "a host reads the region's outcomes": lambda s, w: outcomes.region_outcomes(s, w["host"], year(2026)),
    "a host reads a worker's outcomes": lambda s, w: outcomes.worker_outcomes(s, w["host"], year(2026)),
    "a coordinator reads a worker's outcomes": lambda s, w: outcomes.worker_outcomes(s, w["coordinator"], year(2026)),
    "the command line reads a worker's outcomes": lambda s, w: outcomes.worker_outcomes(s, SYSTEM, year(2026)),
    "create a survey round as a host": lambda s, w: rounds.create_round(
        s,
        w["host"],
        name="x",
        reference_date=clock.today(),
        period_start=clock.today(),
        period_end=clock.today(),
        deadline=clock.today(),
    ),
    "follow a survey round as a social worker": lambda s, w: rounds.follow(s, w["worker"], _round(s)),
    "send a survey round's reminders as a host": lambda s, w: rounds.remind(s, w["host"], _round(s)),
    "close a survey round as a host": lambda s, w: rounds.close_round(s, w["host"], _round(s)),
    "answer another organisation's survey round": lambda s, w: rounds.save_response(
        s,
        w["other_host"],
        _response_of(s, _round(s), w["site"].organisation_id),
        answers={},
        comment="",
        groups={},
        submit=False,
    ),
    "answer a survey round as a coordinator": lambda s, w: rounds.save_response(
        s,
        w["coordinator"],
        _response_of(s, _round(s), w["site"].organisation_id),
        answers={},
        comment="",
        groups={},
        submit=False,
    ),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_service_refuses_the_wrong_user(db, world, name):
    with pytest.raises(PermissionDenied):
        CALLS[name](db.session, world)
    db.session.rollback()


def test_the_right_users_are_not_refused(db, world):
    """The same services work for the users the rules allow (the negative tests mean something)."""
    session = db.session
    assert clients.current_needs(session, world["client"], world["worker"]) is not None
    assert paths.timeline(session, world["client"], world["worker"])
    assert queue.host_queues(session, world["host"], today=clock.today()) == []
    placements.accept(session, world["proposal"], world["host"], now=clock.now())
    sites.confirm(session, world["opening"], world["host"], expected_version=world["opening"].version)
    assert audit.search_query(world["coordinator"]) is not None
    assert outcomes.region_outcomes(session, world["coordinator"], year(2026)).ended_total() == 0
    assert outcomes.worker_outcomes(session, world["worker"], year(2026)).transitions == {}
    survey_round = _round(session)
    response = _response_of(session, survey_round, world["site"].organisation_id)
    rounds.save_response(session, world["host"], response, answers={}, comment="", groups={}, submit=False)
    assert rounds.follow(session, world["coordinator"], survey_round).overall.in_progress == 1
    user, token = users.invite_user(
        session,
        world["coordinator"],
        email="uusi@example.fi",
        name="U",
        role="host",
        organisation_id=world["site"].organisation_id,
    )
    assert token and users.reset_password(session, user, by=world["coordinator"])
    job = jobs.enqueue(session, "example", owner=world["worker"])
    assert jobs.job_for(session, world["worker"], job.id) is job
    assert jobs.job_for(session, world["coordinator"], job.id) is job
    session.rollback()
