"""The open API: JSON and GeoJSON, HSDS 3.1 services valid against the official schema,
the same visibility as the pages, never client data, and schemathesis finds no errors."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from placements.permissions import SYSTEM
from tests.conftest import ROOT

HSDS = ROOT / "tests" / "hsds-3.1"  # Open Referral's schema, kept in the repository: see its README
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def public(app):
    app.config["PUBLIC_CATALOGUE"] = True
    return app


@pytest.fixture
def seeded(db, seed_csv):
    from placements.services.importer import import_sites

    assert import_sites(db.session, seed_csv, SYSTEM).ok
    db.session.commit()


def test_the_api_needs_login_unless_the_catalogue_is_public(app, client, build):
    site = build.site()
    paths = ("/api/v1/sites", f"/api/v1/sites/{site.id}", f"/api/v1/openings/{site.openings[0].id}")
    for path in (*paths, "/api/v1/hsds/services"):
        response = client.get(path)
        assert response.status_code == 401 and response.is_json, path
    assert client.get("/api/v1/openapi.json").status_code == 200
    app.config["PUBLIC_CATALOGUE"] = True
    assert client.get("/api/v1/sites").status_code == 200


def test_sites_json_uses_the_list_filters(public, client, seeded):
    data = client.get("/api/v1/sites?municipality=765&task=kitchen&per_page=100").get_json()
    assert data["count"] > 0 and len(data["results"]) == data["count"]
    for site in data["results"]:
        assert site["municipality_code"] == "765"
        assert any("kitchen" in o["task_areas"] for o in site["openings"])
    near = client.get("/api/v1/sites?near=Kuhmo&km=10").get_json()
    assert all(s["distance_km"] <= 10 for s in near["results"])


def test_geojson_feature_collection_for_map_tools(public, client, seeded):
    response = client.get("/api/v1/sites?format=geojson&municipality=290")
    data = response.get_json()
    assert response.mimetype == "application/geo+json" and data["type"] == "FeatureCollection"
    feature = data["features"][0]
    lon, lat = feature["geometry"]["coordinates"]
    assert feature["geometry"]["type"] == "Point" and 63 < lat < 66 and 27 < lon < 31
    assert feature["properties"]["availability"] in {"free", "full", "stale"}
    assert feature["properties"]["url"] == f"/sites/{feature['id']}"  # relative: no SERVER_NAME set


def test_geojson_links_never_follow_the_host_header(public, client, seeded):
    """Links in data others keep come from SERVER_NAME, never from a request's Host header."""
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    data = client.get("/api/v1/sites?format=geojson", headers=forged).get_json()
    assert data["features"] and all(f["properties"]["url"].startswith("/sites/") for f in data["features"])

    public.config |= {"SERVER_NAME": "rekisteri.kainuu.example", "PREFERRED_URL_SCHEME": "https"}
    data = client.get("/api/v1/sites?format=geojson", headers=forged).get_json()
    assert all(f["properties"]["url"] == f"https://rekisteri.kainuu.example/sites/{f['id']}" for f in data["features"])


def test_site_and_opening_detail(public, client, build):
    site = build.site(description="Kuvaus")
    data = client.get(f"/api/v1/sites/{site.id}").get_json()
    assert data["name"] == "Testikeittiö" and data["openings"][0]["places_free"] == 4
    opening = client.get(f"/api/v1/openings/{site.openings[0].id}").get_json()
    assert opening["uuid"] == site.openings[0].uuid and opening["places_total"] == 5
    assert client.get("/api/v1/sites/999999").status_code == 404
    assert client.get("/api/v1/openings/999999").get_json()["error"]


def test_no_client_data_in_any_answer(public, client, db, build):
    worker = build.user("social_worker")
    person = build.client(worker)
    build.needs(person, worker)
    site = build.site()
    build.placement(person, site.openings[0], worker)
    paths = ("/api/v1/sites", f"/api/v1/sites/{site.id}", "/api/v1/hsds/services", "/api/v1/sites?format=geojson")
    bodies = [client.get(path).get_data(as_text=True) for path in paths]
    for body in bodies:
        assert person.code not in body and "Luottamuksellinen" not in body and "Aloitetaan rauhassa" not in body


@pytest.fixture(scope="module")
def hsds_validator():
    schema = json.loads((HSDS / "compiled_service.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_every_sample_service_is_valid_hsds(public, client, seeded, hsds_validator):
    services, page = [], 1
    while True:
        data = client.get(f"/api/v1/hsds/services?page={page}&per_page=100").get_json()
        services += data["contents"]
        if data["last_page"]:
            break
        page += 1
    assert len(services) == data["total_items"] >= 150
    for service in services:
        errors = sorted(hsds_validator.iter_errors(service), key=str)
        assert errors == [], (service["id"], [e.message for e in errors[:3]])
    ids = [s["id"] for s in services]
    assert len(set(ids)) == len(ids)
    again = client.get("/api/v1/hsds/services?page=1&per_page=100").get_json()["contents"][0]
    assert again == services[0]  # stable identifiers and content


def test_hsds_service_carries_capacity_location_and_accessibility(public, client, build, hsds_validator):
    site = build.site(places_total="6", places_external="2", accessibility="elevator|step_free_access")
    service = client.get(f"/api/v1/hsds/services/{site.openings[0].uuid}").get_json()
    assert hsds_validator.is_valid(service)
    capacity = service["capacities"][0]
    assert (capacity["available"], capacity["maximum"], capacity["unit"]["name"]) == (4, 6, "place")
    location = service["service_at_locations"][0]["location"]
    assert location["id"] == site.uuid
    assert [a["details"] for a in location["accessibility"]] == ["elevator", "step_free_access"]
    assert service["organization"]["id"] == site.organisation.uuid
    assert client.get("/api/v1/hsds/services/not-a-uuid").status_code == 404


def openapi_path(rule: str) -> str:
    """Flask's ``/sites/<int:site_id>`` is OpenAPI's ``/sites/{site_id}``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_openapi_document_describes_every_endpoint(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    served = {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, item in document["paths"].items() for method in item if method in METHODS}
    assert ("/api/v1/sites/{site_id}", "get") in served
    assert served == described
    for path, method in described:  # every {name} in a path is a declared, required path parameter
        operation = document["paths"][path][method]
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path" and p["required"]}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), path


def test_schemathesis_finds_no_server_errors_or_schema_mismatches(public, seeded, backend):
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", public)
    failures = []
    for operation in schema.get_all_operations():
        operation = operation.ok()

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())  # noqa: B023
        def check(case):
            # Schemathesis's WSGI transport does not decode a gzipped body (tests/test_performance.py
            # checks the compression); over HTTP every client does.
            case.call_and_validate(headers={"Accept-Encoding": "identity"})

        try:
            check()
        except Exception as error:  # collect, so one run reports every operation
            failures.append(f"{operation.label}: {str(error)[:500]}")
    assert failures == []
