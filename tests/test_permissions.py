"""docs/rules.md §2 made provable: every route × role × method, and the named checks."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from placements import clock, permissions
from placements.models import AuditEvent, Client, QueueEntry, User
from placements.services import jobs, notifications, rounds, tokens, users
from tests.conftest import csrf_token

ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, "host", "social_worker", "coordinator")
EVERYONE = set(ROLES)
LOGGED_IN = {"host", "social_worker", "coordinator"}
COORDINATOR = {"coordinator"}
HOST_OR_COORDINATOR = {"host", "coordinator"}

# (endpoint, method) -> the roles allowed. A route missing here fails the test below.
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("main.index", "GET"): EVERYONE,
    ("main.healthz", "GET"): EVERYONE,
    ("main.set_language", "POST"): EVERYONE,
    ("auth.login", "GET"): EVERYONE,
    ("auth.login", "POST"): EVERYONE,
    ("auth.change_password", "GET"): LOGGED_IN,
    ("auth.change_password", "POST"): LOGGED_IN,
    ("auth.logout", "POST"): LOGGED_IN,
    # A set-password link: its secret is the permission (logged-in users are told to log out).
    ("auth.set_password", "GET"): EVERYONE,
    ("auth.set_password", "POST"): EVERYONE,
    ("admin.user_list", "GET"): COORDINATOR,
    ("admin.user_list", "POST"): COORDINATOR,
    ("admin.deactivate_user", "POST"): COORDINATOR,
    ("admin.reactivate_user", "POST"): COORDINATOR,
    ("admin.reset_password", "POST"): COORDINATOR,
    ("admin.password_link", "GET"): COORDINATOR,
    ("admin.transfer_clients", "GET"): COORDINATOR,
    ("admin.transfer_clients", "POST"): COORDINATOR,
    ("admin.audit_log", "GET"): COORDINATOR,
    ("admin.audit_log", "POST"): COORDINATOR,
    ("admin.organisations", "GET"): COORDINATOR,
    ("admin.organisations", "POST"): COORDINATOR,
    ("admin.organisation_edit", "GET"): COORDINATOR,
    ("admin.organisation_edit", "POST"): COORDINATOR,
    ("admin.import_upload", "GET"): COORDINATOR,
    ("admin.import_upload", "POST"): COORDINATOR,
    ("admin.import_confirm", "POST"): COORDINATOR,
    ("admin.import_template", "GET"): COORDINATOR,
    ("admin.import_columns", "GET"): COORDINATOR,
    ("admin.stale_overview", "GET"): COORDINATOR,
    # A job's page: the user who started it (here the social worker) and coordinators (§16.3).
    ("jobs.job_page", "GET"): {"social_worker", "coordinator"},
    ("jobs.job_progress", "GET"): {"social_worker", "coordinator"},
    # Survey rounds (§17): the coordinator's pages; a host answers for their own organisation.
    ("rounds.round_list", "GET"): COORDINATOR,
    ("rounds.round_list", "POST"): COORDINATOR,
    ("rounds.round_page", "GET"): COORDINATOR,
    ("rounds.round_remind", "POST"): COORDINATOR,
    ("rounds.round_close", "GET"): COORDINATOR,
    ("rounds.round_close", "POST"): COORDINATOR,
    ("rounds.round_reopen", "GET"): COORDINATOR,
    ("rounds.round_reopen", "POST"): COORDINATOR,
    ("rounds.round_report", "GET"): COORDINATOR,
    ("rounds.round_report_csv", "GET"): COORDINATOR,
    ("rounds.round_report_pdf", "GET"): COORDINATOR,
    ("rounds.answer_page", "GET"): {"host"},
    ("rounds.answer_page", "POST"): {"host"},
    # Browsing needs a login unless PUBLIC_CATALOGUE=1 (tested separately).
    ("catalogue.site_list", "GET"): LOGGED_IN,
    ("catalogue.site_map", "GET"): LOGGED_IN,
    ("catalogue.map_markers_data", "GET"): LOGGED_IN,
    ("catalogue.site_page", "GET"): LOGGED_IN,
    ("catalogue.site_popup", "GET"): LOGGED_IN,
    ("catalogue.my_sites", "GET"): {"host"},
    # Hosts for their own organisation's sites (the objects below); others are tested apart.
    ("catalogue.site_edit", "GET"): HOST_OR_COORDINATOR,
    ("catalogue.site_edit", "POST"): HOST_OR_COORDINATOR,
    ("catalogue.opening_new", "GET"): HOST_OR_COORDINATOR,
    ("catalogue.opening_new", "POST"): HOST_OR_COORDINATOR,
    ("catalogue.opening_edit", "GET"): HOST_OR_COORDINATOR,
    ("catalogue.opening_edit", "POST"): HOST_OR_COORDINATOR,
    ("catalogue.opening_capacity", "GET"): HOST_OR_COORDINATOR,
    ("catalogue.opening_capacity", "POST"): HOST_OR_COORDINATOR,
    ("catalogue.opening_confirm", "POST"): HOST_OR_COORDINATOR,
    ("catalogue.site_new", "GET"): COORDINATOR,
    ("catalogue.site_new", "POST"): COORDINATOR,
    ("catalogue.site_archive", "POST"): COORDINATOR,
    ("catalogue.opening_archive", "POST"): COORDINATOR,
    # Clients: only social workers, and only their own or shared clients (tested apart).
    ("clients.client_list", "GET"): {"social_worker"},
    ("clients.client_list", "POST"): {"social_worker"},
    ("clients.client_new", "GET"): {"social_worker"},
    ("clients.client_new", "POST"): {"social_worker"},
    ("clients.client_page", "GET"): {"social_worker"},
    ("clients.client_edit", "GET"): {"social_worker"},
    ("clients.client_edit", "POST"): {"social_worker"},
    ("clients.client_close", "POST"): {"social_worker"},
    ("clients.client_reopen", "POST"): {"social_worker"},
    ("clients.needs", "GET"): {"social_worker"},
    ("clients.needs", "POST"): {"social_worker"},
    ("clients.matches", "GET"): {"social_worker"},
    ("clients.propose", "GET"): {"social_worker"},
    ("clients.propose", "POST"): {"social_worker"},
    # Service paths (docs/rules.md §18): the client's workers only; hosts see queue codes on /my/sites.
    ("paths.plan", "GET"): {"social_worker"},
    ("paths.plan", "POST"): {"social_worker"},
    ("paths.join_queue", "POST"): {"social_worker"},
    ("paths.remove_from_queue", "GET"): {"social_worker"},
    ("paths.remove_from_queue", "POST"): {"social_worker"},
    ("paths.confirm_queue", "POST"): {"social_worker"},
    # Placements: the client's worker and the host of the opening's organisation.
    ("steps.placement_page", "GET"): {"host", "social_worker"},
    ("steps.accept", "POST"): {"host"},
    ("steps.decline", "POST"): {"host"},
    ("steps.cancel", "POST"): {"host", "social_worker"},
    ("steps.end", "POST"): {"host", "social_worker"},
    ("survey.survey_page", "GET"): COORDINATOR,
    ("survey.survey_csv", "GET"): COORDINATOR,
    # Outcomes (docs/rules.md §19): the region's for coordinators, a worker's own clients' for workers.
    ("outcomes.region_outcomes", "GET"): COORDINATOR,
    ("outcomes.region_csv", "GET"): COORDINATOR,
    ("outcomes.own_outcomes", "GET"): {"social_worker"},
    ("outcomes.own_csv", "GET"): {"social_worker"},
    ("catalogue.sites_csv", "GET"): COORDINATOR,
    # The API answers 401 (not a login redirect) to anonymous callers; no client data in it.
    ("api.sites", "GET"): LOGGED_IN,
    ("api.site_detail", "GET"): LOGGED_IN,
    ("api.opening_detail", "GET"): LOGGED_IN,
    ("api.hsds_services", "GET"): LOGGED_IN,
    ("api.hsds_service", "GET"): LOGGED_IN,
    ("api.openapi", "GET"): EVERYONE,
    # Notifications: everyone logged in has an inbox; a notification opens only for its recipient.
    ("inbox.inbox", "GET"): LOGGED_IN,
    ("inbox.open_notification", "GET"): {"social_worker"},
    ("inbox.mark_all_read", "POST"): LOGGED_IN,
    ("inbox.preferences", "GET"): LOGGED_IN,
    ("inbox.preferences", "POST"): LOGGED_IN,
    ("admin.outbox", "GET"): COORDINATOR,
    # The one-click link from the weekly reminder needs no login: the token is the permission.
    ("inbox.confirm_link", "GET"): EVERYONE,
    ("inbox.confirm_post", "POST"): EVERYONE,
}
# Requests that end what the others need go last, in this order.
LAST = {
    "paths.remove_from_queue": 0.5,
    "clients.client_close": 1,
    "catalogue.opening_archive": 2,
    "catalogue.site_archive": 3,
    "auth.logout": 4,
}


def routes(app) -> list[tuple[str, str, object]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule))
    return found


def test_every_route_has_an_expected_outcome(app):
    missing = sorted({(endpoint, method) for endpoint, method, _ in routes(app)} - set(EXPECTED))
    assert missing == [], f"add these routes to EXPECTED with the roles allowed: {missing}"
    stale = sorted(set(EXPECTED) - {(endpoint, method) for endpoint, method, _ in routes(app)})
    assert stale == [], f"EXPECTED names routes that no longer exist: {stale}"


def test_state_changes_only_by_post(app):
    for endpoint, method, _ in routes(app):
        assert method in {"GET", "POST"}, f"{endpoint} answers {method}"


@pytest.fixture
def objects(build):
    """One object of each kind a URL can name; the site belongs to the host's organisation."""
    target = build.user("social_worker", email="target@example.fi")
    site = build.site(site_ref="MATRIX", organisation="Matriisin järjestö")
    worker = build.user("social_worker", email="matrix-worker@example.fi")
    person = build.client(worker)
    build.needs(person, worker)
    placement = build.placement(person, site.openings[0], worker)
    entry = QueueEntry(client_id=person.id, opening_id=site.openings[0].id, created_by_id=worker.id)
    build.session.add(entry)
    job = jobs.enqueue(build.session, "matrix_example", owner=worker)
    host = build.user("host", organisation=site.organisation, email="matrix-host@example.fi")
    opening = site.openings[0]
    notice = notifications.notify(build.session, [worker], "proposal_accepted", params={}, link="/clients")[0]
    newcomer = build.user("social_worker", email="newcomer@example.fi")
    token = users.reset_password(build.session, newcomer, by=permissions.SYSTEM)
    survey_round, _job = rounds.create_round(
        build.session,
        permissions.SYSTEM,
        name="Matriisikierros",
        reference_date=date(2026, 12, 31),
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        deadline=clock.today(),
    )
    rounds.open_round(build.session, permissions.SYSTEM, survey_round.id)
    build.session.commit()
    return {
        "round_id": survey_round.id,
        "token": token,
        "job_id": job.id,
        "worker": worker,
        "code": person.code,
        "placement_id": placement.id,
        "user_id": target.id,
        "site_id": site.id,
        "opening_id": site.openings[0].id,
        "organisation_id": site.organisation_id,
        "organisation": site.organisation,
        "service_id": site.openings[0].uuid,
        "notification_id": notice.id,
        "entry_id": entry.id,
        "signed": tokens.confirm_token(opening.id, host.id, opening.last_confirmed_at),
    }


