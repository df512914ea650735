"""Survey rounds (docs/rules.md §17): opening a round for the organisations in scope (a
job), the hosts' answers, following the answers and reminding, closing and reopening.

The figures a closed round keeps and its report are in ``services/round_report.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, joinedload

from placements import clock, permissions
from placements.codes import AGE_BANDS, GENDERS, LINE_ANSWERS, OPENING_STATUSES, OPENING_TYPES
from placements.errors import Refused
from placements.models import (
    Opening,
    Organisation,
    ResponseLine,
    RoundResponse,
    RoundSnapshotGroup,
    RoundSnapshotRow,
    Site,
    SurveyRound,
)
from placements.services import audit, capacity, jobs, notifications, sites
from placements.services.freshness import hosts_of

OPEN_JOB = "round_open"
TARGET_PERCENT = 90  # the share of submitted answers a round aims at (§17.3)
REMINDER_DAYS = (7, 2)  # automatic reminders this many days before the deadline (§17.3)
CHUNK = 500


def _may_manage(user, round_id=None) -> None:
    permissions.require(permissions.can_manage_rounds(user), object_type="survey_round", object_id=round_id)


def round_or_404(session: Session, user, round_id: int) -> SurveyRound:
    _may_manage(user, round_id)
    found = session.get(SurveyRound, round_id)
    permissions.require(found is not None, status=404, object_type="survey_round", object_id=round_id)
    return found


def all_rounds(session: Session, user) -> list[SurveyRound]:
    _may_manage(user)
    return session.scalars(select(SurveyRound).order_by(SurveyRound.reference_date.desc(), SurveyRound.id.desc())).all()


# --- creating and opening ---------------------------------------------------------------------


def create_round(
    session: Session,
    user,
    *,
    name: str,
    reference_date: date,
    period_start: date,
    period_end: date,
    deadline: date,
    municipalities=(),
    opening_types=(),
    organisation_ids=(),
):
    """Store the round and queue the job that opens it; returns (round, job) (§17.1)."""
    _may_manage(user)
    problems = {}
    if not name.strip():
        problems["name"] = _("Give the round a name.")
    if period_start > period_end:
        problems["period_end"] = _("The period must end on or after its first day.")
    if deadline < clock.today():
        problems["deadline"] = _("The deadline cannot be in the past.")
    if any(kind not in OPENING_TYPES for kind in opening_types):
        problems["opening_types"] = _("Choose opening types from the list.")
    if problems:
        raise Refused(problems)
    survey_round = SurveyRound(
        name=name.strip(),
        reference_date=reference_date,
        period_start=period_start,
        period_end=period_end,
        deadline=deadline,
        municipalities=tuple(municipalities),
        opening_types=tuple(opening_types),
        organisation_ids=tuple(str(i) for i in organisation_ids),
        status="opening",
        created_by_id=getattr(user, "id", None),
    )
    session.add(survey_round)
    session.flush()
    audit.record(session, "round_created", user=user, object_type="survey_round", object_id=survey_round.id)
    job = jobs.enqueue(
        session, OPEN_JOB, owner=user, params={"round_id": survey_round.id}, key=f"round-open-{survey_round.id}"
    )
    return survey_round, job


def scope_query(survey_round: SurveyRound, organisation_id: int | None = None):
    """The live openings a round asks about: not archived, of the scope's municipalities,
    types and organisations (all when a list is empty), ordered by organisation and site."""
    query = (
        select(Opening.id, Site.organisation_id, Opening.places_total, Opening.places_external, Opening.status)
        .join(Site, Site.id == Opening.site_id)
        .join(Organisation, Organisation.id == Site.organisation_id)
        .where(Opening.archived_at.is_(None), Site.archived_at.is_(None), Organisation.archived_at.is_(None))
        .order_by(Site.organisation_id, Site.name, Opening.id)
    )
    if survey_round.municipalities:
        query = query.where(Site.municipality_code.in_(survey_round.municipalities))
    if survey_round.opening_types:
        query = query.where(Opening.type.in_(survey_round.opening_types))
    if survey_round.organisation_ids:
        query = query.where(Site.organisation_id.in_([int(i) for i in survey_round.organisation_ids]))
    if organisation_id is not None:
        query = query.where(Site.organisation_id == organisation_id)
    return query


def open_round(session: Session, user, round_id: int, progress=None) -> dict:
    """One response per organisation in scope with a line per opening, and an invitation to
    each organisation's hosts (§17.1). Run by the job; inserts in bulk."""
    survey_round = round_or_404(session, user, round_id)
    if survey_round.status != "opening":
        return {"round_id": round_id, "organisations": len(survey_round.responses)}
    openings = session.execute(scope_query(survey_round)).all()
    by_organisation: dict[int, list] = {}
    for row in openings:
        by_organisation.setdefault(row.organisation_id, []).append(row)
    organisation_ids = list(by_organisation)
    total = len(organisation_ids)
    if progress:
        progress(0, total)
    session.execute(
        insert(RoundResponse),
        [{"round_id": round_id, "organisation_id": oid, "status": "not_started"} for oid in organisation_ids],
    )
    response_ids = dict(
        session.execute(
            select(RoundResponse.organisation_id, RoundResponse.id).where(RoundResponse.round_id == round_id)
        ).all()
    )
    lines = [
        {
            "response_id": response_ids[oid],
            "opening_id": row.id,
            "answer": "pending",
            "places_total": row.places_total,
            "places_external": row.places_external,
            "status": row.status,
        }
        for oid in organisation_ids
        for row in by_organisation[oid]
    ]
    for start in range(0, len(lines), 5000):
        session.execute(insert(ResponseLine), lines[start : start + 5000])
    hosts = hosts_of(session, organisation_ids) if organisation_ids else {}
    params = _params(survey_round)
    for start in range(0, total, 100):
        chunk = organisation_ids[start : start + 100]
        batches = [
            (hosts.get(oid, []), "round_response", response_ids[oid], params, f"/rounds/{survey_round.id}")
            for oid in chunk
        ]
        notifications.notify_many(session, "round_invitation", batches)
        if progress:
            progress(start + len(chunk), total)
    survey_round.status = "open"
    survey_round.opened_at = clock.now()
    detail = f"organisations={total} openings={len(lines)}"
    audit.record(session, "round_opened", user=user, object_type="survey_round", object_id=round_id, detail=detail)
    session.flush()
    return {"round_id": round_id, "organisations": total, "openings": len(lines)}


