"""Accounts: creating, deactivating, resetting passwords, moving a worker's clients.

Every function takes the acting user (``by``) and checks the rule itself (docs/rules.md §2).
"""

from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from placements import permissions
from placements.codes import ROLES
from placements.errors import Refused
from placements.models import Client, Organisation, User, client_shares
from placements.services import audit
from placements.services.passwords import hash_password, policy_problems
from placements.services.validation import EMAIL


def _may_manage(by) -> None:
    permissions.require(permissions.can_manage_users(by), object_type="user")


def create_user(
    session: Session,
    by,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    organisation_id: int | None = None,
    must_change_password: bool = False,
) -> User:
    _may_manage(by)
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
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    audit.record(session, "user_created", user=by, object_type="user", object_id=user.id, detail=f"role={role}")
    return user


def set_active(session: Session, user: User, active: bool, *, by) -> None:
    """Deactivate (every session ends at once) or reactivate an account."""
    _may_manage(by)
    if user.id == by.id and not active:
        raise Refused(_("You cannot deactivate your own account."))
    user.active = active
    if not active:
        user.session_version += 1
    action = "user_reactivated" if active else "user_deactivated"
    audit.record(session, action, user=by, object_type="user", object_id=user.id)
    session.flush()


def new_one_time_password() -> str:
    return secrets.token_urlsafe(12)


def reset_password(session: Session, user: User, *, by) -> str:
    """Give the account a one-time password that must be changed at the next login."""
    _may_manage(by)
    password = new_one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.session_version += 1
    audit.record(session, "password_reset", user=by, object_type="user", object_id=user.id)
    session.flush()
    return password


def transfer_clients(session: Session, source: User, target: User, *, by) -> int:
    """Move every client of ``source`` to ``target`` without reading the clients' needs."""
    permissions.require(permissions.can_transfer_clients(by), object_type="user", object_id=source.id)
    problems = []
    if source.role != "social_worker" or target.role != "social_worker":
        problems.append(_("Clients can only be moved from one social worker to another."))
    if source.id == target.id:
        problems.append(_("Choose a different social worker to receive the clients."))
    if not target.active:
        problems.append(_("The receiving social worker's account is not active."))
    if problems:
        raise Refused({"target": " ".join(problems)})
    rows = session.execute(select(Client.id, Client.code).where(Client.owner_id == source.id)).all()
    if not rows:
        return 0
    ids = [row.id for row in rows]
    session.execute(update(Client).where(Client.id.in_(ids)).values(owner_id=target.id))
    # The new owner no longer needs a share of their own clients.
    session.execute(
        delete(client_shares).where(client_shares.c.client_id.in_(ids), client_shares.c.user_id == target.id)
    )
    detail = f"from_user={source.id} to_user={target.id}"
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
    return len(rows)
