"""Clients under pseudonymous codes, their needs (versioned), closing and purging.

Every read, change or export of client data is audited by the caller's view or command
with the client's code; these functions audit the changes they make.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from placements import clock
from placements.models import Client, Municipality, Needs, Placement, PostalCode, User, client_shares
from placements.services import audit
from placements.services.validation import postal_code_problem

# Unambiguous characters: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_PATTERN = re.compile(r"^K-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")
# Finnish personal identity code: DDMMYY, century sign (-, +, A–F, or since 2023 also U–Y),
# three digits and a check character.
IDENTITY_CODE = re.compile(r"(?<![0-9])(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d{2}\s?[-+A-FU-Ya-fu-y]\s?\d{3}[0-9A-Ya-y](?![0-9A-Za-z])")
OPEN_PLACEMENT_STATUSES = ("proposed", "active")


class ClientError(ValueError):
    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def contains_identity_code(text: str | None) -> bool:
    return bool(text) and IDENTITY_CODE.search(text) is not None


def identity_code_message() -> str:
    return _("This looks like a personal identity code. Clients are recorded only under the registry's pseudonymous code: remove the identity code.")


def check_free_text(problems: dict[str, str], **fields: str | None) -> None:
    for name, value in fields.items():
        if contains_identity_code(value):
            problems[name] = identity_code_message()


def new_code(session: Session) -> str:
    while True:
        body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        code = f"K-{body[:4]}-{body[4:]}"
        if session.scalar(select(Client.id).where(Client.code == code)) is None:
            return code


def find_by_code(session: Session, code: str) -> Client | None:
    if not CODE_PATTERN.match(code or ""):
        return None
    return session.scalar(select(Client).where(Client.code == code))


def _check_location(session: Session, municipality_code: str, postal_code: str | None) -> dict[str, str]:
    names = dict(session.execute(select(Municipality.code, Municipality.name_fi)).all())
    problems = {}
    if municipality_code not in names:
        problems["municipality_code"] = _("Choose a municipality.")
    elif postal_code:
        problem = postal_code_problem(postal_code, session.get(PostalCode, postal_code), municipality_code, names)
        if problem:
            problems["home_postal_code"] = problem
    return problems


def _colleagues(session: Session, owner: User, ids) -> list[User]:
    ids = {int(i) for i in ids or () if int(i) != owner.id}
    if not ids:
        return []
    workers = session.scalars(select(User).where(User.id.in_(ids), User.role == "social_worker", User.active.is_(True))).all()
    if len(workers) != len(ids):
        raise ClientError({"shared_with": _("A client can be shared only with active social workers.")})
    return list(workers)


def create_client(session: Session, owner: User, *, municipality_code: str, home_postal_code: str | None, age_band: str, gender: str | None, share_with=()) -> Client:
    problems = _check_location(session, municipality_code, home_postal_code)
    if problems:
        raise ClientError(problems)
    client = Client(
        code=new_code(session), owner_id=owner.id, municipality_code=municipality_code,
        home_postal_code=home_postal_code or None, age_band=age_band, gender=gender or "unknown", status="active",
    )  # fmt: skip
    client.shared_with = _colleagues(session, owner, share_with)
    session.add(client)
    session.flush()
    audit.record(session, "client_created", user=owner, object_type="client", object_id=client.id, client_code=client.code, purpose="client work")
    return client


def update_client(session: Session, client: Client, user: User, *, municipality_code: str, home_postal_code: str | None, age_band: str, gender: str | None, share_with=None) -> None:
    problems = _check_location(session, municipality_code, home_postal_code)
    if problems:
        raise ClientError(problems)
    client.municipality_code, client.home_postal_code = municipality_code, home_postal_code or None
    client.age_band, client.gender = age_band, gender or "unknown"
    if share_with is not None and user.id == client.owner_id:
        client.shared_with = _colleagues(session, user, share_with)
    audit.record(session, "client_updated", user=user, object_type="client", object_id=client.id, client_code=client.code, purpose="client work")
    session.flush()


def close_client(session: Session, client: Client, user: User, now: datetime) -> None:
    """Close the client; history stays for the survey. Open placements must end first."""
    busy = session.scalar(select(exists().where(Placement.client_id == client.id, Placement.status.in_(OPEN_PLACEMENT_STATUSES))))
    if busy:
        raise ClientError({"client": _("The client has a proposed or active placement. End or cancel it before closing the client.")})
    client.status, client.closed_at = "closed", now
    audit.record(session, "client_closed", user=user, object_type="client", object_id=client.id, client_code=client.code, purpose="client work")
    session.flush()


def reopen_client(session: Session, client: Client, user: User) -> None:
    if client.purged_at is not None:
        raise ClientError({"client": _("The client's data has been removed under the retention rule; create a new client instead.")})
    client.status, client.closed_at = "active", None
    audit.record(session, "client_reopened", user=user, object_type="client", object_id=client.id, client_code=client.code, purpose="client work")
    session.flush()


# --- needs ------------------------------------------------------------------------------------

NEEDS_FIELDS = (
    "wanted_types", "task_areas", "days_per_week", "hours_per_day", "max_travel_km", "needs_public_transport",
    "accessibility", "supports", "max_physical_demand", "max_social_intensity", "languages", "earliest_start", "note",
)  # fmt: skip


def current_needs(session: Session, client: Client) -> Needs | None:
    return session.scalar(select(Needs).where(Needs.client_id == client.id).order_by(Needs.id.desc()).limit(1))


def save_needs(session: Session, client: Client, user: User, values: dict) -> Needs:
    """A new version of the client's needs; earlier versions are kept."""
    problems = {}
    if not values["wanted_types"]:
        problems["wanted_types"] = _("Choose at least one kind of place.")
    if not values["languages"]:
        problems["languages"] = _("Choose at least one language the client can work in.")
    check_free_text(problems, note=values.get("note"))
    start = values.get("earliest_start")
    if start is not None and not date(2000, 1, 1) <= start <= clock.today() + timedelta(days=730):
        problems["earliest_start"] = _("Give a date within the next two years, or leave it empty.")
    if problems:
        raise ClientError(problems)
    needs = Needs(client_id=client.id, created_by_id=user.id, **{name: values.get(name) for name in NEEDS_FIELDS})
    if user.id != client.owner_id:
        # The free-text note belongs to the owner; a colleague's save keeps the owner's note.
        previous = current_needs(session, client)
        needs.note = previous.note if previous else None
    session.add(needs)
    session.flush()
    audit.record(session, "needs_saved", user=user, object_type="client", object_id=client.id, client_code=client.code, purpose="recording needs")
    return needs


