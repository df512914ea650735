"""The survey against hand-computed numbers; page and CSV agree; CSVs are safe in Excel."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from placements import clock
from placements.models import CapacityEvent, Client, Opening, Placement
from placements.permissions import SYSTEM
from placements.services import survey
from tests.conftest import log_in


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def history(db, build):
    """Openings and placements with a known history (dates in UTC; Finland is UTC+2/+3)."""
    kajaani = build.site(site_ref="A", opening_title="Keittiö")
    sotkamo = build.site(
        site_ref="B",
        opening_type="work_trial",
        opening_title="Kokeilu",
        days_per_week_max="5",
        postal_code="88600",
        municipality_code="765",
        latitude="64.13",
        longitude="28.38",
    )
    later = build.site(site_ref="C", opening_type="work_trial", opening_title="Myöhemmin", days_per_week_max="5")
    closed = build.site(site_ref="D", opening_title="Suljettu")
    a, b, c, d = (s.openings[0] for s in (kajaani, sotkamo, later, closed))
    db.session.query(CapacityEvent).delete()  # replace the import's events with a known history

    def event(opening, when, total, external, taken, status="open", kind="capacity_changed"):
        db.session.add(
            CapacityEvent(
                opening_id=opening.id,
                occurred_at=at(when),
                kind=kind,
                places_total_after=total,
                places_external_after=external,
                places_taken_after=taken,
                status_after=status,
            )
        )

    event(a, "2026-01-10T08:00", 5, 1, 0)
    event(a, "2026-02-10T08:00", 5, 1, 1, kind="placement_started")
    event(a, "2026-03-05T08:00", 5, 1, 0, kind="placement_ended")
    event(a, "2026-03-15T08:00", 8, 1, 0)  # capacity change in the middle of March
    event(a, "2026-03-20T08:00", 8, 1, 1, kind="placement_started")
    event(a, "2026-03-25T08:00", 8, 1, 2, kind="placement_started")
    event(a, "2026-03-31T21:30", 9, 1, 2)  # 00:30 on 1 April in Finland: after March
    event(a, "2026-04-10T08:00", 9, 1, 1, kind="placement_ended")
    event(b, "2026-02-01T08:00", 2, 0, 0)
    event(b, "2026-03-10T08:00", 2, 0, 0, status="paused")
    event(c, "2026-04-01T08:00", 3, 0, 0)
    event(d, "2026-01-01T08:00", 4, 0, 0)
    event(d, "2026-02-15T08:00", 4, 0, 0, status="closed")
    worker = build.user("social_worker")

    numbers = iter(range(1000, 10000))

    def placement(opening, start, status, ended=None, reason=None, age="18-24", gender="female"):
        client = Client(
            code=f"K-TEST-{next(numbers)}",
            owner_id=worker.id,
            municipality_code="205",
            age_band=age,
            gender=gender,
            status="active",
        )
        db.session.add(client)
        db.session.flush()
        db.session.add(
            Placement(
                client_id=client.id,
                opening_id=opening.id,
                status=status,
                days_per_week=3,
                hours_per_day=5,
                start_date=date.fromisoformat(start),
                ended_on=date.fromisoformat(ended) if ended else None,
                end_reason=reason,
            )
        )

    placement(a, "2026-02-10", "ended", "2026-03-05", "employed")  # spans February and March
    placement(a, "2026-03-20", "active")
    placement(a, "2026-03-25", "ended", "2026-04-10", "health", age="30-39", gender="male")
    placement(a, "2026-03-28", "proposed")  # never started
    placement(a, "2026-03-21", "declined")
    placement(a, "2026-04-02", "active")  # April
    db.session.commit()


MARCH = survey.month(2026, 3)


def test_march_by_hand(db, history):
    result = survey.run(db.session, MARCH)
    rows = {(r.municipality_code, r.opening_type): r.values for r in result.rows}
    assert set(rows) == {("205", "rehabilitative_work"), ("765", "work_trial")}
    kajaani = rows[("205", "rehabilitative_work")]
    assert {k: kajaani[k] for k in survey.CAPACITY_COLUMNS} == {
        "sites": 1,
        "openings": 1,
        "places_total": 8,
        "places_external": 1,
        "places_taken": 2,
        "places_free": 5,
    }
    assert (
        kajaani["placements_started"],
        kajaani["active_at_end"],
        kajaani["ended"],
        kajaani["ended_employed"],
        kajaani["ended_health"],
    ) == (2, 2, 1, 1, 0)
    sotkamo = rows[("765", "work_trial")]
    assert (sotkamo["places_total"], sotkamo["places_free"], sotkamo["placements_started"]) == (
        2,
        0,
        0,
    )  # paused: no free places
    assert result.totals["places_total"] == 10 and result.totals["placements_started"] == 2


def test_february_by_hand_and_previous_period(db, history):
    assert MARCH.previous() == survey.month(2026, 2)
    result = survey.run(db.session, MARCH.previous())
    rows = {(r.municipality_code, r.opening_type): r.values for r in result.rows}
    kajaani = rows[("205", "rehabilitative_work")]
    assert (kajaani["places_total"], kajaani["places_taken"], kajaani["places_free"]) == (5, 1, 3)
    assert (kajaani["placements_started"], kajaani["active_at_end"], kajaani["ended"]) == (1, 1, 0)
    assert rows[("765", "work_trial")]["places_free"] == 2
    assert ("205", "work_trial") not in rows  # opening C did not exist yet; D was closed


def test_quarter_and_year_periods(db, history):
    assert survey.quarter(2026, 1) == survey.Period(date(2026, 1, 1), date(2026, 3, 31), "quarter")
    assert survey.quarter(2026, 1).previous() == survey.Period(date(2025, 10, 1), date(2025, 12, 31), "quarter")
    q1 = survey.run(db.session, survey.quarter(2026, 1))
    assert q1.totals["placements_started"] == 3 and q1.totals["ended"] == 1
    year = survey.run(db.session, survey.year(2026))
    assert year.totals["placements_started"] == 4 and year.totals["ended_health"] == 1


def test_split_by_age_band_and_municipality_filter(db, history):
    result = survey.run(db.session, MARCH, split="age_band")
    groups = {r.group: r.values for r in result.split_rows}
    assert (groups["18-24"]["placements_started"], groups["18-24"]["ended"]) == (1, 1)
    assert groups["30-39"]["placements_started"] == 1
    assert groups["30-39"]["places_total"] is None  # places are not split by person
    only_sotkamo = survey.run(db.session, MARCH, municipalities=["765"])
    assert [r.municipality_code for r in only_sotkamo.rows] == ["765"]


def test_small_counts_can_be_suppressed():
    assert survey.suppress("placements_started", 3, True) == "<5"
    assert survey.suppress("placements_started", 0, True) == 0
    assert survey.suppress("placements_started", 5, True) == 5
    assert survey.suppress("places_total", 3, True) == 3  # places are not about people
    assert survey.suppress("placements_started", 3, False) == 3


@pytest.fixture
def coordinator_client(app, build):
    user = build.user("coordinator")
    client = app.test_client()
    log_in(client, user.email, "correct horse battery staple")
    return client


def test_page_and_csv_agree(db, history, coordinator_client):
    query = "period=month&year=2026&month=3"
    page = coordinator_client.get("/survey?" + query).get_data(as_text=True)
    assert "1.3.2026 – 31.3.2026" in page
    response = coordinator_client.get("/survey.csv?" + query)
    assert response.headers["Content-Disposition"] == 'attachment; filename="survey-2026-03-01_2026-03-31.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    kajaani = next(r for r in rows if r["municipality_code"] == "205")
    assert (
        kajaani["places_total"],
        kajaani["places_free"],
        kajaani["placements_started"],
        kajaani["ended_employed"],
    ) == ("8", "5", "2", "1")
    assert rows[-1]["municipality"] == "total" and rows[-1]["places_total"] == "10"
    for value in ("8", "5", "10"):
        assert f'<td class="num">{value}</td>' in page
    from placements.models import AuditEvent

    assert db.session.query(AuditEvent).filter_by(action="survey_exported").count() == 1


def test_finnish_excel_survey_csv(db, history, coordinator_client):
    data = coordinator_client.get("/survey.csv?period=month&year=2026&month=3&dialect=excel-fi&suppress=1").get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    header = text.splitlines()[0].split(";")
    assert header[:6] == ["Ajanjakson alku", "Ajanjakson loppu", "Kuntanumero", "Kunta", "Tehtävän tyyppi", "Ryhmä"]
    kajaani = next(line.split(";") for line in text.splitlines() if ";205;" in line)
    assert kajaani[header.index("Alkaneet sijoitukset")] == "<5" and kajaani[header.index("Paikat")] == "8"


def test_per_site_survey_csv(db, history, coordinator_client):
    rows = list(
        csv.DictReader(
            io.StringIO(
                coordinator_client.get("/survey.csv?period=month&year=2026&month=3&level=site").get_data(as_text=True)
            )
        )
    )
    assert [(r["site_ref"], r["opening_type"], r["places_total"], r["placements_started"]) for r in rows] == [
        ("A", "rehabilitative_work", "8", "2"),
        ("", "total", "8", "2"),  # Kajaani
        ("B", "work_trial", "2", "0"),
        ("", "total", "2", "0"),  # Sotkamo
        ("", "", "10", "2"),  # the region
    ]
    assert rows[-1]["municipality"] == "total" and rows[1]["municipality"] == "Kajaani"


def test_a_bad_period_is_explained_and_downloads_nothing(coordinator_client, db):
    html = coordinator_client.get("/survey?period=custom&start=2026-05-01&end=2026-04-01").get_data(as_text=True)
    assert "ennen sen alkua" in html and "/survey.csv" not in html
    response = coordinator_client.get("/survey.csv?period=custom&start=2026-05-01&end=2026-04-01")
    assert response.status_code == 400 and "ennen sen alkua" in response.get_data(as_text=True)
    assert coordinator_client.get("/survey.csv?period=quarter&quarter=9&year=2026").status_code == 400


def test_site_csv_export_uses_the_list_filters_and_reimports(db, build, coordinator_client):
    from placements.services.importer import import_sites

    build.site(site_ref="KAJ", description="=1+2")
    build.site(
        site_ref="SOT",
        opening_title="Muu",
        postal_code="88600",
        municipality_code="765",
        latitude="64.13",
        longitude="28.38",
        contact_name="@SUM(A1)",
    )
    response = coordinator_client.get("/sites.csv?municipality=205&dialect=excel-fi")
    text = response.get_data().decode("utf-8-sig")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="sites-')
    assert "KAJ" in text and "SOT" not in text
    assert ";'=1+2;" in text  # formula neutralised
    assert import_sites(db.session, text.encode("utf-8"), SYSTEM).ok
    db.session.rollback()
    everything = coordinator_client.get("/sites.csv").get_data(as_text=True)
    assert "'@SUM(A1)" in everything and "SOT" in everything


def test_csv_cells_that_look_like_formulas_are_neutralised_but_numbers_stay():
    from placements.services.csv_export import cell

    for payload in ("=1+2", "+1", "-1+1", "@SUM(A1)", "\tx", "\rx"):
        assert cell(payload).startswith("'")
    assert cell(-5) == "-5" and cell(-2.5) == "-2.5" and cell(-2.5, excel_fi=True) == "-2,5"


# --- totals count distinct sites (docs/rules.md §9.7) ----------------------------------------


@pytest.fixture
def several_types(db, build):
    """Sites with openings of several types, imported on 4 May 2026 (hand-computed below).

    Kajaani (205): M has rehabilitative work (5 places, 1 external), a work trial (3) and
    pay-subsidised work (2); N rehabilitative work (4); Q a paused work trial (3); Z only a
    closed work trial. Sotkamo (765): S rehabilitative work (2) and a work trial (6, 2 external).
    """
    from tests.builders import site_row

    sotkamo = {"postal_code": "88600", "municipality_code": "765", "latitude": "64.13", "longitude": "28.38"}

    def row(ref, kind, total, external=0, status="open", **extra):
        return site_row(
            site_ref=ref,
            site_name=f"Toimipaikka {ref}",
            opening_type=kind,
            opening_title=f"{ref} {kind}",
            days_per_week_max="5" if kind != "rehabilitative_work" else "4",
            places_total=total,
            places_external=external,
            status=status,
            **extra,
        )

    with clock.fixed(at("2026-05-04T09:00")):
        build.sites(
            row("M", "rehabilitative_work", 5, 1),
            row("M", "work_trial", 3),
            row("M", "pay_subsidy", 2),
            row("N", "rehabilitative_work", 4),
            row("Q", "work_trial", 3, status="paused"),
            row("Z", "work_trial", 2, status="closed"),
            row("S", "rehabilitative_work", 2, **sotkamo),
            row("S", "work_trial", 6, 2, **sotkamo),
        )
    worker = build.user("social_worker")
    numbers = iter(range(1000, 10000))
    openings = {(o.site.site_ref, o.type): o for o in db.session.scalars(select(Opening))}

    def placement(ref, kind, start, ended=None, reason=None):
        client = Client(
            code=f"K-TEST-{next(numbers)}",
            owner_id=worker.id,
            municipality_code="205",
            age_band="25-29",
            gender="male",
            status="active",
        )
        db.session.add(client)
        db.session.flush()
        db.session.add(
            Placement(
                client_id=client.id,
                opening_id=openings[(ref, kind)].id,
                status="ended" if ended else "active",
                days_per_week=3,
                hours_per_day=5,
                start_date=date.fromisoformat(start),
                ended_on=date.fromisoformat(ended) if ended else None,
                end_reason=reason,
            )
        )

    placement("M", "work_trial", "2026-06-01")
    placement("M", "rehabilitative_work", "2026-03-01", "2026-04-30", "completed")
    placement("Z", "work_trial", "2026-01-10", "2026-02-28", "moved")  # closed opening: counted, its site not
    placement("S", "rehabilitative_work", "2026-07-01")
    db.session.commit()


YEAR = survey.year(2026)
# Hand-computed from the fixture above.
KAJAANI_ROWS = {
    "rehabilitative_work": {"sites": 2, "openings": 2, "places_total": 9, "places_free": 8, "placements_started": 1},
    "work_trial": {"sites": 2, "openings": 2, "places_total": 6, "places_free": 3, "placements_started": 2},
    "pay_subsidy": {"sites": 1, "openings": 1, "places_total": 2, "places_free": 2, "placements_started": 0},
}
KAJAANI_TOTAL = {"sites": 3, "openings": 5, "places_total": 17, "places_external": 1, "places_free": 13}
SOTKAMO_TOTAL = {"sites": 1, "openings": 2, "places_total": 8, "places_external": 2, "places_free": 6}
REGION_TOTAL = {
    "sites": 4,
    "openings": 7,
    "places_total": 25,
    "places_external": 3,
    "places_free": 19,
    "placements_started": 4,
    "active_at_end": 2,
    "ended": 2,
    "ended_completed": 1,
    "ended_moved": 1,
}


def picked(values, expected):
    return {key: values[key] for key in expected}


def test_rows_may_count_a_site_in_each_type(db, several_types):
    result = survey.run(db.session, YEAR)
    kajaani = {r.opening_type: r.values for r in result.rows if r.municipality_code == "205"}
    assert {kind: picked(values, KAJAANI_ROWS[kind]) for kind, values in kajaani.items()} == KAJAANI_ROWS
    assert sum(r.values["sites"] for r in result.rows) == 7  # M three times, S twice


def test_totals_count_each_site_once(db, several_types):
    result = survey.run(db.session, YEAR)
    assert picked(result.totals, REGION_TOTAL) == REGION_TOTAL
    totals = {code: row.values for code, row in result.municipality_totals.items()}
    assert picked(totals["205"], KAJAANI_TOTAL) == KAJAANI_TOTAL
    assert picked(totals["765"], SOTKAMO_TOTAL) == SOTKAMO_TOTAL
    assert (totals["205"]["placements_started"], totals["205"]["ended"], totals["205"]["ended_moved"]) == (3, 2, 1)


def test_every_other_column_adds_up(db, several_types):
    """Openings, places and placements stay additive: rows sum to their municipality, and
    municipalities to the region."""
    result = survey.run(db.session, YEAR)
    additive = [c for c in survey.COLUMNS if c != "sites"]
    for code, total in result.municipality_totals.items():
        rows = [r for r in result.rows if r.municipality_code == code]
        assert {c: sum(r.values[c] for r in rows) for c in additive} == {c: total.values[c] for c in additive}
    assert {c: sum(t.values[c] for t in result.municipality_totals.values()) for c in additive} == {
        c: result.totals[c] for c in additive
    }


def test_previous_period_totals_count_each_site_once(db, several_types):
    result = survey.run(db.session, survey.year(2027))  # nothing changed since: same places
    assert result.totals["sites"] == 4 and result.totals["openings"] == 7
    assert result.totals["placements_started"] == 0 and result.totals["active_at_end"] == 2


class TableRows(HTMLParser):
    """The rows of the page's tables as (class of the row, [cell texts])."""

    def __init__(self, html: str):
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append((dict(attrs).get("class") or "", []))
        elif tag in ("td", "th") and self.rows:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_page_shows_distinct_site_totals(db, several_types, coordinator_client):
    page = coordinator_client.get("/survey?period=year&year=2026").get_data(as_text=True)
    rows = TableRows(page).rows
    total = next(cells for kind, cells in rows if "region-total" in kind)
    assert total[2:5] == ["4", "7", "25"]  # sites, openings, places after the two label cells
    kajaani = next(cells for kind, cells in rows if "subtotal" in kind and "Kajaani" in cells[0])
    assert kajaani[2:5] == ["3", "5", "17"]
    assert [cells[1] for kind, cells in rows if kind == "" and cells and cells[0] == "Kajaani"][:1] == [
        "kuntouttava työtoiminta"
    ]


