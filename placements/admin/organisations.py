"""Organisations that run sites."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from placements.admin import bp
from placements.admin.forms import OrganisationForm
from placements.extensions import db
from placements.models import Organisation, Site
from placements.permissions import COORDINATOR
from placements.services import sites as site_service
from placements.web.access import roles_required
from placements.web.unit_of_work import attempt


def _saved(form: OrganisationForm, organisation: Organisation | None) -> bool:
    """Validate and save the form; on a problem, show it on its field and save nothing."""
    if not form.validate_on_submit():
        return False
    saved = attempt(
        lambda: site_service.save_organisation(db.session, organisation, current_user, values=form.data), form=form
    )
    return bool(saved)


@bp.route("/organisations", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def organisations():
    form = OrganisationForm()
    if _saved(form, None):
        flash(_("The organisation “%(name)s” was added.", name=form.name.data), "success")
        return redirect(url_for("admin.organisations"))
    live_sites = (Site.organisation_id == Organisation.id) & Site.archived_at.is_(None)
    query = select(Organisation, func.count(Site.id)).outerjoin(Site, live_sites).group_by(Organisation.id)
    rows = db.session.execute(query.order_by(Organisation.name)).all()
    total = len(rows)
    search = " ".join(request.args.get("q", "").split())[:200]
    if search:
        rows = [row for row in rows if _matches(row[0], search.casefold())]
    return render_template("admin/organisations.html", form=form, rows=rows, total=total, search=search)


def _matches(organisation: Organisation, words: str) -> bool:
    """Every word in the name, business ID or contact (case-folded in Python, so å, ä and ö
    match on every database; there are at most a few hundred organisations)."""
    parts = (organisation.name, organisation.business_id, organisation.contact_name, organisation.contact_email)
    text = " ".join(part for part in parts if part).casefold()
    return all(word in text for word in words.split())


@bp.route("/organisations/<id:organisation_id>/edit", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def organisation_edit(organisation_id: int):
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    form = OrganisationForm(obj=organisation)
    if _saved(form, organisation):
        flash(_("The organisation was saved."), "success")
        return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation_form.html", form=form, organisation=organisation)
