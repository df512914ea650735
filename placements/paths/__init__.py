"""Service paths: the client's plan and timeline, waiting lists and "Vaatii huomiota"
(social workers; hosts see queue codes on Omat toimipaikat)."""

from flask import Blueprint

bp = Blueprint("paths", __name__)

from placements.paths import views  # noqa: E402, F401  (routes on bp)
