"""Accounts of hosts, social workers and coordinators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placements.codes import ROLES, USER_LANGUAGES
from placements.models.base import Base, UTCDateTime, one_of, utcnow


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        one_of("role", ROLES, "role_valid"),
        one_of("language", USER_LANGUAGES, "language_valid"),
        CheckConstraint("role <> 'host' OR organisation_id IS NOT NULL", name="host_has_organisation"),
        CheckConstraint("email = LOWER(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language of the user's e-mail (and of the pages, once chosen while logged in).
    language: Mapped[str] = mapped_column(String(2), default="fi", server_default="fi")

    organisation: Mapped[Organisation | None] = relationship()  # noqa: F821

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
