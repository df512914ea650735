"""Error answers in the user's language, without stack traces; JSON for the API.

This is the one place that maps what services raise to HTTP: ``Refused`` to 400/409 with
its reasons, ``Conflict`` to 409, ``PermissionDenied`` to 403/404 (recorded in the audit
trail). Every handler first rolls back the request's unit of work.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from placements.errors import Conflict, PermissionDenied, Refused
from placements.web.unit_of_work import discard

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


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def render_error(code: int, detail: str | None = None, problems: list[str] | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    if wants_json():
        body = {"error": str(title), "message": detail or str(message)}
        if problems:
            body["problems"] = problems
        return jsonify(body), code
    page = render_template(
        "errors/error.html", code=code, title=title, message=message, detail=detail, problems=problems or []
    )
    return page, code


def handle_refused(error: Refused):
    """A refusal no view showed on its form: the reasons on a 400 or 409 page."""
    discard()
    return render_error(
        error.status if error.status in MESSAGES else 400, problems=[str(m) for m in error.problems.values()]
    )


def handle_conflict(error: Conflict):
    discard()
    return render_error(409)


def handle_permission_denied(error: PermissionDenied):
    from placements.web.access import record_denial

    discard()
    record_denial(error)
    return render_error(error.status)


def register(app: Flask) -> None:
    app.register_error_handler(Refused, handle_refused)
    app.register_error_handler(Conflict, handle_conflict)
    app.register_error_handler(PermissionDenied, handle_permission_denied)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        discard()
        code = error.code or 500
        if code == 413:
            limit = app.config.get("MAX_UPLOAD_MB")
            return render_error(413, gettext("The largest accepted file is %(mb)s MB.", mb=limit))
        own_words = error.description and error.description != type(error).description
        detail = error.description if code == 400 and own_words else None
        return render_error(code if code in MESSAGES else 500, detail)

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error: IntegrityError):
        """A constraint the checks before it did not catch (usually a race): nothing was
        saved, and the user is told so."""
        log.warning("Integrity error on %s %s: %s", request.method, request.endpoint, type(error.orig).__name__)
        discard()
        return render_error(409)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def handle_database_unavailable(error):
        """The database went away or stayed locked: a clear 503, nothing half-saved. The
        pool checks connections before use, so the next request reconnects by itself."""
        reason = type(error.orig).__name__ if hasattr(error, "orig") else error
        log.warning("Database unavailable on %s %s: %s", request.method, request.endpoint, reason)
        try:
            discard()
        except Exception:  # noqa: BLE001 - the connection may be gone already
            from placements.extensions import db

            db.session.remove()
        return render_error(503)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        # The endpoint, not the path: paths can hold client codes, which never go in logs.
        log.exception("Unhandled error on %s %s", request.method, request.endpoint)
        discard()
        return render_error(InternalServerError.code)