def _url(rule, objects) -> str:
    values = {name: objects[name] for name in rule.arguments}
    return rule.build(values)[1]


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(app, db, build, objects, role):
    from tests.builders import PASSWORD
    from tests.conftest import log_in

    if role == "social_worker":
        user = objects["worker"]  # owns the client and made the placement
    else:
        user = (
            None
            if role == ANONYMOUS
            else build.user(role, organisation=objects["organisation"] if role == "host" else None)
        )
    failures = []
    ordered = sorted(routes(app), key=lambda item: LAST.get(item[0], 0))
    for endpoint, method, rule in ordered:
        client = app.test_client()
        if user is not None:
            assert log_in(client, user.email, PASSWORD).status_code == 302
        url = _url(rule, objects)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": csrf_token(client, "/")})
        allowed = role in EXPECTED[(endpoint, method)]
        status, location = response.status_code, response.headers.get("Location")
        if role == ANONYMOUS:
            denied = status == 401 or (status == 302 and location == "/login" and endpoint != "auth.login")
        else:
            denied = status in (403, 404)
        if status >= 500 or allowed == denied:
            failures.append(
                f"{method} {url} as {role}: {status} {location or ''} (expected {'allowed' if allowed else 'denied'})"
            )
    assert failures == []


def test_denials_are_logged(client, db, build, login):
    login(build.user("host"))
    assert client.get("/admin/users").status_code == 403
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "permission_denied")).one()
    assert event.role == "host" and "admin.user_list" in event.detail


