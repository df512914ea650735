"""Keeping sites current: a host's own sites, editing, capacity, confirmation, archiving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from placements import permissions
from placements.auditing import audit_event
from placements.catalogue.filters import municipality_names
from placements.catalogue.forms import ArchiveForm, CapacityForm, ConfirmForm, NewOpeningForm, OpeningForm, SiteForm
from placements.catalogue.views import bp
from placements.extensions import db
from placements.formtools import choices
from placements.models import Client, Opening, Organisation, Placement, Site
from placements.permissions import COORDINATOR, HOST, authorize, roles_required
from placements.services import sites as site_service
from placements.services.geocoding import Geocoder


def _now() -> datetime:
    return datetime.now(UTC)


def _opening_or_404(opening_id: int) -> Opening:
    opening = db.session.get(Opening, opening_id)
    if opening is None or opening.archived_at is not None or opening.site.archived_at is not None:
        abort(404)
    return opening


def _site_or_404(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None or site.archived_at is not None:
        abort(404)
    return site


def _conflict(template: str, form, current, **context):
    """409: someone saved first. Show their values; keep the user's attempt visible."""
    attempted = {f.label.text: f.data for f in form if f.name not in ("csrf_token", "version", "submit")}
    db.session.rollback()
    db.session.refresh(current)
    fresh = type(form)(formdata=None, obj=current)
    fresh.version.data = current.version
    if "organisation" in fresh:
        fresh.organisation.data = current.organisation_id
    _copy_choices(form, fresh)
    return render_template(template, form=fresh, conflict=attempted, **context), 409


def _copy_choices(source, target) -> None:
    for field in source:
        if hasattr(field, "choices") and field.name in target:
            target[field.name].choices = field.choices


def _show_errors(form, error: site_service.EditError) -> None:
    for name, message in error.problems.items():
        (form[name].errors if name in form else form.form_errors).append(message)


@bp.get("/my/sites")
@roles_required(HOST)
def my_sites():
    """A host's first screen: stale openings first, proposals and placements, then every
    site of the organisation."""
    organisation_id = current_user.organisation_id
    live_openings = select(Opening.id).join(Site).where(Site.organisation_id == organisation_id, Site.archived_at.is_(None))
    waiting = select(Placement.id, Client.code).join(Client, Client.id == Placement.client_id).where(
        Placement.opening_id.in_(live_openings), Placement.status.in_(("proposed", "active"))
    )
    shown = db.session.execute(waiting).all()
    for placement_id, code in shown:  # the host sees these clients' codes: each read is recorded
        audit_event("placement_listed", object_type="placement", object_id=placement_id, client_code=code, purpose="placement")
    if shown:
        db.session.commit()  # before loading the page's data: a commit expires what was loaded
    sites = db.session.scalars(
        select(Site).where(Site.organisation_id == organisation_id, Site.archived_at.is_(None)).options(selectinload(Site.openings)).order_by(Site.name)
    ).all()
    stale_before = _now() - timedelta(days=current_app.config["STALE_AFTER_DAYS"])
    stale = sorted((o for s in sites for o in s.openings if o.archived_at is None and o.last_confirmed_at < stale_before), key=lambda o: o.last_confirmed_at)
    placements = []
    if shown:
        placements = db.session.scalars(
            select(Placement).where(Placement.id.in_([row.id for row in shown]))
            .options(joinedload(Placement.client), joinedload(Placement.opening)).order_by(Placement.status.desc(), Placement.start_date)
        ).all()
    proposals = [p for p in placements if p.status == "proposed"]
    active = [p for p in placements if p.status == "active"]
    return render_template("catalogue/my_sites.html", sites=sites, stale=stale, stale_before=stale_before, confirm_form=ConfirmForm(), proposals=proposals, active=active)


# --- capacity and confirmation ---------------------------------------------------------------


