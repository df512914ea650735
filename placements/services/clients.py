"""Clients under pseudonymous codes, their needs (versioned), closing and purging.

Every function that reads or changes a client takes the acting user and checks the rule
itself (docs/rules.md §6): only the owner and the workers the client is shared with; the
needs' free-text note only the owner. Every read and change is audited with the code.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from placements import clock, permissions
from placements.codes import CLIENT_CODE, CLIENT_CODE_ALPHABET
from placements.errors import Refused
from placements.models import Client, Municipality, Needs, Opening, Placement, PostalCode, User, client_shares
from placements.services import audit, queue, reference
from placements.services.validation import postal_code_problem

# Finnish personal identity code: DDMMYY, century sign (-, +, A–F, or since 2023 also U–Y),
# three digits and a check character.
IDENTITY_CODE = re.compile(
    r"(?<![0-9])(0[1-9]|[12]\d|3[01])(0[1-9]|1[0-2])\d{2}\s?[-+A-FU-Ya-fu-y]\s?\d{3}[0-9A-Ya-y](?![0-9A-Za-z])"
)
OPEN_PLACEMENT_STATUSES = ("proposed", "active")
# The furthest ahead an earliest start can be recorded.
LONGEST_LEAD_DAYS = 730


def contains_identity_code(text: str | None) -> bool:
    return bool(text) and IDENTITY_CODE.search(text) is not None


def identity_code_message() -> str:
    return _(
        "This looks like a personal identity code. Clients are recorded only under the registry's "
        "pseudonymous code: remove the identity code."
    )


def check_free_text(problems: dict[str, str], **fields: str | None) -> None:
    """No personal identity codes in free text (docs/rules.md §6.3)."""
    for name, value in fields.items():
        if contains_identity_code(value):
            problems[name] = identity_code_message()


def new_code(session: Session) -> str:
    while True:
        body = "".join(secrets.choice(CLIENT_CODE_ALPHABET) for _ in range(8))
        code = f"K-{body[:4]}-{body[4:]}"
        if session.scalar(select(Client.id).where(Client.code == code)) is None:
            return code


def find_by_code(session: Session, code: str) -> Client | None:
    """The client with this code, whoever may read it (no data of it is revealed)."""
    if not CLIENT_CODE.fullmatch(code or ""):
        return None
    return session.scalar(select(Client).where(Client.code == code))


def require_reader(user, client: Client | None, code: str | None = None) -> Client:
    """The client, if ``user`` may read it; a missing client and a forbidden one look alike (404)."""
    allowed = client is not None and permissions.can_read_client(user, client)
    permissions.require(
        allowed,
        status=404,
        object_type="client",
        object_id=client.id if client else None,
        client_code=client.code if client else (code or "")[:11] or None,
    )
    return client


def readable_client(session: Session, user, code: str) -> Client:
    """The client with ``code`` if ``user`` may read it; otherwise ``PermissionDenied`` (404)."""
    return require_reader(user, find_by_code(session, code), code)


def _check_location(session: Session, municipality_code: str, postal_code: str | None) -> dict[str, str]:
    names = reference.municipality_names(session)
    problems = {}
    if municipality_code not in names:
        problems["municipality_code"] = _("Choose a municipality.")
    elif postal_code:
        problem = postal_code_problem(postal_code, session.get(PostalCode, postal_code), municipality_code, names)
        if problem:
            problems["home_postal_code"] = problem
    return problems


def colleagues(session: Session, user: User) -> list[User]:
    """Active social workers other than ``user``: whom a client can be shared with."""
    query = (
        select(User).where(User.role == "social_worker", User.active.is_(True), User.id != user.id).order_by(User.name)
    )
    return list(session.scalars(query))


def _colleagues(session: Session, owner: User, ids) -> list[User]:
    ids = {int(i) for i in ids or () if int(i) != owner.id}
    if not ids:
        return []
    query = select(User).where(User.id.in_(ids), User.role == "social_worker", User.active.is_(True))
    workers = session.scalars(query).all()
    if len(workers) != len(ids):
        raise Refused({"shared_with": _("A client can be shared only with active social workers.")})
    return list(workers)


def _audit(session: Session, action: str, user, client: Client, purpose: str = "client work") -> None:
    audit.record(
        session, action, user=user, object_type="client", object_id=client.id, client_code=client.code, purpose=purpose
    )


def create_client(
    session: Session,
    owner: User,
    *,
    municipality_code: str,
    home_postal_code: str | None,
    age_band: str,
    gender: str | None,
    share_with=(),
) -> Client:
    permissions.require(permissions.can_create_clients(owner), object_type="client")
    problems = _check_location(session, municipality_code, home_postal_code)
    if problems:
        raise Refused(problems)
    client = Client(
        code=new_code(session),
        owner_id=owner.id,
        municipality_code=municipality_code,
        home_postal_code=home_postal_code or None,
        age_band=age_band,
        gender=gender or "unknown",
        status="active",
    )
    client.shared_with = _colleagues(session, owner, share_with)
    session.add(client)
    session.flush()
    _audit(session, "client_created", owner, client)
    return client


def update_client(
    session: Session,
    client: Client,
    user: User,
    *,
    municipality_code: str,
    home_postal_code: str | None,
    age_band: str,
    gender: str | None,
    share_with=None,
) -> None:
    """Change the client's details; only the owner changes whom it is shared with."""
    require_reader(user, client)
    problems = _check_location(session, municipality_code, home_postal_code)
    if problems:
        raise Refused(problems)
    client.municipality_code, client.home_postal_code = municipality_code, home_postal_code or None
    client.age_band, client.gender = age_band, gender or "unknown"
    if share_with is not None and permissions.can_share_client(user, client):
        client.shared_with = _colleagues(session, user, share_with)
    _audit(session, "client_updated", user, client)
    session.flush()