def _params(survey_round: SurveyRound) -> dict:
    return {"round": survey_round.name, "deadline": survey_round.deadline.isoformat()}


def _tell(session: Session, hosts, kind: str, survey_round: SurveyRound, response_id: int, subject=None) -> None:
    params = _params(survey_round)
    notifications.notify(
        session,
        hosts,
        kind,
        subject_type="round_response",
        subject_id=subject or response_id,
        params=params,
        link=f"/rounds/{survey_round.id}",
    )


@jobs.handler(OPEN_JOB)
def _open_job(context) -> dict:
    return open_round(context.session, context.user, int(context.params["round_id"]), progress=context.progress)


# --- a host's answer --------------------------------------------------------------------------


def response_for(session: Session, user, round_id: int) -> RoundResponse:
    """The user's organisation's response to the round; 404 for anyone else (§17.2)."""
    response = session.scalar(
        select(RoundResponse).where(
            RoundResponse.round_id == round_id,
            RoundResponse.organisation_id == getattr(user, "organisation_id", None),
        )
    )
    permissions.require(
        response is not None and response.round.status != "opening" and permissions.can_answer_round(user, response),
        status=404,
        object_type="survey_round",
        object_id=round_id,
    )
    return response


def open_responses(session: Session, user) -> list[RoundResponse]:
    """The open rounds a host's organisation is asked to answer (shown on /my/sites)."""
    if not permissions.has_role(user, permissions.HOST) or user.organisation_id is None:
        return []
    query = (
        select(RoundResponse)
        .join(SurveyRound, SurveyRound.id == RoundResponse.round_id)
        .where(RoundResponse.organisation_id == user.organisation_id, SurveyRound.status == "open")
        .order_by(SurveyRound.deadline)
    )
    return session.scalars(query).all()


