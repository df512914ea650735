"""Clients, their needs and their matches. Client codes travel only in paths, never in
query strings; every read and change is audited with the client's code."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from placements import clock, permissions
from placements.catalogue.maps import build_map
from placements.clients import bp
from placements.clients.forms import ClientForm, ClientSearchForm, NeedsForm, ProposeForm, choose_first
from placements.extensions import db
from placements.models import Client, Opening
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
    form.municipality_code.choices = choose_first(reference.municipality_names(db.session))
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


LIST_STATE_LABELS = {
    "active": _l("Active, no placement"),
    "waiting": _l("Waiting for an answer"),
    "placed": _l("Placed"),
    "closed": _l("Closed"),
}
LIST_SORT_LABELS = {
    "changed": _l("Last change, newest first"),
    "created": _l("Created, newest first"),
    "code": _l("Client code"),
}
CONFIRMED = "yes"


def _list_filters() -> tuple[str | None, str, list[str]]:
    """The list's status and order from the address; an unknown value is explained and ignored."""
    problems = []
    state = request.args.get("status", "") or None
    if state is not None and state not in client_service.LIST_STATES:
        problems.append(_("Unknown status filter: showing clients of every status."))
        state = None
    sort = request.args.get("sort", "") or "changed"
    if sort not in client_service.LIST_SORTS:
        problems.append(_("Unknown order: sorted by last change."))
        sort = "changed"
    return state, sort, problems


@bp.route("", methods=["GET", "POST"])
@roles_required(SOCIAL_WORKER)
def client_list():
    """The worker's clients: status and order in the address (GET), the code search posted
    so that no client code reaches an address or a log (docs/rules.md §6.9, §6.11)."""
    state, sort, problems = _list_filters()
    search = ClientSearchForm()
    code = ""
    if request.method == "POST":
        if search.validate_on_submit():
            code = (search.code.data or "").strip()
        else:
            problems.extend(error for errors in search.errors.values() for error in errors)
    rows = client_service.client_rows(db.session, current_user, code=code, state=state, sort=sort)
    audit_event("client_list_viewed", object_type="client", purpose="client work")
    if code and len(rows) == 1:
        return redirect(url_for("clients.client_page", code=rows[0].client.code), code=303)
    page = render_template(
        "clients/list.html",
        rows=rows,
        search=search,
        code=code,
        state=state,
        sort=sort,
        problems=problems,
        states=LIST_STATE_LABELS,
        sorts=LIST_SORT_LABELS,
    )
    return page, 400 if problems else 200


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
    notices = client_service.placement_notices(history, clock.today())
    return render_template(
        "clients/detail.html", client=client, needs=needs, placements=history, notices=notices, is_owner=is_owner
    )


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
    """Closing asks first: without the confirmation step's ``confirm=yes`` the answer is that
    step and nothing changes (docs/rules.md §6.7, §11.10)."""
    client = client_or_404(code)
    if client.status == "closed":
        return redirect(url_for("clients.client_page", code=client.code), code=303)
    if request.form.get("confirm") != CONFIRMED:
        open_placements = [
            p
            for p in client_service.client_placements(db.session, client, current_user)
            if p.status not in client_service.FINISHED_PLACEMENT_STATUSES
        ]
        return render_template("clients/confirm_close.html", client=client, open_placements=open_placements)
    if attempt(lambda: client_service.close_client(db.session, client, current_user)):
        flash(_("The client was closed. The history stays for the survey."), "success")
    return redirect(url_for("clients.client_page", code=client.code), code=303)


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
    now = clock.now()
    results = matching.run(
        db.session, view, point, now=now, stale_after_days=stale_after_days, include_full=include_full
    )
    why = None
    narrowing = request.args.get("narrow") == "1"
    why_id = request.args.get("why", type=id_value)
    if why_id and not narrowing:
        opening = db.session.get(Opening, why_id)
        if opening is not None:
            why = matching.explain(view, opening, home=point, include_full=include_full)
    words = request.args.get("find", "")[:100]
    region = matching.why_not_choices(
        matching.region_openings(db.session, point), reference.municipality_names(db.session), words
    )
    shown = results[: matching.REASONED]
    markers = [[home.latitude, home.longitude, 0, "h", _("Client's approximate home")]]
    markers += [list(marker) for marker in matching.site_markers(shown, now=now, stale_after_days=stale_after_days)]
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
        why_id=why_id,
        words=words,
        region=region,
        taken=client_service.open_placement_openings(db.session, client, current_user),
        municipalities=reference.municipality_names(db.session),
        today=clock.today(),
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
    if request.method == "GET" and opening.id in client_service.open_placement_openings(
        db.session, client, current_user
    ):
        # Already proposed or placed here: no second proposal is offered; the service refuses
        # one that is posted anyway (docs/rules.md §5.2).
        return render_template("clients/propose.html", client=client, opening=opening, form=None, already=True)
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
