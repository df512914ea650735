"""Clients, their needs and their matches. Client codes travel only in paths, never in
query strings; every read and change is audited with the client's code."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from placements import clock, permissions
from placements.catalogue.maps import build_map
from placements.clients import bp
from placements.clients.forms import ClientForm, NeedsForm, ProposeForm
from placements.extensions import db
from placements.models import Client, Opening, Placement
from placements.permissions import SOCIAL_WORKER
from placements.services import clients as client_service
from placements.services import matching, reference
from placements.services import placements as placement_service
from placements.web.access import roles_required
from placements.web.auditing import audit_event
from placements.web.converters import id_value
from placements.web.forms import choices
from placements.web.unit_of_work import attempt


def client_or_404(code: str) -> Client:
    """The client, if the current worker may read it; otherwise 404, logged."""
    return client_service.readable_client(db.session, current_user, code)


def _client_form(client: Client | None) -> ClientForm:
    form = ClientForm(obj=client)
    form.municipality_code.choices = choices(reference.municipality_names(db.session))
    workers = client_service.colleagues(db.session, current_user)
    form.shared_with.choices = choices((w.id, f"{w.name} ({w.email})") for w in workers)
    if request.method == "GET" and client is not None:
        form.shared_with.data = [u.id for u in client.shared_with]
    return form


def _client_values(form: ClientForm) -> dict:
    return {
        "municipality_code": form.municipality_code.data,
        "home_postal_code": form.home_postal_code.data,
        "age_band": form.age_band.data,
        "gender": form.gender.data,
        "share_with": form.shared_with.data,
    }


def _audit_read(action: str, client: Client, purpose: str = "client work") -> None:
    audit_event(action, object_type="client", object_id=client.id, client_code=client.code, purpose=purpose)


@bp.get("")
@roles_required(SOCIAL_WORKER)
def client_list():
    clients = db.session.scalars(client_service.visible_clients_query(current_user)).all()
    audit_event("client_list_viewed", object_type="client", purpose="client work")
    ids = [c.id for c in clients]
    current = {}
    if ids:
        open_placements = select(Placement).where(
            Placement.client_id.in_(ids), Placement.status.in_(("proposed", "active"))
        )
        for placement in db.session.scalars(open_placements.order_by(Placement.id)):
            current.setdefault(placement.client_id, []).append(placement)
    return render_template("clients/list.html", clients=clients, current=current)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(SOCIAL_WORKER)
def client_new():
    form = _client_form(None)
    if form.validate_on_submit():
        client = attempt(
            lambda: client_service.create_client(db.session, current_user, **_client_values(form)), form=form
        )
        if client:
            flash(_("Client %(code)s was created. Record the client's needs next.", code=client.code), "success")
            return redirect(url_for("clients.needs", code=client.code))
    return render_template("clients/form.html", form=form, client=None)


@bp.get("/<code>")
@roles_required(SOCIAL_WORKER)
def client_page(code: str):
    client = client_or_404(code)
    _audit_read("client_viewed", client)
    needs = client_service.current_needs(db.session, client, current_user)
    history = client_service.client_placements(db.session, client, current_user)
    is_owner = permissions.can_share_client(current_user, client)
    return render_template("clients/detail.html", client=client, needs=needs, placements=history, is_owner=is_owner)


@bp.route("/<code>/edit", methods=["GET", "POST"])
@roles_required(SOCIAL_WORKER)
def client_edit(code: str):
    client = client_or_404(code)
    form = _client_form(client)
    if form.validate_on_submit():
        values = _client_values(form)
        if attempt(lambda: client_service.update_client(db.session, client, current_user, **values), form=form):
            flash(_("The client's details were saved."), "success")
            return redirect(url_for("clients.client_page", code=client.code))
    is_owner = permissions.can_share_client(current_user, client)
    return render_template("clients/form.html", form=form, client=client, is_owner=is_owner)


@bp.post("/<code>/close")
@roles_required(SOCIAL_WORKER)
def client_close(code: str):
    client = client_or_404(code)
    if attempt(lambda: client_service.close_client(db.session, client, current_user)):
        flash(_("The client was closed. The history stays for the survey."), "success")
    return redirect(url_for("clients.client_page", code=client.code))


@bp.post("/<code>/reopen")
@roles_required(SOCIAL_WORKER)
def client_reopen(code: str):
    client = client_or_404(code)
    if attempt(lambda: client_service.reopen_client(db.session, client, current_user)):
        flash(_("The client is active again."), "success")
    return redirect(url_for("clients.client_page", code=client.code))


@bp.route("/<code>/needs", methods=["GET", "POST"])
@roles_required(SOCIAL_WORKER)
def needs(code: str):
    client = client_or_404(code)
    if request.method == "GET":
        _audit_read("needs_viewed", client, purpose="recording needs")
    is_owner = permissions.can_edit_needs_note(current_user, client)
    current = client_service.current_needs(db.session, client, current_user)
    form = NeedsForm(obj=current)
    if request.method == "GET":
        if current is None:
            form.languages.data, form.days_per_week.data, form.hours_per_day.data, form.max_travel_km.data = (
                ["fi"],
                3,
                4,
                30,
            )
        if not is_owner:
            form.note.data = None
    if form.validate_on_submit():
        if attempt(lambda: client_service.save_needs(db.session, client, current_user, form.values()), form=form):
            flash(_("The needs were saved. Here are the openings that fit."), "success")
            return redirect(url_for("clients.matches", code=client.code))
    history = client_service.needs_history(db.session, client, current_user)
    return render_template("clients/needs.html", client=client, form=form, history=history, is_owner=is_owner)


@bp.get("/<code>/matches")
@roles_required(SOCIAL_WORKER)
def matches(code: str):
    client = client_or_404(code)
    current = client_service.current_needs(db.session, client, current_user)
    if current is None:
        flash(_("Record the client's needs first."), "info")
        return redirect(url_for("clients.needs", code=client.code))
    include_full = request.args.get("full") == "1"
    _audit_read("matches_viewed", client, purpose="matching")
    home = client_service.home_location(db.session, client, current_user)
    point = (home.latitude, home.longitude)
    view = matching.NeedsView.of(current)
    stale_after_days = current_app.config["STALE_AFTER_DAYS"]
    results = matching.run(
        db.session, view, point, now=clock.now(), stale_after_days=stale_after_days, include_full=include_full
    )
    why = None
    why_id = request.args.get("why", type=id_value)
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
    tiles = current_app.config["MAP_TILES_URL"], current_app.config["MAP_TILES_ATTRIBUTION"]
    the_map = build_map(*tiles, center=point, zoom=9)
    return render_template(
        "clients/matches.html",
        client=client,
        needs=current,
        results=shown,
        total=len(results),
        include_full=include_full,
        home=home,
        why=why,
        region=region,
        map=the_map,
        markers=markers,
    )


def _proposal_defaults(form: ProposeForm, opening: Opening, needs) -> None:
    today = clock.today()
    start = max(
        today, opening.accepting_from or today, (needs.earliest_start if needs and needs.earliest_start else today)
    )
    form.start_date.data = start
    days = needs.days_per_week if needs else opening.days_per_week_min
    hours = needs.hours_per_day if needs else opening.hours_per_day_min
    form.days_per_week.data = max(min(days, opening.days_per_week_max), opening.days_per_week_min)
    form.hours_per_day.data = max(min(hours, opening.hours_per_day_max), opening.hours_per_day_min)
    if opening.type == "rehabilitative_work":
        form.planned_end.data = placement_service.add_months(start, 6)


@bp.route("/<code>/propose/<id:opening_id>", methods=["GET", "POST"])
@roles_required(SOCIAL_WORKER)
def propose(code: str, opening_id: int):
    client = client_or_404(code)
    opening = db.session.get(Opening, opening_id)
    if opening is None or opening.archived_at is not None:
        flash(_("The opening is no longer in the registry."), "error")
        return redirect(url_for("clients.matches", code=client.code))
    form = ProposeForm()
    if request.method == "GET":
        _proposal_defaults(form, opening, client_service.current_needs(db.session, client, current_user))
    if form.validate_on_submit():
        placement = attempt(
            lambda: placement_service.propose(
                db.session,
                client,
                opening,
                current_user,
                days_per_week=form.days_per_week.data,
                hours_per_day=float(form.hours_per_day.data),
                start_date=form.start_date.data,
                planned_end=form.planned_end.data,
                note_for_host=form.note_for_host.data,
                today=clock.today(),
            ),
            form=form,
        )
        if placement:
            flash(_("The placement was proposed. The site host will accept or decline it."), "success")
            return redirect(url_for("steps.placement_page", placement_id=placement.id))
    return render_template("clients/propose.html", client=client, opening=opening, form=form)
