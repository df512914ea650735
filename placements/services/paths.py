"""A client's service path (palvelupolku, docs/rules.md §18): the plan with its responsible
worker (asiakasvastaava), its history, the timeline of the path, and a worker's
"Vaatii huomiota" list.

Plans are client data: only the client's workers (the owner and the colleagues the client is
shared with) read or write them, never a host or a coordinator; every read and save is
audited with the client's code. Plan texts follow the free-text rules (§6.3, §11.11).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from placements import formats, permissions
from placements.errors import Refused
from placements.models import (
    Client,
    Needs,
    Notification,
    Opening,
    Placement,
    PlanEntry,
    QueueEntry,
    User,
    client_shares,
)
from placements.services import audit
from placements.services.clients import check_free_text, require_reader
from placements.services.input_checks import date_problem, text_problem
from placements.services.placements import add_months

# A plan of a client in rehabilitative work activity is reviewed at least this often.
KTT_REVIEW_MONTHS = 6
# How far ahead the attention list looks for starts, ends and reviews.
AHEAD_DAYS = 14
# A client with needs and no proposal for this long is brought up.
IDLE_DAYS = 30
GOAL_LIMIT, STEP_LIMIT = 500, 1000
# Statuses of a placement the host has accepted (an agreed placement waits for its start).
ACCEPTED = ("agreed", "active", "ended")


def _audit(session: Session, action: str, user, client: Client, detail: str | None = None) -> None:
    audit.record(
        session,
        action,
        user=user,
        object_type="client",
        object_id=client.id,
        client_code=client.code,
        purpose="service path",
        detail=detail,
    )


def workers(client: Client) -> list[User]:
    """Who can be the responsible worker: the owner and the colleagues the client is shared with."""
    return [client.owner, *client.shared_with]


def _latest_plan(session: Session, client_id: int) -> PlanEntry | None:
    return session.scalar(
        select(PlanEntry).where(PlanEntry.client_id == client_id).order_by(PlanEntry.id.desc()).limit(1)
    )


# "Not given": the function looks the client's current plan up itself.
_LOOK_UP = object()


def responsible_worker(session: Session, client: Client, *, plan=_LOOK_UP) -> User:
    """The plan's responsible worker while they still work with the client, else the owner.
    ``plan``: the client's current plan when the caller has it already."""
    plan = _latest_plan(session, client.id) if plan is _LOOK_UP else plan
    if plan is not None and any(w.id == plan.responsible_worker_id for w in workers(client)):
        return plan.responsible_worker
    return client.owner


def current_plan(session: Session, client: Client, user: User) -> PlanEntry | None:
    require_reader(user, client)
    return _latest_plan(session, client.id)


def plan_history(session: Session, client: Client, user: User) -> list[PlanEntry]:
    require_reader(user, client)
    query = (
        select(PlanEntry)
        .where(PlanEntry.client_id == client.id)
        .options(joinedload(PlanEntry.responsible_worker), joinedload(PlanEntry.created_by))
        .order_by(PlanEntry.id.desc())
    )
    return list(session.scalars(query))


def _ktt_since(session: Session, client_id: int) -> date | None:
    """The start of the client's earliest proposed or active KTT placement, if any."""
    return session.scalar(
        select(func.min(Placement.start_date))
        .join(Opening, Opening.id == Placement.opening_id)
        .where(
            Placement.client_id == client_id,
            Placement.status.in_(("proposed", "active")),
            Opening.type == "rehabilitative_work",
        )
    )


def review_due(plan: PlanEntry | None, ktt_since: date | None) -> date | None:
    """When the plan must next be reviewed (docs/rules.md §18.2): its review date; and for a
    client in KTT, at the latest six months after the plan was last saved (or after the KTT
    start when there is no plan since)."""
    due = plan.review_on if plan else None
    if ktt_since is not None:
        saved = plan.created_at.date() if plan else None
        base = max(saved, ktt_since) if saved else ktt_since
        ktt_due = add_months(base, KTT_REVIEW_MONTHS)
        due = min(due, ktt_due) if due else ktt_due
    return due


