"""Destructive steps ask first (docs/rules.md §11.10): cancelling a proposal or an agreed
placement, declining a proposal, ending a placement, archiving an opening or a site. A POST
without the confirmation step's ``confirm=yes`` changes nothing and answers with the step,
which states the consequence; with it the step is taken and the browser is redirected."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from placements import clock
from placements.models import AuditEvent, CapacityEvent, Opening, Placement, Site
from placements.services import placements as placement_service
from tests.builders import PASSWORD, site_row
from tests.conftest import csrf_token, log_in


def as_user(app, user):
    browser = app.test_client()
    assert log_in(browser, user.email, PASSWORD).status_code == 302
    return browser


@pytest.fixture
def scene(build):
    site = build.site(places_total="3", places_external="0")
    worker = build.user("social_worker")
    host = build.user("host", organisation=site.organisation)
    client = build.client(worker)
    build.needs(client, worker)
    return {"site": site, "opening": site.openings[0], "worker": worker, "host": host, "client": client}


def _placement(db, build, scene, *, accepted: bool, start):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"], start_date=start)
    if accepted:
        placement_service.accept(db.session, placement, scene["host"], now=clock.now())
        db.session.commit()
    return placement


TODAY = clock.today()
LATER = TODAY + timedelta(days=10)

# step: (who takes it, accepted first?, start, posted values, heading, words of the consequence, status after)
STEPS = {
    "cancel a proposal": (
        "worker",
        False,
        LATER,
        "cancel",
        {},
        "Perutaanko ehdotus?",
        "ei enää odota yhdyshenkilön päätöstä",
        "cancelled",
    ),
    "cancel an agreed placement": (
        "host",
        True,
        LATER,
        "cancel",
        {},
        "Perutaanko sijoitus ennen sen alkua?",
        "Paikka vapautuu heti: tehtävässä on sen jälkeen 3 vapaata paikkaa.",
        "cancelled",
    ),
    "decline a proposal": (
        "host",
        False,
        LATER,
        "decline",
        {"reason": "Ryhmä on täynnä."},
        "Hylätäänkö ehdotus?",
        "näkee antamasi syyn: ”Ryhmä on täynnä.”",
        "declined",
    ),
    "end a placement": (
        "worker",
        True,
        TODAY,
        "end",
        {"ended_on": TODAY.isoformat(), "end_reason": "employed"},
        "Päätetäänkö sijoitus?",
        "syy: työllistyi.",
        "ended",
    ),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_a_placement_step_without_confirmation_changes_nothing_and_with_it_acts(app, db, build, scene, step):
    who, accepted, start, action, values, heading, consequence, after = STEPS[step]
    placement = _placement(db, build, scene, accepted=accepted, start=start)
    before = placement.status
    browser = as_user(app, scene[who])
    path = f"/placements/{placement.id}"
    form = {"csrf_token": csrf_token(browser, path)} | values
    changes = ("placement_declined", "placement_cancelled", "placement_ended")

    def audited(*actions) -> int:
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.in_(actions)))

    views = audited("placement_viewed")

    for unconfirmed in (form, form | {"confirm": "no"}, form | {"confirm": ""}):
        response = browser.post(f"{path}/{action}", data=unconfirmed)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert heading in page and consequence in page, page
        assert f'action="{path}/{action}"' in page and 'name="confirm" value="yes"' in page
        for name, value in values.items():
            assert f'name="{name}" value="{value}"' in page
        assert f'href="{path}"' in page  # back without changes
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == before
    assert audited(*changes) == 0
    assert audited("placement_viewed") == views + 3  # the step shows the client code: a read (§6.10)

    response = browser.post(f"{path}/{action}", data=form | {"confirm": "yes"})
    assert response.status_code == 302 and response.headers["Location"] == path  # post/redirect/get
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == after
    stored = db.session.get(Opening, scene["opening"].id)
    still_active = (Placement.status == "active", Placement.opening_id == stored.id)
    active = db.session.scalar(select(func.count()).select_from(Placement).where(*still_active))
    assert stored.places_taken == active == 0


def test_a_step_that_would_be_refused_is_refused_before_it_is_confirmed(app, db, build, scene):
    """Nothing to confirm: an empty decline reason, an agreed placement's end, a started
    placement's cancel are refused at once, with the reason."""
    proposal = _placement(db, build, scene, accepted=False, start=LATER)
    host = as_user(app, scene["host"])
    path = f"/placements/{proposal.id}"
    response = host.post(f"{path}/decline", data={"csrf_token": csrf_token(host, path), "reason": " "})
    assert response.status_code == 302
    assert "Kerro sosiaaliohjaajalle syy" in host.get(path).get_data(as_text=True)

    started = _placement(db, build, {**scene, "client": build.client(scene["worker"])}, accepted=True, start=TODAY)
    worker = as_user(app, scene["worker"])
    path = f"/placements/{started.id}"
    response = worker.post(f"{path}/cancel", data={"csrf_token": csrf_token(worker, path)})
    assert response.status_code == 302
    assert "on jo alkanut" in worker.get(path).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Placement, proposal.id).status == "proposed"
    assert db.session.get(Placement, started.id).status == "active"


