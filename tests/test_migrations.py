"""Migrations build the schema on an empty database and match the models exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect

from placements import create_app
from placements.extensions import db as _db
from tests.conftest import POSTGRES_URL, base_config, drop_database, require


def _drift(app) -> list:
    with app.app_context():
        with _db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, _db.metadata)


def _fresh_url(backend: str, tmp_path) -> str:
    if backend == "sqlite":
        return "sqlite:///" + str(tmp_path / "fresh.db")
    require(bool(POSTGRES_URL), "TEST_DATABASE_URL is not set: PostgreSQL migration test skipped")
    # A database of its own, so the shared test database keeps its schema.
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = admin.url.database + "_migrations"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return admin.url.set(database=name).render_as_string(hide_password=False)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_on_an_empty_database_matches_the_models(backend, tmp_path):
    url = _fresh_url(backend, tmp_path)
    app = create_app(base_config(url, tmp_path))
    with app.app_context():
        upgrade()
    try:
        assert _drift(app) == []
        with app.app_context():
            tables = set(inspect(_db.engine).get_table_names())
            assert {"sites", "openings", "placements", "capacity_events", "audit_events", "users"} <= tables
            downgrade(revision="base")
            assert set(inspect(_db.engine).get_table_names()) <= {"alembic_version"}
            upgrade()
        assert _drift(app) == []
    finally:
        with app.app_context():
            _db.engine.dispose()
        if backend == "postgresql":
            drop_database(url)


def test_postgresql_is_tested_when_configured():
    require(bool(POSTGRES_URL), "TEST_DATABASE_URL is not set: the suite ran on SQLite only")
    assert POSTGRES_URL.startswith("postgresql")


def test_search_text_is_filled_for_sites_that_existed_before_it(tmp_path):
    """The migration adding sites.search_text fills it for existing rows."""
    from sqlalchemy import text

    url = "sqlite:///" + str(tmp_path / "stepwise.db")
    app = create_app(base_config(url, tmp_path))
    with app.app_context():
        upgrade(revision="5a1c0e7d2b90")
        with _db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organisations (id, name, kind, created_at) "
                    "VALUES (1, 'Järjestö Ä', 'association', '2026-01-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO sites (id, uuid, site_ref, organisation_id, name, street_address, postal_code, "
                    "municipality_code, latitude, longitude, geocode_precision, accessibility, description, "
                    "contact_name, contact_phone, contact_email, created_at, updated_at) VALUES "
                    "(1, 'u1', 'S1', 1, 'PÄSSINPÄÄ Paja', 'Katu 1', '87100', '205', 64.2, 27.7, 'manual', '|', "
                    "'Kuvaus', '', '', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        upgrade()
        with _db.engine.connect() as connection:
            assert connection.execute(text("SELECT search_text, version FROM sites")).one() == (
                "pässinpää paja järjestö ä katu 1 kuvaus",
                1,
            )
            organisation_uuid = connection.execute(text("SELECT uuid FROM organisations")).scalar_one()
            assert len(organisation_uuid) == 36
        _db.engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_survey_rounds_migration_keeps_notifications_and_allows_the_round_kinds(backend, tmp_path):
    """8c91d39cabb4 adds the round tables and widens the CHECK of notification kinds without
    losing existing notifications; its downgrade removes the round notices, then narrows it."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    url = _fresh_url(backend, tmp_path)
    app = create_app(base_config(url, tmp_path))
    insert = (
        "INSERT INTO notifications (recipient_id, kind, params, created_at, email) "
        "VALUES (1, :kind, '{}', '2026-11-28 10:00:00+00', 'none')"
    )
    try:
        with app.app_context():
            upgrade(revision="cf4506138770")
            with _db.engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO users (id, email, name, role, password_hash, active, must_change_password, "
                        "session_version, created_at) VALUES (1, 'k@example.fi', 'K', 'coordinator', '!', "
                        "true, false, 1, '2026-11-28 10:00:00+00')"
                    )
                )
                connection.execute(text(insert), {"kind": "stale_digest"})
            with pytest.raises(IntegrityError), _db.engine.begin() as connection:
                connection.execute(text(insert), {"kind": "round_invitation"})
            upgrade(revision="8c91d39cabb4")
            with _db.engine.begin() as connection:
                connection.execute(text(insert), {"kind": "round_invitation"})
                kinds = sorted(connection.execute(text("SELECT kind FROM notifications")).scalars())
            assert kinds == ["round_invitation", "stale_digest"]
            assert {"survey_rounds", "round_responses", "round_response_lines", "round_snapshot_rows"} <= set(
                inspect(_db.engine).get_table_names()
            )
            downgrade(revision="cf4506138770")
            with _db.engine.connect() as connection:
                assert list(connection.execute(text("SELECT kind FROM notifications")).scalars()) == ["stale_digest"]
            assert "survey_rounds" not in set(inspect(_db.engine).get_table_names())
    finally:
        with app.app_context():
            _db.engine.dispose()
        if backend == "postgresql":
            drop_database(url)
