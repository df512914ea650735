"""Commands: sites import|export, users create, demo."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from pathlib import Path

from sqlalchemy import func, select

from placements.models import AuditEvent, Opening, Site, User
from placements.services.passwords import verify_password
from tests.builders import PASSWORD, csv_bytes, site_row
from tests.conftest import log_in, post_form


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_sites_import_then_export(runner, db, tmp_path, seed_csv):
    source = tmp_path / "seed.csv"
    source.write_bytes(seed_csv)

    result = runner.invoke(args=["sites", "import", str(source)])

    assert result.exit_code == 0, result.output
    assert "86 uutta" in result.output
    assert count(db, Site) == 86

    target = tmp_path / "export.csv"
    result = runner.invoke(args=["sites", "export", str(target)])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == count(db, Opening)


def test_sites_import_dry_run_saves_nothing(runner, db, tmp_path, seed_csv):
    source = tmp_path / "seed.csv"
    source.write_bytes(seed_csv)
    result = runner.invoke(args=["sites", "import", "--dry-run", str(source)])
    assert result.exit_code == 0
    assert "Koeajo, mitään ei tallennettu" in result.output
    assert count(db, Site) == 0


def test_sites_import_with_a_bad_row_lists_problems_and_exits_non_zero(runner, db, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_bytes(csv_bytes([site_row(), site_row(site_ref="B", postal_code="99999")]))

    result = runner.invoke(args=["sites", "import", str(source)])

    assert result.exit_code == 1
    assert "rivi 3, sarake postal_code: 99999 ei ole kainuulainen postinumero." in result.output
    assert "mitään ei tuotu" in result.output
    assert count(db, Site) == 0


def test_users_create_reads_the_password_from_stdin(runner, db):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Koordinaattori@Example.fi",
            "--name",
            "Kaisa K",
            "--role",
            "coordinator",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert user.email == "koordinaattori@example.fi" and user.role == "coordinator"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, PASSWORD)
    assert PASSWORD not in result.output
    assert db.session.scalar(select(AuditEvent.action)) == "user_created"


def test_users_create_refuses_bad_input_and_creates_nothing(runner, db):
    result = runner.invoke(
        args=["users", "create", "not-an-email", "--name", "X", "--role", "host", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code == 1
    assert "ei ole sähköpostiosoite" in result.output
    assert "kuuluttava johonkin järjestäjään" in result.output
    assert "vähintään 12 merkkiä" in result.output
    assert count(db, User) == 0


def test_users_create_host_with_organisation(runner, db, build):
    site = build.site()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "host@example.fi",
            "--name",
            "H",
            "--role",
            "host",
            "--organisation",
            str(site.organisation_id),
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User)).organisation_id == site.organisation_id


def test_users_create_refuses_a_duplicate_email(runner, db, build):
    build.user("coordinator", email="sama@example.fi")
    result = runner.invoke(
        args=["users", "create", "SAMA@example.fi", "--name", "X", "--role", "coordinator", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 1 and "on jo käyttäjätunnus" in result.output
    assert count(db, User) == 1


def test_demo_loads_sample_data_and_one_account_per_role(runner, db, app):
    result = runner.invoke(args=["demo", "--allow-production"])

    assert result.exit_code == 0, result.output
    assert count(db, Site) >= 80
    users = {u.role: u for u in db.session.scalars(select(User))}
    assert set(users) == {"coordinator", "social_worker", "host"}
    assert users["host"].organisation_id is not None
    accounts = Path(app.instance_path) / "demo-accounts.txt"
    assert stat.S_IMODE(os.stat(accounts).st_mode) == 0o600
    lines = [line.split("\t") for line in accounts.read_text().splitlines()[1:]]
    for role, _email, password in lines:
        assert verify_password(users[role].password_hash, password)
        assert password in result.output  # printed once, for the person running it


def test_demo_passwords_are_easy_to_read_and_must_be_changed(runner, db, app):
    """Read from a file or aloud: no l/1/I/O/0, groups of four; changed at the first login."""
    app.config["DEVELOPMENT"] = True  # `make run`: no flag needed
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    passwords = [line.split("\t")[2] for line in result.output.splitlines() if line.count("\t") == 2]
    assert len(passwords) == 3
    for password in passwords:
        assert re.fullmatch(r"[a-km-np-z2-9]{4}(-[a-km-np-z2-9]{4}){3}", password), password
        assert not set(password) & set("l1IO0o")
    assert all(user.must_change_password for user in db.session.scalars(select(User)))


def test_demo_refuses_a_production_installation(runner, db):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 1
    assert "--allow-production" in result.output
    assert count(db, User) == 0 and count(db, Site) == 0


def test_users_create_without_a_password_prints_a_set_password_link(runner, db, app):
    result = runner.invoke(args=["users", "create", "ohjaaja@example.fi", "--name", "O", "--role", "social_worker"])
    assert result.exit_code == 0, result.output
    path = re.search(r"(/account/set-password/\S+)", result.output).group(1)
    user = db.session.scalar(select(User))
    assert user.password_set_at is None
    assert log_in(app.test_client(), user.email, PASSWORD).status_code == 200  # no password yet
    browser = app.test_client()
    response = post_form(browser, path, {"new_password": PASSWORD, "confirm": PASSWORD}, token_from=path)
    assert response.headers["Location"] == "/clients"


def test_users_link_ends_the_password_and_prints_a_new_link(runner, db, app, build):
    user = build.user("coordinator", email="ainoa@example.fi")
    app.config |= {"SERVER_NAME": "rekisteri.example.fi", "PREFERRED_URL_SCHEME": "https"}
    result = runner.invoke(args=["users", "link", "AINOA@example.fi"])
    assert result.exit_code == 0, result.output
    assert re.search(r"https://rekisteri\.example\.fi/account/set-password/\S+", result.output)
    db.session.expire_all()
    assert not verify_password(db.session.get(User, user.id).password_hash, PASSWORD)
    assert runner.invoke(args=["users", "link", "nobody@example.fi"]).exit_code == 1


def test_demo_refuses_a_database_that_has_data(runner, db, build):
    build.site()
    result = runner.invoke(args=["demo", "--allow-production"])
    assert result.exit_code == 1
    assert "Tietokannassa on jo tietoja" in result.output
    assert count(db, User) == 0

    result = runner.invoke(args=["demo", "--if-empty", "--allow-production"])
    assert result.exit_code == 0
    assert count(db, User) == 0
