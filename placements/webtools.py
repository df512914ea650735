"""What the views share: running one service call in the request's transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash

from placements.extensions import db

T = TypeVar("T")


def committed(action: Callable[[], T], *, form=None) -> T | bool | None:
    """Run a service call and commit; returns its result (True when it returns nothing).

    When the service refuses (an error with ``problems``: field -> message), roll back and
    show each problem on the form's field, else on the form, else as a message; return None.
    """
    from placements.services.clients import ClientError
    from placements.services.placements import PlacementError
    from placements.services.sites import EditError

    try:
        result = action()
        db.session.commit()
    except (ClientError, PlacementError, EditError) as error:
        db.session.rollback()
        for name, message in error.problems.items():
            if form is not None and name in form:
                form[name].errors.append(message)
            elif form is not None:
                form.form_errors.append(message)
            else:
                flash(message, "error")
        return None
    return True if result is None else result
