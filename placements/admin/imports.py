"""Importing a site CSV from the browser: upload and check, then confirm."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, select

from placements import clock
from placements.admin import bp
from placements.admin.forms import ImportConfirmForm, ImportForm
from placements.extensions import db
from placements.models import ImportUpload
from placements.permissions import COORDINATOR
from placements.services import importer
from placements.services.geocoding import Geocoder
from placements.web.access import roles_required
from placements.web.unit_of_work import discard

UPLOAD_LIFETIME = timedelta(hours=24)
# Addresses looked up online during one web import; the rest use fallbacks at once and
# can be looked up later with `flask sites geocode`.
ONLINE_LOOKUPS_PER_IMPORT = 10


@bp.route("/import", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def import_upload():
    """Upload and check a site CSV; nothing is saved until the preview is confirmed."""
    form = ImportForm()
    if form.validate_on_submit():
        content = form.file.data.read()
        filename = (form.file.data.filename or "sites.csv")[:255]
        result = importer.import_sites(db.session, content, current_user, dry_run=True)
        confirm = None
        if result.ok:
            db.session.execute(delete(ImportUpload).where(ImportUpload.created_at < clock.now() - UPLOAD_LIFETIME))
            token = secrets.token_urlsafe(24)
            db.session.add(
                ImportUpload(
                    token=token, user_id=current_user.id, filename=filename, size=len(content), content=content
                )
            )
            confirm = ImportConfirmForm(token=token)
        return render_template("admin/import_preview.html", result=result, filename=filename, confirm=confirm)
    return render_template("admin/import.html", form=form, max_mb=current_app.config["MAX_UPLOAD_MB"])


@bp.post("/import/confirm")
@roles_required(COORDINATOR)
def import_confirm():
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    mine = select(ImportUpload).where(ImportUpload.token == form.token.data, ImportUpload.user_id == current_user.id)
    upload = db.session.scalar(mine)
    if upload is None or upload.created_at < clock.now() - UPLOAD_LIFETIME:
        flash(_("The checked file is no longer available. Upload it again."), "error")
        return redirect(url_for("admin.import_upload"))
    geocoder = Geocoder.from_config(db.session, current_app.config, max_lookups=ONLINE_LOOKUPS_PER_IMPORT)
    result = importer.import_sites(db.session, upload.content, current_user, geocoder=geocoder)
    if not result.ok:  # the data changed since the preview
        discard()
        return render_template("admin/import_preview.html", result=result, filename=upload.filename, confirm=None)
    db.session.delete(upload)
    flash(
        _(
            "Imported %(rows)s rows: %(created)s new and %(updated)s changed sites, "
            "%(o_created)s new and %(o_updated)s changed openings.",
            rows=result.rows,
            created=result.sites_created,
            updated=result.sites_updated,
            o_created=result.openings_created,
            o_updated=result.openings_updated,
        ),
        "success",
    )
    if geocoder.skipped:
        message = _(
            "%(count)s addresses were placed at their postal code area or municipality centre for now; "
            "`flask sites geocode` looks them up.",
            count=geocoder.skipped,
        )
        flash(message, "info")
    return redirect(url_for("admin.import_upload"))