def _csv_rows(client, query):
    return list(csv.DictReader(io.StringIO(client.get("/survey.csv?" + query).get_data(as_text=True))))


def test_csv_totals_count_each_site_once(db, several_types, coordinator_client):
    rows = _csv_rows(coordinator_client, "period=year&year=2026")
    total = rows[-1]
    assert total["municipality"] == "total" and total["sites"] == "4" and total["openings"] == "7"
    subtotals = {r["municipality_code"]: r for r in rows if r["opening_type"] == "total"}
    assert (subtotals["205"]["sites"], subtotals["205"]["places_total"]) == ("3", "17")
    assert (subtotals["765"]["sites"], subtotals["765"]["places_total"]) == ("1", "8")
    by_type = [r for r in rows if r["opening_type"] not in ("total", "")]
    assert sum(int(r["sites"]) for r in by_type) == 7


def test_site_level_csv_totals_count_each_site_once(db, several_types, coordinator_client):
    rows = _csv_rows(coordinator_client, "period=year&year=2026&level=site")
    site_rows = [r for r in rows if r["site_ref"]]
    assert [(r["site_ref"], r["opening_type"], r["sites"]) for r in site_rows if r["site_ref"] == "M"] == [
        ("M", "rehabilitative_work", "1"),
        ("M", "work_trial", "1"),
        ("M", "pay_subsidy", "1"),
    ]
    subtotals = {r["municipality_code"]: r for r in rows if r["opening_type"] == "total"}
    assert (subtotals["205"]["sites"], subtotals["765"]["sites"]) == ("3", "1")
    assert rows[-1]["municipality"] == "total" and rows[-1]["sites"] == "4"
    # the same totals as the file by municipality
    by_municipality = _csv_rows(coordinator_client, "period=year&year=2026")
    assert {k: v for k, v in rows[-1].items() if k in survey.COLUMNS} == {
        k: v for k, v in by_municipality[-1].items() if k in survey.COLUMNS
    }


