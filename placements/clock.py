"""The time: UTC for storage, the Finnish calendar day for dates people enter."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's date in Finland (what "today" means on a form)."""
    return datetime.now(HELSINKI).date()
