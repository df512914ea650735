"""The open, read-only API /api/v1 (JSON, GeoJSON, HSDS 3.1)."""

from flask import Blueprint

from placements.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

from placements.api import views  # noqa: E402, F401  (routes on bp)
