"""Outcomes (docs/rules.md §19) against hand-computed figures; who may see them; the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from placements import clock
from placements.errors import PermissionDenied
from placements.models import AuditEvent, Placement
from placements.services import outcomes
from placements.services.survey import year
from tests.conftest import log_in


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def day(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture
def history(db, build):
    """Five clients with known paths (times in UTC; Finland is UTC+2 in winter).

    C1 (worker's, Kajaani): needs 5.1.2026; KTT 1.2.–30.4. completed (89 days),
        work trial 4.5.–30.6. completed (58 days), pay subsidy 1.7.–31.10. employed (123 days).
    C2 (worker's): needs 1.12.2025; KTT 1.11.2025–15.2.2026 dropped out (107 days), work trial
        from 1.3.2026, active.
    C3 (worker's, Sotkamo): needs 26.2.2026 23:30 UTC = 27.2. in Finland; KTT 2.3.–31.3. health (30 days).
    C4 (colleague's, not shared): no needs; IPS 10.1.–9.8. employed (212 days).
    C5 (colleague's, shared with the worker): needs 20.3.; work trial 1.4.–10.4. moved (10 days).
    """
    ktt = build.site(site_ref="KTT", opening_title="Keittiö").openings[0]
    trial = build.site(site_ref="WT", opening_type="work_trial", opening_title="Kokeilu", days_per_week_max="5")
    subsidy = build.site(site_ref="PS", opening_type="pay_subsidy", opening_title="Palkkatuki", days_per_week_max="5")
    ips = build.site(site_ref="IPS", opening_type="ips_job", opening_title="IPS", days_per_week_max="5")
    trial, subsidy, ips = trial.openings[0], subsidy.openings[0], ips.openings[0]
    worker = build.user("social_worker", email="worker@example.fi")
    colleague = build.user("social_worker", email="colleague@example.fi")

    def person(owner, recorded: str | None, municipality="205", shared=()):
        if municipality == "765":
            client = build.client(owner, municipality_code="765", home_postal_code="88600", share_with=shared)
        else:
            client = build.client(owner, share_with=shared)
        if recorded:
            with clock.fixed(at(recorded)):
                build.needs(client, owner)
        return client

    def placed(client, opening, start, ended=None, reason=None, status=None, proposed=None, decided=None):
        placement = Placement(
            client_id=client.id,
            opening_id=opening.id,
            status=status or ("ended" if ended else "active"),
            days_per_week=3,
            hours_per_day=5.0,
            start_date=day(start),
            ended_on=day(ended) if ended else None,
            end_reason=reason,
            proposed_at=at(proposed or "2025-01-01T08:00"),
            decided_at=at(decided) if decided else None,
        )
        db.session.add(placement)
        return placement

    c1 = person(worker, "2026-01-05T10:00")
    c2 = person(worker, "2025-12-01T12:00")
    c3 = person(worker, "2026-02-26T23:30", municipality="765")
    c4 = person(colleague, None)
    c5 = person(colleague, "2026-03-20T08:00", shared=[worker])
    placed(c1, ktt, "2026-02-01", "2026-04-30", "completed", proposed="2026-01-20T10:00", decided="2026-01-22T09:00")
    placed(c1, trial, "2026-05-04", "2026-06-30", "completed", proposed="2026-04-20T10:00", decided="2026-04-25T10:00")
    placed(c1, subsidy, "2026-07-01", "2026-10-31", "employed")
    placed(c2, ktt, "2025-11-01", "2026-02-15", "dropped_out", proposed="2025-10-01T08:00", decided="2025-10-20T08:00")
    placed(c2, trial, "2026-03-01")
    placed(c2, subsidy, "2026-07-01", status="declined", proposed="2026-06-01T08:00", decided="2026-06-04T08:00")
    placed(c2, ips, "2026-07-01", status="cancelled", proposed="2026-06-05T08:00", decided="2026-06-10T08:00")
    placed(c3, ktt, "2026-03-02", "2026-03-31", "health", proposed="2026-02-27T08:00", decided="2026-02-27T15:00")
    placed(c4, ips, "2026-01-10", "2026-08-09", "employed")
    placed(c5, trial, "2026-04-01", "2026-04-10", "moved")
    db.session.commit()
    return {"worker": worker, "colleague": colleague}


@pytest.fixture
def coordinator(build):
    return build.user("coordinator")


def test_ended_by_reason_per_type_by_hand(db, history, coordinator):
    result = outcomes.region_outcomes(db.session, coordinator, year(2026))
    assert {kind: {r: n for r, n in row.items() if n} for kind, row in result.ended.items()} == {
        "rehabilitative_work": {"completed": 1, "dropped_out": 1, "health": 1},
        "work_trial": {"completed": 1, "moved": 1},
        "pay_subsidy": {"employed": 1},
        "ips_job": {"employed": 1},
    }
    assert result.ended_total() == 7 and result.ended_total("rehabilitative_work") == 3
    assert result.ended_count(None, "employed") == 2 and result.ended_count(None, "completed") == 2


def test_median_lengths_by_hand(db, history, coordinator):
    lengths = outcomes.region_outcomes(db.session, coordinator, year(2026)).lengths
    assert lengths["rehabilitative_work"] == outcomes.Median(89, 3)  # 30, 89, 107
    assert lengths["work_trial"] == outcomes.Median(34, 2)  # (10 + 58) / 2
    assert lengths["pay_subsidy"] == outcomes.Median(123, 1)
    assert lengths["ips_job"] == outcomes.Median(212, 1)
    assert lengths[""] == outcomes.Median(89, 7)  # 10, 30, 58, 89, 107, 123, 212


def test_median_waiting_times_by_hand(db, history, coordinator):
    result = outcomes.region_outcomes(db.session, coordinator, year(2026))
    # First starts in 2026 after a needs record: C1 27 days, C3 3 days (the Finnish date of the
    # record, 27.2., not the UTC date 26.2.), C5 12 days. C2 started in 2025; C4 has no needs.
    assert result.needs_to_start == outcomes.Median(12, 3)
    # Host answers in 2026: 47 h = 1 day, 5 days, 7 h = 0 days, a decline after 3 days;
    # a cancellation is no answer, an answer in 2025 is outside the period.
    assert result.proposal_to_answer == outcomes.Median(2, 4)


def test_path_transitions_by_hand(db, history, coordinator):
    result = outcomes.region_outcomes(db.session, coordinator, year(2026))
    assert result.transitions == {
        ("rehabilitative_work", "work_trial"): 2,  # C1 and C2
        ("work_trial", "pay_subsidy"): 1,  # C1
        ("pay_subsidy", "employed"): 1,  # C1
        ("ips_job", "employed"): 1,  # C4
    }
    # C2's KTT → work trial happened on 1.3.2026: not in 2025's figures, where C2 only started.
    assert outcomes.region_outcomes(db.session, coordinator, year(2025)).transitions == {}


def test_municipalities_are_the_clients(db, history, coordinator):
    result = outcomes.region_outcomes(db.session, coordinator, year(2026), municipalities=["765"])
    assert result.ended_total() == 1 and result.ended["rehabilitative_work"]["health"] == 1
    assert result.transitions == {} and result.needs_to_start == outcomes.Median(3, 1)


def test_a_worker_sees_only_own_and_shared_clients(db, history):
    result = outcomes.worker_outcomes(db.session, history["worker"], year(2026))
    assert "ips_job" not in result.ended and result.ended_total() == 6  # C4 is the colleague's alone
    assert ("ips_job", "employed") not in result.transitions
    assert result.lengths[""] == outcomes.Median(73.5, 6)  # 10, 30, 58 | 89, 107, 123
    assert result.needs_to_start == outcomes.Median(12, 3)  # C5 is shared with the worker
    colleague = outcomes.worker_outcomes(db.session, history["colleague"], year(2026))
    assert colleague.ended_total() == 2 and colleague.transitions == {("ips_job", "employed"): 1}


def test_only_the_right_roles_compute_outcomes(db, build, history, coordinator):
    host = build.user("host")
    for user in (history["worker"], host):
        with pytest.raises(PermissionDenied):
            outcomes.region_outcomes(db.session, user, year(2026))
    for user in (coordinator, host):
        with pytest.raises(PermissionDenied):
            outcomes.worker_outcomes(db.session, user, year(2026))


def test_median_of_a_histogram():
    assert outcomes.median_of({}) == outcomes.Median(None, 0)
    assert outcomes.median_of({5: 1}) == outcomes.Median(5, 1)
    assert outcomes.median_of({1: 2, 9: 2}) == outcomes.Median(5, 4)
    assert outcomes.median_of({1: 1, 2: 3, 100: 1}) == outcomes.Median(2, 5)
    assert outcomes.Median(7, 4).shown is None and outcomes.Median(7, 5).shown == 7


def test_small_counts_and_their_shares_are_hidden():
    assert [outcomes.shown(n) for n in (0, 1, 4, 5)] == [0, "<5", "<5", 5]
    assert outcomes.share(5, 10) == 50.0 and outcomes.share(0, 10) == 0.0
    assert outcomes.share(3, 10) is None  # would tell a count of 3
    assert outcomes.share(0, 4) is None  # a total of 4 is itself hidden


# --- the pages ---------------------------------------------------------------------------------


def _client_for(app, user):
    from tests.builders import PASSWORD

    http = app.test_client()
    assert log_in(http, user.email, PASSWORD).status_code == 302
    return http


def test_host_and_worker_are_refused_the_region_page(app, db, build, history):
    for user in (build.user("host"), history["worker"]):
        http = _client_for(app, user)
        assert http.get("/admin/outcomes").status_code == 403
        assert http.get("/admin/outcomes.csv").status_code == 403
    for user in (build.user("host"), build.user("coordinator")):
        http = _client_for(app, user)
        assert http.get("/clients/outcomes").status_code == 403
        assert http.get("/clients/outcomes.csv").status_code == 403
    assert app.test_client().get("/admin/outcomes").headers["Location"] == "/login"


def test_the_region_page_suppresses_small_counts_and_is_audited(app, db, history, coordinator):
    http = _client_for(app, coordinator)
    html = http.get("/admin/outcomes?period=year&year=2026").get_data(as_text=True)
    assert "1.1.2026 – 31.12.2026" in html
    assert "&lt;5" in html and '<td class="num">2</td>' not in html  # KTT → work trial: 2 clients
    assert "K-" not in html  # no client code anywhere
    assert "Luottamuksellinen" not in html  # nor the needs' note
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "outcomes_viewed")).one()
    assert event.role == "coordinator" and "scope=region" in event.detail and "2026-01-01" in event.detail


def test_figures_of_five_or_more_are_shown_with_shares_and_a_chart(app, db, build, history, coordinator):
    ktt = db.session.scalars(select(Placement.opening_id).where(Placement.status == "ended")).first()
    for _ in range(5):
        someone = build.client(history["worker"])
        db.session.add(
            Placement(
                client_id=someone.id,
                opening_id=ktt,
                status="ended",
                days_per_week=3,
                hours_per_day=5.0,
                start_date=day("2026-01-01"),
                ended_on=day("2026-01-10"),
                end_reason="completed",
            )
        )
    db.session.commit()
    result = outcomes.region_outcomes(db.session, coordinator, year(2026))
    assert result.ended["rehabilitative_work"]["completed"] == 6 and result.ended_total("rehabilitative_work") == 8
    http = _client_for(app, coordinator)
    http.post("/language", data={"lang": "en", "csrf_token": _token(http)})
    html = http.get("/admin/outcomes?period=year&year=2026").get_data(as_text=True)
    assert '6<br><span class="muted">75 %</span>' in html  # 6 of KTT's 8 ended placements
    assert '<td class="num">10</td>' in html  # median KTT length: 10, 10, 10, 10, 10, 30, 89, 107
    assert "12 days" not in html  # the waiting-time median rests on 3 clients: "–"


def _token(http) -> str:
    from tests.conftest import csrf_token

    return csrf_token(http, "/")


def test_a_worker_page_counts_only_their_clients(app, db, history):
    http = _client_for(app, history["colleague"])
    response = http.get("/clients/outcomes?period=year&year=2026")
    assert response.status_code == 200
    rows = list(
        csv.DictReader(io.StringIO(http.get("/clients/outcomes.csv?period=year&year=2026").get_data(as_text=True)))
    )
    ended = {(r["opening_type"], r["category"]): r["count"] for r in rows if r["figure"] == "ended"}
    assert ended[("total", "total")] == "<5" and ("rehabilitative_work", "total") not in ended
    assert [(r["opening_type"], r["category"]) for r in rows if r["figure"] == "transition"] == [
        ("ips_job", "employed")
    ]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.user_id == history["colleague"].id)).all()
    assert "outcomes_viewed" in actions and "outcomes_exported" in actions


def test_standard_csv_by_hand(app, db, history, coordinator):
    http = _client_for(app, coordinator)
    response = http.get("/admin/outcomes.csv?period=year&year=2026&municipality=205&municipality=765")
    assert response.headers["Content-Disposition"] == 'attachment; filename="outcomes-2026-01-01_2026-12-31.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == list(outcomes_csv_columns())
    assert {r["municipalities"] for r in rows} == {"205|765"}
    totals = next(r for r in rows if r["figure"] == "ended" and r["opening_type"] == r["category"] == "total")
    assert totals["count"] == "7" and totals["period_start"] == "2026-01-01"
    length = next(r for r in rows if r["figure"] == "placement_length" and r["opening_type"] == "total")
    assert (length["count"], length["median_days"]) == ("7", "89")
    waiting = next(r for r in rows if r["figure"] == "needs_to_start")
    assert (waiting["count"], waiting["median_days"]) == ("<5", "")
    transitions = [(r["opening_type"], r["category"], r["count"]) for r in rows if r["figure"] == "transition"]
    assert transitions == [
        ("rehabilitative_work", "work_trial", "<5"),
        ("work_trial", "pay_subsidy", "<5"),
        ("pay_subsidy", "employed", "<5"),
        ("ips_job", "employed", "<5"),
    ]
    assert db.session.query(AuditEvent).filter_by(action="outcomes_exported").count() == 1


def outcomes_csv_columns():
    from placements.outcomes.table import CSV_COLUMNS

    return CSV_COLUMNS


def test_finnish_excel_csv(app, db, history, coordinator):
    http = _client_for(app, coordinator)
    http.post("/language", data={"lang": "en", "csrf_token": _token(http)})  # the file is Finnish anyway
    data = http.get("/admin/outcomes.csv?period=year&year=2026&dialect=excel-fi").get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = [line.split(";") for line in data.decode("utf-8-sig").splitlines()]
    assert lines[0] == [
        "Ajanjakson alku",
        "Ajanjakson loppu",
        "Kunnat",
        "Luku",
        "Tehtävän tyyppi",
        "Luokka",
        "Lukumäärä",
        "Osuus (%)",
        "Mediaani (päivää)",
    ]
    assert ["1.1.2026", "31.12.2026", "Kaikki", "Päättyneet sijoitukset", "Yhteensä", "Yhteensä", "7", "", ""] in lines
    assert any(
        line[3] == "Polun siirtymä" and line[4] == "Kuntouttava työtoiminta" and line[5] == "Työkokeilu"
        for line in lines
    )
    assert any(line[3] == "Polun siirtymä" and line[5] == "Työllistyi" for line in lines)


def test_a_bad_period_downloads_nothing(app, db, coordinator):
    http = _client_for(app, coordinator)
    assert http.get("/admin/outcomes.csv?period=quarter&year=2026&quarter=9").status_code == 400
    html = http.get("/admin/outcomes?period=quarter&year=2026&quarter=9").get_data(as_text=True)
    assert "/admin/outcomes.csv" not in html