def close_client(session: Session, client: Client, user: User, now: datetime | None = None) -> None:
    """Close the client; history stays for the survey. Open placements must end first."""
    require_reader(user, client)
    busy = exists().where(Placement.client_id == client.id, Placement.status.in_(OPEN_PLACEMENT_STATUSES))
    if session.scalar(select(busy)):
        message = _(
            "The client has a proposed, agreed or active placement. End or cancel it before closing the client."
        )
        raise Refused({"client": message}, status=409)
    client.status, client.closed_at = "closed", now or clock.now()
    queue.client_closed(session, client, user, now=client.closed_at)
    _audit(session, "client_closed", user, client)
    session.flush()


def reopen_client(session: Session, client: Client, user: User) -> None:
    require_reader(user, client)
    if client.purged_at is not None:
        message = _("The client's data has been removed under the retention rule; create a new client instead.")
        raise Refused({"client": message}, status=409)
    client.status, client.closed_at = "active", None
    _audit(session, "client_reopened", user, client)
    session.flush()


def client_placements(session: Session, client: Client, user: User) -> list[Placement]:
    """Every placement of the client, newest first."""
    require_reader(user, client)
    return list(
        session.scalars(select(Placement).where(Placement.client_id == client.id).order_by(Placement.id.desc()))
    )


# --- needs ------------------------------------------------------------------------------------

NEEDS_FIELDS = (
    "wanted_types",
    "task_areas",
    "days_per_week",
    "hours_per_day",
    "max_travel_km",
    "needs_public_transport",
    "accessibility",
    "supports",
    "max_physical_demand",
    "max_social_intensity",
    "languages",
    "earliest_start",
    "note",
)


def _latest_needs(session: Session, client: Client) -> Needs | None:
    query = select(Needs).where(Needs.client_id == client.id).order_by(Needs.id.desc()).limit(1)
    return session.scalar(query)


def current_needs(session: Session, client: Client, user: User) -> Needs | None:
    """The newest needs of the client. The free-text note is the owner's: callers show it
    only when ``permissions.can_edit_needs_note`` allows."""
    require_reader(user, client)
    return _latest_needs(session, client)


def needs_history(session: Session, client: Client, user: User) -> list:
    """(id, saved at, saved by) of every version, newest first."""
    require_reader(user, client)
    query = (
        select(Needs.id, Needs.created_at, User.name)
        .outerjoin(User, User.id == Needs.created_by_id)
        .where(Needs.client_id == client.id)
        .order_by(Needs.id.desc())
    )
    return session.execute(query).all()


