"""Notifications: the inbox, delivery preferences and the one-click links from e-mail."""

from flask import Blueprint

bp = Blueprint("inbox", __name__)

from placements.inbox import confirm, views  # noqa: E402, F401  (routes on bp)
