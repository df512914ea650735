"""Running it for years: backups and restore, the stale report, database faults, crashes."""

from __future__ import annotations

import csv
import io
import sqlite3
import threading

import pytest
from sqlalchemy import func, select, text

from placements import create_app
from placements.models import Opening, Organisation, Site
from tests.builders import csv_bytes, site_row
from tests.conftest import POSTGRES_URL, base_config, log_in, require

SNAPSHOT_TABLES = ("organisations", "sites", "openings", "capacity_events", "users", "audit_events")


def snapshot(db) -> dict[str, list]:
    db.session.expire_all()
    return {
        table: [tuple(row) for row in db.session.execute(text(f"SELECT * FROM {table} ORDER BY id"))]  # noqa: S608
        for table in SNAPSHOT_TABLES
    }


def test_backup_then_change_then_restore_gives_the_backup_back(app, db, build, runner, tmp_path):
    build.site()
    build.user("coordinator")
    saved = snapshot(db)
    backup = tmp_path / "backup.dump"
    result = runner.invoke(args=["db", "backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert backup.stat().st_size > 0

    build.site(site_ref="LATER", opening_title="Myöhemmin lisätty")
    db.session.get(Opening, saved["openings"][0][0]).places_total = 9
    db.session.commit()
    assert snapshot(db) != saved
    db.session.remove()

    result = runner.invoke(args=["db", "restore", "--yes", str(backup)])

    assert result.exit_code == 0, result.output
    assert snapshot(db) == saved


def test_restore_asks_before_replacing_everything(runner, tmp_path, db, build):
    build.site()
    backup = tmp_path / "b.dump"
    backup.write_bytes(b"not a backup")
    result = runner.invoke(args=["db", "restore", str(backup)], input="n\n")
    assert result.exit_code == 1  # aborted at the question
    assert db.session.scalar(select(func.count()).select_from(Site)) == 1


def test_stale_report_names_the_hosts_to_remind(runner, db, build, tmp_path):
    stale = build.site(last_confirmed="2026-01-02")
    build.site(site_ref="NOHOST", organisation="Isännätön ry", opening_title="Unohtunut", last_confirmed="2026-01-03")
    build.site(site_ref="FRESH", organisation="Ajan tasalla ry", opening_title="Tuore")
    host = build.user("host", organisation=stale.organisation, email="muistutettava@example.fi")
    target = tmp_path / "stale.csv"

    result = runner.invoke(args=["sites", "stale-report", str(target)])

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert {(r["site_ref"], r["host_email"]) for r in rows} == {(stale.site_ref, host.email), ("NOHOST", "")}
    assert all(int(r["days_since_confirmed"]) > 60 for r in rows)


def test_a_crash_during_an_import_leaves_nothing_half_imported(db, runner, tmp_path, monkeypatch):
    from placements.services.importer import apply

    calls = {"n": 0}
    original = apply._insert_many

    def crash_after_the_sites(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the sites are written, their openings not yet
            raise RuntimeError("power cut")
        return original(*args, **kwargs)

    monkeypatch.setattr(apply, "_insert_many", crash_after_the_sites)
    source = tmp_path / "sites.csv"
    source.write_bytes(csv_bytes([site_row(site_ref=f"S{n}", opening_title=f"T{n}") for n in range(5)]))

    result = runner.invoke(args=["sites", "import", str(source)])

    assert result.exit_code != 0 and calls["n"] == 2
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Site)) == 0
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0


def test_an_unreachable_database_gives_a_clear_503_page(tmp_path):
    app = create_app(base_config("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1", tmp_path))
    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 503
    assert "Palvelu ei ole käytettävissä" in response.get_data(as_text=True)
    assert client.get("/healthz").status_code == 503


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # SQLite's write lock
def test_a_locked_sqlite_database_answers_503_and_changes_nothing(database_urls, tmp_path, build, backend):
    site = build.site()
    opening_id = site.openings[0].id
    app = create_app(base_config(database_urls["sqlite"], tmp_path) | {"SQLITE_BUSY_TIMEOUT": 1})
    user = build.user("coordinator")
    client = app.test_client()
    log_in(client, user.email, "correct horse battery staple")
    html = client.get(f"/openings/{opening_id}/capacity").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    form = {"csrf_token": token, "version": 1, "places_total": 9, "places_external": 0, "status": "open"}
    writer = sqlite3.connect(database_urls["sqlite"].removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a long writer holds the lock
    try:
        response = client.post(f"/openings/{opening_id}/capacity", data=form)
        assert response.status_code == 503
        assert "Yritä hetken kuluttua uudelleen" in response.get_data(as_text=True)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    check = sqlite3.connect(database_urls["sqlite"].removeprefix("sqlite:///"))
    assert check.execute("SELECT places_total, version FROM openings WHERE id = ?", (opening_id,)).fetchone() == (5, 1)
    check.close()
    response = client.post(f"/openings/{opening_id}/capacity", data=form)
    assert response.status_code == 302  # the same request works once the lock is gone


def test_a_connection_lost_mid_request_gives_503_and_the_next_request_recovers(tmp_path):
    require(bool(POSTGRES_URL), "TEST_DATABASE_URL is not set: PostgreSQL fault test skipped")
    app = create_app(base_config(POSTGRES_URL, tmp_path))
    from placements.extensions import db

    @app.get("/test/lose-connection")
    def lose_connection():
        # The server ends this very connection, as a database restart or failover would.
        db.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        db.session.execute(text("SELECT 1"))
        return "unreachable"

    client = app.test_client()
    response = client.get("/test/lose-connection")
    assert response.status_code == 503
    assert "Palvelu ei ole käytettävissä" in response.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200  # recovered, no restart
    assert client.get("/").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_concurrent_requests_during_a_lost_connection_do_not_500(tmp_path):
    require(bool(POSTGRES_URL), "TEST_DATABASE_URL is not set: PostgreSQL fault test skipped")
    from sqlalchemy import create_engine

    app = create_app(base_config(POSTGRES_URL, tmp_path))
    statuses: list[int] = []

    def hit():
        statuses.append(app.test_client().get("/healthz").status_code)

    threads = [threading.Thread(target=hit) for _ in range(4)]
    admin = create_engine(POSTGRES_URL)
    try:
        for thread in threads:
            thread.start()
        with admin.connect() as connection:
            database = connection.execute(text("SELECT current_database()")).scalar()
            terminate = text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
            )
            connection.execute(terminate, {"db": database})
    finally:
        admin.dispose()
        for thread in threads:
            if thread.ident is not None:  # started
                thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request hung after the connections were cut"
    statuses += [app.test_client().get("/healthz").status_code for _ in range(3)]
    assert 500 not in statuses and statuses[-3:] == [200, 200, 200]
