"""The coordinator's survey page and its CSV download."""

from __future__ import annotations

from datetime import date

from flask import abort, render_template, request
from flask_babel import gettext as _

from placements import clock
from placements.extensions import db
from placements.permissions import COORDINATOR
from placements.services import reference
from placements.services import survey as survey_service
from placements.services.csv_export import csv_stream
from placements.survey import bp
from placements.web.access import roles_required
from placements.web.auditing import audit_event
from placements.web.downloads import csv_response


def parse_period(args) -> tuple[survey_service.Period, list[str]]:
    """The period from the query string; the current year when nothing (valid) is given."""
    errors = []
    today = clock.today()
    kind = args.get("period", "year")
    try:
        chosen_year = int(args.get("year", today.year))
        if not 2000 <= chosen_year <= 2100:
            raise ValueError
    except ValueError:
        errors.append(_("Year: give a year such as %(year)s.", year=today.year))
        chosen_year = today.year
    try:
        if kind == "month":
            return survey_service.month(chosen_year, int(args.get("month", today.month))), errors
        if kind == "quarter":
            return survey_service.quarter(chosen_year, int(args.get("quarter", (today.month - 1) // 3 + 1))), errors
        if kind == "custom":
            start, end = date.fromisoformat(args.get("start", "")), date.fromisoformat(args.get("end", ""))
            if end < start:
                errors.append(_("The end of the period is before its start."))
            elif (end - start).days > 3660:
                errors.append(_("A custom period can be at most ten years long."))
            else:
                return survey_service.Period(start, end, "custom"), errors
        elif kind != "year":
            errors.append(_("Choose a month, a quarter, a year or your own dates."))
    except ValueError:
        errors.append(_("The period was not understood; check the month, quarter or dates (e.g. 2026-01-31)."))
    return survey_service.year(chosen_year), errors


def _municipalities(args) -> list[str]:
    known = reference.municipality_names(db.session)
    return [code for code in args.getlist("municipality") if code in known]


def _split(args) -> str | None:
    value = args.get("split")
    return value if value in survey_service.SPLITS else None


@bp.get("/survey")
@roles_required(COORDINATOR)
def survey_page():
    period, errors = parse_period(request.args)
    municipalities = _municipalities(request.args)
    split = _split(request.args)
    result = survey_service.run(db.session, period, municipalities=municipalities, split=split)
    previous = survey_service.run(db.session, period.previous(), municipalities=municipalities)
    return render_template(
        "survey/survey.html",
        survey=result,
        previous=previous,
        errors=errors,
        args=request.args,
        municipalities=reference.municipality_names(db.session),
        chosen=municipalities,
        split=split,
        suppressed=request.args.get("suppress") == "1",
        chart=survey_service.by_municipality(result),
        columns=survey_service.COLUMNS,
        placement_columns=survey_service.PLACEMENT_COLUMNS,
        suppress=survey_service.suppress,
    )


SURVEY_CSV_COLUMNS = (
    "period_start",
    "period_end",
    "municipality_code",
    "municipality",
    "opening_type",
    "group",
) + survey_service.COLUMNS
SITE_CSV_COLUMNS = (
    "period_start",
    "period_end",
    "municipality_code",
    "municipality",
    "site_ref",
    "site_name",
    "opening_type",
) + survey_service.COLUMNS


@bp.get("/survey.csv")
@roles_required(COORDINATOR)
def survey_csv():
    """The survey as CSV: by municipality (default) or by site; comma/UTF-8 or Finnish Excel."""
    period, errors = parse_period(request.args)
    if errors:
        abort(400, description=" ".join(errors))
    municipalities = _municipalities(request.args)
    split = _split(request.args)
    suppressed = request.args.get("suppress") == "1"
    excel_fi = request.args.get("dialect") == "excel-fi"
    by_site = request.args.get("level") == "site"
    level = "site" if by_site else "municipality"
    detail = f"period={period.label()} level={level} split={split or '-'} suppress={int(suppressed)}"
    audit_event("survey_exported", object_type="survey", detail=detail)
    bounds = {"period_start": period.start.isoformat(), "period_end": period.end.isoformat()}

    def rows():
        if by_site:
            for row in survey_service.site_rows(db.session, period, municipalities=municipalities):
                yield bounds | {k: survey_service.suppress(k, v, suppressed) for k, v in row.items()}
            return
        result = survey_service.run(db.session, period, municipalities=municipalities, split=split)
        for row in result.split_rows if split else result.rows:
            values = {k: survey_service.suppress(k, v, suppressed) for k, v in row.values.items()}
            yield (
                bounds
                | {
                    "municipality_code": row.municipality_code,
                    "municipality": row.municipality,
                    "opening_type": row.opening_type,
                    "group": row.group or "",
                }
                | values
            )
        if not split:
            yield (
                bounds
                | {"municipality": "total"}
                | {k: survey_service.suppress(k, v, suppressed) for k, v in result.totals.items()}
            )

    columns = SITE_CSV_COLUMNS if by_site else SURVEY_CSV_COLUMNS
    name = f"survey-{'sites-' if by_site else ''}{period.label()}{'-excel' if excel_fi else ''}.csv"
    return csv_response(csv_stream(columns, rows(), excel_fi=excel_fi), name)