@dataclass
class PageLine:
    """A line of the response page: the stored answer, or a new opening not yet answered."""

    opening: Opening
    answer: str
    places_total: int
    places_external: int
    status: str
    participants_outside: int | None


def page_lines(session: Session, response: RoundResponse) -> list[PageLine]:
    """The organisation's live openings in scope now, each with its stored answer if any, and
    the registry's current values (§17.2). An opening archived or moved to another
    organisation since the round opened is no longer the host's to answer."""
    stored = {line.opening_id: line for line in response.lines}
    ids = [row.id for row in session.execute(scope_query(response.round, response.organisation_id))]
    openings = {
        o.id: o for o in session.scalars(select(Opening).where(Opening.id.in_(ids)).options(joinedload(Opening.site)))
    }
    result = []
    for opening_id in ids:
        opening, line = openings[opening_id], stored.get(opening_id)
        if line is None:
            result.append(
                PageLine(opening, "pending", opening.places_total, opening.places_external, opening.status, None)
            )
        else:
            result.append(
                PageLine(
                    opening,
                    line.answer,
                    opening.places_total,
                    opening.places_external,
                    opening.status,
                    line.participants_outside,
                )
            )
    return sorted(result, key=lambda line: (line.opening.site.name, line.opening.title, line.opening.id))


def groups_of(response: RoundResponse) -> dict[str, dict[str, int]]:
    return json.loads(response.outside_groups or "{}")


@dataclass
class Answer:
    """What the host says about one opening."""

    answer: str
    places_total: int | None = None
    places_external: int | None = None
    status: str | None = None
    participants_outside: int | None = None
    # The opening's version when the page was shown (§3.9): a save over a newer change is a conflict.
    version: int | None = None


def save_response(
    session: Session,
    user,
    response: RoundResponse,
    *,
    answers: dict[int, Answer],
    comment: str,
    groups: dict[str, dict[str, int]],
    submit: bool,
) -> None:
    """Save the answer, partly or whole; ``submit`` sends it ("Lähetä vastaus"), which needs
    every opening answered. A correction or a closing also changes the live opening, with a
    capacity event (§17.2). Editable until the round closes."""
    permissions.require(
        permissions.can_answer_round(user, response),
        status=404,
        object_type="survey_round",
        object_id=response.round_id,
    )
    if response.round.status != "open":
        raise Refused(_("The round has closed: the answer can no longer be changed."), status=409)
    lines = page_lines(session, response)
    stored = {line.opening_id: line for line in response.lines}
    problems: dict[str, str] = {}
    now = clock.now()
    for page_line in lines:
        opening = page_line.opening
        given = answers.get(opening.id)
        if given is None:
            continue
        line = stored.get(opening.id)
        if line is None:
            line = ResponseLine(
                response=response,
                opening_id=opening.id,
                answer="pending",
                places_total=opening.places_total,
                places_external=opening.places_external,
                status=opening.status,
            )
            session.add(line)
        if given.participants_outside is not None and given.participants_outside < 0:
            problems[f"outside-{opening.id}"] = _("The number cannot be negative.")
            continue
        line.participants_outside = given.participants_outside
        try:
            _apply(session, user, opening, line, given, now)
        except Refused as refused:
            for name, message in refused.problems.items():
                problems[f"{name or 'answer'}-{opening.id}"] = message
    problems |= _check_groups(groups)
    if (
        submit
        and any((answers.get(pl.opening.id) or Answer(pl.answer)).answer == "pending" for pl in lines)
        and "answer" not in problems
    ):
        problems["answer"] = _("Confirm, correct or close every opening before you send the answer.")
    if problems:
        raise Refused(problems)
    response.comment = comment.strip()
    response.outside_groups = json.dumps(groups, sort_keys=True)
    response.updated_at, response.updated_by_id = now, getattr(user, "id", None)
    if submit:
        response.status, response.submitted_at = "submitted", now
    elif response.status != "submitted":
        response.status = "in_progress"
    action = "round_response_submitted" if submit else "round_response_saved"
    audit.record(session, action, user=user, object_type="survey_round", object_id=response.round_id)
    session.flush()


