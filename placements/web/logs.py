"""Keeping client codes and link secrets out of logs: the audit trail is the one record of
who saw which client, and a link that acts must not be usable by whoever reads a log."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

from placements.codes import CLIENT_CODE

REDACTED = "K-XXXX-XXXX"
# The secret part of a set-password link or a one-click confirmation link.
LINK_SECRET = re.compile(r"(/account/set-password/|/confirm/)[^/?#\s\"]+")


def redact(text: str) -> str:
    return LINK_SECRET.sub(r"\1…", CLIENT_CODE.sub(REDACTED, text))


class RedactingLogger(Logger):
    """gunicorn's logger with client codes and link secrets removed from access log lines."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