def test_host_cannot_manage_users_and_nothing_changes(client, db, build, login):
    login(build.user("host"))
    target = build.user("social_worker")
    response = client.post(f"/admin/users/{target.id}/deactivate", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, target.id).active is True


# --- named checks, from the negative side for every role ------------------------------


@pytest.fixture
def people(build):
    site_a = build.site(site_ref="A", organisation="Järjestö A")
    site_b = build.site(site_ref="B", organisation="Järjestö B", opening_title="Toinen")
    return {
        "host_a": build.user("host", organisation=site_a.organisation),
        "host_b": build.user("host", organisation=site_b.organisation),
        "worker_a": build.user("social_worker"),
        "worker_b": build.user("social_worker"),
        "coordinator": build.user("coordinator"),
        "site_a": site_a,
        "site_b": site_b,
    }


def _client_of(db, owner, shared_with=()):
    client = Client(code=f"K-TEST-{owner.id:04d}"[:11], owner_id=owner.id, municipality_code="205", age_band="30-39")
    client.shared_with = list(shared_with)
    db.session.add(client)
    db.session.commit()
    return client


def test_a_host_edits_only_their_own_organisations_sites_and_openings(people):
    host_a, site_a, site_b = people["host_a"], people["site_a"], people["site_b"]
    assert permissions.can_edit_site(host_a, site_a)
    assert permissions.can_edit_opening(host_a, site_a.openings[0])
    assert not permissions.can_edit_site(host_a, site_b)
    assert not permissions.can_edit_opening(host_a, site_b.openings[0])
    assert not permissions.can_manage_registry(host_a)


