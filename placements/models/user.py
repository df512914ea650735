"""Accounts of hosts, social workers and coordinators, the links that let a person set
their own password, and the record of clients moved from one worker to another."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placements.codes import PASSWORD_LINK_PURPOSES, ROLES, USER_LANGUAGES
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
    # When the person last chose their own password (a set-password link or a change);
    # None while the account has no password its owner chose (docs/rules.md §11.1).
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language of the user's e-mail (and of the pages, once chosen while logged in).
    language: Mapped[str] = mapped_column(String(2), default="fi", server_default="fi")

    organisation: Mapped[Organisation | None] = relationship()  # noqa: F821

    @property
    def has_own_password(self) -> bool:
        """The owner chose the password in use (not a link still unused, not a demo password)."""
        return self.password_set_at is not None and not self.must_change_password

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


class PasswordLink(Base):
    """A single-use link that lets the account's owner set their password (docs/rules.md §11.8).

    Only a SHA-256 hash of the link's secret is stored; the secret itself is shown once.
    """

    __tablename__ = "password_links"
    __table_args__ = (one_of("purpose", PASSWORD_LINK_PURPOSES, "purpose_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A newer link, a deactivation or a password change made this one invalid.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class ClientTransfer(Base):
    """One move of a worker's clients to another worker, shown to both (docs/rules.md §6.8).

    The moved clients' codes are in the audit trail (``client_transferred``, one event per
    client, whose detail names this transfer).
    """

    __tablename__ = "client_transfers"
    __table_args__ = (
        Index("ix_client_transfers_to_user_id_occurred_at", "to_user_id", "occurred_at"),
        Index("ix_client_transfers_from_user_id_occurred_at", "from_user_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The coordinator who moved them (None for the command line).
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client_count: Mapped[int] = mapped_column(Integer)

    from_user: Mapped[User] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User] = relationship(foreign_keys=[to_user_id])