# --- where the client lives, approximately -------------------------------------------------------


@dataclass(frozen=True)
class Home:
    latitude: float
    longitude: float
    label: str
    precision: str  # postal_code | municipality


def home_location(session: Session, client: Client) -> Home:
    municipality = session.get(Municipality, client.municipality_code)
    if client.home_postal_code:
        postal = session.get(PostalCode, client.home_postal_code)
        if postal is not None and postal.centre_lat is not None:
            return Home(postal.centre_lat, postal.centre_lon, f"{postal.code} {postal.name}", "postal_code")
    return Home(municipality.centre_lat, municipality.centre_lon, municipality.name_fi, "municipality")


# --- lists and retention --------------------------------------------------------------------------


def visible_clients_query(user: User):
    """Clients the worker owns or that are shared with them, newest first."""
    shared = select(client_shares.c.client_id).where(client_shares.c.user_id == user.id)
    return select(Client).where(or_(Client.owner_id == user.id, Client.id.in_(shared))).order_by(Client.status, Client.created_at.desc())


def purge_closed(session: Session, *, older_than_days: int, now: datetime) -> int:
    """Remove closed clients' needs, notes, home postal codes and shares; keep what the
    survey counts need (municipality, age band, gender, placements and their dates)."""
    cutoff = now - timedelta(days=older_than_days)
    ids = session.scalars(select(Client.id).where(Client.status == "closed", Client.closed_at < cutoff, Client.purged_at.is_(None))).all()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(delete(Needs).where(Needs.client_id.in_(chunk)))
        session.execute(delete(client_shares).where(client_shares.c.client_id.in_(chunk)))
        session.execute(update(Placement).where(Placement.client_id.in_(chunk)).values(note_for_host=None, decline_reason=None))
        session.execute(update(Client).where(Client.id.in_(chunk)).values(home_postal_code=None, purged_at=now))
    if ids:
        audit.record(session, "clients_purged", object_type="client", detail=f"count={len(ids)} closed_before={cutoff.date().isoformat()}", purpose="retention")
    return len(ids)
