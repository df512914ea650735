"""Creating user accounts."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from placements.codes import ROLES
from placements.models import Organisation, User
from placements.services import audit
from placements.services.passwords import hash_password, policy_problems
from placements.services.validation import EMAIL


class UserError(ValueError):
    """The account could not be created; ``problems`` says why."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    organisation_id: int | None = None,
    created_by: User | None = None,
) -> User:
    email = email.strip().lower()
    problems = []
    if not EMAIL.match(email):
        problems.append(_("“%(value)s” is not an e-mail address.", value=email))
    elif session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        problems.append(_("An account with this e-mail address already exists."))
    if not name.strip():
        problems.append(_("The name is required."))
    if role not in ROLES:
        problems.append(_("Unknown role “%(value)s”. Allowed: %(allowed)s.", value=role, allowed=", ".join(ROLES)))
    if role == "host":
        if organisation_id is None:
            problems.append(_("A site host must belong to an organisation."))
        elif session.get(Organisation, organisation_id) is None:
            problems.append(_("Organisation %(id)s does not exist.", id=organisation_id))
    elif organisation_id is not None and session.get(Organisation, organisation_id) is None:
        problems.append(_("Organisation %(id)s does not exist.", id=organisation_id))
    problems.extend(policy_problems(password))
    if problems:
        raise UserError(problems)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        organisation_id=organisation_id,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(session, "user_created", user=created_by, object_type="user", object_id=user.id, detail=f"role={role}")
    return user
