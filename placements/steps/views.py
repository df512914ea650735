"""A placement's page and its steps. The services check who may take each step."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from placements import clock, permissions
from placements.extensions import db
from placements.models import Placement
from placements.permissions import HOST, SOCIAL_WORKER
from placements.services import placements as placement_service
from placements.steps import bp
from placements.steps.forms import DeclineForm, EndForm
from placements.web.access import authorize, roles_required
from placements.web.auditing import audit_event
from placements.web.unit_of_work import attempt


def placement_or_404(placement_id: int, check) -> Placement:
    placement = db.session.get(Placement, placement_id)
    if placement is None:
        abort(404)
    client_code = placement.client.code
    authorize(
        check(current_user, placement),
        status=404,
        object_type="placement",
        object_id=placement.id,
        client_code=client_code,
    )
    return placement


@bp.get("/<id:placement_id>")
@roles_required(HOST, SOCIAL_WORKER)
def placement_page(placement_id: int):
    placement = placement_or_404(placement_id, permissions.can_view_placement)
    client_code = placement.client.code
    audit_event(
        "placement_viewed",
        object_type="placement",
        object_id=placement.id,
        client_code=client_code,
        purpose="placement",
    )
    return render_template(
        "steps/detail.html",
        placement=placement,
        decline_form=DeclineForm(),
        end_form=EndForm(),
        is_host=permissions.can_decide_placement(current_user, placement),
        is_worker=permissions.can_read_client(current_user, placement.client),
        today=clock.today(),
    )


def _back(placement: Placement, success: str | None, ok):
    """Back to the placement's page, with ``success`` shown when the step went through."""
    if ok:
        flash(success, "success")
    return redirect(url_for("steps.placement_page", placement_id=placement.id))


@bp.post("/<id:placement_id>/accept")
@roles_required(HOST)
def accept(placement_id: int):
    placement = placement_or_404(placement_id, permissions.can_decide_placement)
    ok = attempt(lambda: placement_service.accept(db.session, placement, current_user, now=clock.now()))
    message = ok and ngettext(
        "The placement started. The opening now has %(num)s free place.",
        "The placement started. The opening now has %(num)s free places.",
        placement.opening.free_places,
    )
    return _back(placement, message, ok)


@bp.post("/<id:placement_id>/decline")
@roles_required(HOST)
def decline(placement_id: int):
    placement = placement_or_404(placement_id, permissions.can_decide_placement)
    form = DeclineForm()
    if not form.validate_on_submit():
        abort(400)
    reason = form.reason.data or ""
    ok = attempt(lambda: placement_service.decline(db.session, placement, current_user, reason=reason, now=clock.now()))
    return _back(placement, _("The proposal was declined; the social worker sees your reason."), ok)


@bp.post("/<id:placement_id>/cancel")
@roles_required(HOST, SOCIAL_WORKER)
def cancel(placement_id: int):
    """The worker withdraws a proposal; either side cancels a placement before its start."""
    placement = placement_or_404(placement_id, permissions.can_end_placement)
    ok = attempt(
        lambda: placement_service.cancel(db.session, placement, current_user, now=clock.now(), today=clock.today())
    )
    return _back(placement, _("The proposal was cancelled."), ok)


@bp.post("/<id:placement_id>/end")
@roles_required(HOST, SOCIAL_WORKER)
def end(placement_id: int):
    placement = placement_or_404(placement_id, permissions.can_end_placement)
    form = EndForm()
    if not form.validate_on_submit():
        flash(_("Give the end date and the reason."), "error")
        return redirect(url_for("steps.placement_page", placement_id=placement.id))
    ok = attempt(
        lambda: placement_service.end(
            db.session,
            placement,
            current_user,
            ended_on=form.ended_on.data,
            end_reason=form.end_reason.data,
            today=clock.today(),
            now=clock.now(),
        )
    )
    return _back(placement, _("The placement ended and its place is free again."), ok)
