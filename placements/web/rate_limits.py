"""A rate-limit storage in the app's own database: ``RATELIMIT_STORAGE_URI=database://``.

Flask-Limiter's counters must be seen by every gunicorn worker and app server, and survive
a restart. Redis does that in production; ``limits`` has no storage for SQLite, so this
small one keeps fixed-window counters in the ``rate_limit_counters`` table of
``DATABASE_URL`` (docs/deploy.md, "Rate-limit counters"). It is the default, so
``make run`` (several workers, no Redis) counts correctly.

Each call is its own short transaction on its own connection: a counter must stay counted
when the request's unit of work rolls back (a failed login changes nothing else). Flask-
Limiter calls it before a view runs and after the request has committed, so it never waits
for the request's own write lock on SQLite.
"""

from __future__ import annotations

from datetime import timedelta

from limits.storage import Storage
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from placements import clock
from placements.models import RateLimitCounter

COUNTERS = RateLimitCounter.__table__
ATTEMPTS = 3  # a concurrent first hit on the same key makes the insert fail once


def _engine():
    from placements.extensions import db

    return db.engine


class DatabaseStorage(Storage):
    """Fixed-window counters in the ``rate_limit_counters`` table."""

    STORAGE_SCHEME = ["database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        for _attempt in range(ATTEMPTS):
            now = clock.now()
            try:
                with _engine().begin() as connection:
                    hits = connection.execute(
                        update(COUNTERS)
                        .where(COUNTERS.c.key == key, COUNTERS.c.expires_at > now)
                        .values(hits=COUNTERS.c.hits + amount)
                        .returning(COUNTERS.c.hits)
                    ).scalar()
                    if hits is not None:
                        return hits
                    # No live window for this key: forget every finished window, start this one.
                    connection.execute(delete(COUNTERS).where(COUNTERS.c.expires_at <= now))
                    connection.execute(
                        insert(COUNTERS).values(key=key, hits=amount, expires_at=now + timedelta(seconds=expiry))
                    )
                    return amount
            except IntegrityError:
                continue  # another worker started the window first: count in it
        raise RuntimeError(f"rate-limit counter {key!r} could not be updated")

    def _live(self, column, key: str):
        with _engine().connect() as connection:
            return connection.execute(
                select(column).where(COUNTERS.c.key == key, COUNTERS.c.expires_at > clock.now())
            ).scalar()

    def get(self, key: str) -> int:
        return self._live(COUNTERS.c.hits, key) or 0

    def get_expiry(self, key: str) -> float:
        expires_at = self._live(COUNTERS.c.expires_at, key)
        return (expires_at or clock.now()).timestamp()

    def check(self) -> bool:
        try:
            with _engine().connect() as connection:
                connection.execute(select(func.count()).select_from(COUNTERS))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with _engine().begin() as connection:
            return connection.execute(delete(COUNTERS)).rowcount

    def clear(self, key: str) -> None:
        with _engine().begin() as connection:
            connection.execute(delete(COUNTERS).where(COUNTERS.c.key == key))
