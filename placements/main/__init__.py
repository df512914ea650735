"""The home page, the health check and the language choice."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from placements.main import views  # noqa: E402, F401  (routes on bp)
