"""flask clients purge: the retention rule for closed clients (docs/rules.md §12.2)."""

from __future__ import annotations

import click
from flask import current_app
from flask_babel import gettext as _

from placements.cli import in_unit_of_work
from placements.extensions import db
from placements.permissions import SYSTEM
from placements.services.clients import purge_closed


@click.group(help="Client data retention.")
def clients() -> None:
    pass


@clients.command(
    "purge", help="Remove the needs and notes of clients closed longer ago than DAYS (default CLIENT_RETENTION_DAYS)."
)
@click.option("--older-than", "days", type=click.IntRange(min=0), default=None, help="Days since closing.")
@in_unit_of_work
def purge_command(days: int | None) -> None:
    days = current_app.config["CLIENT_RETENTION_DAYS"] if days is None else days
    count = purge_closed(db.session, SYSTEM, older_than_days=days)
    message = _(
        "Removed the needs and notes of %(count)s clients closed more than %(days)s days ago.", count=count, days=days
    )
    click.echo(message)
