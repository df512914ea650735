"""Accounts: creating, deactivating, set-password links, password changes, moving a worker's clients.

Every function that acts on someone else's account takes the acting user (``by``) and
checks the rule itself (docs/rules.md §2). A coordinator never sees or sets another
person's password: a new account and a reset give the person a single-use set-password
link (docs/rules.md §11.1, §11.8).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from placements import clock, permissions
from placements.codes import ROLES
from placements.errors import Refused
from placements.models import Client, ClientTransfer, Organisation, PasswordLink, User, client_shares
from placements.services import audit
from placements.services.passwords import (
    hash_password,
    policy_problems,
    unusable_password_hash,
    verify_password,
)
from placements.services.validation import EMAIL

# A set-password link works once, and for this long (docs/rules.md §11.8).
LINK_LIFETIME = timedelta(hours=72)
# Both workers see a transfer on their client list for this long (docs/rules.md §6.8).
TRANSFER_NOTICE_DAYS = 30

# Why a link no longer works; the page explains each (docs/rules.md §11.8).
LINK_UNKNOWN = "unknown"
LINK_USED = "used"
LINK_EXPIRED = "expired"
LINK_REVOKED = "revoked"


def _may_manage(by) -> None:
    permissions.require(permissions.can_manage_users(by), object_type="user")


def create_user(
    session: Session,
    by,
    *,
    email: str,
    name: str,
    role: str,
    password: str | None = None,
    organisation_id: int | None = None,
    must_change_password: bool = False,
) -> User:
    """Create an account. Without ``password`` nobody can log in to it until its owner sets
    a password with a link (``invite_user``); only the command line gives a password."""
    _may_manage(by)
    if password is not None:
        permissions.require(permissions.can_give_password(by), object_type="user")
    email = email.strip().lower()
    problems: dict[str, str] = {}
    if not EMAIL.match(email):
        problems["email"] = _("“%(value)s” is not an e-mail address.", value=email)
    elif session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        problems["email"] = _("An account with this e-mail address already exists.")
    if not name.strip():
        problems["name"] = _("The name is required.")
    if role not in ROLES:
        problems["role"] = _("Unknown role “%(value)s”. Allowed: %(allowed)s.", value=role, allowed=", ".join(ROLES))
    if role == "host" and organisation_id is None:
        problems["organisation"] = _("A site host must belong to an organisation.")
    elif organisation_id is not None and session.get(Organisation, organisation_id) is None:
        problems["organisation"] = _("Organisation %(id)s does not exist.", id=organisation_id)
    if password is not None:
        weak = policy_problems(password, email)
        if weak:
            problems["password"] = " ".join(weak)
    if problems:
        raise Refused(problems)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        organisation_id=organisation_id,
        password_hash=hash_password(password) if password is not None else unusable_password_hash(),
        must_change_password=must_change_password,
        password_set_at=clock.now() if password is not None and not must_change_password else None,
    )
    session.add(user)
    session.flush()
    audit.record(session, "user_created", user=by, object_type="user", object_id=user.id, detail=f"role={role}")
    return user


def invite_user(
    session: Session, by, *, email: str, name: str, role: str, organisation_id: int | None = None
) -> tuple[User, str]:
    """A new account and the secret of its set-password link (shown once, never stored)."""
    user = create_user(session, by, email=email, name=name, role=role, organisation_id=organisation_id)
    return user, _new_link(session, user, "invite")


def deactivation_refused(user: User, by) -> str | None:
    """Why ``by`` may not deactivate ``user`` (None when they may)."""
    if user.id == getattr(by, "id", None):
        return _("You cannot deactivate your own account.")
    return None


def set_active(session: Session, user: User, active: bool, *, by) -> None:
    """Deactivate (every session and unused link ends at once) or reactivate an account."""
    _may_manage(by)
    problem = deactivation_refused(user, by) if not active else None
    if problem:
        raise Refused(problem)
    user.active = active
    if not active:
        user.session_version += 1
        _revoke_links(session, user)
    action = "user_reactivated" if active else "user_deactivated"
    audit.record(session, action, user=by, object_type="user", object_id=user.id)
    session.flush()


def reset_refused(user: User, by) -> str | None:
    """Why ``by`` may not reset ``user``'s password (None when they may)."""
    if user.id == getattr(by, "id", None):
        return _("Change your own password on the Change password page.")
    if not user.active:
        return _("The account is deactivated. Reactivate it first.")
    return None