# --- the Finnish Excel CSV speaks Finnish; the standard one keeps machine names (§9.8) ---------

STANDARD_HEADER = (
    "period_start,period_end,municipality_code,municipality,opening_type,group,sites,openings,places_total,"
    "places_external,places_taken,places_free,placements_started,active_at_end,ended,ended_completed,"
    "ended_employed,ended_education,ended_health,ended_moved,ended_dropped_out,ended_other"
)


def test_standard_csv_keeps_machine_names(db, several_types, coordinator_client):
    text = coordinator_client.get("/survey.csv?period=year&year=2026").get_data(as_text=True)
    lines = text.split("\r\n")
    assert lines[0] == STANDARD_HEADER
    assert lines[1] == "2026-01-01,2026-12-31,205,Kajaani,rehabilitative_work,,2,2,9,1,0,8,1,0,1,1,0,0,0,0,0,0"
    assert lines[4] == "2026-01-01,2026-12-31,205,Kajaani,total,,3,5,17,1,0,13,3,1,2,1,0,0,0,1,0,0"
    assert lines[-2] == "2026-01-01,2026-12-31,,total,,,4,7,25,3,0,19,4,2,2,1,0,0,0,1,0,0"
    assert lines[-1] == "" and not text.startswith("\ufeff")


def _finnish_csv(client, query):
    data = client.get("/survey.csv?" + query + "&dialect=excel-fi").get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


