"""A host's first screen: stale openings first, proposals and placements, then every site."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from placements import clock
from placements.catalogue import bp
from placements.catalogue.forms import ConfirmForm
from placements.extensions import db
from placements.models import Site
from placements.permissions import HOST
from placements.services import placements as placement_service
from placements.web.access import roles_required


@bp.get("/my/sites")
@roles_required(HOST)
def my_sites():
    placements = placement_service.host_placements(db.session, current_user)
    query = (
        select(Site)
        .where(Site.organisation_id == current_user.organisation_id, Site.archived_at.is_(None))
        .options(selectinload(Site.openings))
        .order_by(Site.name)
    )
    sites = db.session.scalars(query).all()
    stale_before = clock.now() - timedelta(days=current_app.config["STALE_AFTER_DAYS"])
    live = (o for s in sites for o in s.openings if o.archived_at is None)
    stale = sorted((o for o in live if o.last_confirmed_at < stale_before), key=lambda o: o.last_confirmed_at)
    return render_template(
        "catalogue/my_sites.html",
        sites=sites,
        stale=stale,
        stale_before=stale_before,
        confirm_form=ConfirmForm(),
        proposals=[p for p in placements if p.status == "proposed"],
        active=[p for p in placements if p.status == "active"],
    )