def reset_password(session: Session, user: User, *, by) -> str:
    """End the account's password and sessions; the secret of a link that lets its owner set
    a new password is returned, to be given to them (docs/rules.md §11.8)."""
    _may_manage(by)
    problem = reset_refused(user, by)
    if problem:
        raise Refused(problem)
    user.password_hash = unusable_password_hash()
    user.password_set_at = None
    user.must_change_password = False
    user.session_version += 1
    token = _new_link(session, user, "reset")
    audit.record(session, "password_reset", user=by, object_type="user", object_id=user.id)
    session.flush()
    return token


# --- set-password links ------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _revoke_links(session: Session, user: User) -> None:
    session.execute(
        update(PasswordLink)
        .where(PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None), PasswordLink.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def _new_link(session: Session, user: User, purpose: str) -> str:
    """A new link for ``user``; earlier unused links stop working. Only its hash is kept."""
    _revoke_links(session, user)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        PasswordLink(
            user_id=user.id,
            token_hash=_token_hash(token),
            purpose=purpose,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    session.flush()
    deliver_password_link(session, user, token, purpose)
    return token


def links_go_by_email() -> bool:
    """With a mail server the set-password link goes to its owner only; without one it is
    shown once to the coordinator who made it (docs/rules.md §11.8)."""
    from flask import current_app

    return bool(current_app.config.get("MAIL_SERVER"))


def password_link_address(token: str) -> str:
    """The full address of a set-password link, for the owner's e-mail."""
    from flask import current_app

    from placements.config import DEVELOPMENT_ORIGIN, public_origin

    path = current_app.url_map.bind("localhost").build("auth.set_password", {"token": token})
    return (public_origin(current_app.config) or DEVELOPMENT_ORIGIN) + path


def deliver_password_link(session: Session, user: User, token: str, purpose: str) -> bool:
    """Send the link to its owner (an e-mail written in this transaction, never kept in the
    inbox); True when it goes by e-mail, so nobody else needs to see it."""
    from placements.services import notifications

    expires_at = clock.now() + LINK_LIFETIME
    notifications.account_link(
        session, user, link=password_link_address(token), expires_at=expires_at, reset=purpose == "reset"
    )
    return links_go_by_email()


def find_link(session: Session, token: str) -> PasswordLink | None:
    if not token or len(token) > 100:
        return None
    return session.scalar(select(PasswordLink).where(PasswordLink.token_hash == _token_hash(token)))


def link_problem(link: PasswordLink | None, now: datetime | None = None) -> str | None:
    """Why the link cannot be used (``LINK_…``), or None when it can."""
    now = now or clock.now()
    if link is None:
        return LINK_UNKNOWN
    if link.used_at is not None:
        return LINK_USED
    if link.revoked_at is not None or not link.user.active:
        return LINK_REVOKED
    if link.expires_at <= now:
        return LINK_EXPIRED
    return None


class LinkNotUsable(Exception):
    """The set-password link is unknown, used, expired or replaced (``reason``)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def set_password_with_link(session: Session, token: str, password: str) -> User:
    """The link's owner sets their password; the link then stops working.

    The link's secret is the authority here, so there is no acting user to check: it was
    made for this account by a coordinator (or the command line) and only its hash is
    stored. Every earlier session of the account ends.
    """
    link = find_link(session, token)
    reason = link_problem(link)
    if reason is not None:
        raise LinkNotUsable(reason)
    user = link.user
    problems = policy_problems(password, user.email)
    if problems:
        raise Refused({"new_password": " ".join(problems)})
    now = clock.now()
    user.password_hash = hash_password(password)
    user.password_set_at = now
    user.must_change_password = False
    user.session_version += 1
    link.used_at = now
    _revoke_links(session, user)
    audit.record(
        session, "password_set", user=user, object_type="user", object_id=user.id, detail=f"link={link.purpose}"
    )
    session.flush()
    return user


def change_own_password(session: Session, user: User, *, current_password: str, new_password: str) -> None:
    """The logged-in user changes their password (docs/rules.md §11.2); the caller renews
    the session so that every other session of the account ends."""
    problems: dict[str, str] = {}
    if not verify_password(user.password_hash, current_password):
        problems["current_password"] = _("The current password is incorrect.")
    weak = policy_problems(new_password, user.email)
    if new_password == current_password:
        weak.append(_("The new password must differ from the current one."))
    if weak:
        problems["new_password"] = " ".join(weak)
    if problems:
        raise Refused(problems)
    user.password_hash = hash_password(new_password)
    user.password_set_at = clock.now()
    user.must_change_password = False
    audit.record(session, "password_changed", user=user, object_type="user", object_id=user.id)
    session.flush()


# --- moving a worker's clients -----------------------------------------------------------


def ready_to_receive_clients(user: User) -> bool:
    """An active social worker who has set their own password and logged in at least once
    (docs/rules.md §6.8): a coordinator cannot route clients to an account nobody uses."""
    return user.role == "social_worker" and user.active and user.has_own_password and user.last_login_at is not None


def transfer_clients(session: Session, source: User, target: User, *, by) -> ClientTransfer:
    """Move every client of ``source`` to ``target`` without reading the clients' needs."""
    permissions.require(permissions.can_transfer_clients(by), object_type="user", object_id=source.id)
    problems = []
    if source.role != "social_worker" or target.role != "social_worker":
        problems.append(_("Clients can only be moved from one social worker to another."))
    elif source.id == target.id:
        problems.append(_("Choose a different social worker to receive the clients."))
    elif not target.active:
        problems.append(_("The receiving social worker's account is not active."))
    elif not ready_to_receive_clients(target):
        problems.append(
            _(
                "%(name)s has not yet set their own password and logged in, so they cannot receive clients.",
                name=target.name,
            )
        )
    if problems:
        raise Refused({"target": " ".join(problems)})
    rows = session.execute(select(Client.id, Client.code).where(Client.owner_id == source.id)).all()
    if not rows:
        raise Refused({"target": _("%(name)s has no clients to move.", name=source.name)})
    ids = [row.id for row in rows]
    session.execute(update(Client).where(Client.id.in_(ids)).values(owner_id=target.id))
    # The new owner no longer needs a share of their own clients.
    session.execute(
        delete(client_shares).where(client_shares.c.client_id.in_(ids), client_shares.c.user_id == target.id)
    )
    transfer = ClientTransfer(
        occurred_at=clock.now(),
        from_user_id=source.id,
        to_user_id=target.id,
        by_user_id=getattr(by, "id", None),
        client_count=len(rows),
    )
    session.add(transfer)
    session.flush()
    detail = f"transfer={transfer.id} from_user={source.id} to_user={target.id}"
    for row in rows:
        audit.record(
            session,
            "client_transferred",
            user=by,
            object_type="client",
            object_id=row.id,
            client_code=row.code,
            purpose="ownership transfer",
            detail=detail,
        )
    announce_transfer(session, transfer)
    return transfer


def announce_transfer(session: Session, transfer: ClientTransfer) -> None:
    """Tell the previous owner and the receiver that clients were moved: a notification to
    each, and a line on both client lists (``recent_transfers``) from the ``ClientTransfer`` row."""
    from placements.services import notifications

    source, target = session.get(User, transfer.from_user_id), session.get(User, transfer.to_user_id)
    by = session.get(User, transfer.by_user_id) if transfer.by_user_id else None
    notifications.clients_transferred(session, source, target, count=transfer.client_count, actor=by)


def recent_transfers(session: Session, user, *, days: int = TRANSFER_NOTICE_DAYS) -> list[ClientTransfer]:
    """Transfers of the last ``days`` days to or from ``user``, newest first (their own
    facts: counts, dates and the other worker's name; never the clients)."""
    if not permissions.has_role(user, permissions.SOCIAL_WORKER):
        return []
    since = clock.now() - timedelta(days=days)
    query = (
        select(ClientTransfer)
        .where(
            or_(ClientTransfer.to_user_id == user.id, ClientTransfer.from_user_id == user.id),
            ClientTransfer.occurred_at >= since,
        )
        .order_by(ClientTransfer.occurred_at.desc(), ClientTransfer.id.desc())
    )
    return list(session.scalars(query))