@pytest.mark.parametrize("action", ["cancel", "decline", "end"])
def test_people_without_the_placement_cannot_take_its_steps_even_confirmed(app, db, build, scene, action):
    placement = _placement(db, build, scene, accepted=action != "decline", start=TODAY if action == "end" else LATER)
    before = placement.status
    other_host = build.user("host", organisation=build.site(site_ref="OTHER", organisation="Muu järjestö").organisation)
    outsiders = [other_host, build.user("social_worker"), build.user("coordinator")]
    values = {"reason": "Ei käy.", "ended_on": TODAY.isoformat(), "end_reason": "other", "confirm": "yes"}
    for user in outsiders:
        browser = as_user(app, user)
        form = {"csrf_token": csrf_token(browser)} | values
        response = browser.post(f"/placements/{placement.id}/{action}", data=form)
        assert response.status_code in (403, 404), (user.role, response.status_code)
    if action == "decline":  # only the host decides; the worker cannot decline their own proposal
        worker = as_user(app, scene["worker"])
        response = worker.post(f"/placements/{placement.id}/decline", data={"csrf_token": csrf_token(worker)} | values)
        assert response.status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == before


ARCHIVES = {
    "opening": ("Arkistoidaanko tehtävä?", "Arkistointia ei voi perua rekisterissä."),
    "site": ("Arkistoidaanko toimipaikka?", "Toimipaikka ja sen 2 tehtävää poistuvat hausta"),
}


@pytest.mark.parametrize("what", list(ARCHIVES))
def test_archiving_without_confirmation_changes_nothing_and_with_it_archives(app, db, build, what):
    second = site_row(opening_type="work_trial", opening_title="Toinen", days_per_week_max="5")
    site = build.sites(site_row(), second)[0]
    opening = site.openings[0]
    coordinator = as_user(app, build.user("coordinator"))
    target = f"/openings/{opening.id}/archive" if what == "opening" else f"/sites/{site.id}/archive"
    version = opening.version if what == "opening" else site.version
    form = {"csrf_token": csrf_token(coordinator, f"/sites/{site.id}"), "version": version}
    heading, consequence = ARCHIVES[what]
    capacity_events = db.session.scalar(select(func.count()).select_from(CapacityEvent))

    for unconfirmed in (form, form | {"confirm": "true"}):
        response = coordinator.post(target, data=unconfirmed)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert heading in page and consequence in page
        assert f'name="version" value="{version}"' in page and 'name="confirm" value="yes"' in page
        assert f'href="/sites/{site.id}"' in page
    db.session.expire_all()
    assert db.session.get(Site, site.id).archived_at is None
    assert db.session.get(Opening, opening.id).archived_at is None
    assert db.session.scalar(select(func.count()).select_from(CapacityEvent)) == capacity_events
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == f"{what}_archived")) is None

    response = coordinator.post(target, data=form | {"confirm": "yes"})
    assert response.status_code == 302
    db.session.expire_all()
    archived = db.session.get(Opening, opening.id) if what == "opening" else db.session.get(Site, site.id)
    assert archived.archived_at is not None


@pytest.mark.parametrize("what", list(ARCHIVES))
def test_only_the_coordinator_archives_even_confirmed(app, db, build, what):
    site = build.site()
    opening = site.openings[0]
    host = as_user(app, build.user("host", organisation=site.organisation))
    target = f"/openings/{opening.id}/archive" if what == "opening" else f"/sites/{site.id}/archive"
    version = opening.version if what == "opening" else site.version
    form = {"csrf_token": csrf_token(host, "/my/sites"), "version": version, "confirm": "yes"}
    assert host.post(target, data=form).status_code == 403
    db.session.expire_all()
    assert db.session.get(Site, site.id).archived_at is None
    assert db.session.get(Opening, opening.id).archived_at is None
