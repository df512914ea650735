"""Sites and the openings they offer."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placements.codes import (
    ACCESSIBILITY,
    GEOCODE_PRECISIONS,
    OPENING_STATUSES,
    OPENING_TYPES,
    PHYSICAL_DEMANDS,
    SOCIAL_INTENSITIES,
    SUPPORTS,
    TASK_AREAS,
)
from placements.models.base import Base, CodeList, UTCDateTime, codes_only, one_of, utcnow


def new_uuid() -> str:
    return str(uuid.uuid4())


def count_free_places(places_total: int, places_external: int, places_taken: int) -> int:
    """Places nobody holds: total minus participants from elsewhere minus active placements
    (docs/rules.md §3.1). Never negative: a CHECK keeps taken + external <= total."""
    return max(places_total - places_external - places_taken, 0)


class Site(Base):
    __tablename__ = "sites"
    __table_args__ = (
        one_of("geocode_precision", GEOCODE_PRECISIONS, "geocode_precision_valid"),
        codes_only("accessibility", ACCESSIBILITY, "accessibility_valid"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        Index("ix_sites_latitude_longitude", "latitude", "longitude"),
        # The map data's version (services/catalogue.py markers_version) reads only these.
        Index("ix_sites_updated_at_version", "updated_at", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    site_ref: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    street_address: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(ForeignKey("postal_codes.code"))
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"), index=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    geocode_precision: Mapped[str] = mapped_column(String(20))
    accessibility: Mapped[tuple[str, ...]] = mapped_column(CodeList, default=())
    description: Mapped[str] = mapped_column(Text, default="")
    # Lower-cased name, organisation, address, description and opening titles, for text
    # search that treats å, ä and ö the same on SQLite and PostgreSQL.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    organisation: Mapped[Organisation] = relationship(back_populates="sites")  # noqa: F821
    municipality: Mapped[Municipality] = relationship()  # noqa: F821
    openings: Mapped[list[Opening]] = relationship(
        back_populates="site", order_by="Opening.id", cascade="save-update, merge"
    )

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<Site {self.id} {self.site_ref}>"


class Opening(Base):
    __tablename__ = "openings"
    __table_args__ = (
        one_of("type", OPENING_TYPES, "type_valid"),
        one_of("status", OPENING_STATUSES, "status_valid"),
        one_of("physical_demand", PHYSICAL_DEMANDS, "physical_demand_valid"),
        one_of("social_intensity", SOCIAL_INTENSITIES, "social_intensity_valid"),
        codes_only("task_areas", TASK_AREAS, "task_areas_valid"),
        codes_only("supports", SUPPORTS, "supports_valid"),
        CheckConstraint("places_total >= 0", name="places_total_non_negative"),
        CheckConstraint("places_external >= 0", name="places_external_non_negative"),
        CheckConstraint("places_taken >= 0", name="places_taken_non_negative"),
        CheckConstraint("places_external <= places_total", name="external_within_total"),
        CheckConstraint("places_taken + places_external <= places_total", name="no_overbooking"),
        CheckConstraint(
            "days_per_week_min BETWEEN 1 AND 7 AND days_per_week_max BETWEEN 1 AND 7 "
            "AND days_per_week_min <= days_per_week_max",
            name="days_per_week_range",
        ),
        CheckConstraint(
            "hours_per_day_min > 0 AND hours_per_day_max <= 24 AND hours_per_day_min <= hours_per_day_max",
            name="hours_per_day_range",
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        UniqueConstraint("site_id", "type", "title", name="uq_openings_site_type_title"),
        Index("ix_openings_type_status", "type", "status"),
        Index("ix_openings_updated_at_version", "updated_at", "version"),
        Index("ix_openings_last_confirmed_at", "last_confirmed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    type: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    task_areas: Mapped[tuple[str, ...]] = mapped_column(CodeList, default=())
    days_per_week_min: Mapped[int] = mapped_column(Integer)
    days_per_week_max: Mapped[int] = mapped_column(Integer)
    hours_per_day_min: Mapped[float] = mapped_column(Float)
    hours_per_day_max: Mapped[float] = mapped_column(Float)
    places_total: Mapped[int] = mapped_column(Integer)
    places_external: Mapped[int] = mapped_column(Integer, default=0)
    places_taken: Mapped[int] = mapped_column(Integer, default=0)
    supports: Mapped[tuple[str, ...]] = mapped_column(CodeList, default=())
    physical_demand: Mapped[str] = mapped_column(String(10))
    social_intensity: Mapped[str] = mapped_column(String(10))
    languages: Mapped[tuple[str, ...]] = mapped_column(CodeList, default=("fi",))
    status: Mapped[str] = mapped_column(String(10), default="open")
    accepting_from: Mapped[date | None] = mapped_column(Date)
    last_confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    site: Mapped[Site] = relationship(back_populates="openings")

    __mapper_args__ = {"version_id_col": version}

    @hybrid_property
    def free_places(self) -> int:
        """Places nobody holds (docs/rules.md §3.1); in SQL the same arithmetic."""
        return count_free_places(self.places_total, self.places_external, self.places_taken)

    @free_places.inplace.expression
    @classmethod
    def _free_places_expression(cls):
        return cls.places_total - cls.places_external - cls.places_taken

    def is_stale(self, now: datetime, stale_after_days: int) -> bool:
        return self.last_confirmed_at < now - timedelta(days=stale_after_days)

    def __repr__(self) -> str:
        return f"<Opening {self.id} {self.type} {self.title!r}>"