def test_social_workers_cannot_edit_sites_and_coordinators_can_edit_any(people):
    assert not permissions.can_edit_site(people["worker_a"], people["site_a"])
    assert permissions.can_edit_site(people["coordinator"], people["site_b"])


def test_a_worker_reads_only_own_or_shared_clients(db, people):
    own = _client_of(db, people["worker_a"])
    shared = _client_of(db, people["worker_b"], shared_with=[people["worker_a"]])
    assert permissions.can_read_client(people["worker_a"], own)
    assert permissions.can_read_client(people["worker_a"], shared)
    assert not permissions.can_read_client(people["worker_b"], own)


def test_coordinator_and_hosts_never_read_client_needs(db, people):
    client = _client_of(db, people["worker_a"])
    assert not permissions.can_read_client(people["coordinator"], client)
    assert not permissions.can_read_client(people["host_a"], client)
    assert permissions.can_transfer_clients(people["coordinator"])
    assert not permissions.can_transfer_clients(people["worker_a"])


@pytest.mark.parametrize(
    "check", ["can_manage_users", "can_view_audit", "can_run_survey", "can_manage_registry", "can_manage_rounds"]
)
def test_coordinator_only_checks(people, check):
    function = getattr(permissions, check)
    assert function(people["coordinator"])
    for name in ("host_a", "worker_a"):
        assert not function(people[name])


def test_only_social_workers_create_clients(people):
    assert permissions.can_create_clients(people["worker_a"])
    assert not permissions.can_create_clients(people["coordinator"])
    assert not permissions.can_create_clients(people["host_a"])


def test_browsing_needs_login_unless_the_catalogue_is_public(people):
    from flask_login import AnonymousUserMixin

    anonymous = AnonymousUserMixin()
    assert not permissions.can_browse_catalogue(anonymous, public_catalogue=False)
    assert permissions.can_browse_catalogue(anonymous, public_catalogue=True)
    assert permissions.can_browse_catalogue(people["host_a"], public_catalogue=False)


def test_a_host_answers_a_survey_round_only_for_their_own_organisation(people):
    """docs/rules.md §17.2: the host of the organisation, nobody else (not even a coordinator)."""

    class Response:
        organisation_id = people["site_a"].organisation_id

    assert permissions.can_answer_round(people["host_a"], Response())
    for name in ("host_b", "worker_a", "coordinator"):
        assert not permissions.can_answer_round(people[name], Response())
    assert not permissions.can_answer_round(permissions.SYSTEM, Response())
