"""A placement's page and its steps. The services check who may take each step; cancelling,
declining and ending ask first (docs/rules.md §11.10)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from placements import clock, codes, formats, permissions
from placements.extensions import db
from placements.models import Placement
from placements.permissions import HOST, SOCIAL_WORKER
from placements.services import placements as placement_service
from placements.steps import bp
from placements.steps.forms import DeclineForm, EndForm
from placements.web.access import authorize, roles_required
from placements.web.auditing import audit_event
from placements.web.confirm import Confirmation, ask, confirmed
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


@bp.app_template_global()
def placement_state(placement: Placement) -> str:
    """The placement's state in words ("sovittu, alkaa 7.12.2026"), for every page that lists
    placements (docs/rules.md §5.1)."""
    return placement_service.state_text(placement)


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
        state=placement.state_on(clock.today()),
        today=clock.today(),
        decline_form=DeclineForm(),
        end_form=EndForm(),
        is_host=permissions.can_decide_placement(current_user, placement),
        is_worker=permissions.can_read_client(current_user, placement.client),
    )


def _page(placement: Placement):
    return redirect(url_for("steps.placement_page", placement_id=placement.id))


def _ask(placement: Placement, confirmation: Confirmation) -> str:
    """The step's confirmation page. It shows the client code: a read, audited (docs/rules.md §6.10)."""
    audit_event(
        "placement_viewed",
        object_type="placement",
        object_id=placement.id,
        client_code=placement.client.code,
        purpose="placement",
    )
    return ask(confirmation)


def _back(placement: Placement, success: str | None, ok):
    """Back to the placement's page, with ``success`` shown when the step went through."""
    if ok:
        flash(success, "success")
    return _page(placement)


def _facts(placement: Placement) -> list[tuple[str, str]]:
    """What a confirmation step is about: the client code, the opening, the dates."""
    opening = placement.opening
    dates = formats.day(placement.start_date)
    if placement.planned_end:
        dates += " – " + _("%(date)s (planned)", date=formats.day(placement.planned_end))
    return [
        (_("Client"), placement.client.code),
        (_("Opening"), _("%(opening)s, %(site)s", opening=opening.title, site=opening.site.name)),
        (_("Status"), placement_service.state_text(placement)),
        (_("Dates"), dates),
    ]


def _free_after_release(placement: Placement) -> str:
    free = placement.opening.free_places + 1
    return ngettext(
        "Its place is freed at once: the opening will have %(num)s free place.",
        "Its place is freed at once: the opening will have %(num)s free places.",
        free,
    )


def _who_is_told() -> str:
    if permissions.has_role(current_user, SOCIAL_WORKER):
        return _("The site's hosts are told.")
    return _("The client's social worker is told.")