@bp.route("/openings/<int:opening_id>/capacity", methods=["GET", "POST"])
@roles_required(HOST, COORDINATOR)
def opening_capacity(opening_id: int):
    opening = _opening_or_404(opening_id)
    authorize(permissions.can_edit_opening(current_user, opening), object_type="opening", object_id=opening.id)
    form = CapacityForm(obj=opening)
    if request.method == "GET":
        form.version.data = opening.version
    if form.validate_on_submit():
        try:
            changed = site_service.update_capacity(
                db.session, opening, user=current_user, expected_version=form.expected_version(),
                places_total=form.places_total.data, places_external=form.places_external.data,
                status=form.status.data, accepting_from=form.accepting_from.data, now=_now(),
            )
            db.session.commit()
        except (site_service.StaleEdit, StaleDataError):
            return _conflict("catalogue/capacity_form.html", form, opening, opening=opening)
        except site_service.EditError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            flash(_("Places saved: %(free)s free of %(total)s.", free=opening.free_places, total=opening.places_total) if changed else _("No changes; the data was marked as confirmed."), "success")
            return redirect(_after_edit(opening.site))
    return render_template("catalogue/capacity_form.html", form=form, opening=opening, conflict=None)


@bp.post("/openings/<int:opening_id>/confirm")
@roles_required(HOST, COORDINATOR)
def opening_confirm(opening_id: int):
    opening = _opening_or_404(opening_id)
    authorize(permissions.can_edit_opening(current_user, opening), object_type="opening", object_id=opening.id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        site_service.confirm(db.session, opening, user=current_user, expected_version=form.expected_version(), now=_now())
        db.session.commit()
    except (site_service.StaleEdit, StaleDataError):
        db.session.rollback()
        flash(_("The opening was changed by someone else in the meantime. Check its current data and confirm again."), "error")
        return redirect(url_for("catalogue.opening_capacity", opening_id=opening.id)), 303
    flash(_("“%(title)s” confirmed as up to date.", title=opening.title), "success")
    return redirect(_after_edit(opening.site))


def _after_edit(site: Site) -> str:
    if permissions.has_role(current_user, HOST):
        return url_for("catalogue.my_sites")
    return url_for("catalogue.site_page", site_id=site.id)


# --- opening details -------------------------------------------------------------------------


@bp.route("/openings/<int:opening_id>/edit", methods=["GET", "POST"])
@roles_required(HOST, COORDINATOR)
def opening_edit(opening_id: int):
    opening = _opening_or_404(opening_id)
    authorize(permissions.can_edit_opening(current_user, opening), object_type="opening", object_id=opening.id)
    form = OpeningForm(obj=opening)
    if request.method == "GET":
        form.version.data = opening.version
    if form.validate_on_submit():
        try:
            site_service.update_opening(db.session, opening, user=current_user, expected_version=form.expected_version(), values=form.values(), now=_now())
            db.session.commit()
        except (site_service.StaleEdit, StaleDataError):
            return _conflict("catalogue/opening_form.html", form, opening, opening=opening, site=opening.site)
        except site_service.EditError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            flash(_("The opening was saved."), "success")
            return redirect(_after_edit(opening.site))
    return render_template("catalogue/opening_form.html", form=form, opening=opening, site=opening.site, conflict=None)


@bp.route("/sites/<int:site_id>/openings/new", methods=["GET", "POST"])
@roles_required(HOST, COORDINATOR)
def opening_new(site_id: int):
    site = _site_or_404(site_id)
    authorize(permissions.can_edit_site(current_user, site), object_type="site", object_id=site.id)
    form = NewOpeningForm()
    if request.method == "GET":
        form.languages.data = ["fi"]
    if form.validate_on_submit():
        try:
            site_service.create_opening(db.session, site, user=current_user, values=form.values(), places_total=form.places_total.data, places_external=form.places_external.data, now=_now())
            db.session.commit()
        except site_service.EditError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            flash(_("The opening was added."), "success")
            return redirect(_after_edit(site))
    return render_template("catalogue/opening_form.html", form=form, opening=None, site=site, conflict=None)


@bp.post("/openings/<int:opening_id>/archive")
@roles_required(COORDINATOR)
def opening_archive(opening_id: int):
    opening = _opening_or_404(opening_id)
    form = ArchiveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        site_service.archive_opening(db.session, opening, user=current_user, expected_version=form.expected_version(), now=_now())
        db.session.commit()
    except (site_service.StaleEdit, StaleDataError):
        db.session.rollback()
        flash(_("The opening was changed by someone else in the meantime; check it and try again."), "error")
    except site_service.EditError as error:
        db.session.rollback()
        for message in error.problems.values():
            flash(message, "error")
    else:
        flash(_("The opening “%(title)s” was archived.", title=opening.title), "success")
    return redirect(url_for("catalogue.site_page", site_id=opening.site_id))


# --- sites -----------------------------------------------------------------------------------


def _site_form(site: Site | None) -> SiteForm:
    form = SiteForm(obj=site)
    form.municipality_code.choices = choices(municipality_names(db.session))
    if permissions.can_manage_registry(current_user):
        rows = db.session.execute(select(Organisation.id, Organisation.name).where(Organisation.archived_at.is_(None)).order_by(Organisation.name))
        form.organisation.choices = choices((row.id, row.name) for row in rows)
    else:
        organisation = db.session.get(Organisation, current_user.organisation_id)
        form.organisation.choices = choices([(organisation.id, organisation.name)])
    if request.method == "GET":
        if site is not None:
            form.version.data = site.version
            form.organisation.data = site.organisation_id
            if site.geocode_precision != "manual":
                form.latitude.data = form.longitude.data = None  # located from the address
        elif not permissions.can_manage_registry(current_user):
            form.organisation.data = current_user.organisation_id
    return form


def _save_site(site: Site | None, form: SiteForm):
    organisation = db.session.get(Organisation, form.organisation.data)
    if organisation is None or not (permissions.can_manage_registry(current_user) or organisation.id == current_user.organisation_id):
        form.organisation.errors.append(_("Choose an organisation."))
        return None
    geocoder = Geocoder.from_config(db.session, current_app.config, max_lookups=2)
    saved = site_service.save_site(db.session, site, user=current_user, values=form.values(), organisation=organisation, geocoder=geocoder, expected_version=form.expected_version() if site else None, now=_now())
    db.session.commit()
    return saved


@bp.route("/sites/new", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def site_new():
    form = _site_form(None)
    if form.validate_on_submit():
        try:
            site = _save_site(None, form)
        except site_service.EditError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            if site is not None:
                flash(_("The site was created. Add its openings next."), "success")
                return redirect(url_for("catalogue.opening_new", site_id=site.id))
    return render_template("catalogue/site_form.html", form=form, site=None, conflict=None)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@roles_required(HOST, COORDINATOR)
def site_edit(site_id: int):
    site = _site_or_404(site_id)
    authorize(permissions.can_edit_site(current_user, site), object_type="site", object_id=site.id)
    form = _site_form(site)
    if form.validate_on_submit():
        try:
            saved = _save_site(site, form)
        except (site_service.StaleEdit, StaleDataError):
            return _conflict("catalogue/site_form.html", form, site, site=site)
        except site_service.EditError as error:
            db.session.rollback()
            _show_errors(form, error)
        else:
            if saved is not None:
                flash(_("The site was saved."), "success")
                return redirect(_after_edit(site))
    return render_template("catalogue/site_form.html", form=form, site=site, conflict=None)


@bp.post("/sites/<int:site_id>/archive")
@roles_required(COORDINATOR)
def site_archive(site_id: int):
    site = _site_or_404(site_id)
    form = ArchiveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        site_service.archive_site(db.session, site, user=current_user, expected_version=form.expected_version(), now=_now())
        db.session.commit()
    except (site_service.StaleEdit, StaleDataError):
        db.session.rollback()
        flash(_("The site was changed by someone else in the meantime; check it and try again."), "error")
        return redirect(url_for("catalogue.site_page", site_id=site.id))
    except site_service.EditError as error:
        db.session.rollback()
        for message in error.problems.values():
            flash(message, "error")
        return redirect(url_for("catalogue.site_page", site_id=site.id))
    flash(_("The site “%(name)s” was archived. Its history is kept.", name=site.name), "success")
    return redirect(url_for("catalogue.site_list"))
