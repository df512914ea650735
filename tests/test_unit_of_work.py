"""One unit of work per request: one COMMIT, and an audit event commits or rolls back with
the change it describes. Only the unit-of-work helper commits."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from placements.models import AuditEvent, CapacityEvent, Needs, Opening, Placement
from tests.builders import PASSWORD
from tests.conftest import ROOT, csrf_token, log_in


@contextmanager
def counted_commits(db):
    """Counts COMMITs sent to the database while the block runs."""
    seen = []

    def on_commit(connection):
        seen.append(1)

    event.listen(db.engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(db.engine, "commit", on_commit)


@pytest.fixture
def scene(build):
    site = build.site(places_total="3", places_external="0")
    worker = build.user("social_worker")
    host = build.user("host", organisation=site.organisation)
    client = build.client(worker)
    build.needs(client, worker)
    return {"site": site, "opening": site.openings[0], "worker": worker, "host": host, "client": client}


def browser_for(app, user):
    browser = app.test_client()
    assert log_in(browser, user.email, PASSWORD).status_code == 302
    return browser


def test_a_capacity_change_commits_once_with_its_events(app, db, scene):
    browser = browser_for(app, scene["host"])
    opening = scene["opening"]
    token = csrf_token(browser, f"/openings/{opening.id}/capacity")
    data = {"csrf_token": token, "version": opening.version, "places_total": 6, "places_external": 1, "status": "open"}

    with counted_commits(db) as commits:
        response = browser.post(f"/openings/{opening.id}/capacity", data=data)

    assert response.status_code == 302
    assert len(commits) == 1
    db.session.expire_all()
    assert db.session.get(Opening, opening.id).places_total == 6
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "opening_capacity_changed")) == 1


def test_a_client_page_view_and_its_audit_event_are_one_transaction(app, db, scene):
    browser = browser_for(app, scene["worker"])

    with counted_commits(db) as commits:
        response = browser.get(f"/clients/{scene['client'].code}")

    assert response.status_code == 200
    assert len(commits) == 1
    viewed = select(func.count()).where(
        AuditEvent.action == "client_viewed", AuditEvent.client_code == scene["client"].code
    )
    assert db.session.scalar(viewed) == 1


@pytest.mark.parametrize("path", ["/sites", "/map", "/"])
def test_a_read_request_commits_at_most_once(app, db, scene, path):
    browser = browser_for(app, scene["worker"])
    with counted_commits(db) as commits:
        assert browser.get(path).status_code == 200
    assert len(commits) <= 1


def test_an_accepted_proposal_commits_once(app, db, build, scene):
    placement = build.placement(scene["client"], scene["opening"], scene["worker"])
    browser = browser_for(app, scene["host"])
    token = csrf_token(browser, f"/placements/{placement.id}")

    with counted_commits(db) as commits:
        response = browser.post(f"/placements/{placement.id}/accept", data={"csrf_token": token})

    assert response.status_code == 302
    assert len(commits) == 1
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == "active"


def test_a_failure_after_the_change_rolls_back_the_change_and_its_audit_event(app, db, scene, monkeypatch):
    """The service has written the change and its audit event when the page fails to render:
    nothing of it may stay."""
    from placements.catalogue import openings as opening_views

    browser = browser_for(app, scene["host"])
    opening = scene["opening"]
    token = csrf_token(browser, f"/openings/{opening.id}/capacity")

    def broken_redirect(site):
        raise RuntimeError("the page could not be built")

    monkeypatch.setattr(opening_views, "after_edit", broken_redirect)
    data = {"csrf_token": token, "version": opening.version, "places_total": 9, "places_external": 0, "status": "open"}
    response = browser.post(f"/openings/{opening.id}/capacity", data=data)

    assert response.status_code == 500
    db.session.expire_all()
    assert db.session.get(Opening, opening.id).places_total == 3
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "opening_capacity_changed")) == 0
    assert (
        db.session.scalar(select(func.count()).select_from(CapacityEvent).where(CapacityEvent.places_total_after == 9))
        == 0
    )


def test_a_refused_save_keeps_nothing_and_says_why(app, db, scene):
    browser = browser_for(app, scene["worker"])
    code = scene["client"].code
    token = csrf_token(browser, f"/clients/{code}/needs")
    before = db.session.scalar(select(func.count()).select_from(Needs))
    data = {
        "csrf_token": token,
        "wanted_types": "work_trial",
        "days_per_week": 3,
        "hours_per_day": 4,
        "max_travel_km": 30,
        "languages": "fi",
        "max_physical_demand": "heavy",
        "max_social_intensity": "high",
        "note": "Henkilötunnus 131052-308T mainittu",
    }

    response = browser.post(f"/clients/{code}/needs", data=data)

    assert response.status_code == 200 and "henkilötunnukselta" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Needs)) == before
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "needs_saved")) == 1  # the builder's


def test_a_denied_request_keeps_its_denial_in_the_audit_trail(app, db, build, scene):
    stranger = build.user("social_worker")
    browser = browser_for(app, stranger)

    assert browser.get(f"/clients/{scene['client'].code}").status_code == 404

    denied = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "permission_denied"))
    assert denied is not None and denied.user_id == stranger.id and denied.client_code == scene["client"].code


def test_only_the_unit_of_work_commits():
    package = ROOT / "placements"
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\bcommit\(\)", line) and path != package / "unit_of_work.py"
    ]
    assert offenders == []


def test_no_line_in_the_code_is_longer_than_120_characters():
    long_lines = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("placements", "tests", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if len(line) > 120 and "# noqa" not in line
    ]
    assert long_lines == []


def test_every_blueprint_is_a_package_that_creates_its_bp():
    from flask import Blueprint

    import placements

    for name in ("admin", "api", "auth", "catalogue", "clients", "main", "outcomes", "steps", "survey"):
        feature = __import__(f"placements.{name}", fromlist=["bp"])
        assert isinstance(feature.bp, Blueprint), name
        assert Path(feature.__file__).name == "__init__.py"
    assert not (Path(placements.__file__).parent / "placements").exists()
