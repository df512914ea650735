"""flask outbox send, flask notifications daily: mail delivery and the day's notices."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask_babel import gettext as _

from placements.cli import command_work
from placements.extensions import db
from placements.services import audit, outbox, reminders


@click.group(help="The e-mail outbox.")
def outbox_group() -> None:
    pass


@outbox_group.command("send", help="Send the e-mail waiting in the outbox (safe to run from several places at once).")
@click.option("--loop", is_flag=True, help="Keep running, sending new messages as they come.")
@click.option("--interval", type=click.IntRange(min=1), default=10, help="Seconds between rounds with --loop.")
def send_command(loop: bool, interval: int) -> None:
    while True:
        with audit.origin("cli"):
            report = outbox.send_pending(db.session)
        if report.sent or report.retried or report.failed:
            message = _(
                "Sent %(sent)s, to retry %(retried)s, failed %(failed)s.",
                sent=report.sent,
                retried=report.retried,
                failed=report.failed,
            )
            click.echo(message)
        for line in report.errors:
            click.echo(line, err=True)
        if not loop:
            sys.exit(1 if report.failed else 0)
        time.sleep(interval)


@click.group(help="Notifications that the registry sends on its own.")
def notifications_group() -> None:
    pass


@notifications_group.command("daily", help="Today's notices: starts, ends, waiting proposals, stale data, summaries.")
def daily_command() -> None:
    with command_work() as session:
        report = reminders.run_daily(session, stale_after_days=current_app.config["STALE_AFTER_DAYS"])
    counts = ", ".join(f"{name} {number}" for name, number in sorted(report.counts.items())) or "–"
    click.echo(_("Notices written: %(counts)s.", counts=counts))