def plan_review_due(session: Session, client: Client, user: User, *, plan=_LOOK_UP) -> date | None:
    require_reader(user, client)
    plan = _latest_plan(session, client.id) if plan is _LOOK_UP else plan
    return review_due(plan, _ktt_since(session, client.id))


def save_plan(
    session: Session,
    client: Client,
    user: User,
    *,
    responsible_worker_id: int | None,
    goal: str,
    next_step: str,
    next_step_on: date | None,
    review_on: date | None,
    today: date,
) -> PlanEntry:
    """A new version of the client's plan; earlier versions are kept (the path shows them)."""
    require_reader(user, client)
    problems: dict[str, str] = {}
    goal, next_step = (goal or "").strip(), (next_step or "").strip()
    if client.status != "active":
        problems["client"] = _("The client is closed.")
    if responsible_worker_id not in {w.id for w in workers(client) if w.active}:
        problems["responsible_worker_id"] = _("Choose the owner or a colleague the client is shared with.")
    if not goal:
        problems["goal"] = _("Write the goal of the client's path.")
    elif len(goal) > GOAL_LIMIT:
        problems["goal"] = _("At most %(num)s characters.", num=GOAL_LIMIT)
    if len(next_step) > STEP_LIMIT:
        problems["next_step"] = _("At most %(num)s characters.", num=STEP_LIMIT)
    for name, text in (("goal", goal), ("next_step", next_step)):
        problem = text_problem(text, multiline=True)
        if problem:
            problems.setdefault(name, problem)
    check_free_text(problems, goal=goal, next_step=next_step)
    if next_step and next_step_on is None:
        problems["next_step_on"] = _("Give the date of the next step.")
    if next_step_on is not None and not next_step:
        problems["next_step"] = _("Write what the next step is.")
    for name, day in (("next_step_on", next_step_on), ("review_on", review_on)):
        if day is not None and (date_problem(day) or day < today - timedelta(days=365)):
            problems.setdefault(name, date_problem(day) or _("Give a date within the past year or later."))
    ktt_since = _ktt_since(session, client.id)
    if ktt_since is not None:
        latest = add_months(max(today, ktt_since), KTT_REVIEW_MONTHS)
        if review_on is None or review_on > latest:
            problems.setdefault(
                "review_on",
                _(
                    "The client is in rehabilitative work activity: review the plan at least every "
                    "%(months)s months, by %(date)s at the latest.",
                    months=KTT_REVIEW_MONTHS,
                    date=formats.day(latest),
                ),
            )
    if problems:
        raise Refused(problems)
    entry = PlanEntry(
        client_id=client.id,
        responsible_worker_id=responsible_worker_id,
        goal=goal,
        next_step=next_step,
        next_step_on=next_step_on,
        review_on=review_on,
        created_by_id=user.id,
    )
    session.add(entry)
    session.flush()
    _audit(session, "plan_saved", user, client)
    return entry


# --- the path: one timeline, newest first ---------------------------------------------------------


@dataclass
class Step:
    when: datetime | date
    kind: str  # needs | plan | proposed | accepted | declined | cancelled | ended | queued | left_queue
    by: str | None = None
    placement: Placement | None = None
    plan: PlanEntry | None = None
    opening: Opening | None = None
    detail: str | None = None


def _sort_key(step: Step):
    when = step.when
    if isinstance(when, datetime):
        return (when.date(), 1, when.timestamp())
    return (when, 0, 0.0)


