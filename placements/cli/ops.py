"""Operations commands: flask db backup|restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404: runs pg_dump/pg_restore with a fixed argument list
import sys
from pathlib import Path

import click
from flask import current_app
from flask_babel import gettext as _
from flask_migrate.cli import db as db_commands
from sqlalchemy.engine import make_url

from placements.extensions import db


def _sqlite_path(url) -> Path | None:
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def _pg_url(url) -> str:
    """A libpq connection string for pg_dump/pg_restore (no driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@db_commands.command(
    "backup", help="Back up the database to PATH (SQLite: online backup; PostgreSQL: pg_dump custom format)."
)
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


@db_commands.command(
    "restore", help="Replace the database's contents with the backup at PATH. Stop the app servers first."
)
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
        _run_pg(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_pg_url(url)}",
            str(path),
        )
    click.echo(_("The database was restored from %(path)s.", path=path))


def _run_pg(tool: str, *args: str) -> None:
    executable = shutil.which(tool)
    if executable is None:
        click.echo(_("%(tool)s was not found; install the PostgreSQL client tools.", tool=tool), err=True)
        sys.exit(1)
    # The tool is the PostgreSQL client found on PATH; its arguments come from the settings.
    command = [executable, *args]
    result = subprocess.run(  # noqa: S603  # nosec B603
        command, capture_output=True, text=True, env=os.environ.copy(), check=False
    )
    if result.returncode != 0:
        click.echo(result.stderr.strip(), err=True)
        sys.exit(result.returncode)


def register() -> None:
    """The commands are defined on Flask-Migrate's ``db`` group when this module is imported."""