def save_needs(session: Session, client: Client, user: User, values: dict) -> Needs:
    """A new version of the client's needs; earlier versions are kept."""
    require_reader(user, client)
    problems = {}
    if not values["wanted_types"]:
        problems["wanted_types"] = _("Choose at least one kind of place.")
    if not values["languages"]:
        problems["languages"] = _("Choose at least one language the client can work in.")
    check_free_text(problems, note=values.get("note"))
    start = values.get("earliest_start")
    if start is not None and not date(2000, 1, 1) <= start <= clock.today() + timedelta(days=LONGEST_LEAD_DAYS):
        problems["earliest_start"] = _("Give a date within the next two years, or leave it empty.")
    if problems:
        raise Refused(problems)
    needs = Needs(client_id=client.id, created_by_id=user.id, **{name: values.get(name) for name in NEEDS_FIELDS})
    if not permissions.can_edit_needs_note(user, client):
        # The free-text note belongs to the owner; a colleague's save keeps the owner's note.
        previous = _latest_needs(session, client)
        needs.note = previous.note if previous else None
    session.add(needs)
    session.flush()
    _audit(session, "needs_saved", user, client, purpose="recording needs")
    return needs


# --- where the client lives, approximately -------------------------------------------------------


@dataclass(frozen=True)
class Home:
    latitude: float
    longitude: float
    label: str
    precision: str  # postal_code | municipality


def home_location(session: Session, client: Client, user: User) -> Home:
    """The centre of the home postal code area when known, else of the municipality."""
    require_reader(user, client)
    if client.home_postal_code:
        postal = session.get(PostalCode, client.home_postal_code)
        if postal is not None and postal.centre_lat is not None:
            return Home(postal.centre_lat, postal.centre_lon, f"{postal.code} {postal.name}", "postal_code")
    municipality = session.get(Municipality, client.municipality_code)
    return Home(municipality.centre_lat, municipality.centre_lon, municipality.name_fi, "municipality")


# --- lists and retention --------------------------------------------------------------------------


def visible_clients_query(user: User):
    """Clients the worker owns or that are shared with them, newest first."""
    permissions.require(permissions.can_create_clients(user), object_type="client")
    shared = select(client_shares.c.client_id).where(client_shares.c.user_id == user.id)
    mine = or_(Client.owner_id == user.id, Client.id.in_(shared))
    return select(Client).where(mine).order_by(Client.status, Client.created_at.desc())


# --- the worker's client list (docs/rules.md §6.11) ----------------------------------------------

# A placement in one of these states is over; any other state (proposed, agreed, active …) is open.
FINISHED_PLACEMENT_STATUSES = ("declined", "cancelled", "ended")
# Where a client stands, for the list's status filter; each client is in exactly one.
LIST_STATES = ("active", "waiting", "placed", "closed")
LIST_SORTS = ("changed", "created", "code")


@dataclass(frozen=True)
class PlacementNotice:
    """A placement as the worker needs to see it beside the client: ``waiting`` for the host's
    answer (``days`` since the proposal), ``current`` (agreed or under way) or ``declined``."""

    placement: Placement
    kind: str
    days: int | None = None


@dataclass(frozen=True)
class ClientRow:
    client: Client
    state: str
    changed_at: datetime
    notices: tuple[PlacementNotice, ...]


def placement_notices(placements: list[Placement], today: date) -> tuple[PlacementNotice, ...]:
    """Every open placement (waiting for an answer, or current); when there is none and the
    newest placement was declined, that one with its reason (docs/rules.md §6.11)."""
    ordered = sorted(placements, key=lambda p: p.id)
    notices = []
    for placement in ordered:
        if placement.status in FINISHED_PLACEMENT_STATUSES:
            continue
        if placement.status == "proposed":
            proposed_on = placement.proposed_at.astimezone(clock.HELSINKI).date()
            notices.append(PlacementNotice(placement, "waiting", max((today - proposed_on).days, 0)))
        else:
            notices.append(PlacementNotice(placement, "current"))
    if not notices and ordered and ordered[-1].status == "declined":
        notices.append(PlacementNotice(ordered[-1], "declined"))
    return tuple(notices)


