"""The plan form, joining and leaving queues, and the helpers the client page, the matches
page and Omat toimipaikat use to show the path and the queues (docs/rules.md §18).
Client codes travel only in paths; every read and change is audited by the services."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from placements import clock, permissions
from placements.extensions import db
from placements.models import Client, Opening
from placements.paths import bp
from placements.paths.forms import PlanForm
from placements.permissions import SOCIAL_WORKER
from placements.services import clients as client_service
from placements.services import paths, queue
from placements.web.access import roles_required
from placements.web.auditing import audit_event
from placements.web.unit_of_work import attempt


def _client(code: str) -> Client:
    return client_service.readable_client(db.session, current_user, code)


@bp.route("/clients/<code>/plan", methods=["GET", "POST"])
@roles_required(SOCIAL_WORKER)
def plan(code: str):
    client = _client(code)
    current = paths.current_plan(db.session, client, current_user)
    form = PlanForm(obj=current)
    form.responsible_worker_id.choices = [(w.id, w.name) for w in paths.workers(client) if w.active]
    if request.method == "GET" and current is None:
        form.responsible_worker_id.data = client.owner_id
    if form.validate_on_submit():
        values = form.values()
        saved = attempt(
            lambda: paths.save_plan(db.session, client, current_user, today=clock.today(), **values), form=form
        )
        if saved:
            flash(_("The plan was saved."), "success")
            return redirect(url_for("clients.client_page", code=client.code))
    history = paths.plan_history(db.session, client, current_user)
    audit_event(
        "plan_viewed", object_type="client", object_id=client.id, client_code=client.code, purpose="service path"
    )
    due = paths.plan_review_due(db.session, client, current_user)
    return render_template("paths/plan.html", client=client, form=form, history=history, due=due)


@bp.post("/clients/<code>/queue/<id:opening_id>")
@roles_required(SOCIAL_WORKER)
def join_queue(code: str, opening_id: int):
    client = _client(code)
    opening = db.session.get(Opening, opening_id)
    permissions.require(opening is not None, status=404, object_type="opening", object_id=opening_id)
    entry = attempt(lambda: queue.join(db.session, client, opening, current_user, now=clock.now(), today=clock.today()))
    if entry:
        flash(
            _(
                "Client %(code)s is number %(num)s in the queue of %(opening)s.",
                code=client.code,
                num=entry.seen_position,
                opening=opening.title,
            ),
            "success",
        )
    return redirect(url_for("clients.client_page", code=client.code))


@bp.route("/clients/<code>/queue/entries/<id:entry_id>/remove", methods=["GET", "POST"])
@roles_required(SOCIAL_WORKER)
def remove_from_queue(code: str, entry_id: int):
    """Asks first (docs/rules.md §11.10): the place in the queue is lost."""
    client = _client(code)
    entry = queue.entry_for(db.session, client, entry_id, current_user)
    if request.method == "POST":
        if attempt(lambda: queue.remove(db.session, entry, current_user, now=clock.now())):
            flash(_("The client was taken out of the queue."), "success")
        return redirect(url_for("clients.client_page", code=client.code))
    return render_template("paths/remove_from_queue.html", client=client, entry=entry)


@bp.post("/clients/<code>/queue/entries/<id:entry_id>/confirm")
@roles_required(SOCIAL_WORKER)
def confirm_queue(code: str, entry_id: int):
    client = _client(code)
    entry = queue.entry_for(db.session, client, entry_id, current_user)
    queue.confirm(db.session, entry, current_user, now=clock.now())
    flash(_("The queue place was confirmed for another %(days)s days.", days=queue.CONFIRM_AFTER_DAYS), "success")
    return redirect(url_for("clients.client_page", code=client.code))


# --- what the included templates call ---------------------------------------------------------------


def client_path(client: Client) -> dict:
    """The path section of the client page: plan, review due, queues and the timeline."""
    today, now = clock.today(), clock.now()
    plan = paths.current_plan(db.session, client, current_user)
    return {
        "plan": plan,
        "due": paths.plan_review_due(db.session, client, current_user, plan=plan),
        "queue": queue.client_queue(db.session, client, current_user, today=today, now=now),
        "steps": paths.timeline(db.session, client, current_user),
        "responsible": paths.responsible_worker(db.session, client, plan=plan),
        "today": today,
    }


def queue_choice(client: Client, opening) -> str | None:
    """On the matches page: "queued" when the client waits there, "can" when the opening
    cannot take the client now (so a queue makes sense), else None."""
    if not permissions.can_read_client(current_user, client) or client.status != "active":
        return None
    cache = g.setdefault("queued_openings", {})
    if client.id not in cache:
        cache[client.id] = queue.queued_opening_ids(db.session, client, current_user)
    if opening.id in cache[client.id]:
        return "queued"
    if "accepting_later" not in g:
        g.accepting_later = queue.accepting_later(db.session, clock.today())
    return "can" if queue.queueable(opening, g.accepting_later) else None


def host_queues() -> list:
    if not permissions.can_see_host_placements(current_user):
        return []
    return queue.host_queues(db.session, current_user, today=clock.today())


@bp.app_context_processor
def path_helpers() -> dict:
    return {"client_path": client_path, "queue_choice": queue_choice, "host_queues": host_queues}
