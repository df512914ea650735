"""The e-mail outbox for the coordinator: what was sent, what waits, what failed.

Only the envelope is shown (recipient, subject, status, attempts, last error): the bodies
may name clients, which the coordinator does not see.
"""

from __future__ import annotations

from flask import render_template
from sqlalchemy import func, select

from placements.admin import bp
from placements.extensions import db
from placements.models import OutboxMessage
from placements.permissions import COORDINATOR
from placements.web.access import roles_required

OUTBOX_PAGE_SIZE = 200


@bp.get("/outbox")
@roles_required(COORDINATOR)
def outbox():
    counts = dict(db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    envelope = (
        OutboxMessage.id,
        OutboxMessage.created_at,
        OutboxMessage.recipient_email,
        OutboxMessage.kind,
        OutboxMessage.subject,
        OutboxMessage.status,
        OutboxMessage.attempts,
        OutboxMessage.next_attempt_at,
        OutboxMessage.sent_at,
        OutboxMessage.last_error,
    )
    query = select(*envelope).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(OUTBOX_PAGE_SIZE)
    return render_template("admin/outbox.html", messages=db.session.execute(query).all(), counts=counts)
