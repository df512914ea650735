"""Survey rounds (docs/rules.md §17): the region's count, asked of every host by a deadline,
answered per organisation and per opening, and frozen into snapshot rows when it closes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placements.codes import LINE_ANSWERS, OPENING_STATUSES, RESPONSE_STATUSES, ROUND_STATUSES
from placements.models.base import Base, CodeList, UTCDateTime, one_of, utcnow


class SurveyRound(Base):
    """A round: what it asks (reference date, period, scope), by when, and where it stands."""

    __tablename__ = "survey_rounds"
    __table_args__ = (
        one_of("status", ROUND_STATUSES, "status_valid"),
        CheckConstraint("period_start <= period_end", name="period_order"),
        Index("ix_survey_rounds_reference_date", "reference_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    reference_date: Mapped[date] = mapped_column(Date)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    # Scope; empty means all. Organisation ids are stored as codes ("|12|15|").
    municipalities: Mapped[tuple[str, ...]] = mapped_column(CodeList, default=())
    opening_types: Mapped[tuple[str, ...]] = mapped_column(CodeList, default=())
    organisation_ids: Mapped[tuple[str, ...]] = mapped_column(CodeList, default=())
    status: Mapped[str] = mapped_column(String(10), default="opening")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_reason: Mapped[str | None] = mapped_column(String(500))

    responses: Mapped[list[RoundResponse]] = relationship(back_populates="round", order_by="RoundResponse.id")

    def __repr__(self) -> str:
        return f"<SurveyRound {self.id} {self.status}>"


class RoundResponse(Base):
    """One organisation's answer to a round."""

    __tablename__ = "round_responses"
    __table_args__ = (
        one_of("status", RESPONSE_STATUSES, "status_valid"),
        UniqueConstraint("round_id", "organisation_id", name="uq_round_responses_round_organisation"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="not_started")
    comment: Mapped[str] = mapped_column(Text, default="")
    # Participants during the period not placed through the registry: {"18-24": {"female": 2}}.
    outside_groups: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    round: Mapped[SurveyRound] = relationship(back_populates="responses")
    organisation: Mapped[Organisation] = relationship()  # noqa: F821
    lines: Mapped[list[ResponseLine]] = relationship(back_populates="response", order_by="ResponseLine.id")


class ResponseLine(Base):
    """The answer about one opening: confirmed as is, corrected, or closed."""

    __tablename__ = "round_response_lines"
    __table_args__ = (
        one_of("answer", LINE_ANSWERS, "answer_valid"),
        one_of("status", OPENING_STATUSES, "status_valid"),
        CheckConstraint("places_total >= 0 AND places_external >= 0", name="places_non_negative"),
        CheckConstraint("participants_outside IS NULL OR participants_outside >= 0", name="outside_non_negative"),
        UniqueConstraint("response_id", "opening_id", name="uq_round_response_lines_response_opening"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("round_responses.id"))
    opening_id: Mapped[int] = mapped_column(ForeignKey("openings.id"), index=True)
    answer: Mapped[str] = mapped_column(String(10), default="pending")
    places_total: Mapped[int] = mapped_column(Integer)
    places_external: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    participants_outside: Mapped[int | None] = mapped_column(Integer)

    response: Mapped[RoundResponse] = relationship(back_populates="lines")
    opening: Mapped[Opening] = relationship()  # noqa: F821


class RoundSnapshotRow(Base):
    """A closed round's figures for one opening, copied when it closed; never updated."""

    __tablename__ = "round_snapshot_rows"
    __table_args__ = (one_of("status", OPENING_STATUSES, "status_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(Integer)
    organisation_name: Mapped[str] = mapped_column(String(200))
    site_id: Mapped[int] = mapped_column(Integer)
    opening_id: Mapped[int] = mapped_column(Integer)
    municipality_code: Mapped[str] = mapped_column(String(3))
    opening_type: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10))
    places_total: Mapped[int] = mapped_column(Integer)
    places_external: Mapped[int] = mapped_column(Integer)
    participants_registry: Mapped[int] = mapped_column(Integer)
    participants_outside: Mapped[int] = mapped_column(Integer)
    answered: Mapped[bool] = mapped_column(Boolean)


class RoundSnapshotGroup(Base):
    """A closed round's participants from outside the registry by age band and gender."""

    __tablename__ = "round_snapshot_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(Integer)
    age_band: Mapped[str] = mapped_column(String(10))
    gender: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(Integer)
