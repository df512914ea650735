"""The e-mail outbox (docs/rules.md §15.3): messages written in the transaction of the
change that causes them, and senders that deliver each one once.

A sender claims due messages (on PostgreSQL ``FOR UPDATE SKIP LOCKED``; on SQLite a
conditional UPDATE, one sender), commits the claim, sends, and records the result in a
transaction of its own. A message whose sender stopped half-way is given back after
``CLAIM_TIMEOUT`` (so a crash can, rarely, send one twice; several senders never do).
Without MAIL_SERVER the message is written as an .eml file under the instance folder.
"""

from __future__ import annotations

import json
import logging
import secrets
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from placements import clock, unit_of_work
from placements.config import DEVELOPMENT_ORIGIN, public_origin
from placements.models import Notification, OutboxMessage, User

log = logging.getLogger(__name__)

# Seconds to wait before the next attempt after the 1st, 2nd, … failure.
BACKOFF = (60, 300, 1800, 7200, 21600)
MAX_ATTEMPTS = 6
CLAIM_TIMEOUT = timedelta(minutes=15)


class TransientError(Exception):
    """The server could not take the message now; try again later."""


class PermanentError(Exception):
    """The server refused the message for good (e.g. no such recipient)."""


# --- writing messages ---------------------------------------------------------------------


def _absolute(path: str | None) -> str:
    """A full address for a link in a message: from SERVER_NAME, else the development one."""
    base = public_origin(current_app.config) or DEVELOPMENT_ORIGIN
    return base + path if path and path.startswith("/") else (path or base + "/")


def compose(user: User, notifications: list[Notification], *, extra: dict | None = None) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of one message to ``user`` in their language."""
    from placements.services.notifications import describe
    from placements.services.tokens import confirm_link

    with force_locale(user.language or "fi"):
        items = []
        for notification in notifications:
            text = describe(notification)
            item = {"title": text.title, "lines": text.lines, "link": _absolute(notification.link), "openings": []}
            if notification.kind == "stale_digest":
                for opening in json.loads(notification.params or "{}").get("openings", []):
                    item["openings"].append(
                        opening
                        | {
                            "confirm_link": _absolute(confirm_link(opening["id"], user.id, opening["confirmed_at"])),
                            "update_link": _absolute(f"/openings/{opening['id']}/capacity"),
                        }
                    )
            items.append(item)
        context = {
            "user": user,
            "items": items,
            "extra": extra or {},
            "summary": len(items) > 1,
            "preferences_link": _absolute("/account/preferences"),
            "registry_link": _absolute("/"),
            "kind": notifications[0].kind if notifications else "",
        }
        subject = render_template("mail/subject.txt", **context).strip()
        text = render_template("mail/message.txt", **context)
        html = render_template("mail/message.html", **context)
    return subject, text, html


def queue(
    session: Session,
    user: User,
    notifications: list[Notification],
    *,
    kind: str,
    extra: dict | None = None,
    sensitive: bool = False,
) -> OutboxMessage:
    """An outbox row for ``notifications``, in the caller's transaction."""
    message = build_message(user, notifications, kind=kind, extra=extra, sensitive=sensitive)
    session.add(message)
    session.flush()
    for notification in notifications:
        notification.email = "pending"
        notification.outbox_message_id = message.id
    return message


def build_message(
    user: User, notifications: list[Notification], *, kind: str, extra: dict | None = None, sensitive: bool = False
) -> OutboxMessage:
    """The outbox row for ``notifications``, not yet added (for writing many at once)."""
    subject, text, html = compose(user, notifications, extra=extra)
    return OutboxMessage(
        recipient_id=user.id,
        recipient_email=user.email,
        language=user.language or "fi",
        kind=kind,
        subject=subject[:300],
        body_text=text,
        body_html=html,
        sensitive=sensitive,
        status="pending",
        next_attempt_at=clock.now(),
        created_at=clock.now(),
    )