FINNISH_HEADER = [
    "Ajanjakson alku",
    "Ajanjakson loppu",
    "Kuntanumero",
    "Kunta",
    "Tehtävän tyyppi",
    "Ryhmä",
    "Toimipaikat",
    "Tehtävät",
    "Paikat",
    "Muualta ohjattujen käytössä",
    "Rekisterin sijoitusten käytössä",
    "Vapaat paikat",
    "Alkaneet sijoitukset",
    "Käynnissä lopussa",
    "Päättyneet",
    "Päättyneet: päättyi suunnitellusti",
    "Päättyneet: työllistyi",
    "Päättyneet: aloitti opinnot",
    "Päättyneet: terveydelliset syyt",
    "Päättyneet: muutti pois",
    "Päättyneet: keskeytyi",
    "Päättyneet: muu syy",
]


@pytest.mark.parametrize("language", ["fi", "en"])
def test_finnish_excel_csv_has_finnish_headers_and_labels(db, several_types, coordinator_client, language):
    """Finnish in both UI languages: the dialect is for Finnish spreadsheets."""
    with coordinator_client.session_transaction() as session:
        session["lang"] = language
    rows = _finnish_csv(coordinator_client, "period=year&year=2026")
    assert list(rows[0]) == FINNISH_HEADER
    first = rows[0]
    assert (first["Ajanjakson alku"], first["Ajanjakson loppu"], first["Kunta"]) == (
        "1.1.2026",
        "31.12.2026",
        "Kajaani",
    )
    assert [r["Tehtävän tyyppi"] for r in rows if r["Kuntanumero"] == "205"] == [
        "Kuntouttava työtoiminta",
        "Työkokeilu",
        "Palkkatuettu työ",
        "Yhteensä",
    ]
    kajaani_total = rows[3]
    assert (kajaani_total["Toimipaikat"], kajaani_total["Paikat"]) == ("3", "17")
    total = rows[-1]
    assert (total["Kunta"], total["Toimipaikat"], total["Päättyneet: muutti pois"]) == ("Yhteensä", "4", "1")


