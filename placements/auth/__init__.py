"""Logging in and out, and changing one's password."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from placements.auth import views  # noqa: E402, F401  (routes on bp)
