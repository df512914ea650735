"""flask users create."""

from __future__ import annotations

import sys

import click
from flask_babel import gettext as _

from placements.cli import in_unit_of_work
from placements.extensions import db
from placements.permissions import SYSTEM
from placements.services.users import create_user


@click.group(help="Manage user accounts.")
def users() -> None:
    pass


@users.command("create", help="Create an account; the password is read from standard input.")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["coordinator", "social_worker", "host"]))
@click.option("--organisation", "organisation_id", type=int, help="Organisation id (required for hosts).")
@click.option(
    "--password-stdin", is_flag=True, required=True, help="Read the password from the first line of standard input."
)
@in_unit_of_work
def create_user_command(email: str, name: str, role: str, organisation_id: int | None, password_stdin: bool) -> None:
    password = sys.stdin.readline().rstrip("\r\n")
    user = create_user(
        db.session, SYSTEM, email=email, name=name, role=role, password=password, organisation_id=organisation_id
    )
    click.echo(_("Account %(email)s (%(role)s) created with id %(id)s.", email=user.email, role=role, id=user.id))
