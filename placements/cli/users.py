"""flask users create | link."""

from __future__ import annotations

import sys

import click
from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from placements.cli import in_unit_of_work
from placements.extensions import db
from placements.models import User
from placements.permissions import SYSTEM
from placements.services import users as user_service


@click.group(help="Manage user accounts.")
def users() -> None:
    pass


def _print_link(user: User, token: str) -> None:
    """The set-password link, with the registry's address when SERVER_NAME is set."""
    with current_app.test_request_context():
        link = url_for("auth.set_password", token=token)
    server = current_app.config.get("SERVER_NAME")
    if server:
        link = f"{current_app.config.get('PREFERRED_URL_SCHEME') or 'https'}://{server}{link}"
    else:
        click.echo(_("SERVER_NAME is not set: put the registry's address in front of the link."), err=True)
    click.echo(
        _(
            "Give this link to %(email)s: it lets only them set their password, works once and expires in 72 hours.",
            email=user.email,
        )
    )
    click.echo(link)


@users.command("create", help="Create an account and print a link that lets its owner set their password.")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["coordinator", "social_worker", "host"]))
@click.option("--organisation", "organisation_id", type=int, help="Organisation id (required for hosts).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read your own password from the first line of standard input instead (the first coordinator).",
)
@in_unit_of_work
def create_user_command(email: str, name: str, role: str, organisation_id: int | None, password_stdin: bool) -> None:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        user = user_service.create_user(
            db.session, SYSTEM, email=email, name=name, role=role, password=password, organisation_id=organisation_id
        )
    else:
        user, token = user_service.invite_user(
            db.session, SYSTEM, email=email, name=name, role=role, organisation_id=organisation_id
        )
    click.echo(_("Account %(email)s (%(role)s) created with id %(id)s.", email=user.email, role=role, id=user.id))
    if not password_stdin:
        _print_link(user, token)


@users.command("link", help="End an account's password and print a new set-password link for its owner.")
@click.argument("email")
@in_unit_of_work
def link_command(email: str) -> None:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        click.echo(_("No account has the e-mail address %(email)s.", email=email), err=True)
        sys.exit(1)
    token = user_service.reset_password(db.session, user, by=SYSTEM)
    _print_link(user, token)
