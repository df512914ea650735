"""Notifications (docs/rules.md §15): who is told what, written in the transaction of the
change that causes them.

A notification is a kind and the facts its text is built from (``params``), rendered in
the reader's language when shown or mailed. It never holds client needs, and a client code
only for recipients who may see that client (the client's workers, the opening's hosts).
Each recipient's preference decides whether it is e-mailed at once (an outbox row in the
same transaction), gathered into the daily summary, or only shown in the registry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from placements import clock, formats, permissions
from placements.codes import ALWAYS_IMMEDIATE, DELIVERIES, NOTIFICATION_KINDS, USER_LANGUAGES
from placements.errors import Refused
from placements.models import Notification, NotificationPreference, Placement, User

# The kinds each role can receive, with the delivery it gets until the user chooses.
DEFAULTS: dict[str, dict[str, str]] = {
    permissions.HOST: {
        "proposal_made": "immediate",
        "proposal_reminder": "immediate",
        "placement_cancelled": "immediate",
        "placement_starting": "daily",
        "placement_ending": "daily",
        "stale_digest": "immediate",
        "round_invitation": "immediate",
        "round_reminder": "immediate",
        "account": "immediate",
    },
    permissions.SOCIAL_WORKER: {
        "proposal_accepted": "immediate",
        "proposal_declined": "immediate",
        "placement_cancelled": "immediate",
        "proposal_unanswered": "daily",
        "placement_starting": "daily",
        "placement_ending": "daily",
        "clients_transferred": "immediate",
        "queue_place_free": "immediate",
        "account": "immediate",
    },
    permissions.COORDINATOR: {"account": "immediate"},
}


def kinds_for(user) -> dict[str, str]:
    """The kinds ``user``'s role receives, with their default delivery."""
    return DEFAULTS.get(getattr(user, "role", None), {})


