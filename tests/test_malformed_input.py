"""Malformed input is refused at the edge with a clear answer, never a 500 (docs/rules.md
§11.11): ids beyond the database's range, page parameters, NaN and infinity, dates outside
1900–2100, control characters in any text (forms, query parameters, paths, CSV cells)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask import url_for
from sqlalchemy import func, select

from placements import clock
from placements.models import AuditEvent, ImportUpload, Opening, Organisation, Placement, Site
from placements.services.importer import validate
from placements.web.converters import MAX_ID, bounded_int, id_value
from tests.builders import PASSWORD, csv_bytes, site_row
from tests.conftest import csrf_token, log_in, run_jobs

CONTROL = "Tekstissä on näkymätön ohjausmerkki (U+{:04X}). Poista se ja yritä uudelleen."
NUMBER = "Anna luku."
YEARS = "Anna päivämäärä vuosien 1900 ja 2100 väliltä."
BEYOND = ["0", "-1", "007", "+1", str(MAX_ID + 1), str(2**63 - 1), str(2**63), str(2**64), "9" * 30, "1.0", "١"]


@pytest.fixture
def scene(build):
    site = build.site()
    opening = site.openings[0]
    host = build.user("host", organisation=site.organisation)
    worker = build.user("social_worker")
    coordinator = build.user("coordinator")
    person = build.client(worker)
    build.needs(person, worker)
    placement = build.placement(person, opening, worker)
    # A client still looking: one proposal per client and opening, so proposals go to this one.
    searching = build.client(worker)
    build.needs(searching, worker)
    return {
        "searching": searching,
        "site": site,
        "opening": opening,
        "host": host,
        "worker": worker,
        "coordinator": coordinator,
        "person": person,
        "placement": placement,
    }


def as_user(app, user):
    browser = app.test_client()
    assert log_in(browser, user.email, PASSWORD).status_code == 302
    return browser


# --- ids and page parameters ------------------------------------------------------------


def test_id_values_are_plain_numbers_within_the_database_range():
    assert id_value("1") == 1 and id_value(str(MAX_ID)) == MAX_ID == 2**31 - 1
    for raw in BEYOND + ["", " 1", "1 ", "1\n", "abc"]:
        with pytest.raises(ValueError):
            id_value(raw)
    assert bounded_int("5") == 5 and bounded_int(" -3 ", low=-10) == -3
    assert [bounded_int(raw) for raw in ("0", str(MAX_ID + 1), "9" * 5000, "nan", "1e3", "", "١")] == [None] * 7


@pytest.mark.parametrize(
    "template, role",
    [
        ("/sites/{}", "coordinator"),
        ("/sites/{}/popup", "coordinator"),
        ("/sites/{}/edit", "coordinator"),
        ("/sites/{}/openings/new", "coordinator"),
        ("/openings/{}/capacity", "host"),
        ("/openings/{}/edit", "host"),
        ("/placements/{}", "worker"),
        ("/admin/organisations/{}/edit", "coordinator"),
        ("/clients/{{code}}/propose/{}", "worker"),
        ("/api/v1/sites/{}", "coordinator"),
        ("/api/v1/openings/{}", "coordinator"),
    ],
)
def test_ids_outside_the_database_range_are_404(app, scene, template, role):
    browser = as_user(app, scene[role])
    for raw in BEYOND:
        path = template.format(raw).replace("{code}", scene["person"].code)
        response = browser.get(path)
        assert response.status_code == 404, path
    assert browser.get(template.format(MAX_ID).replace("{code}", scene["person"].code)).status_code in (302, 404)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/users/{}/deactivate",
        "/admin/users/{}/reactivate",
        "/admin/users/{}/reset-password",
        "/admin/users/{}/transfer-clients",
        "/openings/{}/confirm",
        "/openings/{}/archive",
        "/sites/{}/archive",
    ],
)
def test_posts_to_ids_outside_the_range_are_404(app, db, scene, path):
    browser = as_user(app, scene["coordinator"])
    token = csrf_token(browser, "/")
    for raw in (str(MAX_ID + 1), str(2**63), "0"):
        assert browser.post(path.format(raw), data={"csrf_token": token, "version": "1"}).status_code == 404


def test_urls_are_still_built_for_real_ids(app):
    with app.test_request_context():
        assert url_for("catalogue.site_page", site_id=5) == "/sites/5"
        assert url_for("steps.placement_page", placement_id=MAX_ID) == f"/placements/{MAX_ID}"


def test_page_parameters_beyond_the_range(app, scene):
    browser = as_user(app, scene["worker"])
    for raw in (str(2**31), str(2**63), "9" * 5000, "-9" * 30, "x\x00"):
        assert browser.get("/sites", query_string={"page": raw}).status_code == 200
        for path in ("/api/v1/sites", "/api/v1/hsds/services"):
            for name in ("page", "per_page"):
                response = browser.get(path, query_string={name: raw})
                assert response.status_code == 400, (path, name, raw)
                assert "page ja per_page" in response.get_json()["message"]
    assert browser.get("/api/v1/sites", query_string={"page": "0", "per_page": "1000"}).get_json()["per_page"] == 100
    assert browser.get("/api/v1/sites", query_string={"page": str(MAX_ID)}).status_code == 200


def test_an_explanation_for_an_impossible_opening_id_is_skipped(app, scene):
    browser = as_user(app, scene["worker"])
    path = f"/clients/{scene['person'].code}/matches"
    for raw in (str(2**31), str(2**63), "-1", "x"):
        assert browser.get(path, query_string={"why": raw}).status_code == 200
    good = browser.get(path, query_string={"why": scene["opening"].id}).get_data(as_text=True)
    assert browser.get(path, query_string={"why": str(2**63)}).get_data(as_text=True) != good


# --- numbers ------------------------------------------------------------------------------


NOT_NUMBERS = ["sNaN", "-sNaN", "NaN", "nan", "inf", "-Infinity"]


def _opening_data(browser, opening, **changes) -> dict:
    return {
        "csrf_token": csrf_token(browser, f"/openings/{opening.id}/edit"),
        "version": opening.version,
        "type": "rehabilitative_work",
        "title": "Keittiöapulainen",
        "task_areas": ["kitchen"],
        "days_per_week_min": 2,
        "days_per_week_max": 4,
        "hours_per_day_min": 4,
        "hours_per_day_max": 6,
        "physical_demand": "light",
        "social_intensity": "medium",
        "languages": ["fi"],
    } | changes


def test_nan_and_infinity_are_field_errors_in_every_decimal_field(app, db, scene):
    host, worker = as_user(app, scene["host"]), as_user(app, scene["worker"])
    opening, person = scene["opening"], scene["person"]
    site_path = f"/sites/{scene['site'].id}/edit"
    for value in NOT_NUMBERS:
        answers = [
            host.post(f"/openings/{opening.id}/edit", data=_opening_data(host, opening, hours_per_day_min=value)),
            host.post(f"/openings/{opening.id}/edit", data=_opening_data(host, opening, hours_per_day_max=value)),
            host.post(
                site_path,
                data={
                    "csrf_token": csrf_token(host, site_path),
                    "version": scene["site"].version,
                    "organisation": scene["site"].organisation_id,
                    "name": "Testikeittiö",
                    "street_address": "Kauppakatu 1",
                    "postal_code": "87100",
                    "municipality_code": "205",
                    "latitude": value,
                    "longitude": "27.73",
                },
            ),
            worker.post(
                f"/clients/{person.code}/needs",
                data={
                    "csrf_token": csrf_token(worker, f"/clients/{person.code}/needs"),
                    "wanted_types": ["work_trial"],
                    "days_per_week": 3,
                    "hours_per_day": value,
                    "max_travel_km": 30,
                    "languages": ["fi"],
                },
            ),
            worker.post(
                f"/clients/{scene['searching'].code}/propose/{opening.id}",
                data={
                    "csrf_token": csrf_token(worker, f"/clients/{person.code}"),
                    "start_date": "2030-01-07",
                    "planned_end": "2030-06-07",
                    "days_per_week": 3,
                    "hours_per_day": value,
                },
            ),
        ]
        for response in answers:
            assert response.status_code == 200, (value, response.status_code)
            assert NUMBER in response.get_data(as_text=True), value
    db.session.expire_all()
    assert db.session.get(Opening, opening.id).version == opening.version
    assert db.session.scalar(select(func.count()).select_from(Placement)) == 1


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize("day", ["1899-12-31", "2101-01-01", "9999-12-31", "0001-01-01"])
def test_dates_outside_1900_to_2100_are_field_errors(app, db, scene, day):
    worker, host, coordinator = (as_user(app, scene[r]) for r in ("worker", "host", "coordinator"))
    person, opening = scene["person"], scene["opening"]
    propose_path = f"/clients/{scene['searching'].code}/propose/{opening.id}"
    proposal = {
        "csrf_token": csrf_token(worker, propose_path),
        "start_date": "2030-01-07",
        "planned_end": "2030-06-07",
        "days_per_week": 3,
        "hours_per_day": 5,
    }
    answers = [
        worker.post(propose_path, data=proposal | {"start_date": day}),
        worker.post(propose_path, data=proposal | {"planned_end": day}),
        worker.post(
            f"/clients/{person.code}/needs",
            data={
                "csrf_token": proposal["csrf_token"],
                "wanted_types": ["work_trial"],
                "days_per_week": 3,
                "hours_per_day": 5,
                "max_travel_km": 30,
                "languages": ["fi"],
                "earliest_start": day,
            },
        ),
        host.post(
            f"/openings/{opening.id}/capacity",
            data={
                "csrf_token": csrf_token(host, "/my/sites"),
                "version": opening.version,
                "places_total": 5,
                "places_external": 1,
                "status": "open",
                "accepting_from": day,
            },
        ),
        coordinator.post("/admin/audit", data={"csrf_token": csrf_token(coordinator, "/admin/audit"), "since": day}),
        coordinator.post("/admin/audit", data={"csrf_token": csrf_token(coordinator, "/admin/audit"), "until": day}),
    ]
    for number, response in enumerate(answers):
        assert response.status_code == 200, (number, response.status_code)
        assert YEARS in response.get_data(as_text=True), number
    assert db.session.scalar(select(func.count()).select_from(Placement)) == 1


def test_an_end_date_outside_the_years_ends_nothing(app, db, scene):
    from placements.services import placements as placement_service

    placement = scene["placement"]
    placement_service.accept(db.session, placement, scene["host"], now=clock.now())
    db.session.commit()
    host = as_user(app, scene["host"])
    token = csrf_token(host, f"/placements/{placement.id}")
    for day in ("0001-01-01", "9999-12-31"):
        response = host.post(
            f"/placements/{placement.id}/end", data={"csrf_token": token, "ended_on": day, "end_reason": "completed"}
        )
        assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Placement, placement.id).status == "active"


@pytest.mark.parametrize("day", ["01.01.0001", "0001-01-01", "31.12.1899", "2101-01-01", "9999-12-31"])
def test_a_csv_date_outside_the_years_is_a_problem_at_its_row_and_column(db, day):
    _, problems, _ = validate(db.session, csv_bytes([site_row(last_confirmed=day)]), date(2026, 5, 1))
    assert [(p.row, p.column, p.message) for p in problems] == [(2, "last_confirmed", YEARS)]


# --- control characters -------------------------------------------------------------------


def test_a_nul_byte_in_the_login_email_is_explained_and_nothing_is_looked_up(client, db, build):
    user = build.user("coordinator")
    token = csrf_token(client, "/login")
    for email, password in ((user.email + "\x00", PASSWORD), (user.email, PASSWORD + "\x00"), ("\x00", "x")):
        response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
        assert response.status_code == 200
        assert CONTROL.format(0) in response.get_data(as_text=True)
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("login%"))).all() == []


def test_search_words_with_control_characters_are_ignored_and_explained(app, scene):
    browser = as_user(app, scene["worker"])
    for query in ({"q": "keittiö\x00"}, {"near": "\x00Kajaani"}, {"q": "\x1b[2J"}):
        html = browser.get("/sites", query_string=query).get_data(as_text=True)
        assert "Testikeittiö" in html  # the filter was dropped, not applied
        assert "ohjausmerkki" in html
        answer = browser.get("/api/v1/sites", query_string=query)
        assert answer.status_code == 200
        assert answer.get_json()["count"] == 1
        assert any("ohjausmerkki" in w for w in answer.get_json()["warnings"])
        assert browser.get("/map", query_string=query).status_code == 200
    shown = browser.get("/sites", query_string={"municipality": "2\x0005"}).get_data(as_text=True)
    assert "\x00" not in shown and "”205”" in shown


def test_raw_bytes_in_the_query_string_are_read_as_text(app, scene):
    """Browsers percent-encode; a hand-made request may send raw bytes that are not UTF-8."""
    browser = as_user(app, scene["coordinator"])
    raw = {"environ_overrides": {"QUERY_STRING": "q=keitti\xf6\x00&page=\x85"}}
    page = browser.get("/sites", **raw)
    assert page.status_code == 200 and "ohjausmerkki" in page.get_data(as_text=True)
    assert browser.get("/sites.csv", **raw).status_code == 200
    assert browser.get("/api/v1/sites", **raw).status_code == 400
    assert browser.get("/admin/audit", **raw).status_code == 200
    assert browser.get("/sites", environ_overrides={"QUERY_STRING": "q=Testikeitti%C3%B6"}).status_code == 200


@pytest.mark.parametrize(
    "path", ["/clients/K-\x00", "/clients/K-2345-\x006789/needs", "/api/v1/hsds/services/\x00", "/clients/\x1b"]
)
def test_control_characters_in_a_path_are_404(app, db, scene, path):
    browser = as_user(app, scene["worker"])
    assert browser.get(path).status_code == 404
    assert browser.post(path, data={"csrf_token": csrf_token(browser, "/")}).status_code in (404, 405)


def test_names_and_titles_with_control_characters_are_field_errors(app, db, scene):
    coordinator = as_user(app, scene["coordinator"])
    site = scene["site"]
    token = csrf_token(coordinator, "/admin/organisations")
    for name in ("Uusi\x00 ry", "Uusi\x07 ry", "Uusi\t ry", "Uusi\n ry", "Uusi\x85 ry"):
        response = coordinator.post("/admin/organisations", data={"csrf_token": token, "name": name, "kind": "company"})
        assert response.status_code == 200
        assert CONTROL.format(ord(name[4])) in response.get_data(as_text=True)
    response = coordinator.post(
        "/admin/users",
        data={"csrf_token": token, "email": "uusi@example.fi", "name": "Uusi\x00", "role": "social_worker"},
    )
    assert response.status_code == 200 and CONTROL.format(0) in response.get_data(as_text=True)
    opening = scene["opening"]
    response = coordinator.post(
        f"/openings/{opening.id}/edit", data=_opening_data(coordinator, opening, title="Keittiö\x00apulainen")
    )
    assert response.status_code == 200 and CONTROL.format(0) in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1
    db.session.expire_all()
    assert db.session.get(Opening, opening.id).title == "Keittiöapulainen"

    # A text area keeps line breaks and tabs, and refuses the rest.
    path = f"/sites/{site.id}/edit"
    data = {
        "csrf_token": csrf_token(coordinator, path),
        "version": site.version,
        "organisation": site.organisation_id,
        "name": "Testikeittiö",
        "street_address": "Kauppakatu 1",
        "postal_code": "87100",
        "municipality_code": "205",
        "description": "Rivi 1\x00",
    }
    response = coordinator.post(path, data=data)
    assert response.status_code == 200 and CONTROL.format(0) in response.get_data(as_text=True)
    assert coordinator.post(path, data=data | {"description": "Rivi 1\r\n\tRivi 2"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Site, site.id).description.replace("\r\n", "\n") == "Rivi 1\n\tRivi 2"


def test_a_control_character_in_a_csv_cell_is_a_problem_at_its_row_and_column(app, db, scene):
    rows = [
        site_row(site_ref="A-1", organisation="Järjestö\x00 ry"),
        site_row(site_ref="A-2", site_name="Paja\x1b", description="Rivi 1\nRivi 2\tsarkain"),
        site_row(site_ref="A-3", opening_title="Tehtävä\r\n2"),
    ]
    _, problems, _ = validate(db.session, csv_bytes(rows), date(2026, 5, 1))
    assert [(p.row, p.column, p.message) for p in problems] == [
        (2, "organisation", CONTROL.format(0)),
        (3, "site_name", CONTROL.format(0x1B)),
        (4, "opening_title", CONTROL.format(0x0D)),
    ]

    coordinator = as_user(app, scene["coordinator"])
    response = coordinator.post(
        "/admin/import",
        data={"csrf_token": csrf_token(coordinator, "/admin/import"), "file": (io.BytesIO(csv_bytes(rows)), "s.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303  # the check runs as a job (docs/rules.md §16)
    run_jobs()
    html = coordinator.get(response.headers["Location"]).get_data(as_text=True)
    assert "<td>2</td><td>organisation</td>" in html and "ohjausmerkki" in html
    assert db.session.scalar(select(func.count()).select_from(Site)) == 1


def test_an_upload_whose_file_name_has_a_control_character_is_refused(app, db, scene):
    coordinator = as_user(app, scene["coordinator"])
    for name in ("sites\x00.csv", "sites\x1b.csv"):
        response = coordinator.post(
            "/admin/import",
            data={
                "csrf_token": csrf_token(coordinator, "/admin/import"),
                "file": (io.BytesIO(csv_bytes([site_row(site_ref="NEW-1")])), name),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 200
        assert "ohjausmerkki" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportUpload)) == 0


def test_an_import_confirmation_with_a_control_character_is_a_400(app, db, scene):
    coordinator = as_user(app, scene["coordinator"])
    token = csrf_token(coordinator, "/admin/import")
    assert coordinator.post("/admin/import/confirm", data={"csrf_token": token, "token": "a\x00"}).status_code == 400


# --- covered once, at the edges -----------------------------------------------------------


def test_every_path_argument_goes_through_a_safe_converter(app):
    from placements.web.converters import IdConverter, TextConverter

    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if rule.endpoint == "static":
                continue
            assert isinstance(converter, IdConverter | TextConverter), (rule.rule, name, converter)
            if name.endswith("_id") and name != "service_id":  # an HSDS service id is a UUID
                assert isinstance(converter, IdConverter), (rule.rule, name)


def _form_classes() -> set[type]:
    from flask_wtf import FlaskForm

    found, todo = set(), [FlaskForm]
    while todo:
        for subclass in todo.pop().__subclasses__():
            if subclass.__module__.startswith("placements.") and subclass not in found:
                found.add(subclass)
            todo.append(subclass)
    return found


def test_every_form_refuses_malformed_input_the_same_way(app):
    from flask_wtf.file import FileField
    from wtforms import DateField, DecimalField, FloatField
    from wtforms.fields.core import UnboundField

    from placements.web.forms import BoundedDateField, FiniteDecimalField, Form, SafeFileField

    forms = _form_classes()
    assert len(forms) >= 15
    for form in forms:
        assert issubclass(form, Form), f"{form.__name__} must extend placements.web.forms.Form"
        for name in dir(form):
            unbound = getattr(form, name)
            if not isinstance(unbound, UnboundField):
                continue
            field_class = unbound.field_class
            where = f"{form.__name__}.{name}"
            assert not issubclass(field_class, FloatField), f"{where}: use FiniteDecimalField"
            if issubclass(field_class, DecimalField):
                assert issubclass(field_class, FiniteDecimalField), f"{where}: use FiniteDecimalField"
            if issubclass(field_class, DateField):
                assert issubclass(field_class, BoundedDateField), f"{where}: use BoundedDateField"
            if issubclass(field_class, FileField):
                assert issubclass(field_class, SafeFileField), f"{where}: use SafeFileField"