def test_finnish_excel_csv_split_and_site_level(db, several_types, coordinator_client):
    by_gender = _finnish_csv(coordinator_client, "period=year&year=2026&split=gender")
    assert "Sukupuoli" in by_gender[0] and {r["Sukupuoli"] for r in by_gender} == {"Mies"}
    by_age = _finnish_csv(coordinator_client, "period=year&year=2026&split=age_band")
    assert {r["Ikäryhmä"] for r in by_age} == {"25–29"}
    by_site = _finnish_csv(coordinator_client, "period=year&year=2026&level=site")
    assert list(by_site[0])[4:7] == ["Toimipaikan tunnus", "Toimipaikka", "Tehtävän tyyppi"]
    assert (by_site[0]["Toimipaikan tunnus"], by_site[0]["Toimipaikka"]) == ("M", "Toimipaikka M")
    assert by_site[-1]["Kunta"] == "Yhteensä" and by_site[-1]["Toimipaikat"] == "4"


def test_the_site_import_csv_keeps_machine_columns_in_both_dialects(db, several_types, coordinator_client):
    for query, separator in (("", ","), ("?dialect=excel-fi", ";")):
        header = coordinator_client.get("/sites.csv" + query).get_data().decode("utf-8-sig").splitlines()[0]
        assert header.split(separator)[:4] == ["site_ref", "organisation", "organisation_kind", "site_name"]


