"""What keeps the pages cheap: the map's data answered "not modified" while it is the same,
compressed text, static files cached under content-hashed names, one audit event per
listing, and a fixed number of SQL queries per page however much data there is."""

from __future__ import annotations

import gzip
import hashlib
import re
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, select

from placements import clock
from placements.models import AuditEvent, Opening
from placements.services import audit
from tests.builders import PASSWORD, site_row
from tests.conftest import log_in


def as_user(app, user):
    browser = app.test_client()
    assert log_in(browser, user.email, PASSWORD).status_code == 302
    return browser


# --- the map's marker data (docs/rules.md §8.6, §11.7) ---------------------------------------


def test_the_map_data_is_not_sent_again_while_it_is_the_same(app, client, db, build, login):
    site = build.site()
    login(build.user("social_worker"))
    first = client.get("/map/markers.json")
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('W/"')
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert first.json["markers"][0][2] == site.id

    again = client.get("/map/markers.json", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
    # Other filters are other data.
    assert client.get("/map/markers.json?free=1", headers={"If-None-Match": tag}).status_code == 200

    opening = db.session.get(Opening, site.openings[0].id)
    opening.places_external = opening.places_total  # now full: the marker changes
    db.session.commit()
    changed = client.get("/map/markers.json", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.json["markers"][0][3] == "x" and changed.json["counts"] == {"f": 0, "x": 1, "s": 0}


def test_the_map_data_changes_when_time_makes_an_opening_stale(app, client, db, build, login):
    build.site()
    login(build.user("social_worker"))
    tag = client.get("/map/markers.json").headers["ETag"]
    later = clock.now() + timedelta(days=app.config["STALE_AFTER_DAYS"] + 1)
    with clock.fixed(later):
        response = client.get("/map/markers.json", headers={"If-None-Match": tag})
    assert response.status_code == 200 and response.json["counts"]["s"] == 1


def test_the_map_data_is_refused_to_whoever_may_not_browse(app, client, db, build):
    build.site()
    response = client.get("/map/markers.json")
    assert response.status_code in (302, 401, 403, 404)
    assert b"markers" not in response.data


def test_pages_of_logged_in_users_are_still_never_stored(client, db, build, login):
    login(build.user("social_worker"))
    assert client.get("/map").headers["Cache-Control"] == "no-store"
    assert client.get("/sites").headers["Cache-Control"] == "no-store"


# --- compression and static files -------------------------------------------------------------


def test_text_responses_are_gzipped_for_a_browser_that_accepts_it(client, db, build, login):
    build.sites(*(site_row(site_ref=f"GZ-{n:03d}", site_name=f"Toimipaikka {n}") for n in range(30)))
    login(build.user("social_worker"))
    for path in ("/map", "/map/markers.json", "/sites"):
        plain = client.get(path)
        assert "Content-Encoding" not in plain.headers, path
        packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert packed.headers["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in packed.headers["Vary"], path
        assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data), path
        body = gzip.decompress(packed.data).decode()
        if path == "/map/markers.json":
            assert body == plain.get_data(as_text=True)
        else:  # the pages differ only by their per-request nonce and form token
            assert re.sub(r'(nonce|value)="[^"]*"', "", body) == re.sub(
                r'(nonce|value)="[^"]*"', "", plain.get_data(as_text=True)
            ), path
    refused = client.get("/map/markers.json", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_static_files_have_content_hashed_addresses_cached_for_a_year(app, client, db, build, login):
    login(build.user("social_worker"))
    html = client.get("/map").get_data(as_text=True)
    script = (app.static_folder + "/js/map.js").replace("//", "/")
    with open(script, "rb") as file:
        content = file.read()
    digest = hashlib.sha256(content).hexdigest()[:12]
    assert f'src="/static/js/map.js?v={digest}"' in html
    assert re.search(r'href="/static/vendor/leaflet-1\.9\.3/leaflet\.css\?v=[0-9a-f]{12}"', html)

    response = client.get(f"/static/js/map.js?v={digest}", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Encoding"] == "gzip" and gzip.decompress(response.data) == content
    response.close()
    unversioned = client.get("/static/js/map.js")
    assert "immutable" not in unversioned.headers.get("Cache-Control", "") and unversioned.data == content
    unversioned.close()
    # An address naming another version of the file (a page from a newer server during a deploy)
    # gets this file, but no cache may keep it under that address.
    other = client.get("/static/js/map.js?v=000000000000")
    assert "immutable" not in other.headers.get("Cache-Control", "")
    other.close()


# --- one audit event per listing (docs/rules.md §12.3) ------------------------------------------


def _listing_events(db):
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "placement_listed")).all()


def test_my_sites_records_one_event_listing_every_client_code_shown(app, db, build):
    site = build.site(places_total="9", places_external="0")
    worker = build.user("social_worker")
    host = build.user("host", organisation=site.organisation)
    people = [build.client(worker) for _ in range(3)]
    for person in people:
        build.needs(person, worker)
        build.placement(person, site.openings[0], worker)
    unseen = build.client(worker)  # has no placement at this host

    page = as_user(app, host).get("/my/sites").get_data(as_text=True)
    assert all(person.code in page for person in people)
    (listed,) = _listing_events(db)
    assert listed.client_codes == "|" + "|".join(sorted(p.code for p in people)) + "|" or set(
        listed.client_codes.strip("|").split("|")
    ) == {p.code for p in people}
    assert listed.user_email == host.email and listed.client_code is None

    coordinator = build.user("coordinator")
    for person in people:
        found = db.session.scalars(audit.search_query(coordinator, client_code=person.code.lower())).all()
        assert listed in found
    assert listed not in db.session.scalars(audit.search_query(coordinator, client_code=unseen.code)).all()
    assert audit.csv_row(listed)["client_codes"].split() == listed.client_codes.strip("|").split("|")


def test_a_host_of_another_organisation_sees_and_records_none_of_these_codes(app, db, build):
    site = build.site(places_total="9", places_external="0")
    worker = build.user("social_worker")
    person = build.client(worker)
    build.needs(person, worker)
    build.placement(person, site.openings[0], worker)
    stranger = build.user("host")  # another organisation

    page = as_user(app, stranger).get("/my/sites").get_data(as_text=True)
    assert person.code not in page
    assert _listing_events(db) == []


# --- queries per page: a fixed number, however many sites and clients ----------------------


@contextmanager
def counted_queries(engine):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


# The most statements a page may run, whatever the amount of data (login, session and audit
# included). A page that loads a row per site or client shown goes over at once at 50. The
# client page, with its placements, plan, queues and path, runs 18 today.
QUERY_LIMIT = 20


def _grow(build, db, scene, size: int) -> None:
    """Sites of the host's organisation with openings, the worker's clients with needs, and a
    proposal from each client to one of the host's openings, until there are ``size`` of each."""
    have = len(scene["clients"])
    rows = [
        site_row(
            site_ref=f"Q-{n:03d}",
            organisation="Kuormitusyhdistys ry",
            site_name=f"Kuormituspaikka {n}",
            places_total="60",
            places_external="0",
        )
        for n in range(have, size)
    ]
    scene["sites"].extend(build.sites(*rows))
    for n in range(have, size):
        person = build.client(scene["worker"])
        build.needs(person, scene["worker"], max_travel_km=100)
        build.placement(person, scene["sites"][n].openings[0], scene["worker"])
        scene["clients"].append(person)


PAGES = {
    "social_worker": [
        "/",
        "/clients",
        "/clients/{code}",
        "/clients/{code}/matches",
        "/sites",
        "/sites?municipality=205&task=kitchen",
        "/map",
        "/map/markers.json",
        "/sites/{site}",
        "/sites/{site}/popup",
        "/notifications",
    ],
    "host": ["/my/sites", "/sites/{site}"],
    "coordinator": ["/", "/sites", "/map/markers.json", "/admin/stale", "/admin/organisations", "/admin/users"],
}


def test_each_main_page_runs_a_fixed_number_of_queries_however_much_data(app, db, build):
    worker = build.user("social_worker")
    scene = {"worker": worker, "clients": [], "sites": []}
    _grow(build, db, scene, 5)
    organisation = scene["sites"][0].organisation
    users = {
        "social_worker": worker,
        "host": build.user("host", organisation=organisation),
        "coordinator": build.user("coordinator"),
    }
    browsers = {role: as_user(app, user) for role, user in users.items()}

    def measure() -> dict[str, int]:
        counts = {}
        for role, paths in PAGES.items():
            for path in paths:
                address = path.format(code=scene["clients"][0].code, site=scene["sites"][0].id)
                browsers[role].get(address)  # warm: caches of reference data, the session's refresh
                with counted_queries(db.engine) as statements:
                    response = browsers[role].get(address)
                assert response.status_code == 200, (role, address, response.status_code)
                counts[f"{role} {path}"] = len(statements)
        return counts

    few = measure()
    _grow(build, db, scene, 50)
    many = measure()
    over = {page: count for page, count in many.items() if count > QUERY_LIMIT}
    assert over == {}, f"more than {QUERY_LIMIT} queries: {over}"
    grew = {page: (few[page], many[page]) for page in few if many[page] != few[page]}
    assert grew == {}, f"queries grew with the data (5 -> 50 sites and clients): {grew}"
