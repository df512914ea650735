"""Rate-limit counters kept in the app's own database (``RATELIMIT_STORAGE_URI=database://``).

One row per limit key and fixed window; see ``placements/web/rate_limits.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from placements.models.base import Base, UTCDateTime


class RateLimitCounter(Base):
    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
