"""Links that act without a login (docs/rules.md §15.5): signed, expiring, single-use, and
acting only on POST, so a mail scanner that follows links changes nothing.

A "still accurate" link is bound to one opening and one host, and to the moment the
opening was last confirmed: once anyone confirms it, the link is used up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

CONFIRM_SALT = "confirm-opening"
# The weekly reminder's links work until the next one and a week more.
CONFIRM_MAX_AGE = 14 * 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT)


def _stamp(confirmed_at: datetime | str) -> str:
    return confirmed_at if isinstance(confirmed_at, str) else confirmed_at.isoformat()


def confirm_token(opening_id: int, host_id: int, confirmed_at: datetime | str) -> str:
    return _serializer().dumps({"o": opening_id, "h": host_id, "c": _stamp(confirmed_at)})


def confirm_link(opening_id: int, host_id: int, confirmed_at: datetime | str) -> str:
    return f"/confirm/{confirm_token(opening_id, host_id, confirmed_at)}"


@dataclass
class ConfirmClaim:
    opening_id: int | None = None
    host_id: int | None = None
    confirmed_at: str | None = None
    problem: str | None = None  # expired | invalid


def read_confirm_token(token: str) -> ConfirmClaim:
    try:
        data = _serializer().loads(token, max_age=CONFIRM_MAX_AGE)
    except SignatureExpired:
        return ConfirmClaim(problem="expired")
    except BadSignature:
        return ConfirmClaim(problem="invalid")
    if not isinstance(data, dict) or not {"o", "h", "c"} <= set(data):
        return ConfirmClaim(problem="invalid")
    return ConfirmClaim(int(data["o"]), int(data["h"]), str(data["c"]))
