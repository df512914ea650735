"""Clients, their needs and their matches (social workers only)."""

from flask import Blueprint

bp = Blueprint("clients", __name__, url_prefix="/clients")

from placements.clients import views  # noqa: E402, F401  (routes on bp)
