"""Organisations that run sites."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placements.codes import ORGANISATION_KINDS
from placements.models.base import Base, UTCDateTime, one_of, utcnow


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (one_of("kind", ORGANISATION_KINDS, "kind_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid4()))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    business_id: Mapped[str | None] = mapped_column(String(9), unique=True)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sites: Mapped[list[Site]] = relationship(  # noqa: F821
        back_populates="organisation", order_by="Site.name"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name}>"
