"""The outcomes pages and their CSV (docs/rules.md §19): the coordinator's for the region at
``/admin/outcomes``, a social worker's for their own and shared clients at ``/clients/outcomes``."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, render_template, request, url_for
from flask_login import current_user

from placements import formats
from placements.extensions import db
from placements.outcomes import bp
from placements.outcomes.chart import transition_chart
from placements.outcomes.table import CSV_COLUMNS, FinnishWords, csv_rows
from placements.permissions import COORDINATOR, SOCIAL_WORKER
from placements.services import outcomes as outcome_service
from placements.services import reference
from placements.services.csv_export import csv_stream
from placements.survey.periods import parse_period
from placements.web.access import roles_required
from placements.web.auditing import audit_event
from placements.web.downloads import csv_response

SCOPES = {
    "region": ("outcomes.region_outcomes", "outcomes.region_csv", outcome_service.region_outcomes),
    "own": ("outcomes.own_outcomes", "outcomes.own_csv", outcome_service.worker_outcomes),
}


def _municipalities(args) -> list[str]:
    known = reference.municipality_names(db.session)
    chosen = set(args.getlist("municipality"))
    return [code for code in known if code in chosen]


def _detail(scope: str, period, municipalities) -> str:
    return f"scope={scope} period={period.label()} municipalities={'|'.join(municipalities) or 'all'}"


def _page(scope: str):
    page_endpoint, csv_endpoint, compute = SCOPES[scope]
    choice = parse_period(request.args)
    municipalities = _municipalities(request.args)
    period = choice.period
    audit_event("outcomes_viewed", object_type="outcomes", detail=_detail(scope, period, municipalities))
    result = compute(db.session, current_user, period, municipalities=municipalities)
    query = choice.query() + [("municipality", code) for code in municipalities]
    return render_template(
        "outcomes/outcomes.html",
        scope=scope,
        action=url_for(page_endpoint),
        outcomes=result,
        choice=choice,
        errors=choice.errors,
        municipalities=reference.municipality_names(db.session),
        chosen=municipalities,
        csv_url=url_for(csv_endpoint) + "?" + urlencode(query),
        chart=transition_chart(result),
        steps=outcome_service.STEPS,
        reasons=list(outcome_service.END_REASONS),
        shown=outcome_service.shown,
        share=outcome_service.share,
        day=formats.day,
    )


def _csv(scope: str):
    _page_endpoint, _csv_endpoint, compute = SCOPES[scope]
    choice = parse_period(request.args)
    if choice.errors:
        abort(400, description=" ".join(choice.errors.values()))
    municipalities = _municipalities(request.args)
    period = choice.period
    excel_fi = request.args.get("dialect") == "excel-fi"
    audit_event(
        "outcomes_exported",
        object_type="outcomes",
        detail=_detail(scope, period, municipalities) + f" dialect={'excel-fi' if excel_fi else 'standard'}",
    )
    result = compute(db.session, current_user, period, municipalities=municipalities)
    words = FinnishWords(reference.municipality_names(db.session)) if excel_fi else None
    headers = words.headers if words else list(CSV_COLUMNS)
    lines = (dict(zip(headers, row, strict=True)) for row in csv_rows(result, words))
    name = f"outcomes-{'own-' if scope == 'own' else ''}{period.label()}{'-excel' if excel_fi else ''}.csv"
    return csv_response(csv_stream(headers, lines, excel_fi=excel_fi), name)


@bp.get("/admin/outcomes")
@roles_required(COORDINATOR)
def region_outcomes():
    return _page("region")


@bp.get("/admin/outcomes.csv")
@roles_required(COORDINATOR)
def region_csv():
    return _csv("region")


@bp.get("/clients/outcomes")
@roles_required(SOCIAL_WORKER)
def own_outcomes():
    return _page("own")


@bp.get("/clients/outcomes.csv")
@roles_required(SOCIAL_WORKER)
def own_csv():
    return _csv("own")