# --- dates in the user's language (docs/rules.md §1.5) -----------------------------------------


def test_page_dates_follow_the_language(db, several_types, coordinator_client):
    page = coordinator_client.get("/survey?period=month&year=2026&month=12").get_data(as_text=True)
    assert "1.12.2026 – 31.12.2026" in page and "1.11.2026–30.11.2026" in page
    with coordinator_client.session_transaction() as session:
        session["lang"] = "en"
    page = coordinator_client.get("/survey?period=month&year=2026&month=12").get_data(as_text=True)
    assert "1 Dec 2026 – 31 Dec 2026" in page and "1 Nov 2026–30 Nov 2026" in page


# --- only the chosen period's fields; a tidy address (docs/rules.md §9.1) -----------------------


def _inputs(page: str) -> dict[str, str]:
    """name -> the whole <div …> of the period field holding that input."""
    import re

    return {
        name: block
        for block, name in re.findall(
            r'(<div class="field[^"]*" data-period-kinds="[^"]*".*?name="(\w+)".*?</div>)', page, re.S
        )
    }


@pytest.mark.parametrize(
    "query, shown",
    [
        ("period=month&year=2026&month=3", {"year", "month"}),
        ("period=quarter&year=2026&quarter=2", {"year", "quarter"}),
        ("period=year&year=2026", {"year"}),
        ("period=custom&start=2026-02-01&end=2026-02-14", {"start", "end"}),
    ],
)
def test_only_the_chosen_period_fields_are_shown(db, coordinator_client, query, shown):
    response = coordinator_client.get("/survey?" + query)
    assert response.status_code == 200
    fields = _inputs(response.get_data(as_text=True))
    assert set(fields) == {"year", "month", "quarter", "start", "end"}
    for name, block in fields.items():
        hidden = " hidden>" in block and " disabled>" in block
        assert hidden == (name not in shown), (name, block)


