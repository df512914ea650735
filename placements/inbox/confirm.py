"""The one-click "still accurate" link from the weekly reminder (docs/rules.md §15.5).

No login: the link carries a signed token bound to one opening and one host. A GET only
shows the opening and a button; the POST confirms, audited as that host.
"""

from __future__ import annotations

from flask import abort, render_template

from placements import permissions
from placements.errors import Conflict
from placements.extensions import db
from placements.inbox import bp
from placements.inbox.forms import ConfirmOpeningForm
from placements.models import Opening, User
from placements.services import sites as site_service
from placements.services import tokens


def _claim(token: str):
    """(opening, host, problem): problem is expired | invalid | used | None."""
    claim = tokens.read_confirm_token(token)
    if claim.problem:
        return None, None, claim.problem
    opening = db.session.get(Opening, claim.opening_id)
    host = db.session.get(User, claim.host_id)
    live = opening is not None and opening.archived_at is None and opening.site.archived_at is None
    if not live or host is None or not host.active or not permissions.can_edit_opening(host, opening):
        return None, None, "invalid"
    if opening.last_confirmed_at.isoformat() != claim.confirmed_at:
        return opening, host, "used"
    return opening, host, None


STATUS = {"expired": 410, "invalid": 404, "used": 409}


@bp.get("/confirm/<signed>")
def confirm_link(signed: str):
    if len(signed) > 500:
        abort(404)
    opening, host, problem = _claim(signed)
    form = ConfirmOpeningForm()
    page = render_template("inbox/confirm.html", opening=opening, problem=problem, form=form, done=False)
    return page, STATUS.get(problem, 200)


@bp.post("/confirm/<signed>")
def confirm_post(signed: str):
    if len(signed) > 500:
        abort(404)
    form = ConfirmOpeningForm()
    if not form.validate_on_submit():
        abort(400)
    opening, host, problem = _claim(signed)
    if problem is None:
        try:
            site_service.confirm(db.session, opening, host, expected_version=opening.version)
        except Conflict:
            problem = "used"
    page = render_template("inbox/confirm.html", opening=opening, problem=problem, form=form, done=problem is None)
    return page, STATUS.get(problem, 200)
