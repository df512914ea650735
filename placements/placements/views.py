"""A placement's page and its steps: accept, decline, cancel, end."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from placements import clock, permissions
from placements.auditing import audit_event
from placements.clients.forms import DeclineForm, EndForm
from placements.extensions import db
from placements.models import Placement
from placements.permissions import HOST, SOCIAL_WORKER, authorize, roles_required
from placements.services import placements as placement_service
from placements.webtools import committed

bp = Blueprint("placements", __name__, url_prefix="/placements")


def placement_or_404(placement_id: int, check) -> Placement:
    placement = db.session.get(Placement, placement_id)
    if placement is None:
        abort(404)
    authorize(check(current_user, placement), status=404, object_type="placement", object_id=placement.id, client_code=placement.client.code)
    return placement


@bp.get("/<int:placement_id>")
@roles_required(HOST, SOCIAL_WORKER)
def placement_page(placement_id: int):
    placement = placement_or_404(placement_id, permissions.can_view_placement)
    audit_event("placement_viewed", object_type="placement", object_id=placement.id, client_code=placement.client.code, purpose="placement")
    db.session.commit()  # before the page loads anything: a commit expires what was loaded
    return render_template(
        "placements/detail.html", placement=placement, decline_form=DeclineForm(), end_form=EndForm(),
        is_host=permissions.can_decide_placement(current_user, placement), is_worker=permissions.can_read_client(current_user, placement.client), today=clock.today(),
    )  # fmt: skip


def _back(placement: Placement, success: str | None, ok):
    """Back to the placement's page, with ``success`` shown when the step went through."""
    if ok:
        flash(success, "success")
    return redirect(url_for("placements.placement_page", placement_id=placement.id))


@bp.post("/<int:placement_id>/accept")
@roles_required(HOST)
def accept(placement_id: int):
    placement = placement_or_404(placement_id, permissions.can_decide_placement)
    ok = committed(lambda: placement_service.accept(db.session, placement, current_user, now=clock.now()))
    return _back(placement, ok and ngettext("The placement started. The opening now has %(num)s free place.", "The placement started. The opening now has %(num)s free places.", placement.opening.free_places), ok)


@bp.post("/<int:placement_id>/decline")
@roles_required(HOST)
def decline(placement_id: int):
    placement = placement_or_404(placement_id, permissions.can_decide_placement)
    form = DeclineForm()
    if not form.validate_on_submit():
        abort(400)
    ok = committed(lambda: placement_service.decline(db.session, placement, current_user, reason=form.reason.data or "", now=clock.now()))
    return _back(placement, _("The proposal was declined; the social worker sees your reason."), ok)


@bp.post("/<int:placement_id>/cancel")
@roles_required(HOST, SOCIAL_WORKER)
def cancel(placement_id: int):
    """The worker withdraws a proposal; either side cancels a placement before its start."""
    placement = placement_or_404(placement_id, permissions.can_end_placement)
    if placement.status == "proposed" and not permissions.can_read_client(current_user, placement.client):
        flash(_("Decline the proposal instead, with a reason for the social worker."), "error")
        return redirect(url_for("placements.placement_page", placement_id=placement.id))
    ok = committed(lambda: placement_service.cancel(db.session, placement, current_user, now=clock.now(), today=clock.today()))
    return _back(placement, _("The proposal was cancelled."), ok)


@bp.post("/<int:placement_id>/end")
@roles_required(HOST, SOCIAL_WORKER)
def end(placement_id: int):
    placement = placement_or_404(placement_id, permissions.can_end_placement)
    form = EndForm()
    if not form.validate_on_submit():
        flash(_("Give the end date and the reason."), "error")
        return redirect(url_for("placements.placement_page", placement_id=placement.id))
    ok = committed(lambda: placement_service.end(
        db.session, placement, current_user, ended_on=form.ended_on.data, end_reason=form.end_reason.data, today=clock.today(), now=clock.now()
    ))  # fmt: skip
    return _back(placement, _("The placement ended and its place is free again."), ok)
