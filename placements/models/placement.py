"""Placements: a client's period in an opening."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text, and_, case
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placements import clock
from placements.codes import END_REASONS, PLACEMENT_STATUSES
from placements.models.base import Base, UTCDateTime, one_of, utcnow


class Placement(Base):
    __tablename__ = "placements"
    __table_args__ = (
        one_of("status", PLACEMENT_STATUSES, "status_valid"),
        one_of("end_reason", END_REASONS, "end_reason_valid"),
        CheckConstraint("days_per_week BETWEEN 1 AND 7", name="days_per_week_range"),
        CheckConstraint("hours_per_day > 0 AND hours_per_day <= 24", name="hours_per_day_range"),
        CheckConstraint("planned_end IS NULL OR planned_end >= start_date", name="planned_end_after_start"),
        CheckConstraint("ended_on IS NULL OR ended_on >= start_date", name="ended_on_after_start"),
        CheckConstraint(
            "(status = 'ended') = (ended_on IS NOT NULL AND end_reason IS NOT NULL)",
            name="ended_has_date_and_reason",
        ),
        Index("ix_placements_opening_id_status", "opening_id", "status"),
        Index("ix_placements_start_date", "start_date"),
        Index("ix_placements_ended_on", "ended_on"),
        # Each client's placements in order, covering what path transitions read (§19.4).
        Index("ix_placements_client_id_start_date", "client_id", "start_date", "id", "status", "opening_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("openings.id"))
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    days_per_week: Mapped[int] = mapped_column(Integer)
    hours_per_day: Mapped[float] = mapped_column(Float)
    start_date: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(20))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    note_for_host: Mapped[str | None] = mapped_column(Text)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    client: Mapped[Client] = relationship()  # noqa: F821
    # Every page that shows a placement names its opening: load the openings of the
    # placements loaded together in one more query, never one query per placement.
    opening: Mapped[Opening] = relationship(lazy="selectin")  # noqa: F821
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])  # noqa: F821

    def state_on(self, day: date) -> str:
        """The placement's state on ``day`` (docs/rules.md §5.1): its status, except that an
        accepted placement is "agreed" until its start date, and "active" from that day on."""
        if self.status == "active" and self.start_date > day:
            return "agreed"
        return self.status

    @hybrid_property
    def state(self) -> str:
        """The state today in Finland (``placements.clock``); in SQL the same rule."""
        return self.state_on(clock.today())

    @state.inplace.expression
    @classmethod
    def _state_expression(cls):
        return case((and_(cls.status == "active", cls.start_date > clock.today()), "agreed"), else_=cls.status)

    def __repr__(self) -> str:
        return f"<Placement {self.id} {self.status}>"
