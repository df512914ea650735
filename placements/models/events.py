"""Append-only history: capacity events (the survey reads them) and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placements.codes import CAPACITY_EVENT_KINDS, OPENING_STATUSES
from placements.models.base import Base, UTCDateTime, one_of, utcnow


class CapacityEvent(Base):
    """A change to an opening's places or status, with the values before and after."""

    __tablename__ = "capacity_events"
    __table_args__ = (
        one_of("kind", CAPACITY_EVENT_KINDS, "kind_valid"),
        one_of("status_before", OPENING_STATUSES, "status_before_valid"),
        one_of("status_after", OPENING_STATUSES, "status_after_valid"),
        Index("ix_capacity_events_opening_id_occurred_at", "opening_id", "occurred_at"),
        Index("ix_capacity_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("openings.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("placements.id"))
    places_total_before: Mapped[int | None] = mapped_column(Integer)
    places_total_after: Mapped[int] = mapped_column(Integer)
    places_external_before: Mapped[int | None] = mapped_column(Integer)
    places_external_after: Mapped[int] = mapped_column(Integer)
    places_taken_before: Mapped[int | None] = mapped_column(Integer)
    places_taken_after: Mapped[int] = mapped_column(Integer)
    status_before: Mapped[str | None] = mapped_column(String(10))
    status_after: Mapped[str] = mapped_column(String(10))

    opening: Mapped[Opening] = relationship()  # noqa: F821


class AuditEvent(Base):
    """Who did what, to which object, when and why. Never edited or deleted by the app."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_user_id_occurred_at", "user_id", "occurred_at"),
        Index("ix_audit_events_client_code", "client_code"),
        Index("ix_audit_events_action", "action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # No foreign key: the trail must outlive whatever it refers to.
    user_id: Mapped[int | None] = mapped_column(Integer)
    user_email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    client_code: Mapped[str | None] = mapped_column(String(11))
    purpose: Mapped[str | None] = mapped_column(String(200))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[str | None] = mapped_column(String(500))
    # The client codes a listing showed, as "|K-…|K-…|": one event per page view, however many
    # clients it shows (docs/rules.md §12.3).
    client_codes: Mapped[str | None] = mapped_column(Text)
