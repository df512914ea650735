"""A host's answer to a survey round, /rounds/<id> (docs/rules.md §17.2), and the notice of
open rounds on /my/sites."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from placements.codes import AGE_BANDS, GENDERS, OPENING_STATUSES
from placements.extensions import db
from placements.models.round import LINE_ANSWERS
from placements.permissions import HOST
from placements.rounds import bp
from placements.rounds.forms import CommentForm
from placements.services import rounds as round_service
from placements.web.access import roles_required
from placements.web.converters import bounded_int
from placements.web.unit_of_work import attempt

LARGEST = 100_000


def _number(name: str, problems: dict) -> int | None:
    raw = request.form.get(name, "").strip()
    if raw == "":
        return None
    value = bounded_int(raw, low=0, high=LARGEST)
    if value is None:
        problems[name] = _("Give a whole number from 0 to %(largest)s.", largest=LARGEST)
    return value


def _answers(lines, problems: dict) -> dict[int, round_service.Answer]:
    answers = {}
    for line in lines:
        oid = line.opening.id
        answer = request.form.get(f"answer-{oid}", "pending")
        if answer not in LINE_ANSWERS:
            problems[f"answer-{oid}"] = _("Choose an answer from the list.")
            continue
        status = request.form.get(f"status-{oid}") or None
        if status is not None and status not in OPENING_STATUSES:
            problems[f"status-{oid}"] = _("Choose a status from the list.")
            continue
        answers[oid] = round_service.Answer(
            answer,
            places_total=_number(f"places_total-{oid}", problems),
            places_external=_number(f"places_external-{oid}", problems),
            status=status,
            participants_outside=_number(f"outside-{oid}", problems),
            version=bounded_int(request.form.get(f"version-{oid}", ""), low=0, high=2**31 - 1),
        )
    return answers


def _groups(problems: dict) -> dict[str, dict[str, int]]:
    groups: dict[str, dict[str, int]] = {}
    for band in AGE_BANDS:
        for gender in GENDERS:
            value = _number(f"group-{band}-{gender}", problems)
            if value:
                groups.setdefault(band, {})[gender] = value
    return groups


@bp.route("/rounds/<id:round_id>", methods=["GET", "POST"])
@roles_required(HOST)
def answer_page(round_id: int):
    response = round_service.response_for(db.session, current_user, round_id)
    lines = round_service.page_lines(db.session, response)
    form = CommentForm(data={"comment": response.comment})
    problems: dict[str, str] = {}
    groups = round_service.groups_of(response)
    if form.validate_on_submit():
        answers = _answers(lines, problems)
        groups = _groups(problems)
        submit = request.form.get("action") == "submit"
        if not problems:
            saved = attempt(
                lambda: round_service.save_response(
                    db.session,
                    current_user,
                    response,
                    answers=answers,
                    comment=form.comment.data or "",
                    groups=groups,
                    submit=submit,
                )
            )
            if saved:
                flash(_("Your answer was sent. Thank you!") if submit else _("Your answer was saved."), "success")
                return redirect(url_for("rounds.answer_page", round_id=round_id), code=303)
    return render_template(
        "rounds/answer.html",
        response=response,
        survey_round=response.round,
        lines=lines,
        form=form,
        problems=problems,
        groups=groups,
        age_bands=AGE_BANDS,
        genders=GENDERS,
        statuses=OPENING_STATUSES,
        posted=request.form if request.method == "POST" else None,
    )


@bp.app_context_processor
def round_invitations():
    """``open_round_responses()`` for the include on /my/sites."""

    def open_round_responses():
        return round_service.open_responses(db.session, current_user)

    return {"open_round_responses": open_round_responses}
