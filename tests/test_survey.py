"""The survey against hand-computed numbers; page and CSV agree; CSVs are safe in Excel."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from placements.models import CapacityEvent, Client, Placement
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
    assert header[:6] == ["period_start", "period_end", "municipality_code", "municipality", "opening_type", "group"]
    kajaani = next(line.split(";") for line in text.splitlines() if ";205;" in line)
    assert kajaani[header.index("placements_started")] == "<5" and kajaani[header.index("places_total")] == "8"


def test_per_site_survey_csv(db, history, coordinator_client):
    rows = list(
        csv.DictReader(
            io.StringIO(
                coordinator_client.get("/survey.csv?period=month&year=2026&month=3&level=site").get_data(as_text=True)
            )
        )
    )
    assert [(r["site_ref"], r["places_total"], r["placements_started"]) for r in rows] == [
        ("A", "8", "2"),
        ("B", "2", "0"),
    ]


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
