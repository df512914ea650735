"""flask sites import|export|geocode|stale-report."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from placements import clock
from placements.cli import command_work, in_unit_of_work
from placements.extensions import db
from placements.models import Site
from placements.permissions import SYSTEM
from placements.services import freshness, importer, site_csv
from placements.services.csv_export import csv_stream
from placements.services.geocoding import Geocoder
from placements.services.site_export import export_rows


@click.group(help="Import and export the site CSV.")
def sites() -> None:
    pass


def print_import_result(result: importer.ImportResult) -> None:
    if result.problems:
        click.echo(_("The file has %(count)s problems; nothing was imported:", count=len(result.problems)), err=True)
        for problem in result.problems:
            click.echo(f"  {problem}", err=True)
        return
    summary = _(
        "%(rows)s rows; sites: %(created)s new, %(updated)s changed, %(unchanged)s unchanged; "
        "openings: %(o_created)s new, %(o_updated)s changed, %(o_archived)s archived.",
        rows=result.rows,
        created=result.sites_created,
        updated=result.sites_updated,
        unchanged=result.sites_unchanged,
        o_created=result.openings_created,
        o_updated=result.openings_updated,
        o_archived=result.openings_archived,
    )
    if result.dry_run:
        summary = _("Dry run, nothing saved: %(summary)s", summary=summary)
    click.echo(summary)


class ImportFailed(Exception):
    """The file had problems: the unit of work rolls back."""


@sites.command("import", help="Import a site CSV (all rows or none).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report, but save nothing.")
def import_command(file: Path, dry_run: bool) -> None:
    try:
        with command_work() as session:
            geocoder = Geocoder.from_config(session, current_app.config)
            result = importer.import_sites(session, file.read_bytes(), SYSTEM, dry_run=dry_run, geocoder=geocoder)
            print_import_result(result)
            if result.problems:
                raise ImportFailed
    except ImportFailed:
        sys.exit(1)


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


@sites.command(
    "geocode", help="Look up the addresses of sites placed only at a postal code area or municipality centre."
)
@click.option("--limit", type=int, default=None, help="Look up at most this many sites.")
def geocode_command(limit: int | None) -> None:
    if current_app.config.get("GEOCODER") != "nominatim":
        click.echo(_("GEOCODER is not nominatim; nothing to look up."), err=True)
        sys.exit(1)
    query = select(Site.id).where(
        Site.archived_at.is_(None), Site.geocode_precision.in_(("postal_code", "municipality"))
    )
    query = query.order_by(Site.id)
    candidates = db.session.scalars(query.limit(limit) if limit else query).all()
    found = 0
    for site_id in candidates:
        with command_work() as session:  # one site at a time: an interrupted run keeps what it found
            site = session.get(Site, site_id)
            location = Geocoder.from_config(session, current_app.config).locate(
                site.street_address, site.postal_code, site.municipality_code
            )
            if location.precision == "exact":
                site.latitude, site.longitude, site.geocode_precision = location.latitude, location.longitude, "exact"
                found += 1
    click.echo(
        _("%(found)s of %(total)s sites were located by their street address.", found=found, total=len(candidates))
    )


@sites.command(
    "stale-report", help="CSV of hosts whose openings are stale, to remind them ('-' or nothing for standard output)."
)
@click.argument("file", required=False, default="-", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--excel-fi", is_flag=True, help="Finnish Excel dialect.")
@in_unit_of_work
def stale_report(file: str, excel_fi: bool) -> None:
    days = current_app.config["STALE_AFTER_DAYS"]
    rows = freshness.stale_rows(db.session, stale_after_days=days, now=clock.now())
    chunks = csv_stream(freshness.STALE_REPORT_COLUMNS, rows, excel_fi=excel_fi)
    if file == "-":
        for chunk in chunks:
            sys.stdout.write(chunk)
    else:
        with open(file, "w", encoding="utf-8", newline="") as stream:
            for chunk in chunks:
                stream.write(chunk)
