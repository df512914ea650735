"""The coordinator's survey of places and placements."""

from flask import Blueprint

bp = Blueprint("survey", __name__)

from placements.survey import views  # noqa: E402, F401  (routes on bp)
