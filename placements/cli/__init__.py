"""Flask commands, one click group per domain (``flask sites …``, ``flask users …``).

Every command runs as the operator at the command line (``permissions.SYSTEM``) in one
unit of work: it commits when the command succeeds and rolls back when it fails.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import wraps

import click
from flask import Flask

from placements import unit_of_work
from placements.errors import PermissionDenied, Refused
from placements.services import audit


@contextmanager
def command_work() -> Iterator:
    """A command's unit of work; its audit events say they came from the command line."""
    with audit.origin("cli"), unit_of_work.work() as session:
        yield session


def in_unit_of_work(command):
    """Run a click command in ``command_work``; a refusal prints its reasons and exits 1."""

    @wraps(command)
    def wrapped(*args, **kwargs):
        try:
            with command_work():
                return command(*args, **kwargs)
        except Refused as error:
            for message in error.problems.values():
                click.echo(message, err=True)
            sys.exit(1)
        except PermissionDenied:
            click.echo("permission denied", err=True)
            sys.exit(1)

    return wrapped


def register(app: Flask) -> None:
    from placements.cli import clients, demo, jobs, notices, ops, sites, users

    ops.register()  # db backup|restore join Flask-Migrate's `flask db`
    app.cli.add_command(clients.clients)
    app.cli.add_command(sites.sites)
    app.cli.add_command(users.users)
    app.cli.add_command(demo.demo)
    app.cli.add_command(notices.outbox_group, name="outbox")
    app.cli.add_command(notices.notifications_group, name="notifications")
    app.cli.add_command(jobs.jobs)
