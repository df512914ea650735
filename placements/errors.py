"""Error pages in the user's language, without stack traces; JSON for the API."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Check the form and try again.")),
    403: (_l("No access"), _l("Your account does not have the right to do this.")),
    404: (_l("Page not found"), _l("The page does not exist or it has been moved.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    409: (
        _l("Conflict"),
        _l("Someone else changed this information in the meantime. Reload the page and try again."),
    ),
    413: (_l("File too large"), _l("The file is larger than the permitted maximum size.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Wait a while and try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error occurred. It has been recorded; try again later.")),
    503: (_l("Service unavailable"), _l("The service is temporarily unavailable. Try again in a moment.")),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    if _wants_json():
        return jsonify({"error": str(title), "message": detail or str(message)}), code
    return (
        render_template("errors/error.html", code=code, title=title, message=message, detail=detail),
        code,
    )


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        code = error.code or 500
        if code == 413:
            limit = app.config.get("MAX_UPLOAD_MB")
            from flask_babel import gettext

            return render_error(413, gettext("The largest accepted file is %(mb)s MB.", mb=limit))
        detail = error.description if code == 400 and error.description and error.description != type(error).description else None
        return render_error(code if code in MESSAGES else 500, detail)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def handle_database_unavailable(error):
        """The database went away or stayed locked: a clear 503, nothing half-saved. The
        pool checks connections before use, so the next request reconnects by itself."""
        from placements.extensions import db

        log.warning("Database unavailable on %s %s: %s", request.method, request.endpoint, type(error.orig).__name__ if hasattr(error, "orig") else error)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone already
            db.session.remove()
        return render_error(503)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        # The endpoint, not the path: paths can hold client codes, which never go in logs.
        log.exception("Unhandled error on %s %s", request.method, request.endpoint)
        from placements.extensions import db

        db.session.rollback()
        return render_error(InternalServerError.code)