def test_download_links_carry_only_the_period_fields(db, several_types, coordinator_client):
    page = coordinator_client.get("/survey?period=month&year=2026&month=3&municipality=205&suppress=1").get_data(
        as_text=True
    )
    assert 'href="/survey.csv?period=month&amp;year=2026&amp;month=3&amp;municipality=205&amp;suppress=1"' in page
    assert "quarter=" not in page.split("survey-downloads")[1].split("</p>")[0]


@pytest.mark.parametrize(
    "query, tidy",
    [
        ("period=year&year=2026&month=3&quarter=2&start=&end=", "period=year&year=2026"),
        ("period=month&year=2026&month=03&quarter=4", "period=month&year=2026&month=3"),
        ("period=custom&start=2026-02-01&end=2026-02-14&year=2026", "period=custom&start=2026-02-01&end=2026-02-14"),
        ("period=month&year=2026", "period=month&year=2026&month=11"),  # the month of the clock below
        ("year=2026&municipality=999&municipality=205&split=&suppress=0", "period=year&year=2026&municipality=205"),
    ],
)
def test_an_untidy_address_is_tidied(db, coordinator_client, query, tidy):
    with clock.fixed(at("2026-11-28T10:00")):
        response = coordinator_client.get("/survey?" + query)
    assert response.status_code == 302 and response.headers["Location"] == "/survey?" + tidy
    assert coordinator_client.get("/survey?" + tidy).status_code == 200  # no loop
    assert coordinator_client.get("/survey").status_code == 200  # nothing given: the current year, no redirect


# --- the charts: places and placements each on their own scale ----------------------------------


def _bars(page: str, chart: str) -> list[tuple[str, str, str]]:
    import re

    figure = page.split(f'class="bar-chart {chart}"')[1].split("</figure>")[0]
    return re.findall(
        r'<span class="bar-name">([^<]*)</span><svg[^>]*><rect width="([^"]*)"[^>]*></rect></svg>'
        r'<span class="bar-value">([^<]*)</span>',
        figure,
    )


def test_charts_show_places_and_placements_on_their_own_scales(db, several_types, coordinator_client):
    page = coordinator_client.get("/survey?period=year&year=2026").get_data(as_text=True)
    assert _bars(page, "chart-places") == [("Kajaani", "100.0", "17"), ("Sotkamo", "47.1", "8")]
    assert _bars(page, "chart-started") == [("Kajaani", "100.0", "3"), ("Sotkamo", "33.3", "1")]
    suppressed = coordinator_client.get("/survey?period=year&year=2026&suppress=1").get_data(as_text=True)
    assert _bars(suppressed, "chart-started") == [("Kajaani", "0.0", "&lt;5"), ("Sotkamo", "0.0", "&lt;5")]
    assert _bars(suppressed, "chart-places")[0] == ("Kajaani", "100.0", "17")  # places are never suppressed


# --- malformed periods: a message on the field, never a 500 (docs/rules.md §9.1) ---------------

