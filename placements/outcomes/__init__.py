"""Outcomes of placements and paths: the coordinator's region-wide view and a social
worker's view of their own clients (docs/rules.md §19)."""

from flask import Blueprint

bp = Blueprint("outcomes", __name__)

from placements.outcomes import views  # noqa: E402, F401  (routes on bp)
