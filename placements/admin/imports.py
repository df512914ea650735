"""Importing a site CSV from the browser: upload, see the check, confirm (docs/rules.md §10.8).

Both the check and the import run as jobs in the worker process; the views only store the
file, queue the job and send the browser to the job's page (``/jobs/<id>``), which shows
the progress and then the result.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from placements.admin import bp
from placements.admin.forms import ImportConfirmForm, ImportForm
from placements.extensions import db
from placements.permissions import COORDINATOR
from placements.services.importer import jobs as import_jobs
from placements.web.access import roles_required


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
