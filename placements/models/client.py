"""Clients (pseudonymous) and their recorded needs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placements.codes import (
    ACCESSIBILITY,
    AGE_BANDS,
    CLIENT_STATUSES,
    GENDERS,
    OPENING_TYPES,
    PHYSICAL_DEMANDS,
    SOCIAL_INTENSITIES,
    SUPPORTS,
    TASK_AREAS,
)
from placements.models.base import Base, CodeList, UTCDateTime, codes_only, one_of, utcnow

client_shares = Table(
    "client_shares",
    Base.metadata,
    Column("client_id", ForeignKey("clients.id"), primary_key=True),
    Column("user_id", ForeignKey("users.id"), primary_key=True, index=True),
)


class Client(Base):
    __tablename__ = "clients"
    __table_args__ = (
        one_of("age_band", AGE_BANDS, "age_band_valid"),
        one_of("gender", GENDERS, "gender_valid"),
        one_of("status", CLIENT_STATUSES, "status_valid"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_at_matches_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(11), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"), index=True)
    home_postal_code: Mapped[str | None] = mapped_column(ForeignKey("postal_codes.code"))
    age_band: Mapped[str] = mapped_column(String(5))
    gender: Mapped[str] = mapped_column(String(10), default="unknown")
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Set when the retention purge removed the needs and notes; the survey's facts remain.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])  # noqa: F821
    shared_with: Mapped[list[User]] = relationship(secondary=client_shares)  # noqa: F821
    needs_history: Mapped[list[Needs]] = relationship(back_populates="client", order_by="Needs.id")

    def __repr__(self) -> str:
        return f"<Client {self.id}>"


class Needs(Base):
    """One saved version of a client's needs; the newest row is the current set."""

    __tablename__ = "needs"
    __table_args__ = (
        one_of("max_physical_demand", PHYSICAL_DEMANDS, "max_physical_demand_valid"),
        one_of("max_social_intensity", SOCIAL_INTENSITIES, "max_social_intensity_valid"),
        codes_only("wanted_types", OPENING_TYPES, "wanted_types_valid"),
        codes_only("task_areas", TASK_AREAS, "task_areas_valid"),
        codes_only("accessibility", ACCESSIBILITY, "accessibility_valid"),
        codes_only("supports", SUPPORTS, "supports_valid"),
        CheckConstraint("days_per_week BETWEEN 1 AND 7", name="days_per_week_range"),
        CheckConstraint("hours_per_day > 0 AND hours_per_day <= 24", name="hours_per_day_range"),
        CheckConstraint("max_travel_km >= 0", name="max_travel_km_non_negative"),
        Index("ix_needs_client_id_id", "client_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    wanted_types: Mapped[tuple[str, ...]] = mapped_column(CodeList, default=())
    task_areas: Mapped[tuple[str, ...]] = mapped_column(CodeList, default=())
    days_per_week: Mapped[int] = mapped_column(Integer)
    hours_per_day: Mapped[float] = mapped_column(Float)
    max_travel_km: Mapped[int] = mapped_column(Integer)
    needs_public_transport: Mapped[bool] = mapped_column(Boolean, default=False)
    accessibility: Mapped[tuple[str, ...]] = mapped_column(CodeList, default=())
    supports: Mapped[tuple[str, ...]] = mapped_column(CodeList, default=())
    max_physical_demand: Mapped[str] = mapped_column(String(10), default="heavy")
    max_social_intensity: Mapped[str] = mapped_column(String(10), default="high")
    languages: Mapped[tuple[str, ...]] = mapped_column(CodeList, default=("fi",))
    earliest_start: Mapped[date | None] = mapped_column(Date)
    # Owner-only free text; removed by the retention purge.
    note: Mapped[str | None] = mapped_column(Text)

    client: Mapped[Client] = relationship(back_populates="needs_history")
