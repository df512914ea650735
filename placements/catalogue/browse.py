"""Browsing the catalogue: the site list, the map, a site's page and its map popup."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import OrderedDict

from flask import abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from placements import clock, permissions
from placements.catalogue import bp
from placements.catalogue.filters import parse_filters
from placements.catalogue.maps import build_map
from placements.extensions import db
from placements.models import Site
from placements.permissions import COORDINATOR
from placements.services import capacity_ahead, catalogue, reference, site_csv
from placements.services.site_export import export_rows
from placements.web.access import browse_required, roles_required
from placements.web.auditing import audit_event
from placements.web.downloads import csv_response
from placements.web.security import allow_private_caching
from placements.web.templating import url_with_args


@bp.record_once
def _availability_states(state) -> None:
    """The states, labels and symbols of the one availability rule (docs/rules.md §8.6), for
    every template that draws a marker or a legend (the catalogue's and the matches' maps)."""
    state.app.jinja_env.globals["AVAILABILITY"] = catalogue.AVAILABILITY


def _stale_days() -> int:
    return current_app.config["STALE_AFTER_DAYS"]


def _map_parts(**kwargs):
    return build_map(current_app.config["MAP_TILES_URL"], current_app.config["MAP_TILES_ATTRIBUTION"], **kwargs)


def _places_ahead(opening_ids) -> dict:
    """Places freeing in 30/60/90 days for the openings shown (docs/rules.md §8.8); signed-in
    users only, as a worker plans a start with them."""
    if not current_user.is_authenticated:
        return {}
    return capacity_ahead.freeing(db.session, opening_ids, today=clock.today())


def _filter_context(parsed) -> dict:
    return {
        "parsed": parsed,
        "filters": parsed.filters,
        "municipalities": reference.municipality_names(db.session),
        "args": request.args,
    }


@bp.get("/sites")
@browse_required
def site_list():
    parsed = parse_filters(request.args, db.session)
    result = catalogue.search(db.session, parsed.filters, now=clock.now(), stale_after_days=_stale_days())
    suggestions = []
    if result.total == 0 and parsed.filters.active:
        suggestions = catalogue.loosen_suggestions(db.session, parsed.filters)
    ahead = _places_ahead(ov.opening.id for row in result.rows for ov in row.openings)
    return render_template(
        "catalogue/sites.html", result=result, suggestions=suggestions, ahead=ahead, **_filter_context(parsed)
    )


@bp.get("/map")
@browse_required
def site_map():
    """The map page: the same for every view with the same filters; its markers come from
    ``map_markers_data`` (static/js/map.js fetches them)."""
    parsed = parse_filters(request.args, db.session)
    context = _filter_context(parsed)
    markers_url = url_with_args("catalogue.map_markers_data", request.args)
    return render_template("catalogue/map.html", markers_url=markers_url, map=_map_parts(), **context)


@bp.get("/map/markers.json")
@browse_required
def map_markers_data():
    """The map's markers for the filters of /map, ``[lat, lon, site_id, availability, name]``
    each, with the count per availability state (docs/rules.md §8.6).

    The ETag is the version of the data the markers depend on (``markers_version``) and the
    filters; a browser that has this version gets 304 Not Modified without the markers being
    read at all. Catalogue data only: no client data, so the browser may keep it
    (``private, no-cache``: it asks every time)."""
    parsed = parse_filters(request.args, db.session)
    now, days = clock.now(), _stale_days()
    version = catalogue.markers_version(db.session, now=now, stale_after_days=days)
    tag = hashlib.sha256(repr((version, parsed.filters)).encode()).hexdigest()[:32]
    allow_private_caching()
    if request.if_none_match.contains_weak(tag):
        response = current_app.response_class(status=304)
        response.set_etag(tag, weak=True)
        return response
    bodies = _marker_bodies.get(tag)
    if bodies is None:
        markers = catalogue.map_markers(db.session, parsed.filters, now=now, stale_after_days=days)
        counts = dict.fromkeys(catalogue.AVAILABILITY, 0)
        for marker in markers:
            counts[marker[3]] += 1
        body = json.dumps({"counts": counts, "markers": markers}, ensure_ascii=False, separators=(",", ":"))
        bodies = _marker_bodies.put(tag, body.encode())
    plain, packed = bodies
    gzipped = request.accept_encodings["gzip"] > 0
    response = current_app.response_class(packed if gzipped else plain, mimetype="application/json")
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_etag(tag, weak=True)
    return response


class _MarkerBodies:
    """The latest marker data answered by this process, plain and gzipped, by ETag: equal
    tags are equal data (the tag holds the data's version and the filters), so a user who
    has not seen this version yet gets it without the query and the compression again."""

    def __init__(self, size: int):
        self.size = size
        self.bodies: OrderedDict[str, tuple[bytes, bytes]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, tag: str) -> tuple[bytes, bytes] | None:
        with self.lock:
            found = self.bodies.get(tag)
            if found is not None:
                self.bodies.move_to_end(tag)
            return found

    def put(self, tag: str, plain: bytes) -> tuple[bytes, bytes]:
        bodies = (plain, gzip.compress(plain, compresslevel=6, mtime=0))
        with self.lock:
            self.bodies[tag] = bodies
            while len(self.bodies) > self.size:
                self.bodies.popitem(last=False)
        return bodies


# A map of all 10,000 sites is about 0.5 MB plain and 0.16 MB gzipped.
_marker_bodies = _MarkerBodies(size=32)


def _live_site_or_404(site_id: int) -> Site:
    options = [selectinload(Site.openings), joinedload(Site.organisation), joinedload(Site.municipality)]
    site = db.session.get(Site, site_id, options=options)
    if site is None or (site.archived_at is not None and not permissions.can_manage_registry(current_user)):
        abort(404)
    return site


def _opening_views(site: Site) -> list[catalogue.OpeningView]:
    now, days = clock.now(), _stale_days()
    return [catalogue.OpeningView.of(o, now, days) for o in site.openings if o.archived_at is None]


@bp.get("/sites/<id:site_id>")
@browse_required
def site_page(site_id: int):
    site = _live_site_or_404(site_id)
    openings = _opening_views(site)
    state = catalogue.site_availability(openings)
    marker = [[site.latitude, site.longitude, site.id, state, site.name]]
    small_map = _map_parts(center=(site.latitude, site.longitude), zoom=14)
    return render_template(
        "catalogue/site.html",
        site=site,
        openings=openings,
        availability=state,
        map=small_map,
        markers=marker,
        today=clock.today(),
        ahead=_places_ahead(ov.opening.id for ov in openings),
    )


@bp.get("/sites/<id:site_id>/popup")
@browse_required
def site_popup(site_id: int):
    """The map popup's content: name, address, state, openings with free places, a link."""
    site = _live_site_or_404(site_id)
    openings = [ov for ov in _opening_views(site) if ov.opening.status != "closed"]
    return render_template(
        "catalogue/_popup.html", site=site, openings=openings, availability=catalogue.site_availability(openings)
    )


@bp.get("/sites.csv")
@roles_required(COORDINATOR)
def sites_csv():
    """The sites on the list, with the same filters, in the import format (edit, re-import)."""
    parsed = parse_filters(request.args, db.session)
    site_ids = catalogue.matching_site_ids(db.session, parsed.filters)
    excel_fi = request.args.get("dialect") == "excel-fi"
    audit_event("sites_exported", object_type="site", detail=f"filters={request.query_string.decode()[:300]}")
    lines = site_csv.iter_lines(export_rows(db.session, site_ids), excel_fi=excel_fi)
    return csv_response(lines, f"sites-{clock.today():%Y%m%d}{'-excel' if excel_fi else ''}.csv")
