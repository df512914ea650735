"""The time: UTC for storage, the Finnish calendar day for dates people enter.

Everything asks this module, so tests and scheduled jobs can set the clock in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")

_fixed: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _fixed if _fixed is not None else datetime.now(UTC)


def today() -> date:
    """Today's date in Finland (what "today" means on a form)."""
    return now().astimezone(HELSINKI).date()


@contextmanager
def fixed(moment: datetime) -> Iterator[None]:
    """Run with the clock stopped at ``moment`` (timezone-aware); for tests and replays."""
    global _fixed
    if moment.tzinfo is None:
        raise ValueError("a fixed clock needs a timezone-aware time")
    previous, _fixed = _fixed, moment.astimezone(UTC)
    try:
        yield
    finally:
        _fixed = previous
