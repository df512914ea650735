"""What a service answers when it will not act: one type per kind of "no".

Services raise these; the web layer maps them to a form, a page or JSON in one place
(``placements/web/errors.py``), and commands print them. None of them depends on Flask.
"""

from __future__ import annotations

# The key of a problem that belongs to no single field.
GENERAL = ""


class Refused(Exception):
    """This cannot be done, for these reasons: field name -> message; nothing was changed.

    ``status`` is 400 when the input is wrong, 409 when the state of things forbids it
    (e.g. no free place left).
    """

    def __init__(self, problems: dict[str, str] | str, *, status: int = 400):
        if isinstance(problems, str):
            problems = {GENERAL: problems}
        super().__init__("; ".join(str(message) for message in problems.values()))
        self.problems: dict[str, str] = dict(problems)
        self.status = status


class Conflict(Exception):
    """The row changed after the form showing it was loaded (optimistic lock): answered
    409 with the current data, never by overwriting the newer save."""

    def __init__(self, current=None):
        super().__init__("stale form")
        self.current = current


class PermissionDenied(Exception):
    """The acting user may not do this. ``status`` 404 where existence itself is private."""

    def __init__(
        self, *, status: int = 403, object_type: str | None = None, object_id=None, client_code: str | None = None
    ):
        super().__init__(f"permission denied ({status})")
        self.status = status
        self.object_type = object_type
        self.object_id = object_id
        self.client_code = client_code
