"""Keeping openings current: capacity, confirmation, details, new openings, archiving (which
asks first, docs/rules.md §11.10)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from placements import permissions
from placements.catalogue import bp
from placements.catalogue.forms import ArchiveForm, CapacityForm, ConfirmForm, NewOpeningForm, OpeningForm
from placements.errors import Conflict
from placements.extensions import db
from placements.models import Opening, Site
from placements.permissions import COORDINATOR, HOST
from placements.services import sites as site_service
from placements.web.access import authorize, roles_required
from placements.web.confirm import Confirmation, ask, confirmed
from placements.web.forms import render_conflict
from placements.web.unit_of_work import attempt


def live_opening_or_404(opening_id: int) -> Opening:
    opening = db.session.get(Opening, opening_id)
    if opening is None or opening.archived_at is not None or opening.site.archived_at is not None:
        abort(404)
    return opening


def live_site_or_404(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None or site.archived_at is not None:
        abort(404)
    return site


def after_edit(site: Site) -> str:
    """A host goes back to their own sites, the coordinator to the site's page."""
    if permissions.has_role(current_user, HOST):
        return url_for("catalogue.my_sites")
    return url_for("catalogue.site_page", site_id=site.id)


def _may_edit(opening: Opening) -> None:
    authorize(permissions.can_edit_opening(current_user, opening), object_type="opening", object_id=opening.id)


@bp.route("/openings/<id:opening_id>/capacity", methods=["GET", "POST"])
@roles_required(HOST, COORDINATOR)
def opening_capacity(opening_id: int):
    opening = live_opening_or_404(opening_id)
    _may_edit(opening)
    form = CapacityForm(obj=opening)
    if request.method == "GET":
        form.version.data = opening.version
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in site_service.CAPACITY_FIELDS}
        try:
            changed = attempt(
                lambda: site_service.update_capacity(
                    db.session, opening, current_user, expected_version=form.expected_version(), **values
                ),
                form=form,
            )
        except Conflict:
            return render_conflict("catalogue/capacity_form.html", form, opening, opening=opening)
        if changed is not None:
            if changed is True:
                message = _(
                    "Places saved: %(free)s free of %(total)s.", free=opening.free_places, total=opening.places_total
                )
            else:
                message = _("No changes; the data was marked as confirmed.")
            flash(message, "success")
            return redirect(after_edit(opening.site))
    return render_template("catalogue/capacity_form.html", form=form, opening=opening, conflict=None)


@bp.post("/openings/<id:opening_id>/confirm")
@roles_required(HOST, COORDINATOR)
def opening_confirm(opening_id: int):
    opening = live_opening_or_404(opening_id)
    _may_edit(opening)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        site_service.confirm(db.session, opening, current_user, expected_version=form.expected_version())
    except Conflict:
        message = _(
            "The opening was changed by someone else in the meantime. Check its current data and confirm again."
        )
        flash(message, "error")
        return redirect(url_for("catalogue.opening_capacity", opening_id=opening.id)), 303
    flash(_("“%(title)s” confirmed as up to date.", title=opening.title), "success")
    return redirect(after_edit(opening.site))


@bp.route("/openings/<id:opening_id>/edit", methods=["GET", "POST"])
@roles_required(HOST, COORDINATOR)
def opening_edit(opening_id: int):
    opening = live_opening_or_404(opening_id)
    _may_edit(opening)
    form = OpeningForm(obj=opening)
    if request.method == "GET":
        form.version.data = opening.version
    context = {"opening": opening, "site": opening.site}
    if form.validate_on_submit():
        try:
            saved = attempt(
                lambda: site_service.update_opening(
                    db.session, opening, current_user, expected_version=form.expected_version(), values=form.values()
                ),
                form=form,
            )
        except Conflict:
            return render_conflict("catalogue/opening_form.html", form, opening, **context)
        if saved:
            flash(_("The opening was saved."), "success")
            return redirect(after_edit(opening.site))
    return render_template("catalogue/opening_form.html", form=form, conflict=None, **context)


@bp.route("/sites/<id:site_id>/openings/new", methods=["GET", "POST"])
@roles_required(HOST, COORDINATOR)
def opening_new(site_id: int):
    site = live_site_or_404(site_id)
    authorize(permissions.can_edit_site(current_user, site), object_type="site", object_id=site.id)
    form = NewOpeningForm()
    if request.method == "GET":
        form.languages.data = ["fi"]
    if form.validate_on_submit():
        places = {"places_total": form.places_total.data, "places_external": form.places_external.data}
        created = attempt(
            lambda: site_service.create_opening(db.session, site, current_user, values=form.values(), **places),
            form=form,
        )
        if created:
            flash(_("The opening was added."), "success")
            return redirect(after_edit(site))
    return render_template("catalogue/opening_form.html", form=form, opening=None, site=site, conflict=None)


@bp.post("/openings/<id:opening_id>/archive")
@roles_required(COORDINATOR)
def opening_archive(opening_id: int):
    opening = live_opening_or_404(opening_id)
    form = ArchiveForm()
    if not form.validate_on_submit():
        abort(400)
    if not confirmed():
        return ask(
            Confirmation(
                title=_("Archive the opening?"),
                facts=[
                    (_("Opening"), opening.title),
                    (_("Site"), opening.site.name),
                    (
                        _("Places"),
                        _("%(free)s free of %(total)s", free=opening.free_places, total=opening.places_total),
                    ),
                ],
                consequences=[
                    _(
                        "The opening is closed: it no longer shows in searches, on the map or in matching, "
                        "and no placement can be proposed to it."
                    ),
                    _("Its history is kept: past placements, capacity changes and the audit trail."),
                    _("Archiving cannot be undone in the registry."),
                ],
                action=url_for("catalogue.opening_archive", opening_id=opening.id),
                button=_("Archive the opening"),
                back=url_for("catalogue.site_page", site_id=opening.site_id),
                fields={"version": str(form.expected_version())},
            )
        )
    try:
        archived = attempt(
            lambda: site_service.archive_opening(
                db.session, opening, current_user, expected_version=form.expected_version()
            )
        )
    except Conflict:
        flash(_("The opening was changed by someone else in the meantime; check it and try again."), "error")
        archived = None
    if archived:
        flash(_("The opening “%(title)s” was archived.", title=opening.title), "success")
    return redirect(url_for("catalogue.site_page", site_id=opening.site_id))
