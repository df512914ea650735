"""Declarative base, naming convention and shared column types."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, MetaData, String, types
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Current time in UTC (timezone-aware), from ``placements.clock``; a callable column
    default, so every row gets the time it was written."""
    from placements import clock

    return clock.now()


class UTCDateTime(types.TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no time zones, so values are normalised to UTC on the way in and
    tagged as UTC on the way out; PostgreSQL stores them as timestamptz.
    """

    impl = types.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class CodeList(types.TypeDecorator):
    """A set of codes stored as one string, e.g. ``|kitchen|laundry|``.

    The leading and trailing separators let ``has_code`` filter with one portable
    LIKE on SQLite and PostgreSQL; the Python side is a sorted tuple.
    """

    impl = String(500)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return "|"
        codes = sorted({str(code).strip() for code in value if str(code).strip()})
        return "|" + "|".join(codes) + "|" if codes else "|"

    def process_result_value(self, value, dialect):
        if not value:
            return ()
        return tuple(code for code in value.split("|") if code)

    def coerce_compared_value(self, op, value):
        return String()


def has_code(column, code: str):
    """SQL condition: the CodeList column contains ``code``."""
    return column.like(f"%|{code}|%")


def one_of(column_name: str, values: Iterable[str], name: str) -> CheckConstraint:
    """A named CHECK that a string column holds one of the allowed codes."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column_name} IN ({allowed})", name=name)


def codes_only(column_name: str, values: Iterable[str], name: str) -> CheckConstraint:
    """A named CHECK that a CodeList column holds only allowed codes.

    Removing every allowed code (with its separators) must leave only separators.
    """
    expression = column_name
    for value in sorted(values, key=len, reverse=True):
        expression = f"REPLACE({expression}, '|{value}|', '|')"
    return CheckConstraint(f"REPLACE({expression}, '|', '') = ''", name=name)
