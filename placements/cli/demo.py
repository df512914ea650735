"""flask demo: the sample data and one account per role, for trying the registry out."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from placements.cli import command_work
from placements.cli.sites import print_import_result
from placements.config import PROJECT_ROOT
from placements.extensions import db
from placements.models import Organisation, Site, User
from placements.permissions import SYSTEM
from placements.services import importer
from placements.services.passwords import readable_password
from placements.services.users import create_user

SEED_FILE = PROJECT_ROOT / "data" / "seed_sites.csv"

DEMO_ACCOUNTS = (
    ("koordinaattori@example.fi", "Kaisa Koordinaattori", "coordinator"),
    ("sosiaaliohjaaja@example.fi", "Sami Sosiaaliohjaaja", "social_worker"),
    ("yhdyshenkilo@example.fi", "Hanna Yhdyshenkilö", "host"),
)


def _database_has_data() -> bool:
    return any(db.session.scalar(select(func.count()).select_from(model)) for model in (User, Organisation, Site))


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (mode 600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)


class SeedFailed(Exception):
    """The sample data did not import: nothing is kept."""


@click.command(help="Load the sample data and create one demo account per role.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database already has data.")
@click.option(
    "--allow-production",
    is_flag=True,
    help="Load the sample data although PLACEMENTS_ENV is not development (e.g. a training installation).",
)
def demo(if_empty: bool, allow_production: bool) -> None:
    if not current_app.config.get("DEVELOPMENT") and not allow_production:
        # Invented sites and accounts with printed passwords do not belong in a real registry.
        click.echo(
            _(
                "This is a production installation (PLACEMENTS_ENV is not development): the sample data "
                "was not loaded. Add --allow-production to load it anyway, e.g. for a training installation."
            ),
            err=True,
        )
        sys.exit(1)
    if _database_has_data():
        click.echo(_("The database already has data; the sample data was not loaded."), err=True)
        sys.exit(0 if if_empty else 1)
    lines = []
    try:
        with command_work() as session:
            result = importer.import_sites(session, SEED_FILE.read_bytes(), SYSTEM)
            if result.problems:
                raise SeedFailed
            biggest = select(Organisation).join(Site).group_by(Organisation.id)
            host_organisation = session.scalar(biggest.order_by(func.count(Site.id).desc(), Organisation.id).limit(1))
            for email, name, role in DEMO_ACCOUNTS:
                # Read from a file or aloud, so no look-alike characters; changed at the first login.
                password = readable_password()
                organisation_id = host_organisation.id if role == "host" else None
                create_user(
                    session,
                    SYSTEM,
                    email=email,
                    name=name,
                    role=role,
                    password=password,
                    organisation_id=organisation_id,
                    must_change_password=True,
                )
                lines.append(f"{role}\t{email}\t{password}")
    except SeedFailed:
        print_import_result(result)
        sys.exit(1)
    print_import_result(result)
    accounts_file = Path(current_app.instance_path) / "demo-accounts.txt"
    text = (
        _("Demo accounts (role, e-mail, password; each must be changed at the first login)")
        + "\n"
        + "\n".join(lines)
        + "\n"
    )
    _write_private(accounts_file, text)
    click.echo(text + _("The accounts were saved in %(file)s (readable by its owner only).", file=accounts_file))
