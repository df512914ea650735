"""A placement's page and its steps: accept, decline, cancel, end."""

from flask import Blueprint

bp = Blueprint("steps", __name__, url_prefix="/placements")

from placements.steps import views  # noqa: E402, F401  (routes on bp)
