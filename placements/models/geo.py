"""Reference geography: municipalities and postal codes (loaded by migrations)."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from placements.models.base import Base

# Postal code types in Posti's file: only type 1 is a street-address area.
STREET_ADDRESS_AREA = 1


class Municipality(Base):
    __tablename__ = "municipalities"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name_fi: Mapped[str] = mapped_column(String(80))
    name_sv: Mapped[str] = mapped_column(String(80))
    centre_lat: Mapped[float] = mapped_column(Float)
    centre_lon: Mapped[float] = mapped_column(Float)

    def __repr__(self) -> str:
        return f"<Municipality {self.code} {self.name_fi}>"


class PostalCode(Base):
    __tablename__ = "postal_codes"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    type_code: Mapped[int] = mapped_column(Integer)
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipalities.code"), index=True)
    # Centre of the postal code area, once known (e.g. from the geocoder's cache).
    centre_lat: Mapped[float | None] = mapped_column(Float)
    centre_lon: Mapped[float | None] = mapped_column(Float)
