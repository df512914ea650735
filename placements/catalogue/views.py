"""Browsing the catalogue: the site list, the map, a site's page and its map popup."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, render_template, request, stream_with_context
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from placements import permissions
from placements.auditing import audit_event
from placements.catalogue.filters import municipality_names, parse_filters
from placements.catalogue.maps import build_map
from placements.extensions import db, login_manager
from placements.models import Site
from placements.permissions import COORDINATOR, roles_required
from placements.services import catalogue, site_csv
from placements.services.site_export import export_rows

bp = Blueprint("catalogue", __name__)


def _require_browse():
    """Logged-in users, or anyone when PUBLIC_CATALOGUE=1."""
    if not permissions.can_browse_catalogue(current_user, current_app.config["PUBLIC_CATALOGUE"]):
        return login_manager.unauthorized()
    return None


def _stale_days() -> int:
    return current_app.config["STALE_AFTER_DAYS"]


def _now() -> datetime:
    return datetime.now(UTC)


def _map_parts(**kwargs):
    return build_map(current_app.config["MAP_TILES_URL"], current_app.config["MAP_TILES_ATTRIBUTION"], **kwargs)


def _filter_context(parsed) -> dict:
    return {
        "parsed": parsed,
        "filters": parsed.filters,
        "municipalities": municipality_names(db.session),
        "args": request.args,
    }


@bp.get("/sites")
def site_list():
    if (denied := _require_browse()) is not None:
        return denied
    parsed = parse_filters(request.args, db.session)
    result = catalogue.search(db.session, parsed.filters, now=_now(), stale_after_days=_stale_days())
    suggestions = catalogue.loosen_suggestions(db.session, parsed.filters) if result.total == 0 and parsed.filters.active else []
    return render_template("catalogue/sites.html", result=result, suggestions=suggestions, **_filter_context(parsed))


@bp.get("/map")
def site_map():
    if (denied := _require_browse()) is not None:
        return denied
    parsed = parse_filters(request.args, db.session)
    markers = catalogue.map_markers(db.session, parsed.filters, now=_now(), stale_after_days=_stale_days())
    counts = {kind: 0 for kind in (catalogue.FREE, catalogue.FULL, catalogue.STALE)}
    for marker in markers:
        counts[marker[3]] += 1
    return render_template("catalogue/map.html", markers=markers, counts=counts, map=_map_parts(), **_filter_context(parsed))


def _live_site_or_404(site_id: int) -> Site:
    site = db.session.get(Site, site_id, options=[selectinload(Site.openings), joinedload(Site.organisation), joinedload(Site.municipality)])
    if site is None or (site.archived_at is not None and not permissions.can_manage_registry(current_user)):
        abort(404)
    return site


def _opening_views(site: Site) -> list[catalogue.OpeningView]:
    now, days = _now(), _stale_days()
    return [catalogue.OpeningView(o, o.is_stale(now, days)) for o in site.openings if o.archived_at is None]


@bp.get("/sites/<int:site_id>")
def site_page(site_id: int):
    if (denied := _require_browse()) is not None:
        return denied
    site = _live_site_or_404(site_id)
    marker = [[site.latitude, site.longitude, site.id, "f", site.name]]
    small_map = _map_parts(center=(site.latitude, site.longitude), zoom=14)
    return render_template("catalogue/site.html", site=site, openings=_opening_views(site), map=small_map, markers=marker)


@bp.get("/sites/<int:site_id>/popup")
def site_popup(site_id: int):
    """The map popup's content: name, openings with free places, a link."""
    if (denied := _require_browse()) is not None:
        return denied
    site = _live_site_or_404(site_id)
    return render_template("catalogue/_popup.html", site=site, openings=_opening_views(site))


@bp.get("/sites.csv")
@roles_required(COORDINATOR)
def sites_csv():
    """The sites on the list, with the same filters, in the import format (edit, re-import)."""
    parsed = parse_filters(request.args, db.session)
    matching = catalogue.matching_sites(parsed.filters).with_only_columns(Site.id)
    if parsed.filters.near and parsed.filters.km:
        ids = [sid for sid, _, lat, lon in db.session.execute(catalogue.matching_sites(parsed.filters)) if catalogue.within(parsed.filters.near, (lat, lon), parsed.filters.km)[0]]
        matching = ids
    excel_fi = request.args.get("dialect") == "excel-fi"
    audit_event("sites_exported", object_type="site", detail=f"filters={request.query_string.decode()[:300]}")
    db.session.commit()

    def rows():
        return export_rows(db.session, matching)

    stamp = datetime.now(UTC).strftime("%Y%m%d")
    response = Response(stream_with_context(site_csv.iter_lines(rows(), excel_fi=excel_fi)), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="sites-{stamp}{"-excel" if excel_fi else ""}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