@bp.post("/<id:placement_id>/accept")
@roles_required(HOST)
def accept(placement_id: int):
    placement = placement_or_404(placement_id, permissions.can_decide_placement)
    ok = attempt(lambda: placement_service.accept(db.session, placement, current_user, now=clock.now()))
    if not ok:
        return _page(placement)
    free = placement.opening.free_places
    if placement.state_on(clock.today()) == "agreed":
        message = ngettext(
            "The placement was agreed to start on %(date)s. The opening now has %(num)s free place.",
            "The placement was agreed to start on %(date)s. The opening now has %(num)s free places.",
            free,
            date=formats.day(placement.start_date),
        )
    else:
        message = ngettext(
            "The placement started. The opening now has %(num)s free place.",
            "The placement started. The opening now has %(num)s free places.",
            free,
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
    if not confirmed():
        if not attempt(lambda: placement_service.check_decline(placement, current_user, reason=reason)):
            return _page(placement)
        return _ask(
            placement,
            Confirmation(
                title=_("Decline the proposal?"),
                facts=_facts(placement),
                consequences=[
                    _("The proposal is declined and takes no place in the opening."),
                    _("The client's social worker is told and sees your reason: “%(reason)s”", reason=reason.strip()),
                    _("A declined proposal cannot be taken back; the social worker can propose again."),
                ],
                action=url_for("steps.decline", placement_id=placement.id),
                button=_("Decline the proposal"),
                back=url_for("steps.placement_page", placement_id=placement.id),
                fields={"reason": reason},
            ),
        )
    ok = attempt(lambda: placement_service.decline(db.session, placement, current_user, reason=reason, now=clock.now()))
    return _back(placement, _("The proposal was declined; the social worker sees your reason."), ok)


@bp.post("/<id:placement_id>/cancel")
@roles_required(HOST, SOCIAL_WORKER)
def cancel(placement_id: int):
    """The worker withdraws a proposal; either side cancels an agreed placement before its start."""
    placement = placement_or_404(placement_id, permissions.can_end_placement)
    today = clock.today()
    if not attempt(lambda: placement_service.check_cancel(placement, current_user, today=today)):
        return _page(placement)
    agreed = placement.state_on(today) == "agreed"
    if not confirmed():
        if agreed:
            confirmation = Confirmation(
                title=_("Cancel the placement before it starts?"),
                facts=_facts(placement),
                consequences=[
                    _("The agreed start on %(date)s is called off.", date=formats.day(placement.start_date)),
                    _free_after_release(placement),
                    _who_is_told(),
                    _("A cancelled placement cannot be taken back; a new period needs a new proposal."),
                ],
                action=url_for("steps.cancel", placement_id=placement.id),
                button=_("Cancel the placement"),
                back=url_for("steps.placement_page", placement_id=placement.id),
            )
        else:
            confirmation = Confirmation(
                title=_("Cancel the proposal?"),
                facts=_facts(placement),
                consequences=[
                    _("The proposal is withdrawn: it no longer waits for the host's decision."),
                    _who_is_told(),
                    _("A cancelled proposal cannot be taken back; you can propose again."),
                ],
                action=url_for("steps.cancel", placement_id=placement.id),
                button=_("Cancel the proposal"),
                back=url_for("steps.placement_page", placement_id=placement.id),
            )
        return _ask(placement, confirmation)
    ok = attempt(
        lambda: placement_service.cancel(db.session, placement, current_user, now=clock.now(), today=clock.today())
    )
    if agreed:
        message = _("The placement was cancelled before it started; its place is free again.")
    else:
        message = _("The proposal was cancelled.")
    return _back(placement, message, ok)


@bp.post("/<id:placement_id>/end")
@roles_required(HOST, SOCIAL_WORKER)
def end(placement_id: int):
    placement = placement_or_404(placement_id, permissions.can_end_placement)
    form = EndForm()
    if not form.validate_on_submit():
        flash(_("Give the end date and the reason."), "error")
        return _page(placement)
    ended_on, end_reason = form.ended_on.data, form.end_reason.data
    if not confirmed():
        today = clock.today()
        if not attempt(lambda: placement_service.check_end(placement, current_user, ended_on=ended_on, today=today)):
            return _page(placement)
        return _ask(
            placement,
            Confirmation(
                title=_("End the placement?"),
                facts=_facts(placement),
                consequences=[
                    _(
                        "End date %(date)s, reason: %(reason)s.",
                        date=formats.day(ended_on),
                        reason=codes.END_REASONS.get(end_reason, end_reason),
                    ),
                    _free_after_release(placement),
                    _("An ended placement cannot be reopened; a new period needs a new proposal."),
                ],
                action=url_for("steps.end", placement_id=placement.id),
                button=_("End the placement"),
                back=url_for("steps.placement_page", placement_id=placement.id),
                fields={"ended_on": ended_on.isoformat(), "end_reason": end_reason},
            ),
        )
    ok = attempt(
        lambda: placement_service.end(
            db.session,
            placement,
            current_user,
            ended_on=ended_on,
            end_reason=end_reason,
            today=clock.today(),
            now=clock.now(),
        )
    )
    return _back(placement, _("The placement ended and its place is free again."), ok)
