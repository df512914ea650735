"""A client's service path (palvelupolku): the plan and its history, and waiting lists
(docs/rules.md §18)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placements.codes import QUEUE_LEAVE_REASONS, QUEUE_STATUSES
from placements.models.base import Base, UTCDateTime, one_of, utcnow


class PlanEntry(Base):
    """One saved version of a client's plan; the newest row is the current plan.

    The responsible worker (asiakasvastaava) is one of the client's workers (the owner or a
    colleague the client is shared with); the texts are free text under docs/rules.md §6.3.
    """

    __tablename__ = "plan_entries"
    __table_args__ = (Index("ix_plan_entries_client_id_id", "client_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    responsible_worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    goal: Mapped[str] = mapped_column(Text, default="")
    next_step: Mapped[str] = mapped_column(Text, default="")
    next_step_on: Mapped[date | None] = mapped_column(Date)
    review_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    responsible_worker: Mapped[User] = relationship(foreign_keys=[responsible_worker_id])  # noqa: F821
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])  # noqa: F821


class QueueEntry(Base):
    """A client waiting for a place in a full opening (or one accepting from a later date).

    Position is the order of ``created_at`` (then id) among the opening's live entries
    (waiting or offered). An entry leaves with a reason: placed, removed or closed.
    """

    __tablename__ = "queue_entries"
    __table_args__ = (
        one_of("status", QUEUE_STATUSES, "status_valid"),
        one_of("left_reason", QUEUE_LEAVE_REASONS, "left_reason_valid"),
        CheckConstraint("(status = 'left') = (left_at IS NOT NULL)", name="left_at_matches_status"),
        Index("ix_queue_entries_opening_id_status", "opening_id", "status"),
        Index("ix_queue_entries_client_id_status", "client_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    opening_id: Mapped[int] = mapped_column(ForeignKey("openings.id"))
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The position the worker last saw on their attention page, to tell them it moved.
    seen_position: Mapped[int | None] = mapped_column(Integer)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    left_reason: Mapped[str | None] = mapped_column(String(10))

    client: Mapped[Client] = relationship()  # noqa: F821
    opening: Mapped[Opening] = relationship()  # noqa: F821
