"""Clients, their needs and their matches. Client codes travel only in paths, never in
query strings; every read and change is audited with the client's code."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from placements import clock, permissions
from placements.auditing import audit_event
from placements.catalogue.filters import municipality_names
from placements.catalogue.maps import build_map
from placements.clients.forms import ClientForm, NeedsForm, ProposeForm
from placements.extensions import db
from placements.formtools import choices
from placements.models import Client, Needs, Opening, Placement, User
from placements.permissions import SOCIAL_WORKER, authorize, roles_required
from placements.services import clients as client_service
from placements.services import matching
from placements.services import placements as placement_service
from placements.webtools import committed

bp = Blueprint("clients", __name__, url_prefix="/clients")


def client_or_404(code: str) -> Client:
    """The client, if the current worker may read it; otherwise 404, logged."""
    client = client_service.find_by_code(db.session, code)
    allowed = client is not None and permissions.can_read_client(current_user, client)
    authorize(allowed, status=404, object_type="client", object_id=client.id if client else None, client_code=client.code if client else None)
    return client


def _colleague_choices(client: Client | None):
    workers = db.session.scalars(select(User).where(User.role == "social_worker", User.active.is_(True), User.id != current_user.id).order_by(User.name)).all()
    return choices((w.id, f"{w.name} ({w.email})") for w in workers)


def _client_form(client: Client | None) -> ClientForm:
    form = ClientForm(obj=client)
    form.municipality_code.choices = choices(municipality_names(db.session))
    form.shared_with.choices = _colleague_choices(client)
    if request.method == "GET" and client is not None:
        form.shared_with.data = [u.id for u in client.shared_with]
    return form


def _client_values(form: ClientForm) -> dict:
    return {
        "municipality_code": form.municipality_code.data, "home_postal_code": form.home_postal_code.data,
        "age_band": form.age_band.data, "gender": form.gender.data, "share_with": form.shared_with.data,
    }  # fmt: skip


@bp.get("")
@roles_required(SOCIAL_WORKER)
def client_list():
    audit_event("client_list_viewed", object_type="client", purpose="client work")
    db.session.commit()
    clients = db.session.scalars(client_service.visible_clients_query(current_user)).all()
    ids = [c.id for c in clients]
    current = {}
    if ids:
        rows = db.session.scalars(
            select(Placement).where(Placement.client_id.in_(ids), Placement.status.in_(("proposed", "active"))).order_by(Placement.id)
        ).all()
        for placement in rows:
            current.setdefault(placement.client_id, []).append(placement)
    return render_template("clients/list.html", clients=clients, current=current)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(SOCIAL_WORKER)
def client_new():
    form = _client_form(None)
    if form.validate_on_submit():
        client = committed(lambda: client_service.create_client(db.session, current_user, **_client_values(form)), form=form)
        if client:
            flash(_("Client %(code)s was created. Record the client's needs next.", code=client.code), "success")
            return redirect(url_for("clients.needs", code=client.code))
    return render_template("clients/form.html", form=form, client=None)


@bp.get("/<code>")
@roles_required(SOCIAL_WORKER)
def client_page(code: str):
    client = client_or_404(code)
    audit_event("client_viewed", object_type="client", object_id=client.id, client_code=client.code, purpose="client work")
    db.session.commit()
    needs = client_service.current_needs(db.session, client)
    history = db.session.scalars(select(Placement).where(Placement.client_id == client.id).order_by(Placement.id.desc())).all()
    return render_template("clients/detail.html", client=client, needs=needs, placements=history, is_owner=client.owner_id == current_user.id)


@bp.route("/<code>/edit", methods=["GET", "POST"])
@roles_required(SOCIAL_WORKER)
def client_edit(code: str):
    client = client_or_404(code)
    form = _client_form(client)
    if form.validate_on_submit():
        if committed(lambda: client_service.update_client(db.session, client, current_user, **_client_values(form)), form=form):
            flash(_("The client's details were saved."), "success")
            return redirect(url_for("clients.client_page", code=client.code))
    return render_template("clients/form.html", form=form, client=client, is_owner=client.owner_id == current_user.id)


@bp.post("/<code>/close")
@roles_required(SOCIAL_WORKER)
def client_close(code: str):
    client = client_or_404(code)
    if committed(lambda: client_service.close_client(db.session, client, current_user, clock.now())):
        flash(_("The client was closed. The history stays for the survey."), "success")
    return redirect(url_for("clients.client_page", code=client.code))


@bp.post("/<code>/reopen")
@roles_required(SOCIAL_WORKER)
def client_reopen(code: str):
    client = client_or_404(code)
    if committed(lambda: client_service.reopen_client(db.session, client, current_user)):
        flash(_("The client is active again."), "success")
    return redirect(url_for("clients.client_page", code=client.code))


@bp.route("/<code>/needs", methods=["GET", "POST"])
@roles_required(SOCIAL_WORKER)
def needs(code: str):
    client = client_or_404(code)
    if request.method == "GET":
        audit_event("needs_viewed", object_type="client", object_id=client.id, client_code=client.code, purpose="recording needs")
        db.session.commit()
    is_owner = client.owner_id == current_user.id
    current = client_service.current_needs(db.session, client)
    form = NeedsForm(obj=current)
    if request.method == "GET":
        if current is None:
            form.languages.data, form.days_per_week.data, form.hours_per_day.data, form.max_travel_km.data = ["fi"], 3, 4, 30
        if not is_owner:
            form.note.data = None
    if form.validate_on_submit():
        if committed(lambda: client_service.save_needs(db.session, client, current_user, form.values()), form=form):
            flash(_("The needs were saved. Here are the openings that fit."), "success")
            return redirect(url_for("clients.matches", code=client.code))
    history = db.session.execute(
        select(Needs.id, Needs.created_at, User.name).outerjoin(User, User.id == Needs.created_by_id).where(Needs.client_id == client.id).order_by(Needs.id.desc())
    ).all()
    return render_template("clients/needs.html", client=client, form=form, history=history, is_owner=is_owner)


@bp.get("/<code>/matches")
@roles_required(SOCIAL_WORKER)
def matches(code: str):
    client = client_or_404(code)
    current = client_service.current_needs(db.session, client)
    if current is None:
        flash(_("Record the client's needs first."), "info")
        return redirect(url_for("clients.needs", code=client.code))
    include_full = request.args.get("full") == "1"
    # Recorded first: committing later would expire everything loaded for the page.
    audit_event("matches_viewed", object_type="client", object_id=client.id, client_code=client.code, purpose="matching")
    db.session.commit()
    home = client_service.home_location(db.session, client)
    point = (home.latitude, home.longitude)
    view = matching.NeedsView.of(current)
    results = matching.run(db.session, view, point, now=clock.now(), stale_after_days=current_app.config["STALE_AFTER_DAYS"], include_full=include_full)
    why = None
    why_id = request.args.get("why", type=int)
    if why_id:
        opening = db.session.get(Opening, why_id)
        if opening is not None:
            why = matching.explain(view, opening, home=point, include_full=include_full)
    region = matching.region_openings(db.session, point)
    markers = [[home.latitude, home.longitude, 0, "h", _("Client's approximate home")]]
    shown = results[: matching.REASONED]
    seen = set()
    for evaluation in shown:
        site = evaluation.opening.site
        if site.id not in seen:
            seen.add(site.id)
            markers.append([site.latitude, site.longitude, site.id, "x" if evaluation.waiting_list else "f", site.name])
    the_map = build_map(current_app.config["MAP_TILES_URL"], current_app.config["MAP_TILES_ATTRIBUTION"], center=point, zoom=9)
    return render_template(
        "clients/matches.html", client=client, needs=current, results=shown, total=len(results), include_full=include_full, home=home,
        why=why, region=region, map=the_map, markers=markers,
    )  # fmt: skip


@bp.route("/<code>/propose/<int:opening_id>", methods=["GET", "POST"])
@roles_required(SOCIAL_WORKER)
def propose(code: str, opening_id: int):
    client = client_or_404(code)
    opening = db.session.get(Opening, opening_id)
    if opening is None or opening.archived_at is not None:
        flash(_("The opening is no longer in the registry."), "error")
        return redirect(url_for("clients.matches", code=client.code))
    current = client_service.current_needs(db.session, client)
    form = ProposeForm()
    if request.method == "GET":
        start = max(clock.today(), opening.accepting_from or clock.today(), (current.earliest_start if current and current.earliest_start else clock.today()))
        form.start_date.data = start
        form.days_per_week.data = max(min(current.days_per_week if current else opening.days_per_week_min, opening.days_per_week_max), opening.days_per_week_min)
        form.hours_per_day.data = max(min(current.hours_per_day if current else opening.hours_per_day_min, opening.hours_per_day_max), opening.hours_per_day_min)
        if opening.type == "rehabilitative_work":
            form.planned_end.data = placement_service.add_months(start, 6)
    if form.validate_on_submit():
        placement = committed(lambda: placement_service.propose(
            db.session, client, opening, current_user, days_per_week=form.days_per_week.data, hours_per_day=float(form.hours_per_day.data),
            start_date=form.start_date.data, planned_end=form.planned_end.data, note_for_host=form.note_for_host.data, today=clock.today(),
        ), form=form)  # fmt: skip
        if placement:
            flash(_("The placement was proposed. The site host will accept or decline it."), "success")
            return redirect(url_for("placements.placement_page", placement_id=placement.id))
    return render_template("clients/propose.html", client=client, opening=opening, form=form)
