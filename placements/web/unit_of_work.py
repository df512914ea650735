"""One unit of work per request, as indico's request handler does.

A view loads, checks, calls services and renders. When the response is built, the
request's changes and their audit events commit together, once (``finish``); an error
anywhere rolls everything back (the error handlers call ``discard``). A commit that the
database refuses (a unique or check constraint hit by a race, a stale row) becomes a
clear 409 instead of a success page for something that was not saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, flash, session
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from placements import unit_of_work
from placements.errors import GENERAL, Conflict, Refused
from placements.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")


def discard() -> None:
    """Roll back the request's work so far; what is added afterwards still commits."""
    unit_of_work.discard(db.session)


def _finish(response):
    try:
        unit_of_work.commit(db.session)
    except (IntegrityError, StaleDataError) as error:
        from placements.web.errors import render_error

        log.warning("Commit refused on %s: %s", response.status_code, type(getattr(error, "orig", error)).__name__)
        session.pop("_flashes", None)  # nothing the view announced was saved
        return render_error(409)
    return response


def show_problems(error: Refused, form=None) -> None:
    """Each problem on the form's field, else on the form, else as a message."""
    for name, message in error.problems.items():
        if form is not None and name != GENERAL and name in form:
            form[name].errors.append(message)
        elif form is not None:
            form.form_errors.append(message)
        else:
            flash(message, "error")


def attempt(action: Callable[[], T], *, form=None) -> T | bool | None:
    """Run a service call in the request's unit of work.

    Returns its result (True when it returns nothing). When the service refuses, the
    work is rolled back, each problem is shown (see ``show_problems``) and None is
    returned. A stale row (``Conflict``) propagates: views that can show the current
    data catch it, the others get the 409 page.
    """
    try:
        result = action()
    except StaleDataError as error:
        discard()
        raise Conflict() from error
    except Refused as error:
        discard()
        show_problems(error, form)
        return None
    return True if result is None else result


def register(app: Flask) -> None:
    """Register last, so the commit runs before the other after-request hooks (security
    headers also reach a 409 answer that replaces the response)."""
    app.after_request(_finish)
