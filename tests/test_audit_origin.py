"""Every audit event carries who (user, role), from where (address) and when, however deep
in a service it is written (docs/rules.md §12.3): the web layer sets the request's address
once, commands say "cli"; a denial by role records the client code its path named."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from placements.models import AuditEvent
from placements.services import audit
from tests.builders import PASSWORD
from tests.conftest import csrf_token, log_in

ADDRESS = "203.0.113.7"


def events(db, action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def from_address(app, user=None):
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = ADDRESS
    if user is not None:
        assert log_in(browser, user.email, PASSWORD).status_code == 302
    return browser


def test_an_event_written_deep_in_a_service_has_the_requests_address(app, db, build):
    site = build.site()
    opening = site.openings[0]
    host = build.user("host", organisation=site.organisation)
    browser = from_address(app, host)
    path = f"/openings/{opening.id}/capacity"
    data = {"csrf_token": csrf_token(browser, path), "version": 1, "places_total": 8, "places_external": 1}

    assert browser.post(path, data=data | {"status": "open"}).status_code == 302

    (event,) = events(db, "opening_capacity_changed")  # written by services/sites.py, not by the view
    assert (event.ip_address, event.user_id, event.user_email, event.role) == (ADDRESS, host.id, host.email, "host")
    assert event.occurred_at is not None
    (login,) = events(db, "login_succeeded")
    assert login.ip_address == ADDRESS


def test_every_event_of_a_request_has_its_address(app, db, build):
    worker = build.user("social_worker")
    browser = from_address(app, worker)
    token = csrf_token(browser, "/clients/new")
    data = {"csrf_token": token, "municipality_code": "205", "age_band": "30-39", "gender": "female"}

    assert browser.post("/clients/new", data=data).status_code == 302

    written = db.session.scalars(select(AuditEvent).where(AuditEvent.user_id == worker.id)).all()
    assert {e.action for e in written} >= {"login_succeeded", "client_created"}
    assert {e.ip_address for e in written} == {ADDRESS}
    assert all(e.role == "social_worker" and e.occurred_at for e in written)


def test_the_address_does_not_outlive_its_request(app, db, build):
    from_address(app, build.user("coordinator"))
    event = audit.record(db.session, "test_event")
    assert event.ip_address is None


def test_a_command_line_event_says_cli(runner, db):
    result = runner.invoke(
        args=["users", "create", "uusi@example.fi", "--name", "Uusi", "--role", "coordinator", "--password-stdin"],
        input="a brand new passphrase 2030\n",
    )

    assert result.exit_code == 0, result.output
    (event,) = events(db, "user_created")
    assert (event.ip_address, event.role) == ("cli", "system")
    assert event.occurred_at is not None


@pytest.mark.parametrize("role", ["host", "coordinator"])
def test_a_host_or_coordinator_opening_a_client_is_denied_with_the_code_recorded(app, db, build, role):
    worker = build.user("social_worker")
    person = build.client(worker)
    outsider = build.user(role)
    browser = from_address(app, outsider)

    for path in (f"/clients/{person.code}", f"/clients/{person.code}/needs", f"/clients/{person.code}/matches"):
        assert browser.get(path).status_code == 403, path

    denials = events(db, "permission_denied")
    assert len(denials) == 3
    for denial in denials:
        assert (denial.client_code, denial.user_id, denial.role, denial.ip_address) == (
            person.code,
            outsider.id,
            role,
            ADDRESS,
        )


def test_a_denial_for_a_malformed_code_records_what_the_path_named(app, db, build):
    browser = from_address(app, build.user("host"))
    assert browser.get("/clients/not-a-client-code-at-all").status_code == 403
    (denial,) = events(db, "permission_denied")
    assert denial.client_code == "not-a-clien"  # the first 11 characters, as the column holds


def test_a_refused_form_is_recorded_with_the_address(app, db, build):
    coordinator = build.user("coordinator")
    browser = from_address(app, coordinator)
    target = build.user("social_worker")

    assert browser.post(f"/admin/users/{target.id}/deactivate", data={}).status_code == 400

    (event,) = events(db, "csrf_failed")
    assert (event.ip_address, event.user_id, event.role) == (ADDRESS, coordinator.id, "coordinator")