def _version(opening: Opening, given: Answer) -> int:
    return opening.version if given.version is None else given.version


def _apply(session: Session, user, opening: Opening, line: ResponseLine, given: Answer, now: datetime) -> None:
    if given.answer not in LINE_ANSWERS:
        raise Refused(_("Choose an answer from the list."))
    if given.answer == "pending":
        line.answer = "pending"
        return
    if given.answer == "confirmed":
        if line.answer != "confirmed":
            sites.confirm(session, opening, user, expected_version=_version(opening, given), now=now)
    else:
        total = opening.places_total if given.places_total is None else given.places_total
        external = opening.places_external if given.places_external is None else given.places_external
        status = "closed" if given.answer == "closed" else (given.status or opening.status)
        if status not in OPENING_STATUSES:
            raise Refused({"status": _("Choose a status from the list.")})
        before = capacity.snapshot(opening)
        if (total, external, status) != before[:2] + (before[3],) or line.answer != given.answer:
            sites.update_capacity(
                session,
                opening,
                user,
                expected_version=_version(opening, given),
                places_total=total,
                places_external=external,
                status=status,
                accepting_from=opening.accepting_from,
                now=now,
            )
    line.answer = given.answer
    line.places_total, line.places_external, line.status = (
        opening.places_total,
        opening.places_external,
        opening.status,
    )


def _check_groups(groups: dict[str, dict[str, int]]) -> dict[str, str]:
    for band, by_gender in groups.items():
        for gender, count in by_gender.items():
            if band not in AGE_BANDS or gender not in GENDERS or count < 0:
                return {"groups": _("Give each group's number as zero or more.")}
    return {}


# --- following, reminding ---------------------------------------------------------------------


@dataclass
class Rate:
    label: str
    submitted: int = 0
    in_progress: int = 0
    not_started: int = 0

    @property
    def total(self) -> int:
        return self.submitted + self.in_progress + self.not_started

    @property
    def percent(self) -> int:
        """Whole percent submitted, rounded down, so 89.9 % does not show as the target."""
        return self.submitted * 100 // self.total if self.total else 0


@dataclass
class Following:
    overall: Rate
    by_municipality: list[Rate]
    responses: list[RoundResponse]
    missing: list[tuple[RoundResponse, list]] = field(default_factory=list)  # with the hosts to contact
    target: int = TARGET_PERCENT


def follow(session: Session, user, survey_round: SurveyRound) -> Following:
    """Response rate overall and by municipality, every organisation's state, and those that
    have not answered with their hosts' contacts (§17.3)."""
    _may_manage(user, survey_round.id)
    from placements.services import reference

    names = reference.municipality_names(session)
    responses = session.scalars(
        select(RoundResponse)
        .where(RoundResponse.round_id == survey_round.id)
        .options(joinedload(RoundResponse.organisation))
    ).all()
    responses = sorted(responses, key=lambda r: r.organisation.name)
    overall = Rate(_("All"))
    for response in responses:
        setattr(overall, response.status, getattr(overall, response.status) + 1)
    pairs = session.execute(
        select(ResponseLine.response_id, Site.municipality_code)
        .join(RoundResponse, RoundResponse.id == ResponseLine.response_id)
        .join(Opening, Opening.id == ResponseLine.opening_id)
        .join(Site, Site.id == Opening.site_id)
        .where(RoundResponse.round_id == survey_round.id)
        .distinct()
    ).all()
    status_of = {r.id: r.status for r in responses}
    rates: dict[str, Rate] = {}
    for response_id, code in pairs:
        rate = rates.setdefault(code, Rate(names.get(code, code)))
        setattr(rate, status_of[response_id], getattr(rate, status_of[response_id]) + 1)
    missing_responses = [r for r in responses if r.status != "submitted"]
    hosts = hosts_of(session, [r.organisation_id for r in missing_responses]) if missing_responses else {}
    missing = [(r, hosts.get(r.organisation_id, [])) for r in missing_responses]
    return Following(overall, sorted(rates.values(), key=lambda r: r.label), responses, missing)