def timeline(session: Session, client: Client, user: User) -> list[Step]:
    """The client's needs versions, proposals, placements (with outcomes), plan versions
    and queue entries, newest first. Audited as one read of the path."""
    require_reader(user, client)
    steps: list[Step] = []
    for created_at, name in session.execute(
        select(Needs.created_at, User.name)
        .outerjoin(User, User.id == Needs.created_by_id)
        .where(Needs.client_id == client.id)
    ):
        steps.append(Step(created_at, "needs", by=name))
    for plan in plan_history(session, client, user):
        steps.append(Step(plan.created_at, "plan", by=plan.created_by.name if plan.created_by else None, plan=plan))
    placements = session.scalars(
        select(Placement)
        .where(Placement.client_id == client.id)
        .options(joinedload(Placement.opening).joinedload(Opening.site))
    ).all()
    for p in placements:
        steps.append(Step(p.proposed_at, "proposed", placement=p))
        if p.status == "declined":
            steps.append(Step(p.decided_at, "declined", placement=p))
        elif p.decided_at is not None and (p.status in ACCEPTED or (p.status == "cancelled" and p.ended_by_id)):
            steps.append(Step(p.decided_at, "accepted", placement=p))
        if p.status == "ended":
            steps.append(Step(p.ended_on, "ended", placement=p))
        elif p.status == "cancelled":
            steps.append(Step(p.updated_at, "cancelled", placement=p))
    for entry in session.scalars(
        select(QueueEntry)
        .where(QueueEntry.client_id == client.id)
        .options(joinedload(QueueEntry.opening).joinedload(Opening.site))
    ):
        steps.append(Step(entry.created_at, "queued", opening=entry.opening))
        if entry.offered_at is not None:
            steps.append(Step(entry.offered_at, "offered", opening=entry.opening))
        if entry.left_at is not None:
            steps.append(Step(entry.left_at, "left_queue", opening=entry.opening, detail=entry.left_reason))
    steps.sort(key=_sort_key, reverse=True)
    _audit(session, "path_viewed", user, client)
    return steps


# --- "Vaatii huomiota" ----------------------------------------------------------------------------


@dataclass
class Attention:
    kind: str
    client_code: str
    link: str
    when: date | None = None
    days: int | None = None
    title: str | None = None
    position: int | None = None
    was: int | None = None


def _mine(user: User):
    shared = select(client_shares.c.client_id).where(client_shares.c.user_id == user.id)
    return and_(Client.status == "active", or_(Client.owner_id == user.id, Client.id.in_(shared)))


