"""The catalogue: browsing sites and the map, and keeping sites and openings current."""

from flask import Blueprint

bp = Blueprint("catalogue", __name__)

from placements.catalogue import browse, my_sites, openings, sites  # noqa: E402, F401  (routes on bp)
