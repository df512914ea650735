"""Creating, editing and archiving sites (archiving asks first, docs/rules.md §11.10)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from placements import permissions
from placements.catalogue import bp
from placements.catalogue.forms import ArchiveForm, SiteForm
from placements.catalogue.openings import after_edit, live_site_or_404
from placements.errors import Conflict
from placements.extensions import db
from placements.models import Site
from placements.permissions import COORDINATOR, HOST
from placements.services import reference
from placements.services import sites as site_service
from placements.services.geocoding import Geocoder
from placements.web.access import authorize, roles_required
from placements.web.confirm import Confirmation, ask, confirmed
from placements.web.forms import choices, render_conflict
from placements.web.unit_of_work import attempt

# Addresses looked up online while a person waits for a site form to save.
ONLINE_LOOKUPS_PER_SAVE = 2


def _site_form(site: Site | None) -> SiteForm:
    form = SiteForm(obj=site)
    form.municipality_code.choices = choices(reference.municipality_names(db.session))
    form.organisation.choices = choices(site_service.organisation_choices(db.session, current_user))
    if request.method == "GET":
        if site is not None:
            form.version.data = site.version
            form.organisation.data = site.organisation_id
            if site.geocode_precision != "manual":
                form.latitude.data = form.longitude.data = None  # located from the address
        elif not permissions.can_manage_registry(current_user):
            form.organisation.data = current_user.organisation_id
    return form


def _save(site: Site | None, form: SiteForm):
    geocoder = Geocoder.from_config(db.session, current_app.config, max_lookups=ONLINE_LOOKUPS_PER_SAVE)
    return attempt(
        lambda: site_service.save_site(
            db.session,
            site,
            current_user,
            values=form.values(),
            organisation_id=form.organisation.data,
            geocoder=geocoder,
            expected_version=form.expected_version() if site is not None else None,
        ),
        form=form,
    )


@bp.route("/sites/new", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def site_new():
    form = _site_form(None)
    if form.validate_on_submit():
        site = _save(None, form)
        if site:
            flash(_("The site was created. Add its openings next."), "success")
            return redirect(url_for("catalogue.opening_new", site_id=site.id))
    return render_template("catalogue/site_form.html", form=form, site=None, conflict=None)


@bp.route("/sites/<id:site_id>/edit", methods=["GET", "POST"])
@roles_required(HOST, COORDINATOR)
def site_edit(site_id: int):
    site = live_site_or_404(site_id)
    authorize(permissions.can_edit_site(current_user, site), object_type="site", object_id=site.id)
    form = _site_form(site)
    if form.validate_on_submit():
        try:
            saved = _save(site, form)
        except Conflict:
            return render_conflict("catalogue/site_form.html", form, site, site=site)
        if saved:
            flash(_("The site was saved."), "success")
            return redirect(after_edit(site))
    return render_template("catalogue/site_form.html", form=form, site=site, conflict=None)


@bp.post("/sites/<id:site_id>/archive")
@roles_required(COORDINATOR)
def site_archive(site_id: int):
    site = live_site_or_404(site_id)
    form = ArchiveForm()
    if not form.validate_on_submit():
        abort(400)
    if not confirmed():
        live = [o for o in site.openings if o.archived_at is None]
        return ask(
            Confirmation(
                title=_("Archive the site?"),
                facts=[(_("Site"), site.name), (_("Organisation"), site.organisation.name)],
                consequences=[
                    ngettext(
                        "The site and its %(num)s opening no longer show in searches, on the map or in matching.",
                        "The site and its %(num)s openings no longer show in searches, on the map or in matching.",
                        len(live),
                    ),
                    _("Its hosts no longer see it among their own sites."),
                    _("Its history is kept: past placements, capacity changes and the audit trail."),
                    _("Archiving cannot be undone in the registry."),
                ],
                action=url_for("catalogue.site_archive", site_id=site.id),
                button=_("Archive the site"),
                back=url_for("catalogue.site_page", site_id=site.id),
                fields={"version": str(form.expected_version())},
            )
        )
    try:
        archived = attempt(
            lambda: site_service.archive_site(db.session, site, current_user, expected_version=form.expected_version())
        )
    except Conflict:
        flash(_("The site was changed by someone else in the meantime; check it and try again."), "error")
        archived = None
    if not archived:
        return redirect(url_for("catalogue.site_page", site_id=site.id))
    flash(_("The site “%(name)s” was archived. Its history is kept.", name=site.name), "success")
    return redirect(url_for("catalogue.site_list"))