def attention(session: Session, user: User, *, today: date, now: datetime) -> list[Attention]:
    """What needs the worker's attention across their active clients (docs/rules.md §18.6).

    One query per kind of line, whatever the number of clients, reading plain rows. Queue
    positions that moved are marked seen once shown. Audited as one read
    (``attention_viewed``)."""
    from placements.models import Site
    from placements.services import queue

    permissions.require(permissions.can_create_clients(user), object_type="client")
    mine = _mine(user)
    client_ids = select(Client.id).where(mine)
    items: list[Attention] = []

    def placement_rows(*conditions):
        return session.execute(
            select(
                Placement.id,
                Placement.client_id,
                Placement.proposed_at,
                Placement.start_date,
                Placement.planned_end,
                Client.code,
                Opening.title,
                Site.name,
            )
            .join(Client, Client.id == Placement.client_id)
            .join(Opening, Opening.id == Placement.opening_id)
            .join(Site, Site.id == Opening.site_id)
            .where(mine, *conditions)
            .order_by(Placement.proposed_at, Placement.id)
        ).all()

    # Proposals waiting for the host, with the days they have waited.
    for row in placement_rows(Placement.status == "proposed"):
        days = (today - row.proposed_at.date()).days
        items.append(
            Attention("waiting", row.code, f"/placements/{row.id}", days=days, title=f"{row.title}, {row.name}")
        )

    # Declined proposals whose notice the worker has not read.
    for n_id, code, params in session.execute(
        select(Notification.id, Notification.client_code, Notification.params)
        .where(
            Notification.recipient_id == user.id,
            Notification.kind == "proposal_declined",
            Notification.read_at.is_(None),
        )
        .order_by(Notification.created_at)
    ):
        p = json.loads(params or "{}")
        title = f"{p.get('opening', '')}, {p.get('site', '')}"
        items.append(Attention("declined", code or "", f"/notifications/{n_id}", title=title))

    # The newest plan of each client.
    latest_ids = select(func.max(PlanEntry.id)).where(PlanEntry.client_id.in_(client_ids)).group_by(PlanEntry.client_id)
    plans = {
        row.client_id: row
        for row in session.execute(
            select(
                PlanEntry.client_id,
                PlanEntry.next_step,
                PlanEntry.next_step_on,
                PlanEntry.review_on,
                PlanEntry.created_at,
            ).where(PlanEntry.id.in_(latest_ids))
        )
    }

    def has_next_step(client_id: int) -> bool:
        plan = plans.get(client_id)
        return (
            plan is not None and bool(plan.next_step) and plan.next_step_on is not None and plan.next_step_on >= today
        )

    # Starts and planned ends within 14 days without a next step.
    horizon = today + timedelta(days=AHEAD_DAYS)
    for row in placement_rows(
        Placement.status == "active",
        or_(Placement.start_date.between(today, horizon), Placement.planned_end.between(today, horizon)),
    ):
        if has_next_step(row.client_id):
            continue
        starting = today <= row.start_date <= horizon
        items.append(
            Attention(
                "starting" if starting else "ending",
                row.code,
                f"/clients/{row.code}/plan",
                when=row.start_date if starting else row.planned_end,
                title=f"{row.title}, {row.name}",
            )
        )

    # Plan reviews due within the horizon (or past); KTT clients at least every six months.
    ktt = dict(
        session.execute(
            select(Placement.client_id, func.min(Placement.start_date))
            .join(Opening, Opening.id == Placement.opening_id)
            .where(
                Placement.client_id.in_(client_ids),
                Placement.status.in_(("proposed", "active")),
                Opening.type == "rehabilitative_work",
            )
            .group_by(Placement.client_id)
        ).all()
    )
    codes = dict(session.execute(select(Client.id, Client.code).where(mine)).all())
    for client_id in sorted(set(plans) | set(ktt)):
        due = review_due(plans.get(client_id), ktt.get(client_id))
        if due is not None and due <= horizon and client_id in codes:
            code = codes[client_id]
            items.append(Attention("review", code, f"/clients/{code}/plan", when=due))

    # Clients with needs but no proposal for 30 days (and nothing under way).
    cutoff = now - timedelta(days=IDLE_DAYS)
    recent_or_open = exists().where(
        Placement.client_id == Client.id,
        or_(Placement.proposed_at >= cutoff, Placement.status.in_(("proposed", "active"))),
    )
    first_needs = select(func.min(Needs.created_at)).where(Needs.client_id == Client.id).scalar_subquery()
    for code in session.scalars(
        select(Client.code).where(mine, first_needs <= cutoff, ~recent_or_open).order_by(Client.code)
    ):
        items.append(Attention("idle", code, f"/clients/{code}/matches"))

    # Queue entries: places freed, positions that moved, entries to confirm.
    entries = session.execute(
        select(
            QueueEntry.id,
            QueueEntry.opening_id,
            QueueEntry.status,
            QueueEntry.seen_position,
            QueueEntry.confirmed_at,
            Client.code,
            Opening.title,
            Site.name,
        )
        .join(Client, Client.id == QueueEntry.client_id)
        .join(Opening, Opening.id == QueueEntry.opening_id)
        .join(Site, Site.id == Opening.site_id)
        .where(mine, QueueEntry.status.in_(queue.LIVE))
        .order_by(QueueEntry.created_at, QueueEntry.id)
    ).all()
    place = queue.positions(session, {row.opening_id for row in entries})
    confirm_before = now - timedelta(days=queue.CONFIRM_AFTER_DAYS)
    for row in entries:
        title, position, link = f"{row.title}, {row.name}", place.get(row.id), f"/clients/{row.code}"
        if row.status == "offered":
            items.append(Attention("offered", row.code, link, title=title, position=position))
        elif row.seen_position is not None and position != row.seen_position:
            items.append(Attention("moved", row.code, link, title=title, position=position, was=row.seen_position))
        if row.confirmed_at < confirm_before:
            items.append(Attention("confirm", row.code, link, title=title, when=row.confirmed_at.date()))
        if position != row.seen_position:
            session.execute(
                update(QueueEntry)
                .where(QueueEntry.id == row.id)
                .values(seen_position=position)
                .execution_options(synchronize_session=False)
            )
    shown = list(dict.fromkeys(item.client_code for item in items if item.client_code))
    audit.record(
        session,
        "attention_viewed",
        user=user,
        object_type="client",
        client_codes=shown,
        purpose="service path",
    )
    return items
