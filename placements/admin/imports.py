"""Importing a site CSV from the browser: upload, see the check, confirm (docs/rules.md §10.8).

Both the check and the import run as jobs in the worker process; the views only store the
file, queue the job and send the browser to the job's page (``/jobs/<id>``), which shows
the progress and then the result.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from placements import codes
from placements.admin import bp
from placements.admin.forms import ImportConfirmForm, ImportForm
from placements.extensions import db
from placements.permissions import COORDINATOR
from placements.services import reference, site_csv
from placements.services.importer import jobs as import_jobs
from placements.web.access import roles_required
from placements.web.downloads import csv_response

# The columns page (/admin/import/columns): each row names its columns, whether a value is
# required (or the value an empty cell means), what goes in, and the codes it takes.
# The same table as the README's; tests/test_admin.py checks that it covers every column.
COLUMN_GUIDE = (
    (
        ("site_ref",),
        True,
        _l(
            "Your stable identifier of the site: 1–64 letters, digits, “.”, “-” or “_”, starting with a"
            " letter or digit. A site_ref already in the registry updates that site."
        ),
        None,
    ),
    (
        ("organisation",),
        True,
        _l(
            "Name of the organisation that runs the site, at most 200 characters. An organisation is "
            "found by its exact name, or created."
        ),
        None,
    ),
    (
        ("organisation_kind",),
        True,
        _l("Kind of the organisation, one of:"),
        "ORGANISATION_KINDS",
    ),
    (
        ("site_name",),
        True,
        _l("Name of the site, at most 200 characters."),
        None,
    ),
    (
        ("street_address",),
        True,
        _l("Street address, at most 200 characters."),
        None,
    ),
    (
        ("postal_code",),
        True,
        _l("A Kainuu street-address postal code (5 digits) of the site's municipality."),
        None,
    ),
    (
        ("municipality_code",),
        True,
        _l("Official municipality code, one of:"),
        "municipalities",
    ),
    (
        ("latitude", "longitude"),
        False,
        _l(
            "WGS84 decimal degrees inside Finland; both or neither. Empty: the site is placed at its "
            "postal code area's centre when known, else at the municipality's centre."
        ),
        None,
    ),
    (
        ("accessibility",),
        False,
        _l("Accessibility, any of:"),
        "ACCESSIBILITY",
    ),
    (
        ("contact_name", "contact_phone", "contact_email"),
        False,
        _l("The site's contact person: name (at most 200 characters), phone (40) and e-mail address (254)."),
        None,
    ),
    (
        ("opening_type",),
        True,
        _l("Opening type, one of:"),
        "OPENING_TYPES",
    ),
    (
        ("opening_title",),
        True,
        _l(
            "Name of the opening, at most 200 characters, unique within its site and type. It is always"
            " shown after the type, so do not repeat the type: a title that starts with its own type "
            "and “:”, “–” or “-” is imported without it."
        ),
        None,
    ),
    (
        ("task_areas",),
        True,
        _l("One or more task areas:"),
        "TASK_AREAS",
    ),
    (
        ("days_per_week_min", "days_per_week_max"),
        True,
        _l("Whole numbers 1–7, the minimum at most the maximum; rehabilitative work activity 1–4."),
        None,
    ),
    (
        ("hours_per_day_min", "hours_per_day_max"),
        True,
        _l("Hours 0.5–24, the minimum at most the maximum; rehabilitative work activity 4–8."),
        None,
    ),
    (
        ("places_total",),
        True,
        _l("Number of places, 0–10,000."),
        None,
    ),
    (
        ("places_external",),
        "0",
        _l("Places held by participants who are not in the registry; at most places_total."),
        None,
    ),
    (
        ("supports",),
        False,
        _l("Support available, any of:"),
        "SUPPORTS",
    ),
    (
        ("physical_demand",),
        True,
        _l("Physical demand, one of:"),
        "PHYSICAL_DEMANDS",
    ),
    (
        ("social_intensity",),
        True,
        _l("Social interaction, one of:"),
        "SOCIAL_INTENSITIES",
    ),
    (
        ("languages",),
        True,
        _l("Working languages as two-letter ISO 639-1 codes, for example fi or fi|en."),
        None,
    ),
    (
        ("status",),
        "open",
        _l("One of:"),
        "OPENING_STATUSES",
    ),
    (
        ("description",),
        False,
        _l("Free text about the site, at most 4,000 characters; may have line breaks."),
        None,
    ),
    (
        ("last_confirmed",),
        False,
        _l(
            "An optional last column: the day the data was last confirmed (27.11.2026 or 2026-11-27). "
            "Empty or absent: a new or changed opening counts as confirmed at the import."
        ),
        None,
    ),
)


def _locale() -> str:
    return str(get_locale() or current_app.config.get("BABEL_DEFAULT_LOCALE", "fi"))


@bp.route("/import", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def import_upload():
    """Upload a site CSV and queue its check; nothing is saved until the preview is confirmed."""
    form = ImportForm()
    if form.validate_on_submit():
        job = import_jobs.start_check(
            db.session,
            current_user,
            filename=form.file.data.filename or "sites.csv",
            content=form.file.data.read(),
            locale=_locale(),
        )
        return redirect(url_for("jobs.job_page", job_id=job.id), 303)
    return render_template("admin/import.html", form=form, max_mb=current_app.config["MAX_UPLOAD_MB"])


@bp.get("/import/template.csv")
@roles_required(COORDINATOR)
def import_template():
    """A file to start from: the header and two example rows, valid for the importer."""
    excel_fi = request.args.get("dialect") == "excel-fi"
    lines = site_csv.iter_lines(site_csv.TEMPLATE_ROWS, excel_fi=excel_fi)
    return csv_response(lines, "toimipaikat-malli.csv" if excel_fi else "sites-template.csv")


@bp.get("/import/columns")
@roles_required(COORDINATOR)
def import_columns():
    """What each column of the site CSV holds (docs/rules.md §10.2)."""
    names = reference.municipality_names(db.session)
    rows = []
    for columns, required, text, group in COLUMN_GUIDE:
        if group == "municipalities":
            values = list(names.items())
        elif group:
            values = [(code, str(name)) for code, name in getattr(codes, group).items()]
        else:
            values = []
        rows.append((columns, required, text, values))
    return render_template("admin/import_columns.html", rows=rows, separator=site_csv.MULTI_SEPARATOR)


@bp.post("/import/confirm")
@roles_required(COORDINATOR)
def import_confirm():
    """Queue the import of a checked file (once, however often it is confirmed)."""
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    job = import_jobs.start_apply(db.session, current_user, token=form.token.data, locale=_locale())
    if job is None:
        flash(_("The checked file is no longer available. Upload it again."), "error")
        return redirect(url_for("admin.import_upload"))
    return redirect(url_for("jobs.job_page", job_id=job.id), 303)
