"""The database itself refuses impossible data, whatever code writes it."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import CheckConstraint, func, select, text, update
from sqlalchemy.exc import IntegrityError

from placements import codes
from placements.models import AuditEvent, Municipality, Opening, PostalCode, Site, User
from placements.models.base import Base


def test_the_eight_kainuu_municipalities_exist_after_migration(db):
    rows = {m.code: m.name_fi for m in db.session.scalars(select(Municipality))}
    assert rows == {
        "205": "Kajaani",
        "765": "Sotkamo",
        "290": "Kuhmo",
        "777": "Suomussalmi",
        "620": "Puolanka",
        "578": "Paltamo",
        "697": "Ristijärvi",
        "105": "Hyrynsalmi",
    }
    assert db.session.scalar(select(func.count()).select_from(PostalCode)) == 99


def _refused(db, statement) -> None:
    with pytest.raises(IntegrityError):
        db.session.execute(statement)
        db.session.flush()
    db.session.rollback()


def test_overbooking_is_impossible_even_for_code_that_skips_the_service(db, build):
    opening = build.opening(places_total="5", places_external="1")
    # 4 placements fit (5 - 1 external); a fifth would overbook.
    db.session.execute(update(Opening).where(Opening.id == opening.id).values(places_taken=4))
    db.session.commit()
    _refused(db, update(Opening).where(Opening.id == opening.id).values(places_taken=5))
    assert db.session.get(Opening, opening.id).places_taken == 4


@pytest.mark.parametrize(
    "values",
    [
        {"places_total": -1},
        {"places_external": 6},
        {"places_taken": -1},
        {"type": "volunteering"},
        {"status": "busy"},
        {"physical_demand": "extreme"},
        {"social_intensity": "none"},
        {"days_per_week_min": 0},
        {"days_per_week_min": 5, "days_per_week_max": 4},
        {"hours_per_day_min": 7, "hours_per_day_max": 6},
        {"task_areas": ("kitchen", "juggling")},
        {"supports": ("massage",)},
    ],
    ids=lambda v: ",".join(v),
)
def test_opening_checks(db, build, values):
    opening = build.opening()
    _refused(db, update(Opening).where(Opening.id == opening.id).values(**values))


def test_site_checks(db, build):
    site = build.site()
    _refused(db, update(Site).where(Site.id == site.id).values(accessibility=("ramp",)))
    _refused(db, update(Site).where(Site.id == site.id).values(geocode_precision="guess"))


def test_a_host_must_belong_to_an_organisation(db, build):
    user = build.user("social_worker")
    _refused(db, update(User).where(User.id == user.id).values(role="host", organisation_id=None))


def test_unknown_roles_and_uppercase_emails_are_refused(db, build):
    user = build.user("coordinator")
    _refused(db, update(User).where(User.id == user.id).values(role="admin"))
    _refused(db, update(User).where(User.id == user.id).values(email="Big@Example.fi"))


def test_site_ref_is_unique(db, build):
    site = build.site()
    other = build.site(site_ref="OTHER", opening_title="Toinen")
    _refused(db, update(Site).where(Site.id == other.id).values(site_ref=site.site_ref))


def test_timestamps_are_utc_and_round_trip(db, build):
    site = build.site()
    db.session.expire_all()
    stored = db.session.get(Site, site.id).created_at
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - stored) < timedelta(minutes=1)


def test_created_at_is_taken_when_the_row_is_made_not_at_import(db, build):
    """A default computed once, at import, would give every row the same, older time."""

    def made_between(make):
        before = datetime.now(UTC)
        rows = make()
        after = datetime.now(UTC)
        for row in rows:
            db.session.refresh(row)  # the stored value, not the Python attribute
            assert before <= row.created_at <= after, (type(row).__name__, before, row.created_at, after)
        return rows

    def one_of_each(ref: str):
        site = build.site(site_ref=ref, organisation=f"Järjestö {ref}", opening_title=f"Tehtävä {ref}")
        worker = build.user("social_worker")
        client = build.client(worker)
        return [site.organisation, site, site.openings[0], worker, client, build.needs(client, worker)]

    first = made_between(lambda: one_of_each("FIRST"))
    time.sleep(0.05)
    second = made_between(lambda: one_of_each("SECOND"))
    for earlier, later in zip(first, second, strict=True):
        assert earlier.created_at < later.created_at, type(earlier).__name__


def test_free_places_subtracts_outside_participants_and_placements(build):
    opening = build.opening(places_total="6", places_external="2")
    opening.places_taken = 3
    assert opening.free_places == 1


def test_codes_are_stored_so_one_like_finds_them(db, build):
    from placements.models.base import has_code

    def sites_with(code: str) -> int:
        return db.session.scalar(select(func.count()).select_from(Site).where(has_code(Site.accessibility, code)))

    build.site(accessibility="elevator|step_free_access")
    assert sites_with("elevator") == 1
    assert sites_with("step_free") == 0
    raw = db.session.execute(text("SELECT accessibility FROM sites")).scalar()
    assert raw == "|elevator|step_free_access|"


def test_audit_event_values_are_single_line(db):
    from placements.services import audit

    audit.record(db.session, "login_failed\r\nFAKE admin_login", detail="line1\nline2\rline3")
    db.session.commit()
    event = db.session.scalar(select(AuditEvent))
    assert "\n" not in event.action and "\r" not in event.action
    assert event.detail == "line1 line2 line3"


# --- code lists in CHECK constraints match codes.py (docs/rules.md §14.1) -------------------

CODE_LIST_CHECK = re.compile(r"\bIN \(|\bREPLACE\(", re.IGNORECASE)


def _literals(sql: str) -> set[str]:
    """The codes named in a code-list CHECK: its quoted strings without the separators."""
    return {value.strip("|") for value in re.findall(r"'((?:[^']|'')*)'", sql)} - {""}


def model_code_lists() -> dict[str, set[str]]:
    """Constraint name → the codes the models (built from codes.py) allow."""
    found = {}
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint) and CODE_LIST_CHECK.search(str(constraint.sqltext)):
                found[str(constraint.name)] = _literals(str(constraint.sqltext))
    return found


def _balanced(text: str, start: int) -> str:
    depth = 0
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return text[start : index + 1]
    raise ValueError("unbalanced CHECK")


def schema_checks(db) -> dict[str, str]:
    """Constraint name → CHECK text, as the migrated database holds it."""
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(
            text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c'")
        )
        return dict(rows.all())
    checks = {}
    for (sql,) in db.session.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL")):
        for match in re.finditer(r'CONSTRAINT\s+"?(\w+)"?\s+CHECK\s*', sql):
            checks[match.group(1)] = _balanced(sql, match.end())
    return checks


def code_list_drift(expected: dict[str, set[str]], schema: dict[str, str]) -> list[str]:
    problems = []
    for name, allowed in sorted(expected.items()):
        if name not in schema:
            problems.append(f"write a migration for {name}: the database has no such CHECK constraint")
            continue
        stored = _literals(schema[name])
        if stored != allowed:
            problems.append(
                f"write a migration for {name}: codes.py adds {sorted(allowed - stored)}, "
                f"removes {sorted(stored - allowed)}"
            )
    return problems


def test_every_code_list_in_codes_py_has_its_check_in_the_models():
    lists = [
        set(value)
        for name, value in vars(codes).items()
        if name.isupper() and isinstance(value, dict | tuple) and value and all(isinstance(v, str) for v in value)
    ]
    expected = model_code_lists()
    assert len(expected) >= 20
    for name, allowed in expected.items():
        assert allowed in lists, f"{name} allows {sorted(allowed)}, which is no code list of codes.py"
    assert expected["ck_openings_task_areas_valid"] == set(codes.TASK_AREAS)
    assert expected["ck_users_role_valid"] == set(codes.ROLES)


def test_every_code_list_matches_the_migrated_schema(db):
    problems = code_list_drift(model_code_lists(), schema_checks(db))
    assert problems == [], "\n".join(problems)


def test_a_code_added_without_a_migration_is_named(db):
    expected = model_code_lists()
    expected["ck_openings_task_areas_valid"] = expected["ck_openings_task_areas_valid"] | {"juggling"}
    expected["ck_users_role_valid"] = expected["ck_users_role_valid"] - {"host"}

    assert code_list_drift(expected, schema_checks(db)) == [
        "write a migration for ck_openings_task_areas_valid: codes.py adds ['juggling'], removes []",
        "write a migration for ck_users_role_valid: codes.py adds [], removes ['host']",
    ]


def test_a_row_the_database_refuses_fails_the_import_job_clearly(app, db, build, monkeypatch):
    """A code in codes.py that no migration added passes the importer's checks; the
    database's CHECK refuses the row when the import is applied, and the import job fails
    with a message on its page, with nothing saved (docs/rules.md §16.2)."""
    import io

    from placements.models import Job
    from tests.builders import PASSWORD, csv_bytes, site_row
    from tests.conftest import csrf_token, log_in, run_jobs

    monkeypatch.setitem(codes.TASK_AREAS, "juggling", "juggling")
    client = app.test_client()
    log_in(client, build.user("coordinator").email, PASSWORD)
    upload = csv_bytes([site_row(site_ref="NEW-1", task_areas="kitchen|juggling")])
    checked = client.post(
        "/admin/import",
        data={"csrf_token": csrf_token(client, "/admin/import"), "file": (io.BytesIO(upload), "s.csv")},
        content_type="multipart/form-data",
    )
    run_jobs()
    preview = client.get(checked.headers["Location"]).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', preview).group(1)

    response = client.post(
        "/admin/import/confirm", data={"csrf_token": csrf_token(client, "/admin/import"), "token": token}
    )
    assert response.status_code == 303
    run_jobs()

    page = client.get(response.headers["Location"])
    db.session.expire_all()
    job = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
    assert job.status == "failed" and job.error
    assert page.status_code == 200 and job.error in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Site)) == 0
