"""Finding sites: the list, the filters, the map data, the site page, the public switch."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from placements.models import Site
from placements.permissions import SYSTEM
from placements.services import catalogue
from placements.services.catalogue import SiteFilters
from tests.builders import site_row

XSS = '<script>alert("x")</script>'


@pytest.fixture
def seeded(db, seed_csv):
    from placements.services.importer import import_sites

    assert import_sites(db.session, seed_csv, SYSTEM).ok
    db.session.commit()


@pytest.fixture
def worker(build, login):
    user = build.user("social_worker")
    login(user)
    return user


def search(db, **filters):
    return catalogue.search(
        db.session, SiteFilters(**filters), now=datetime.now(UTC), stale_after_days=60, page_size=500
    )


def test_free_kitchen_places_with_step_free_access_within_20_km_of_sotkamo(client, db, seeded, worker):
    response = client.get("/sites?near=Sotkamo&km=20&task=kitchen&access=step_free_access&free=1")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    sotkamo = (64.1333, 28.3833)
    result = search(db, near=sotkamo, km=20, tasks=("kitchen",), access=("step_free_access",), free_only=True)
    assert result.total > 0
    for row in result.rows:
        assert "step_free_access" in row.site.accessibility
        assert row.distance_km <= 20
        assert any("kitchen" in ov.opening.task_areas and ov.opening.free_places > 0 for ov in row.openings)
    assert [r.distance_km for r in result.rows] == sorted(r.distance_km for r in result.rows)
    assert f"{result.total} toimipaikka" in html and "lähimmät ensin paikasta Sotkamo" in html


@pytest.mark.parametrize(
    "filters, check",
    [
        ({"municipalities": ("290",)}, lambda row: row.site.municipality_code == "290"),
        (
            {"types": ("ips_job",)},
            lambda row: all(ov.opening.type == "ips_job" for ov in row.openings) and row.openings,
        ),
        (
            {"tasks": ("forestry", "animal_care")},
            lambda row: any({"forestry", "animal_care"} & set(ov.opening.task_areas) for ov in row.openings),
        ),
        (
            {"access": ("elevator", "accessible_toilet")},
            lambda row: {"elevator", "accessible_toilet"} <= set(row.site.accessibility),
        ),
        (
            {"free_only": True},
            lambda row: all(ov.opening.free_places > 0 and ov.opening.status == "open" for ov in row.openings),
        ),
    ],
    ids=["municipality", "type", "task-any", "access-all", "free"],
)
def test_each_filter_keeps_only_matching_sites(db, seeded, filters, check):
    result = search(db, **filters)
    everything = search(db)
    assert 0 < result.total < everything.total
    assert all(check(row) for row in result.rows)


def test_text_search_ignores_case_and_finds_scandinavian_letters(db, build):
    build.site(site_name="PÄSSINPÄÄN Työpaja")
    build.site(site_ref="OTHER", site_name="Muu paikka", opening_title="Toinen")
    assert [r.site.name for r in search(db, q="pässinpään").rows] == ["PÄSSINPÄÄN Työpaja"]
    assert search(db, q="100%").total == 0  # LIKE wildcards are taken literally


def test_near_a_postal_code_uses_its_municipality_when_its_centre_is_unknown(client, db, seeded, worker):
    html = client.get("/sites?near=88600&km=15").get_data(as_text=True)
    assert "keskipistettä ei tiedetä" in html and "Sotkamo" in html


def test_results_are_paginated_and_the_filters_stay_in_the_address(client, db, seeded, worker):
    first = client.get("/sites?municipality=205").get_data(as_text=True)
    assert "Sivu 1/2" in first
    assert 'href="/sites?municipality=205&amp;page=2"' in first
    second = client.get("/sites?municipality=205&page=2").get_data(as_text=True)
    assert "Sivu 2/2" in second


def test_an_empty_result_says_which_filter_to_loosen(client, db, seeded, worker):
    html = client.get("/sites?municipality=697&type=ips_job&task=it_support").get_data(as_text=True)
    assert "Mikään toimipaikka ei täytä kaikkia hakuehtoja." in html
    assert "kaikissa kunnissa" in html


def test_filters_that_make_no_sense_are_explained(client, db, seeded, worker):
    html = client.get("/sites?type=volunteering&near=Atlantis&km=-3").get_data(as_text=True)
    assert "tuntematon arvo ”volunteering”" in html
    assert "arvoa ”Atlantis” ei tunnistettu. Anna Kainuun kunta" in html
    assert "anna kilometrit lukuna" in html


def test_each_row_shows_free_of_total_and_a_stale_badge(client, db, build, worker):
    build.site(places_total="6", places_external="2", last_confirmed="2026-01-02")
    html = client.get("/sites").get_data(as_text=True)
    assert "4/6 vapaana" in html and "tiedot vanhentuneet" in html


def test_map_markers_are_data_with_availability(db, build):
    build.site(site_ref="FREE", places_total="3", places_external="0")
    build.site(site_ref="FULL", opening_title="Täysi", places_total="2", places_external="2")
    build.site(site_ref="OLD", opening_title="Vanha", last_confirmed="2026-01-02")
    markers = catalogue.map_markers(db.session, SiteFilters(), now=datetime.now(UTC), stale_after_days=60)
    by_ref = {db.session.get(Site, m[2]).site_ref: m for m in markers}
    assert by_ref["FREE"][3] == "f" and by_ref["FULL"][3] == "x" and by_ref["OLD"][3] == "s"
    assert by_ref["FREE"][:2] == [64.225, 27.73]


def test_map_page_fetches_marker_data_for_its_filters_and_links_to_the_same_list(client, db, seeded, worker):
    response = client.get("/map?municipality=765&task=kitchen")
    html = response.get_data(as_text=True)
    assert 'data-markers-url="/map/markers.json?municipality=765&amp;task=kitchen"' in html
    assert 'type="application/json"' not in html  # the page holds no marker data
    data = client.get("/map/markers.json?municipality=765&task=kitchen").json["markers"]
    assert data and all(db.session.get(Site, row[2]).municipality_code == "765" for row in data)
    assert 'href="/sites?municipality=765&amp;task=kitchen"' in html
    assert "/static/vendor/leaflet-1.9.3/leaflet.js" in html and "/static/js/map.js" in html
    assert "cdn" not in html.lower() and "unpkg" not in html


def test_map_loads_nothing_from_outside_but_the_tile_server(client, db, seeded, worker):
    html = client.get("/map").get_data(as_text=True)
    external = set(re.findall(r'(?:src|href)="(https?://[^"]+)"', html))
    assert external <= {"https://www.openstreetmap.org/copyright"}  # the attribution link
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in html


def test_user_text_is_escaped_in_the_list_the_map_data_and_the_popup(client, db, build, worker):
    site = build.site(site_name=XSS, opening_title=XSS, description=XSS)
    for path in ("/sites", "/map", f"/sites/{site.id}", f"/sites/{site.id}/popup"):
        html = client.get(path).get_data(as_text=True)
        assert XSS not in html, path
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in client.get(f"/sites/{site.id}").get_data(as_text=True)
    response = client.get("/map/markers.json")
    assert response.mimetype == "application/json" and response.headers["X-Content-Type-Options"] == "nosniff"
    assert [row[4] for row in response.json["markers"]] == [XSS]


def test_site_page_shows_everything_a_worker_needs(client, db, build, worker):
    site = build.site(accepting_from="", supports="job_coach|meal_provided", languages="fi|en")
    html = client.get(f"/sites/{site.id}").get_data(as_text=True)
    for text in (
        "Kauppakatu 1, 87100 Kajaani",
        "esteetön kulku",
        "Testi Henkilö",
        "040 000 0000",
        "testi@example.fi",
        "Keittiöapulainen",
        "kuntouttava työtoiminta",
        "keittiötyöt",
        "2–4 pv/vko",
        "4–6 t/pv",
        "työhönvalmentaja",
        "kevyt",
        "kohtalainen",
        "englanti",
        "4/5 vapaana",
        "Vahvistettu viimeksi",
        "asetettu käsin",
    ):
        assert text in html, text


def test_popup_has_name_openings_free_places_and_a_link(client, db, build, worker):
    site = build.site()
    html = client.get(f"/sites/{site.id}/popup").get_data(as_text=True)
    assert "Testikeittiö" in html and "4/5 vapaana" in html and f'href="/sites/{site.id}"' in html


def test_archived_sites_are_gone_for_everyone_but_the_coordinator(client, db, build, worker):
    site = build.site()
    site.archived_at = datetime.now(UTC)
    db.session.commit()
    assert client.get(f"/sites/{site.id}").status_code == 404
    assert search(db).total == 0


def test_catalogue_needs_login_by_default(client, db, build):
    site = build.site()
    for path in ("/sites", "/map", f"/sites/{site.id}", f"/sites/{site.id}/popup"):
        assert client.get(path).headers["Location"] == "/login", path


def test_public_catalogue_lets_anyone_browse_but_not_edit(app, client, db, build):
    app.config["PUBLIC_CATALOGUE"] = True
    site = build.site()
    for path in ("/sites", "/map", f"/sites/{site.id}", f"/sites/{site.id}/popup"):
        assert client.get(path).status_code == 200, path
    assert "Päivitä paikat" not in client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert client.get(f"/openings/{site.openings[0].id}/capacity").headers["Location"] == "/login"
    nav = re.search(r"<nav.*?</nav>", client.get("/").get_data(as_text=True), re.S).group(0)
    assert "/sites" in nav and "/map" in nav


def test_distances_shown_are_geodesic(db, build):
    build.site(latitude="64.3000", longitude="27.9000")
    row = search(db, near=(64.2222, 27.7278), km=50).rows[0]
    from geopy.distance import geodesic

    assert row.distance_km == pytest.approx(geodesic((64.2222, 27.7278), (64.3, 27.9)).km, rel=1e-9)


def test_the_km_limit_is_exact_at_its_edge(db, build):
    from geopy.distance import geodesic

    build.site(latitude="64.3000", longitude="27.9000")
    exact = geodesic((64.2222, 27.7278), (64.3, 27.9)).km
    assert search(db, near=(64.2222, 27.7278), km=exact + 0.001).total == 1
    assert search(db, near=(64.2222, 27.7278), km=exact - 0.001).total == 0


# --- one availability state everywhere (docs/rules.md §8.6) ---------------------------------

STATES = {"FREE": "f", "FULL": "x", "PAUSED": "x", "STALE": "s"}


@pytest.fixture
def four_sites(build):
    """A free, a full, a paused and a stale site, one opening each."""
    return {
        "FREE": build.site(site_ref="FREE", site_name="Vapaa", places_total="3", places_external="0"),
        "FULL": build.site(site_ref="FULL", site_name="Täysi", places_total="2", places_external="2"),
        "PAUSED": build.site(site_ref="PAUSED", site_name="Tauolla", status="paused"),
        "STALE": build.site(site_ref="STALE", site_name="Vanha", last_confirmed="2026-01-02"),
    }


def _state_of(html: str, where: str) -> str:
    found = re.findall(r'class="availability" data-availability="(\w)"', html)
    assert len(found) == 1, (where, found)
    return found[0]


def _map_data(html: str) -> list:
    return json.loads(
        re.search(
            r'<script type="application/json" id="map-data-[^"]+" nonce="[^"]+">(.*?)</script>', html, re.S
        ).group(1)
    )


def test_the_map_the_list_the_site_page_the_popup_and_the_api_show_one_state(client, db, four_sites, worker):
    markers = {m[2]: m[3] for m in client.get("/map/markers.json").json["markers"]}
    listing = client.get("/sites").get_data(as_text=True)
    geojson = {
        f["id"]: f["properties"]["availability"] for f in client.get("/api/v1/sites?format=geojson").json["features"]
    }
    for ref, expected in STATES.items():
        site = four_sites[ref]
        row = re.search(rf'<li class="site-result" data-site-id="{site.id}">(.*?)</li>\s*</ul>', listing, re.S).group(1)
        page = client.get(f"/sites/{site.id}").get_data(as_text=True)
        popup = client.get(f"/sites/{site.id}/popup").get_data(as_text=True)
        shown = {
            "map": markers[site.id],
            "list": _state_of(row, "list"),
            "site page": _state_of(page, "site page"),
            "site page marker": _map_data(page)[0][3],
            "popup": _state_of(popup, "popup"),
            "api": {"free": "f", "full": "x", "stale": "s"}[geojson[site.id]],
        }
        assert shown == dict.fromkeys(shown, expected), ref


def test_the_python_and_sql_forms_of_the_rule_agree(db, four_sites):
    now = datetime.now(UTC)
    markers = {m[2]: m[3] for m in catalogue.map_markers(db.session, SiteFilters(), now=now, stale_after_days=60)}
    for ref, expected in STATES.items():
        site = four_sites[ref]
        views = [catalogue.OpeningView.of(o, now, 60) for o in site.openings]
        assert catalogue.site_availability(views) == markers[site.id] == expected, ref


@pytest.mark.parametrize(
    "free_and_fresh, stale, expected",
    [(True, True, "f"), (True, False, "f"), (False, True, "s"), (False, False, "x")],
)
def test_free_and_fresh_wins_over_stale_which_wins_over_full(free_and_fresh, stale, expected):
    assert catalogue.availability(free_and_fresh=free_and_fresh, stale=stale) == expected


def test_a_closed_opening_does_not_make_a_site_stale(db, build):
    site = build.sites(
        site_row(site_ref="MIX", opening_title="Auki", places_total="2", places_external="2"),
        site_row(site_ref="MIX", opening_title="Suljettu", status="closed", last_confirmed="2026-01-02"),
    )[0]
    views = [catalogue.OpeningView.of(o, datetime.now(UTC), 60) for o in site.openings]
    assert catalogue.site_availability(views) == "x"


def test_the_legend_counts_each_state_with_its_marker(client, db, four_sites, worker):
    html = client.get("/map").get_data(as_text=True)
    legend = re.findall(
        r'<li data-availability="(\w)"><span class="site-marker site-marker-(\w) legend-marker".*?'
        r'\(<span class="legend-count">',
        html,
        re.S,
    )
    assert legend == [("f", "f"), ("x", "x"), ("s", "s")]  # map.js writes each count from the data
    assert client.get("/map/markers.json").json["counts"] == {"f": 1, "x": 2, "s": 1}


# --- why a site matched (docs/rules.md §8.7) ------------------------------------------------


def test_the_list_shows_each_openings_task_areas_and_marks_the_ones_searched_for(client, db, build, worker):
    build.site(opening_title="Toimistotyöt", task_areas="office|kitchen")
    html = client.get("/sites?task=kitchen").get_data(as_text=True)
    tasks = re.search(r'<span class="tasks">(.*?)</span>\s*<br>', html, re.S).group(1)
    assert tasks.startswith("Tehtäväalueet: ")
    items = {
        re.sub(r"<[^>]+>|✓ | \(haettu\)", "", item).strip(): item
        for item in tasks[len("Tehtäväalueet: ") :].split(", ")
    }
    assert set(items) == {"toimistotyöt", "keittiötyöt"}
    assert items["keittiötyöt"].startswith('<mark class="task-match">') and "(haettu)" in items["keittiötyöt"]
    assert "<mark" not in items["toimistotyöt"]
    unfiltered = client.get("/sites").get_data(as_text=True)
    assert "keittiötyöt" in unfiltered and "task-match" not in unfiltered


def _type_labels() -> set[str]:
    from flask_babel import force_locale

    from placements import codes

    labels = set()
    for locale in ("fi", "en"):
        with force_locale(locale):
            for label in codes.OPENING_TYPES.values():
                labels |= {str(label).casefold(), str(label).split(" (")[0].casefold()}
    return labels


def test_sample_titles_are_plain_task_names_without_the_opening_type(app):
    import csv
    import io
    import subprocess
    import sys

    from tests.conftest import ROOT

    generated = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate_sites.py"), "--kainuu"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert generated == (ROOT / "data" / "seed_sites.csv").read_text(encoding="utf-8"), "regenerate the sample data"
    with app.test_request_context():
        labels = _type_labels()
    titles = [row["opening_title"] for row in csv.DictReader(io.StringIO(generated))]
    assert titles and "Keittiötyöt" in titles
    assert [t for t in titles if any(t.casefold().startswith(label) for label in labels)] == []


# --- the filter panel -------------------------------------------------------------------------


def _panel(html: str) -> str:
    return re.search(r'<details class="filter-panel"[^>]*>', html).group(0)


def test_the_filter_panel_is_folded_until_one_of_its_filters_is_set(client, db, seeded, worker):
    for path in ("/sites", "/map", "/sites?q=keittiö", "/map?q=keittiö"):
        assert " open" not in _panel(client.get(path).get_data(as_text=True)), path
    for path in ("/sites?municipality=290&task=kitchen", "/map?free=1", "/sites?near=Kuhmo&km=20", "/sites?km=abc"):
        html = client.get(path).get_data(as_text=True)
        assert " open" in _panel(html), path
    html = client.get("/sites?municipality=290&task=kitchen").get_data(as_text=True)
    assert "(2 valittu)" in html
    assert re.search(r"<summary>Kunta: <span class=\"chosen\">Kuhmo</span></summary>", html)
    assert "keittiötyöt</span></summary>" in html


def test_popup_shows_the_address_and_each_opening_with_its_type(client, db, build, worker):
    site = build.site()
    html = client.get(f"/sites/{site.id}/popup").get_data(as_text=True)
    assert "Kauppakatu 1, 87100 Kajaani" in html
    assert 'Keittiöapulainen <span class="muted">(kuntouttava työtoiminta)</span> – ' in html


def test_the_site_page_gives_coordinates_and_a_print_date(client, db, build, worker):
    site = build.site()
    html = client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert "Koordinaatit: 64.22500, 27.73000 (WGS84)" in html
    assert re.search(r'<p class="print-only">Kainuun paikkarekisteri · tulostettu \d+\.\d+\.\d{4}</p>', html)
