"""The page of a long job (an import): its progress while it runs, then its result."""

from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

from placements.jobs import views  # noqa: E402, F401  (routes on bp)