MALFORMED = [
    ("period=year&year=10000", "year"),
    ("period=year&year=" + "9" * 5000, "year"),
    ("period=year&year=1899", "year"),
    ("period=year&year=2101", "year"),
    ("period=year&year=-2026", "year"),
    ("period=year&year=20%0026", "year"),
    ("period=year&year=%D9%A2%D9%A0%D9%A2%D9%A6", "year"),  # Arabic-Indic digits
    ("period=year&year=", "year"),
    ("period=month&year=2026&month=13", "month"),
    ("period=month&year=2026&month=0", "month"),
    ("period=month&year=2026&month=1e3", "month"),
    ("period=quarter&year=2026&quarter=0", "quarter"),
    ("period=quarter&year=2026&quarter=5", "quarter"),
    ("period=quarter&year=2026&quarter=" + "1" * 400, "quarter"),
    ("period=custom&start=0001-01-01&end=0001-01-02", "start"),
    ("period=custom&start=2026-01-01&end=9999-12-31", "end"),
    ("period=custom&start=1899-12-31&end=1900-01-02", "start"),
    ("period=custom&start=2026-01-01&end=10000-01-01", "end"),
    ("period=custom&start=2026-02-30&end=2026-03-01", "start"),
    ("period=custom&start=2026-01-01%00&end=2026-03-01", "start"),
    ("period=custom&start=20260101&end=2026-03-01", "start"),
    ("period=custom&start=&end=", "start"),
    ("period=custom&start=2026-05-01&end=2026-04-01", "end"),
    ("period=custom&start=2000-01-01&end=2020-01-01", "end"),
    ("period=%00", "period"),
    ("period=week", "period"),
]


@pytest.mark.parametrize("query, field", MALFORMED)
def test_a_malformed_period_is_a_field_error_on_the_page(db, coordinator_client, query, field):
    response = coordinator_client.get("/survey?" + query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'id="s-{field}" name="{field}"' in page or f'id="s-{field}" name="period"' in page
    assert f'aria-invalid="true" aria-describedby="s-{field}-error"' in page
    assert f'<li><a href="#s-{field}">' in page and "/survey.csv" not in page
    assert "out of range" not in page


@pytest.mark.parametrize("query, field", MALFORMED)
def test_a_malformed_period_downloads_nothing(db, coordinator_client, query, field):
    response = coordinator_client.get("/survey.csv?" + query)
    assert response.status_code == 400
    assert "out of range" not in response.get_data(as_text=True)


def test_period_messages_name_what_to_fix(app):
    from werkzeug.datastructures import MultiDict

    from placements.survey.periods import parse_period

    def errors(query: str) -> dict[str, str]:
        return parse_period(MultiDict([tuple(part.split("=", 1)) for part in query.split("&")])).errors

    with app.test_request_context():
        assert errors("period=month&year=2026&month=13") == {"month": "Kuukausi: valitse 1–12."}
        assert errors("period=quarter&year=2026&quarter=0") == {"quarter": "Vuosineljännes: valitse 1–4."}
        assert errors("period=year&year=10000") == {"year": "Vuosi: anna vuosi väliltä 1900–2100."}
        assert "1900" in errors("period=custom&start=0001-01-01&end=2026-01-01")["start"]
        choice = parse_period(MultiDict([("period", "month"), ("year", "2026"), ("month", "13")]))
        assert choice.period == survey.year(2026) and choice.kind == "month" and choice.values["month"] == "13"


def test_the_oldest_and_newest_periods_work(db, coordinator_client):
    for query in (
        "period=year&year=1900",
        "period=year&year=2100",
        "period=custom&start=1900-01-01&end=1900-01-01",
        "period=custom&start=2100-12-31&end=2100-12-31",
        "period=quarter&year=2100&quarter=4",
        "period=month&year=1900&month=1",
    ):
        assert coordinator_client.get("/survey?" + query).status_code == 200, query
        assert coordinator_client.get("/survey.csv?" + query).status_code == 200, query


def test_the_survey_is_for_coordinators_only(db, build, client, login):
    login(build.user("social_worker"))
    assert client.get("/survey?period=year&year=2026").status_code == 403
    assert client.get("/survey.csv?period=year&year=2026&dialect=excel-fi").status_code == 403
