"""Notifications, their delivery preferences and the e-mail outbox (docs/rules.md §15)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from placements.codes import DELIVERIES, NOTIFICATION_EMAIL_STATES, NOTIFICATION_KINDS, OUTBOX_STATUSES
from placements.models.base import Base, UTCDateTime, one_of, utcnow


class Notification(Base):
    """Something a person should know: shown in their inbox, e-mailed as they prefer.

    ``params`` holds the facts the text is built from (JSON), rendered in the reader's
    language when shown; never client needs, and a client code only for recipients who
    may see it.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        one_of("kind", NOTIFICATION_KINDS, "kind_valid"),
        one_of("email", NOTIFICATION_EMAIL_STATES, "email_valid"),
        Index("ix_notifications_recipient_id_read_at", "recipient_id", "read_at"),
        Index("ix_notifications_kind_subject", "kind", "subject_type", "subject_id"),
        Index("ix_notifications_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(30))
    subject_type: Mapped[str | None] = mapped_column(String(30))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    client_code: Mapped[str | None] = mapped_column(String(11))
    params: Mapped[str] = mapped_column(Text, default="{}")
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # none: inbox only; pending: in the outbox; digest: waits for the daily summary; sent
    email: Mapped[str] = mapped_column(String(10), default="none")
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"), index=True)

    recipient: Mapped[User] = relationship()  # noqa: F821


class NotificationPreference(Base):
    """How a user wants one kind of notification delivered; absent means the default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        one_of("kind", NOTIFICATION_KINDS, "kind_valid"),
        one_of("delivery", DELIVERIES, "delivery_valid"),
        UniqueConstraint("user_id", "kind", name="uq_notification_preferences_user_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    delivery: Mapped[str] = mapped_column(String(10))


class OutboxMessage(Base):
    """An e-mail waiting to be sent, written in the transaction of the change that causes it.

    Senders claim a message before sending it, so it goes out once however many run.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        one_of("status", OUTBOX_STATUSES, "status_valid"),
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_messages_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    recipient_email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2), default="fi")
    kind: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # A body that lets its reader act (a set-password link) is erased once sent.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
