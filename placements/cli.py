"""Flask commands: sites import|export, users create, demo."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from placements.config import PROJECT_ROOT
from placements.extensions import db
from placements.models import Organisation, Site, User
from placements.services import importer, site_csv
from placements.services.geocoding import Geocoder
from placements.services.site_export import export_rows
from placements.services.users import UserError, create_user

SEED_FILE = PROJECT_ROOT / "data" / "seed_sites.csv"


def register(app: Flask) -> None:
    from placements import cli_ops  # noqa: F401  (adds db backup|restore to Flask-Migrate's group)
    from placements.cli_clients import clients

    app.cli.add_command(clients)
    app.cli.add_command(sites)
    app.cli.add_command(users)
    app.cli.add_command(demo)


@click.group(help="Import and export the site CSV.")
def sites() -> None:
    pass


def _print_import_result(result: importer.ImportResult) -> None:
    if result.problems:
        click.echo(_("The file has %(count)s problems; nothing was imported:", count=len(result.problems)), err=True)
        for problem in result.problems:
            click.echo(f"  {problem}", err=True)
        return
    summary = _(
        "%(rows)s rows; sites: %(created)s new, %(updated)s changed, %(unchanged)s unchanged; "
        "openings: %(o_created)s new, %(o_updated)s changed, %(o_archived)s archived.",
        rows=result.rows, created=result.sites_created, updated=result.sites_updated,
        unchanged=result.sites_unchanged, o_created=result.openings_created,
        o_updated=result.openings_updated, o_archived=result.openings_archived,
    )
    if result.dry_run:
        summary = _("Dry run, nothing saved: %(summary)s", summary=summary)
    click.echo(summary)


@sites.command("import", help="Import a site CSV (all rows or none).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report, but save nothing.")
def import_command(file: Path, dry_run: bool) -> None:
    geocoder = Geocoder.from_config(db.session, current_app.config)
    result = importer.import_sites(db.session, file.read_bytes(), dry_run=dry_run, geocoder=geocoder)
    _print_import_result(result)
    if result.problems:
        db.session.rollback()
        sys.exit(1)
    if not dry_run:
        db.session.commit()


@sites.command("export", help="Export all live sites as a site CSV ('-' for standard output).")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--excel-fi", is_flag=True, help="Finnish Excel dialect: ';', UTF-8 BOM, decimal comma.")
def export_command(file: str, excel_fi: bool) -> None:
    rows = export_rows(db.session)
    if file == "-":
        count = site_csv.write(rows, sys.stdout, excel_fi=excel_fi)
    else:
        with open(file, "w", encoding="utf-8", newline="") as stream:
            count = site_csv.write(rows, stream, excel_fi=excel_fi)
    click.echo(_("Exported %(count)s rows.", count=count), err=True)


def _register_operations() -> None:
    from placements.cli_ops import register_site_commands

    register_site_commands(sites)


_register_operations()


@sites.command("geocode", help="Look up the addresses of sites placed only at a postal code area or municipality centre.")
@click.option("--limit", type=int, default=None, help="Look up at most this many sites.")
def geocode_command(limit: int | None) -> None:
    if current_app.config.get("GEOCODER") != "nominatim":
        click.echo(_("GEOCODER is not nominatim; nothing to look up."), err=True)
        sys.exit(1)
    query = select(Site).where(Site.archived_at.is_(None), Site.geocode_precision.in_(("postal_code", "municipality"))).order_by(Site.id)
    if limit:
        query = query.limit(limit)
    geocoder = Geocoder.from_config(db.session, current_app.config)
    found = 0
    candidates = db.session.scalars(query).all()
    for site in candidates:
        location = geocoder.locate(site.street_address, site.postal_code, site.municipality_code)
        if location.precision == "exact":
            site.latitude, site.longitude, site.geocode_precision = location.latitude, location.longitude, "exact"
            found += 1
        db.session.commit()  # one site at a time: an interrupted run keeps what it found
    click.echo(_("%(found)s of %(total)s sites were located by their street address.", found=found, total=len(candidates)))


@click.group(help="Manage user accounts.")
def users() -> None:
    pass


@users.command("create", help="Create an account; the password is read from standard input.")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["coordinator", "social_worker", "host"]))
@click.option("--organisation", "organisation_id", type=int, help="Organisation id (required for hosts).")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from the first line of standard input.")
def create_user_command(email: str, name: str, role: str, organisation_id: int | None, password_stdin: bool) -> None:
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_user(db.session, email=email, name=name, role=role, password=password, organisation_id=organisation_id)
    except UserError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(_("Account %(email)s (%(role)s) created with id %(id)s.", email=user.email, role=role, id=user.id))


def _database_has_data() -> bool:
    return any(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Organisation, Site)
    )


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (mode 600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)


DEMO_ACCOUNTS = (
    ("koordinaattori@example.fi", "Kaisa Koordinaattori", "coordinator"),
    ("sosiaaliohjaaja@example.fi", "Sami Sosiaaliohjaaja", "social_worker"),
    ("yhdyshenkilo@example.fi", "Hanna Yhdyshenkilö", "host"),
)


@click.command(help="Load the sample data and create one demo account per role.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database already has data.")
def demo(if_empty: bool) -> None:
    if _database_has_data():
        click.echo(_("The database already has data; the sample data was not loaded."), err=True)
        sys.exit(0 if if_empty else 1)
    result = importer.import_sites(db.session, SEED_FILE.read_bytes())
    if result.problems:
        db.session.rollback()
        _print_import_result(result)
        sys.exit(1)
    host_organisation = db.session.scalar(
        select(Organisation).join(Site).group_by(Organisation.id).order_by(func.count(Site.id).desc(), Organisation.id).limit(1)
    )
    lines = []
    for email, name, role in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        organisation_id = host_organisation.id if role == "host" else None
        create_user(db.session, email=email, name=name, role=role, password=password, organisation_id=organisation_id)
        lines.append(f"{role}\t{email}\t{password}")
    db.session.commit()
    _print_import_result(result)
    accounts_file = Path(current_app.instance_path) / "demo-accounts.txt"
    text = _("Demo accounts (role, e-mail, password)") + "\n" + "\n".join(lines) + "\n"
    _write_private(accounts_file, text)
    click.echo(text + _("The accounts were saved in %(file)s (readable by its owner only).", file=accounts_file))
