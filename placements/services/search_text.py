"""The text that the catalogue's free-text search looks in."""

from __future__ import annotations

from collections.abc import Iterable

from placements.models import Site


def search_text(site: Site) -> str:
    """Name, organisation, address, description and live opening titles, case-folded.

    Case-folding in Python treats å, ä and ö alike on every database (SQLite's lower()
    only knows ASCII).
    """
    return compose(
        site.name,
        site.organisation.name if site.organisation else "",
        site.street_address,
        site.description,
        [opening.title for opening in site.openings if opening.archived_at is None],
    )


def compose(name: str, organisation: str, street_address: str, description: str, titles: Iterable[str]) -> str:
    """The search text from its parts (``search_text`` for values that are not yet a Site)."""
    parts = [name, organisation, street_address, description, *titles]
    return " ".join(part for part in parts if part).casefold()


def normalise_query(text: str) -> str:
    """The user's search words as stored, with LIKE's wildcards taken literally."""
    folded = " ".join(text.split()).casefold()
    return folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def refresh_search_text(session, site: Site) -> None:
    """Store a site's search text after one of its openings changed.

    Written with a plain UPDATE so the site's version stays as it is: a change to an opening
    must not make someone's open site form stale.
    """
    from sqlalchemy import update
    from sqlalchemy.orm.attributes import set_committed_value

    text = search_text(site)
    if text != site.search_text:
        session.flush()
        session.execute(
            update(Site).where(Site.id == site.id).values(search_text=text).execution_options(synchronize_session=False)
        )
        set_committed_value(site, "search_text", text)