def preferences(session: Session, user) -> dict[str, str]:
    """kind -> delivery for every kind the user receives (their choice, else the default)."""
    chosen = dict(
        session.execute(
            select(NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    return {kind: chosen.get(kind, default) for kind, default in kinds_for(user).items()}


def delivery(session: Session, user, kind: str) -> str:
    if kind in ALWAYS_IMMEDIATE:
        return "immediate"
    return preferences(session, user).get(kind, "inbox")


def save_preferences(session: Session, user, actor, *, choices: dict[str, str], language: str) -> None:
    """A user chooses, per kind, e-mail at once, a daily summary or the registry only."""
    permissions.require(getattr(actor, "id", None) == user.id, object_type="user", object_id=user.id)
    problems = {}
    if language not in USER_LANGUAGES:
        problems["language"] = _("Choose Finnish or English.")
    for kind, value in choices.items():
        if kind not in kinds_for(user) or kind in ALWAYS_IMMEDIATE or value not in DELIVERIES:
            problems[kind] = _("Choose how you want to hear about this.")
    if problems:
        raise Refused(problems)
    user.language = language
    existing = {
        p.kind: p
        for p in session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    }
    for kind, value in choices.items():
        row = existing.get(kind)
        if row is None:
            session.add(NotificationPreference(user_id=user.id, kind=kind, delivery=value))
        else:
            row.delivery = value
    from placements.services import audit

    audit.record(session, "preferences_saved", user=actor, object_type="user", object_id=user.id)
    session.flush()


# --- writing notifications ---------------------------------------------------------------


def notify(
    session: Session,
    recipients: Iterable[User],
    kind: str,
    *,
    subject_type: str | None = None,
    subject_id: object = None,
    params: dict | None = None,
    link: str | None = None,
    client_code: str | None = None,
    mail_extra: dict | None = None,
    sensitive: bool = False,
) -> list[Notification]:
    """Tell each active recipient once. ``mail_extra`` goes into the e-mail only (e.g. a
    set-password link that must not be stored in the inbox)."""
    from placements.services import outbox

    written = []
    seen = set()
    for user in recipients:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        how = delivery(session, user, kind)
        notification = Notification(
            recipient_id=user.id,
            kind=kind,
            subject_type=subject_type,
            subject_id=None if subject_id is None else str(subject_id),
            client_code=client_code,
            params=json.dumps(params or {}, ensure_ascii=False, default=str),
            link=link,
            created_at=clock.now(),
            email={"immediate": "pending", "daily": "digest"}.get(how, "none"),
        )
        notification.recipient = user
        session.add(notification)
        written.append(notification)
        if how == "immediate":
            session.flush()
            outbox.queue(session, user, [notification], kind=kind, extra=mail_extra, sensitive=sensitive)
    session.flush()
    return written


def notify_many(session: Session, kind: str, batches: Iterable[tuple[Iterable[User], str, object, dict, str]]) -> int:
    """``notify`` for many subjects at once (opening a survey round tells 1,000 organisations):
    each batch is (recipients, subject type, subject id, params, link). Preferences are read in
    one query and the rows written in two flushes. How many notifications were written."""
    from placements.services import outbox

    batches = [(list(users), *rest) for users, *rest in batches]
    ids = {user.id for users, *_rest in batches for user in users if user is not None}
    chosen = (
        dict(
            session.execute(
                select(NotificationPreference.user_id, NotificationPreference.delivery).where(
                    NotificationPreference.kind == kind, NotificationPreference.user_id.in_(ids)
                )
            ).all()
        )
        if ids
        else {}
    )
    written, messages = [], []
    now = clock.now()
    for users, subject_type, subject_id, params, link in batches:
        for user in {u.id: u for u in users if u is not None and u.active}.values():
            how = "immediate" if kind in ALWAYS_IMMEDIATE else chosen.get(user.id, kinds_for(user).get(kind, "inbox"))
            notification = Notification(
                recipient_id=user.id,
                kind=kind,
                subject_type=subject_type,
                subject_id=None if subject_id is None else str(subject_id),
                params=json.dumps(params or {}, ensure_ascii=False, default=str),
                link=link,
                created_at=now,
                email={"immediate": "pending", "daily": "digest"}.get(how, "none"),
            )
            notification.recipient = user
            written.append(notification)
            if how == "immediate":
                messages.append((notification, outbox.build_message(user, [notification], kind=kind)))
    session.add_all(message for _n, message in messages)
    session.flush()
    for notification, message in messages:
        notification.outbox_message_id = message.id
    session.add_all(written)
    session.flush()
    return len(written)


def workers_of(client) -> list[User]:
    """The client's own worker and the workers it is shared with."""
    return [client.owner, *client.shared_with]


def hosts_of(session: Session, organisation_id: int) -> list[User]:
    from placements.services.freshness import hosts_of as hosts_by_organisation

    return hosts_by_organisation(session, [organisation_id]).get(organisation_id, [])


def _placement_params(placement: Placement, actor=None) -> dict:
    opening = placement.opening
    params = {
        "opening": opening.title,
        "site": opening.site.name,
        "start": placement.start_date.isoformat(),
        "planned_end": placement.planned_end.isoformat() if placement.planned_end else None,
    }
    if actor is not None and getattr(actor, "name", None):
        params["by"] = actor.name
    return params


def _about(placement: Placement) -> dict:
    return {
        "subject_type": "placement",
        "subject_id": placement.id,
        "link": f"/placements/{placement.id}",
        "client_code": placement.client.code,
    }


def proposal_made(session: Session, placement: Placement, actor) -> None:
    hosts = hosts_of(session, placement.opening.site.organisation_id)
    params = _placement_params(placement, actor) | {"days": placement.days_per_week, "hours": placement.hours_per_day}
    notify(session, hosts, "proposal_made", params=params, **_about(placement))


def proposal_decided(session: Session, placement: Placement, actor, *, accepted: bool) -> None:
    params = _placement_params(placement, actor)
    if accepted:
        params["state"] = placement.state  # agreed (starts later) or active (docs/rules.md §5.1)
    else:
        params["reason"] = placement.decline_reason
    kind = "proposal_accepted" if accepted else "proposal_declined"
    notify(session, workers_of(placement.client), kind, params=params, **_about(placement))


def placement_cancelled(session: Session, placement: Placement, actor, *, was: str | None = None) -> None:
    """The other side hears of it: the hosts when a worker cancels, the workers when a host does.
    ``was`` is what was cancelled: a proposal or an agreed placement."""
    if permissions.can_read_client(actor, placement.client):
        recipients = hosts_of(session, placement.opening.site.organisation_id)
    else:
        recipients = workers_of(placement.client)
    recipients = [user for user in recipients if user.id != getattr(actor, "id", None)]
    params = _placement_params(placement, actor) | ({"was": was} if was else {})
    notify(session, recipients, "placement_cancelled", params=params, **_about(placement))


def clients_transferred(session: Session, source: User, target: User, *, count: int, actor) -> None:
    """Both workers hear that clients moved; the codes are in the audit trail and the lists."""
    params = {"count": count, "from": source.name, "to": target.name}
    for user, direction in ((source, "out"), (target, "in")):
        notify(
            session,
            [user],
            "clients_transferred",
            subject_type="user",
            subject_id=user.id,
            params=params | {"direction": direction},
            link="/clients",
        )


def queue_place_free(session: Session, entry, client, worker: User, position: int) -> None:
    """A place freed at an opening where the client waits first in line: the responsible
    worker is told (docs/rules.md §18.5)."""
    opening = entry.opening
    params = {"opening": opening.title, "site": opening.site.name, "position": position}
    notify(
        session,
        [worker],
        "queue_place_free",
        subject_type="opening",
        subject_id=opening.id,
        params=params,
        link=f"/clients/{client.code}",
        client_code=client.code,
    )


def account_link(session: Session, user: User, *, link: str, expires_at, reset: bool) -> None:
    """The user's own set-password link, by e-mail only (never kept in the inbox)."""
    notify(
        session,
        [user],
        "account",
        subject_type="user",
        subject_id=user.id,
        params={"purpose": "reset" if reset else "created", "expires": expires_at.isoformat()},
        mail_extra={"link": link},
        sensitive=True,
    )


# --- reading them ---------------------------------------------------------------------------


def unread_count(session: Session, user) -> int:
    query = select(func.count()).where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
    return session.scalar(query) or 0


INBOX_PAGE = 50


def inbox(session: Session, user, *, page: int = 1) -> tuple[list[Notification], int]:
    """The user's notifications, newest first, one page; and the number of pages."""
    total = session.scalar(select(func.count()).where(Notification.recipient_id == user.id)) or 0
    pages = max(1, -(-total // INBOX_PAGE))
    page = min(max(page, 1), pages)
    query = (
        select(Notification)
        .where(Notification.recipient_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * INBOX_PAGE)
        .limit(INBOX_PAGE)
    )
    return list(session.scalars(query)), pages


def open_notification(session: Session, user, notification_id: int) -> Notification:
    """The user's own notification, now read; 404 for anyone else's."""
    notification = session.get(Notification, notification_id)
    allowed = notification is not None and notification.recipient_id == user.id
    permissions.require(allowed, status=404, object_type="notification", object_id=notification_id)
    if notification.read_at is None:
        notification.read_at = clock.now()
    return notification


def mark_all_read(session: Session, user) -> int:
    result = session.execute(
        update(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# --- the words ------------------------------------------------------------------------------


@dataclass
class Text:
    title: str
    lines: list[str]


def describe(notification: Notification) -> Text:
    """The notification in the current language: a title and a few lines."""
    p = json.loads(notification.params or "{}")
    code = notification.client_code
    where = _("%(opening)s, %(site)s", opening=p.get("opening", ""), site=p.get("site", ""))
    kind = notification.kind
    if kind == "proposal_made":
        return Text(
            _("New proposal: %(where)s", where=where),
            [
                _(
                    "%(worker)s proposes a placement for client %(code)s from %(start)s, "
                    "%(days)s days a week, %(hours)s hours a day.",
                    worker=p.get("by", ""),
                    code=code,
                    start=formats.day(p.get("start")),
                    days=p.get("days", ""),
                    hours=formats.number(p.get("hours")),
                ),
                _("Accept or decline the proposal in the registry."),
            ],
        )
    if kind == "proposal_reminder":
        return Text(
            _("A proposal is waiting for your answer: %(where)s", where=where),
            [
                _(
                    "The proposal for client %(code)s has waited %(days)s working days. "
                    "Accept or decline it, so the social worker can plan the client's next step.",
                    code=code,
                    days=p.get("working_days", 5),
                )
            ],
        )
    if kind == "proposal_unanswered":
        return Text(
            _("No answer yet: %(where)s", where=where),
            [
                _(
                    "Your proposal for client %(code)s has waited %(days)s working days. "
                    "The site's hosts were reminded.",
                    code=code,
                    days=p.get("working_days", 5),
                )
            ],
        )
    if kind == "proposal_accepted":
        start = formats.day(p.get("start"))
        if p.get("state") == "agreed":
            line = _("The placement of client %(code)s was agreed to start on %(start)s.", code=code, start=start)
        elif p.get("state") == "active":
            line = _("The placement of client %(code)s started on %(start)s.", code=code, start=start)
        else:
            line = _("The placement of client %(code)s starts on %(start)s.", code=code, start=start)
        return Text(_("Proposal accepted: %(where)s", where=where), [line])
    if kind == "proposal_declined":
        return Text(
            _("Proposal declined: %(where)s", where=where),
            [
                _("The host declined the proposal for client %(code)s.", code=code),
                _("Reason: %(reason)s", reason=p.get("reason") or "–"),
            ],
        )
    if kind == "placement_cancelled":
        who = p.get("by", "")
        if p.get("was") == "proposed":
            line = _("%(who)s cancelled the proposal for client %(code)s.", who=who, code=code)
        elif p.get("was") == "agreed":
            line = _(
                "%(who)s cancelled the placement of client %(code)s, agreed to start on %(start)s; "
                "its place is free again.",
                who=who,
                code=code,
                start=formats.day(p.get("start")),
            )
        else:
            line = _("%(who)s cancelled the placement of client %(code)s.", who=who, code=code)
        return Text(_("Cancelled: %(where)s", where=where), [line])
    if kind == "placement_starting":
        return Text(
            _("Starts tomorrow: %(where)s", where=where),
            [_("The placement of client %(code)s starts on %(start)s.", code=code, start=formats.day(p.get("start")))],
        )
    if kind == "placement_ending":
        return Text(
            _("Ends in two weeks: %(where)s", where=where),
            [
                _(
                    "The placement of client %(code)s is planned to end on %(end)s. Agree on what comes next.",
                    code=code,
                    end=formats.day(p.get("planned_end")),
                )
            ],
        )
    if kind == "clients_transferred":
        count = int(p.get("count") or 0)
        if p.get("direction") == "in":
            line = ngettext(
                "%(num)s client was moved to you from %(source)s.",
                "%(num)s clients were moved to you from %(source)s.",
                count,
                source=p.get("from"),
            )
        else:
            line = ngettext(
                "%(num)s of your clients was moved to %(target)s.",
                "%(num)s of your clients were moved to %(target)s.",
                count,
                target=p.get("to"),
            )
        return Text(_("Clients moved"), [line])
    if kind == "queue_place_free":
        return Text(
            _("A place is free: %(where)s", where=where),
            [
                _(
                    "A place freed up in the opening where client %(code)s is first in the queue. "
                    "Propose a placement if it still suits the client.",
                    code=code,
                )
            ],
        )
    if kind == "stale_digest":
        openings = p.get("openings", [])
        return Text(
            _("Is your data up to date? %(organisation)s", organisation=p.get("organisation", "")),
            [
                ngettext(
                    "%(num)s opening has not been confirmed for a while. Confirm it if it is still "
                    "right, or update its places.",
                    "%(num)s openings have not been confirmed for a while. Confirm each one that is "
                    "still right, or update its places.",
                    len(openings),
                )
            ],
        )
    if kind in ("round_invitation", "round_reminder"):
        deadline = formats.day(p.get("deadline"))
        if kind == "round_invitation":
            title = _("Survey round: %(round)s", round=p.get("round", ""))
            first = _("Your organisation is asked to answer the survey round by %(deadline)s.", deadline=deadline)
        else:
            title = _("Reminder: survey round %(round)s", round=p.get("round", ""))
            first = _("Your organisation's answer is still missing. The deadline is %(deadline)s.", deadline=deadline)
        return Text(title, [first, _("Confirm or correct the places of each opening and send the answer.")])
    if kind == "account":
        if p.get("purpose") == "reset":
            title = _("Set a new password for the Kainuu placement registry")
        else:
            title = _("Your account in the Kainuu placement registry")
        until = formats.moment_iso(p.get("expires"))
        return Text(title, [_("The link to set your password is valid until %(time)s.", time=until)])
    return Text(str(NOTIFICATION_KINDS.get(kind, kind)), [])


def describe_for(user, notification: Notification) -> Text:
    with force_locale(user.language or "fi"):
        return describe(notification)
