"""Operations commands: flask db backup|restore and flask sites stale-report."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404: runs pg_dump/pg_restore with a fixed argument list
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from flask import current_app
from flask_babel import gettext as _
from flask_migrate.cli import db as db_commands
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import joinedload

from placements.extensions import db
from placements.models import Opening, Site, User
from placements.services.csv_export import csv_stream

STALE_REPORT_COLUMNS = ("organisation", "host_name", "host_email", "site_ref", "site_name", "opening_title", "last_confirmed", "days_since_confirmed", "site_contact_email")


def _sqlite_path(url) -> Path | None:
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def _pg_url(url) -> str:
    """A libpq connection string for pg_dump/pg_restore (no driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@db_commands.command("backup", help="Back up the database to PATH (SQLite: online backup; PostgreSQL: pg_dump custom format).")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    database = _sqlite_path(url)
    if database is not None:
        source = sqlite3.connect(database)
        target = sqlite3.connect(path)
        with target:
            source.backup(target)  # consistent even while the app writes
        target.close()
        source.close()
    else:
        _run_pg("pg_dump", "--format=custom", "--no-owner", f"--file={path}", _pg_url(url))
    click.echo(_("Backup written to %(path)s.", path=path))


@db_commands.command("restore", help="Replace the database's contents with the backup at PATH. Stop the app servers first.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path: Path, yes: bool) -> None:
    if not yes:
        click.confirm(_("This replaces everything in the database with the backup. Continue?"), abort=True)
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()
    db.engine.dispose()
    database = _sqlite_path(url)
    if database is not None:
        source = sqlite3.connect(path)
        target = sqlite3.connect(database)
        with target:
            source.backup(target)
        target.close()
        source.close()
    else:
        _run_pg("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={_pg_url(url)}", str(path))
    click.echo(_("The database was restored from %(path)s.", path=path))


def _run_pg(tool: str, *args: str) -> None:
    executable = shutil.which(tool)
    if executable is None:
        click.echo(_("%(tool)s was not found; install the PostgreSQL client tools.", tool=tool), err=True)
        sys.exit(1)
    result = subprocess.run([executable, *args], capture_output=True, text=True, env=os.environ.copy(), check=False)  # noqa: S603  # nosec B603
    if result.returncode != 0:
        click.echo(result.stderr.strip(), err=True)
        sys.exit(result.returncode)


def stale_rows(session, *, stale_after_days: int, now: datetime):
    """One row per stale opening and host of its organisation (an empty host when none)."""
    before = now - timedelta(days=stale_after_days)
    openings = session.scalars(
        select(Opening).join(Opening.site)
        .where(Opening.archived_at.is_(None), Site.archived_at.is_(None), Opening.last_confirmed_at < before)
        .options(joinedload(Opening.site).joinedload(Site.organisation))
        .order_by(Site.organisation_id, Opening.last_confirmed_at)
    ).all()
    hosts: dict[int, list[User]] = {}
    for host in session.scalars(select(User).where(User.role == "host", User.active.is_(True)).order_by(User.name)):
        hosts.setdefault(host.organisation_id, []).append(host)
    for opening in openings:
        site = opening.site
        for host in hosts.get(site.organisation_id) or [None]:
            yield {
                "organisation": site.organisation.name, "host_name": host.name if host else "", "host_email": host.email if host else "",
                "site_ref": site.site_ref, "site_name": site.name, "opening_title": opening.title,
                "last_confirmed": opening.last_confirmed_at.date().isoformat(), "days_since_confirmed": (now - opening.last_confirmed_at).days,
                "site_contact_email": site.contact_email,
            }  # fmt: skip


def register_site_commands(sites_group) -> None:
    @sites_group.command("stale-report", help="CSV of hosts whose openings are stale, to remind them ('-' or nothing for standard output).")
    @click.argument("file", required=False, default="-", type=click.Path(dir_okay=False, allow_dash=True))
    @click.option("--excel-fi", is_flag=True, help="Finnish Excel dialect.")
    def stale_report(file: str, excel_fi: bool) -> None:
        rows = stale_rows(db.session, stale_after_days=current_app.config["STALE_AFTER_DAYS"], now=datetime.now(UTC))
        chunks = csv_stream(STALE_REPORT_COLUMNS, rows, excel_fi=excel_fi)
        if file == "-":
            for chunk in chunks:
                sys.stdout.write(chunk)
        else:
            with open(file, "w", encoding="utf-8", newline="") as stream:
                for chunk in chunks:
                    stream.write(chunk)