# --- sending ----------------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def _claim(session: Session, sender: str, limit: int, now: datetime) -> list[int]:
    """Claim up to ``limit`` due messages for ``sender`` (its own transaction)."""
    with unit_of_work.work(session):
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - CLAIM_TIMEOUT)
            .values(status="pending", last_error="The sender stopped before finishing; sending again.")
            .execution_options(synchronize_session=False)
        )
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        ids = list(session.scalars(due))
        if not ids:
            return []
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "pending")
            .values(status="sending", claimed_at=now, claimed_by=sender)
            .execution_options(synchronize_session=False)
        )
        mine = select(OutboxMessage.id).where(
            OutboxMessage.id.in_(ids), OutboxMessage.status == "sending", OutboxMessage.claimed_by == sender
        )
        return list(session.scalars(mine))


def build_email(message: OutboxMessage, config) -> EmailMessage:
    email = EmailMessage()
    sender = config.get("MAIL_FROM", "")
    email["From"] = sender
    email["To"] = message.recipient_email
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email["Message-ID"] = make_msgid(idstring=f"outbox.{message.id}", domain=domain)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    email["Content-Language"] = message.language  # after the content: set_content clears Content-*
    return email


def deliver(email: EmailMessage, config, instance_path: str) -> None:
    """Send over SMTP (STARTTLS when MAIL_USE_TLS), or write an .eml file without a server."""
    server = config.get("MAIL_SERVER")
    if not server:
        folder = Path(instance_path) / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{clock.now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.eml"
        (folder / name).write_bytes(bytes(email))
        return
    try:
        with smtplib.SMTP(server, config.get("MAIL_PORT", 587), timeout=config.get("MAIL_TIMEOUT", 30)) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
            smtp.send_message(email)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if all(400 <= code < 500 for code in codes):
            raise TransientError(str(error)) from error
        raise PermanentError(str(error)) from error
    except smtplib.SMTPResponseException as error:
        if 400 <= error.smtp_code < 500:
            raise TransientError(f"{error.smtp_code} {error.smtp_error!r}") from error
        raise PermanentError(f"{error.smtp_code} {error.smtp_error!r}") from error
    except (OSError, smtplib.SMTPException) as error:
        raise TransientError(f"{type(error).__name__}: {error}") from error


def _finish(session: Session, message_id: int, *, error: Exception | None, now: datetime) -> str:
    """Record one message's outcome in its own transaction; returns sent | retry | failed."""
    with unit_of_work.work(session):
        message = session.get(OutboxMessage, message_id)
        message.attempts += 1
        message.claimed_at = message.claimed_by = None
        if error is None:
            message.status, message.sent_at, message.last_error = "sent", now, None
            if message.sensitive:
                message.body_text = message.body_html = ""
            session.execute(
                update(Notification)
                .where(Notification.outbox_message_id == message.id)
                .values(email="sent")
                .execution_options(synchronize_session=False)
            )
            return "sent"
        message.last_error = str(error)[:500]
        if isinstance(error, PermanentError) or message.attempts >= MAX_ATTEMPTS:
            message.status = "failed"
            return "failed"
        message.status = "pending"
        message.next_attempt_at = now + timedelta(seconds=BACKOFF[min(message.attempts, len(BACKOFF)) - 1])
        return "retry"


def send_pending(session: Session, *, config=None, instance_path: str | None = None, limit: int = 50) -> SendReport:
    """Deliver the due messages once each; safe to run from several processes at once."""
    config = config or current_app.config
    instance_path = instance_path or current_app.instance_path
    sender = secrets.token_hex(8)
    report = SendReport()
    while True:
        ids = _claim(session, sender, limit, clock.now())
        if not ids:
            return report
        for message_id in ids:
            message = session.get(OutboxMessage, message_id)
            error = None
            try:
                deliver(build_email(message, config), config, instance_path)
            except (TransientError, PermanentError) as caught:
                error = caught
                log.warning("Mail to outbox message %s failed: %s", message_id, caught)
            outcome = _finish(session, message_id, error=error, now=clock.now())
            if outcome == "sent":
                report.sent += 1
            elif outcome == "retry":
                report.retried += 1
            else:
                report.failed += 1
            if error is not None:
                report.errors.append(f"{message_id}: {error}")
