"""Keeping client codes out of logs: the audit trail is the one record of who saw which client."""

from __future__ import annotations

from gunicorn.glogging import Logger

from placements.codes import CLIENT_CODE

REDACTED = "K-XXXX-XXXX"


def redact(text: str) -> str:
    return CLIENT_CODE.sub(REDACTED, text)


class RedactingLogger(Logger):
    """gunicorn's logger with client codes removed from access log lines (paths, referrers)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
