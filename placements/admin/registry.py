"""Coordinator pages for the registry itself: organisations, CSV import, stale data."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from placements.admin.forms import ImportConfirmForm, ImportForm, OrganisationForm
from placements.admin.views import bp
from placements.extensions import db
from placements.models import ImportUpload, Opening, Organisation, Site, User
from placements.permissions import COORDINATOR, roles_required
from placements.services import importer
from placements.services import sites as site_service
from placements.services.geocoding import Geocoder

UPLOAD_LIFETIME = timedelta(hours=24)
# The stale overview lists the oldest this many; `flask sites stale-report` gives them all.
STALE_PAGE_SIZE = 300
# Addresses looked up online during one web import; the rest use fallbacks at once and
# can be looked up later with `flask sites geocode`.
ONLINE_LOOKUPS_PER_IMPORT = 10


def _saved_organisation(form: OrganisationForm, organisation: Organisation | None) -> bool:
    """Validate and save the form; on a problem, show it on its field and save nothing."""
    if not form.validate_on_submit():
        return False
    try:
        site_service.save_organisation(db.session, organisation, user=current_user, values=form.data)
        db.session.commit()
    except site_service.EditError as error:
        db.session.rollback()
        for name, message in error.problems.items():
            form[name].errors.append(message)
        return False
    return True


@bp.route("/organisations", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def organisations():
    form = OrganisationForm()
    if _saved_organisation(form, None):
        flash(_("The organisation “%(name)s” was added.", name=form.name.data), "success")
        return redirect(url_for("admin.organisations"))
    rows = db.session.execute(
        select(Organisation, func.count(Site.id)).outerjoin(Site, (Site.organisation_id == Organisation.id) & Site.archived_at.is_(None)).group_by(Organisation.id).order_by(Organisation.name)
    ).all()
    return render_template("admin/organisations.html", form=form, rows=rows)


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def organisation_edit(organisation_id: int):
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    form = OrganisationForm(obj=organisation)
    if _saved_organisation(form, organisation):
        flash(_("The organisation was saved."), "success")
        return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation_form.html", form=form, organisation=organisation)


@bp.route("/import", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def import_upload():
    """Upload and check a site CSV; nothing is saved until the preview is confirmed."""
    form = ImportForm()
    if form.validate_on_submit():
        content = form.file.data.read()
        filename = (form.file.data.filename or "sites.csv")[:255]
        result = importer.import_sites(db.session, content, user=current_user, dry_run=True)
        confirm = None
        if result.ok:
            _forget_old_uploads()
            upload = ImportUpload(token=secrets.token_urlsafe(24), user_id=current_user.id, filename=filename, size=len(content), content=content)
            db.session.add(upload)
            db.session.commit()
            confirm = ImportConfirmForm(token=upload.token)
        return render_template("admin/import_preview.html", result=result, filename=filename, confirm=confirm)
    return render_template("admin/import.html", form=form, max_mb=current_app.config["MAX_UPLOAD_MB"])


@bp.post("/import/confirm")
@roles_required(COORDINATOR)
def import_confirm():
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    upload = db.session.scalar(select(ImportUpload).where(ImportUpload.token == form.token.data, ImportUpload.user_id == current_user.id))
    if upload is None or upload.created_at < datetime.now(UTC) - UPLOAD_LIFETIME:
        flash(_("The checked file is no longer available. Upload it again."), "error")
        return redirect(url_for("admin.import_upload"))
    geocoder = Geocoder.from_config(db.session, current_app.config, max_lookups=ONLINE_LOOKUPS_PER_IMPORT)
    result = importer.import_sites(db.session, upload.content, user=current_user, geocoder=geocoder)
    if not result.ok:  # the data changed since the preview
        db.session.rollback()
        return render_template("admin/import_preview.html", result=result, filename=upload.filename, confirm=None)
    db.session.delete(upload)
    db.session.commit()
    flash(_("Imported %(rows)s rows: %(created)s new and %(updated)s changed sites, %(o_created)s new and %(o_updated)s changed openings.",
            rows=result.rows, created=result.sites_created, updated=result.sites_updated, o_created=result.openings_created, o_updated=result.openings_updated), "success")
    if geocoder.skipped:
        flash(_("%(count)s addresses were placed at their postal code area or municipality centre for now; `flask sites geocode` looks them up.", count=geocoder.skipped), "info")
    return redirect(url_for("admin.import_upload"))


def _forget_old_uploads() -> None:
    db.session.execute(delete(ImportUpload).where(ImportUpload.created_at < datetime.now(UTC) - UPLOAD_LIFETIME))


@bp.get("/stale")
@roles_required(COORDINATOR)
def stale_overview():
    """Openings not confirmed within STALE_AFTER_DAYS, oldest first, with whom to remind."""
    days = current_app.config["STALE_AFTER_DAYS"]
    before = datetime.now(UTC) - timedelta(days=days)
    stale = select(Opening).join(Opening.site).where(Opening.archived_at.is_(None), Site.archived_at.is_(None), Opening.last_confirmed_at < before)
    total = db.session.scalar(select(func.count()).select_from(stale.subquery()))
    openings = db.session.scalars(
        stale.options(joinedload(Opening.site).joinedload(Site.organisation)).order_by(Opening.last_confirmed_at).limit(STALE_PAGE_SIZE)
    ).all()
    organisation_ids = {o.site.organisation_id for o in openings}
    hosts = {}
    if organisation_ids:
        for host in db.session.scalars(select(User).where(User.role == "host", User.active.is_(True), User.organisation_id.in_(organisation_ids)).order_by(User.name)):
            hosts.setdefault(host.organisation_id, []).append(host)
    return render_template("admin/stale.html", openings=openings, hosts=hosts, days=days, total=total, shown=len(openings))