def remind(session: Session, user, survey_round: SurveyRound, *, days_left: int | None = None) -> int:
    """Remind the hosts of every organisation that has not sent its answer; how many were
    reminded. ``days_left`` marks an automatic reminder, sent once per response (§17.3)."""
    _may_manage(user, survey_round.id)
    if survey_round.status != "open":
        raise Refused(_("Only an open round can be reminded of."), status=409)
    waiting = session.scalars(
        select(RoundResponse).where(RoundResponse.round_id == survey_round.id, RoundResponse.status != "submitted")
    ).all()
    hosts = hosts_of(session, [r.organisation_id for r in waiting]) if waiting else {}
    from placements.services.reminders import _already

    reminded = 0
    for response in waiting:
        subject = f"{response.id}:{days_left}" if days_left is not None else None
        if subject and _already(session, "round_reminder", "round_response", subject):
            continue
        if hosts.get(response.organisation_id):
            _tell(session, hosts[response.organisation_id], "round_reminder", survey_round, response.id, subject)
            reminded += 1
    detail = f"organisations={reminded}" + (f" automatic={days_left}" if days_left is not None else "")
    audit.record(
        session, "round_reminded", user=user, object_type="survey_round", object_id=survey_round.id, detail=detail
    )
    session.flush()
    return reminded


def automatic_reminders(session: Session, today: date) -> int:
    """The reminders 7 and 2 days before each open round's deadline (run with the daily notices)."""
    reminded = 0
    for days_left in REMINDER_DAYS:
        due = session.scalars(
            select(SurveyRound).where(
                SurveyRound.status == "open", SurveyRound.deadline == today + timedelta(days=days_left)
            )
        ).all()
        for survey_round in due:
            reminded += remind(session, permissions.SYSTEM, survey_round, days_left=days_left)
    return reminded


# --- closing and reopening ----------------------------------------------------------------------


def close_round(session: Session, user, survey_round: SurveyRound) -> None:
    """Freeze the round's figures into snapshot rows that later edits never touch (§17.4)."""
    _may_manage(user, survey_round.id)
    if survey_round.status != "open":
        raise Refused(_("Only an open round can be closed."), status=409)
    from placements.services import round_report

    round_report.freeze(session, survey_round)
    survey_round.status, survey_round.closed_at = "closed", clock.now()
    audit.record(session, "round_closed", user=user, object_type="survey_round", object_id=survey_round.id)
    session.flush()


def reopen_round(session: Session, user, survey_round: SurveyRound, *, reason: str) -> None:
    """A coordinator reopens a closed round, giving the reason; its frozen figures are dropped
    and made again when it closes (§17.4)."""
    permissions.require(
        permissions.has_role(user, permissions.COORDINATOR), object_type="survey_round", object_id=survey_round.id
    )
    if survey_round.status != "closed":
        raise Refused(_("Only a closed round can be reopened."), status=409)
    if not reason.strip():
        raise Refused({"reason": _("Tell why the round is reopened.")})
    session.execute(delete(RoundSnapshotRow).where(RoundSnapshotRow.round_id == survey_round.id))
    session.execute(delete(RoundSnapshotGroup).where(RoundSnapshotGroup.round_id == survey_round.id))
    survey_round.status, survey_round.closed_at = "open", None
    survey_round.reopen_reason = reason.strip()[:500]
    audit.record(
        session, "round_reopened", user=user, object_type="survey_round", object_id=survey_round.id, detail=reason
    )
    session.flush()
