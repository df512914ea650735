"""The audit trail: search on the page, everything as CSV."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from placements import clock
from placements.admin import bp
from placements.admin.forms import AuditFilterForm
from placements.extensions import db
from placements.models import AuditEvent
from placements.permissions import COORDINATOR
from placements.services import audit
from placements.services.csv_export import csv_stream
from placements.web.access import roles_required
from placements.web.auditing import audit_event
from placements.web.downloads import csv_response
from placements.web.forms import choices
from placements.web.templating import label

AUDIT_PAGE_SIZE = 50
FILTERS = ("user_email", "client_code", "action", "since", "until")


def _audit_form() -> AuditFilterForm:
    form = AuditFilterForm()
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    form.action.choices = choices([("", _("All events"))] + [(a, label("AUDIT_ACTIONS", a)) for a in actions])
    return form


@bp.route("/audit", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def audit_log():
    """Filters are posted, not put in the address, because they may hold a client code; the
    paging buttons post them again from hidden fields (docs/rules.md §12.5)."""
    form = _audit_form()
    filters = {}
    page = 1
    if form.validate_on_submit():
        filters = {name: getattr(form, name).data for name in FILTERS}
        if form.download.data:
            return _audit_csv(filters)
        number = (form.page.data or "").strip()
        page = int(number) if number.isdigit() and len(number) < 10 else 1
    query = audit.search_query(current_user, **filters)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(max(page, 1), pages)
    events = db.session.scalars(query.offset((page - 1) * AUDIT_PAGE_SIZE).limit(AUDIT_PAGE_SIZE)).all()
    applied = {name: _posted(form, name) for name in FILTERS} if filters else {}
    return render_template(
        "admin/audit.html",
        form=form,
        readings=audit.readable(db.session, events),
        total=total,
        page=page,
        pages=pages,
        first=(page - 1) * AUDIT_PAGE_SIZE + 1,
        last=(page - 1) * AUDIT_PAGE_SIZE + len(events),
        applied=applied,
    )


def _posted(form: AuditFilterForm, name: str) -> str:
    """A filter as the form posts it, for the hidden fields of the paging buttons."""
    value = getattr(form, name).data
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _audit_csv(filters: dict):
    query = audit.search_query(current_user, **filters)
    described = ", ".join(f"{k}={v}" for k, v in filters.items() if v and k != "client_code")
    audit_event("audit_exported", detail=described or "all")

    def rows():
        # Runs while the response streams, in the streaming request's own session.
        for event in db.session.scalars(query.execution_options(yield_per=1000)):
            yield audit.csv_row(event)

    return csv_response(csv_stream(audit.AUDIT_CSV_COLUMNS, rows()), f"audit-{clock.now():%Y%m%d-%H%M}.csv")