def list_state(client: Client, notices: tuple[PlacementNotice, ...]) -> str:
    """closed; placed (an open placement that is not only proposed); waiting (a proposal
    without an answer); else active."""
    if client.status == "closed":
        return "closed"
    kinds = {notice.kind for notice in notices}
    if "current" in kinds:
        return "placed"
    if "waiting" in kinds:
        return "waiting"
    return "active"


def client_rows(
    session: Session, user: User, *, code: str = "", state: str | None = None, sort: str = "changed"
) -> list[ClientRow]:
    """The worker's clients for the list: those whose code contains ``code`` (any case, with
    or without the dashes), in ``state`` when given, sorted by last change (newest first),
    by creation (newest first) or by code. The last change is the latest of the client's
    creation, closing, needs saves and placement changes (docs/rules.md §6.11)."""
    if state is not None and state not in LIST_STATES:
        raise ValueError(state)
    if sort not in LIST_SORTS:
        raise ValueError(sort)
    clients = list(session.scalars(visible_clients_query(user)))
    wanted = re.sub(r"[^0-9A-Z]", "", code.upper())
    if wanted:
        clients = [c for c in clients if wanted in c.code.replace("-", "")]
    ids = [c.id for c in clients]
    placements: dict[int, list[Placement]] = {}
    needs_saved: dict[int, datetime] = {}
    if ids:
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            query = select(Placement).where(Placement.client_id.in_(chunk))
            query = query.options(selectinload(Placement.opening).selectinload(Opening.site))
            for placement in session.scalars(query):
                placements.setdefault(placement.client_id, []).append(placement)
            latest = select(Needs.client_id, func.max(Needs.created_at)).where(Needs.client_id.in_(chunk))
            needs_saved.update(
                {client_id: moment for client_id, moment in session.execute(latest.group_by(Needs.client_id))}
            )
    today = clock.today()
    rows = []
    for client in clients:
        own = placements.get(client.id, [])
        notices = placement_notices(own, today)
        moments = [client.created_at, client.closed_at, needs_saved.get(client.id)]
        moments += [moment for p in own for moment in (p.proposed_at, p.decided_at, p.updated_at)]
        changed = max(_aware(m) for m in moments if m is not None)
        row = ClientRow(client, list_state(client, notices), changed, notices)
        if state is None or row.state == state:
            rows.append(row)
    if sort == "code":
        rows.sort(key=lambda r: r.client.code)
    elif sort == "created":
        rows.sort(key=lambda r: (_aware(r.client.created_at), r.client.id), reverse=True)
    else:
        rows.sort(key=lambda r: (r.changed_at, r.client.id), reverse=True)
    return rows


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC from an aggregate; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def open_placement_openings(session: Session, client: Client, user: User) -> set[int]:
    """The openings where the client already has an open placement (proposed, agreed or under
    way): "Propose a placement" is not offered there (docs/rules.md §5.2)."""
    require_reader(user, client)
    query = select(Placement.opening_id).where(
        Placement.client_id == client.id, Placement.status.not_in(FINISHED_PLACEMENT_STATUSES)
    )
    return set(session.scalars(query))


def purge_closed(session: Session, user, *, older_than_days: int, now: datetime | None = None) -> int:
    """Remove closed clients' needs, notes, home postal codes and shares; keep what the
    survey counts need (municipality, age band, gender, placements and their dates)."""
    permissions.require(permissions.can_purge_clients(user), object_type="client")
    now = now or clock.now()
    cutoff = now - timedelta(days=older_than_days)
    due = select(Client.id).where(Client.status == "closed", Client.closed_at < cutoff, Client.purged_at.is_(None))
    ids = session.scalars(due).all()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(delete(Needs).where(Needs.client_id.in_(chunk)))
        session.execute(delete(client_shares).where(client_shares.c.client_id.in_(chunk)))
        notes = {"note_for_host": None, "decline_reason": None}
        session.execute(update(Placement).where(Placement.client_id.in_(chunk)).values(**notes))
        session.execute(update(Client).where(Client.id.in_(chunk)).values(home_postal_code=None, purged_at=now))
    if ids:
        detail = f"count={len(ids)} closed_before={cutoff.date().isoformat()}"
        audit.record(session, "clients_purged", user=user, object_type="client", detail=detail, purpose="retention")
    return len(ids)
