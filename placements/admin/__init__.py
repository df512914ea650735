"""The coordinator's pages: accounts, the audit trail, organisations, imports, stale data."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from placements.admin import audit, imports, organisations, outbox, stale, users  # noqa: E402, F401  (routes on bp)
