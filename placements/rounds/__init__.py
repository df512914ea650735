"""Survey rounds: the coordinator's pages under /admin/rounds and a host's answer at /rounds/<id>."""

from flask import Blueprint

bp = Blueprint("rounds", __name__)

from placements.rounds import answer, views  # noqa: E402, F401  (routes on bp)
