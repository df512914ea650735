"""Openings whose data is out of date, oldest first, with the hosts to remind."""

from __future__ import annotations

from flask import current_app, render_template

from placements import clock
from placements.admin import bp
from placements.extensions import db
from placements.permissions import COORDINATOR
from placements.services import freshness
from placements.web.access import roles_required

# The page lists the oldest this many; `flask sites stale-report` gives them all.
STALE_PAGE_SIZE = 300


@bp.get("/stale")
@roles_required(COORDINATOR)
def stale_overview():
    days = current_app.config["STALE_AFTER_DAYS"]
    report = freshness.stale_openings(db.session, stale_after_days=days, now=clock.now(), limit=STALE_PAGE_SIZE)
    return render_template(
        "admin/stale.html",
        openings=report.openings,
        hosts=report.hosts,
        days=days,
        total=report.total,
        shown=len(report.openings),
    )
