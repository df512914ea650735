"""Reference data read in one place: the municipalities (loaded by migrations, 8 rows)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from placements.models import Municipality

_CACHE_KEY = "municipality_names"


def municipality_names(session: Session) -> dict[str, str]:
    """Municipality code -> Finnish name, in alphabetical order; read once per session."""
    names = session.info.get(_CACHE_KEY)
    if names is None:
        query = select(Municipality.code, Municipality.name_fi).order_by(func.lower(Municipality.name_fi))
        names = session.info[_CACHE_KEY] = dict(session.execute(query).all())
    return names


def municipality_name(session: Session, code: str | None) -> str:
    """The municipality's Finnish name, or the code itself when it is unknown."""
    if not code:
        return ""
    return municipality_names(session).get(code, code)
