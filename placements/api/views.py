"""The open, read-only API /api/v1: sites (JSON and GeoJSON), openings, HSDS 3.1 services.

The same visibility as the pages: logged-in users, or anyone with PUBLIC_CATALOGUE=1.
No client data is ever served here.
"""

from __future__ import annotations

import math

from flask import abort, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from placements import clock
from placements.api import bp, hsds
from placements.api.openapi import document
from placements.catalogue.filters import parse_filters
from placements.extensions import db, limiter
from placements.models import Opening, Site
from placements.services import catalogue
from placements.web.access import browse_denied
from placements.web.converters import MAX_ID, bounded_int
from placements.web.urls import public_base

MAX_PER_PAGE = 100


@bp.before_request
def require_browse():
    if request.endpoint != "api.openapi":
        return browse_denied()
    return None


def opening_json(opening: Opening, stale_after_days: int) -> dict:
    return {
        "id": opening.id,
        "uuid": opening.uuid,
        "site_id": opening.site_id,
        "type": opening.type,
        "title": opening.title,
        "task_areas": list(opening.task_areas),
        "days_per_week": [opening.days_per_week_min, opening.days_per_week_max],
        "hours_per_day": [opening.hours_per_day_min, opening.hours_per_day_max],
        "places_total": opening.places_total,
        "places_external": opening.places_external,
        "places_taken": opening.places_taken,
        "places_free": opening.free_places if opening.status == "open" else 0,
        "supports": list(opening.supports),
        "physical_demand": opening.physical_demand,
        "social_intensity": opening.social_intensity,
        "languages": list(opening.languages),
        "status": opening.status,
        "accepting_from": opening.accepting_from.isoformat() if opening.accepting_from else None,
        "last_confirmed_at": hsds.timestamp(opening.last_confirmed_at),
        "stale": opening.is_stale(clock.now(), stale_after_days),
    }


def site_json(site: Site, openings, stale_after_days: int, distance_km: float | None = None) -> dict:
    data = {
        "id": site.id,
        "uuid": site.uuid,
        "site_ref": site.site_ref,
        "name": site.name,
        "organisation": {
            "id": site.organisation_id,
            "uuid": site.organisation.uuid,
            "name": site.organisation.name,
            "kind": site.organisation.kind,
        },
        "street_address": site.street_address,
        "postal_code": site.postal_code,
        "municipality_code": site.municipality_code,
        "municipality": site.municipality.name_fi,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "geocode_precision": site.geocode_precision,
        "accessibility": list(site.accessibility),
        "description": site.description,
        "contact": {"name": site.contact_name, "phone": site.contact_phone, "email": site.contact_email},
        "openings": [opening_json(o, stale_after_days) for o in openings],
    }
    if distance_km is not None:
        data["distance_km"] = round(distance_km, 2)
    return data


def _page_args() -> tuple[int, int]:
    """``page`` (from 1) and ``per_page`` (1–100); a value that is not a whole number of at
    most 2^31 − 1 is a 400 (docs/rules.md §11.11)."""
    page = bounded_int(request.args.get("page", "1"), low=-MAX_ID, high=MAX_ID)
    per_page = bounded_int(request.args.get("per_page", "20"), low=-MAX_ID, high=MAX_ID)
    if page is None or per_page is None:
        abort(400, description=_("page and per_page must be whole numbers from 1 to %(max)s.", max=MAX_ID))
    return max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)


@bp.get("/sites")
def sites():
    parsed = parse_filters(request.args, db.session)
    stale = current_app.config["STALE_AFTER_DAYS"]
    if request.args.get("format") == "geojson":
        return _geojson(parsed)
    page, per_page = _page_args()
    filters = parsed.filters.__class__(**{**parsed.filters.__dict__, "page": page})
    result = catalogue.search(db.session, filters, now=clock.now(), stale_after_days=stale, page_size=per_page)
    return jsonify(
        {
            "count": result.total,
            "page": result.page,
            "pages": result.pages,
            "per_page": per_page,
            "warnings": parsed.errors,
            "results": [
                site_json(row.site, [ov.opening for ov in row.openings], stale, row.distance_km) for row in result.rows
            ],
        }
    )


def _geojson(parsed):
    """A FeatureCollection of every matching site (a remote layer for uMap or QGIS)."""
    markers = catalogue.map_markers(
        db.session, parsed.filters, now=clock.now(), stale_after_days=current_app.config["STALE_AFTER_DAYS"]
    )
    base = public_base()  # never the request's Host header (docs/rules.md §11.7)
    features = [
        {
            "type": "Feature",
            "id": site_id,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "name": name,
                "availability": catalogue.AVAILABILITY[kind]["name"],
                "url": f"{base}/sites/{site_id}",
            },
        }
        for lat, lon, site_id, kind, name in markers
    ]
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.mimetype = "application/geo+json"
    return response


@bp.get("/sites/<id:site_id>")
def site_detail(site_id: int):
    site = db.session.get(
        Site,
        site_id,
        options=[selectinload(Site.openings), joinedload(Site.organisation), joinedload(Site.municipality)],
    )
    if site is None or site.archived_at is not None:
        abort(404)
    openings = [o for o in site.openings if o.archived_at is None]
    return jsonify(site_json(site, openings, current_app.config["STALE_AFTER_DAYS"]))


def _live_opening(opening_id: int | None = None, uuid: str | None = None) -> Opening:
    query = (
        select(Opening)
        .join(Opening.site)
        .options(
            joinedload(Opening.site).joinedload(Site.organisation),
            joinedload(Opening.site).joinedload(Site.municipality),
        )
    )
    query = query.where(Opening.id == opening_id) if opening_id is not None else query.where(Opening.uuid == uuid)
    opening = db.session.scalar(query.where(Opening.archived_at.is_(None), Site.archived_at.is_(None)))
    if opening is None:
        abort(404)
    return opening


@bp.get("/openings/<id:opening_id>")
def opening_detail(opening_id: int):
    return jsonify(opening_json(_live_opening(opening_id), current_app.config["STALE_AFTER_DAYS"]))


@bp.get("/hsds/services")
def hsds_services():
    """HSDS 3.1 paginated list of services (one per live opening)."""
    page, per_page = _page_args()
    live = select(Opening).join(Opening.site).where(Opening.archived_at.is_(None), Site.archived_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(live.subquery()))
    pages = max(1, math.ceil(total / per_page))
    openings = db.session.scalars(
        live.options(
            joinedload(Opening.site).joinedload(Site.organisation),
            joinedload(Opening.site).joinedload(Site.municipality),
        )
        .order_by(Opening.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return jsonify(
        {
            "total_items": total,
            "total_pages": pages,
            "page_number": page,
            "size": len(openings),
            "first_page": page == 1,
            "last_page": page >= pages,
            "empty": not openings,
            "contents": [hsds.service(o) for o in openings],
        }
    )


@bp.get("/hsds/services/<string:service_id>")
def hsds_service(service_id: str):
    return jsonify(hsds.service(_live_opening(uuid=service_id)))


@bp.get("/openapi.json")
@limiter.exempt
def openapi():
    return jsonify(document())
