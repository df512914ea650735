"""The coordinator's survey page and its CSV download (docs/rules.md §9)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import abort, redirect, render_template, request, url_for

from placements import formats
from placements.extensions import db
from placements.permissions import COORDINATOR
from placements.services import reference
from placements.services import survey as survey_service
from placements.services.csv_export import csv_stream
from placements.survey import bp
from placements.survey.labels import FinnishLabels, column_label
from placements.survey.periods import PeriodChoice, parse_period
from placements.web.access import roles_required
from placements.web.auditing import audit_event
from placements.web.downloads import csv_response

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
TOTAL_MARK = "total"  # the standard CSV's marker of a total row (§9.8)


def _municipalities(args) -> list[str]:
    known = reference.municipality_names(db.session)
    chosen = set(args.getlist("municipality"))
    return [code for code in known if code in chosen]


def _split(args) -> str | None:
    value = args.get("split")
    return value if value in survey_service.SPLITS else None


def _query(choice: PeriodChoice, municipalities, split, suppressed) -> list[tuple[str, str]]:
    """The page's address parameters: the period's own fields and the chosen scope only."""
    return (
        choice.query()
        + [("municipality", code) for code in municipalities]
        + ([("split", split)] if split else [])
        + ([("suppress", "1")] if suppressed else [])
    )


def _chart(rows, column: str, suppressed: bool) -> list[dict[str, object]]:
    """Bars of one column by municipality, on the column's own scale (docs/rules.md §9.7).

    A count shown as "<5" gets no bar, so its length does not tell the number."""
    top = max([row.values[column] for row in rows] + [1])
    bars = []
    for row in rows:
        value = row.values[column]
        shown = survey_service.suppress(column, value, suppressed)
        width = 0.0 if isinstance(shown, str) or not value else max(round(100 * value / top, 1), 1.0)
        bars.append({"name": row.municipality, "value": shown, "width": width})
    return bars


@bp.get("/survey")
@roles_required(COORDINATOR)
def survey_page():
    choice = parse_period(request.args)
    municipalities = _municipalities(request.args)
    split = _split(request.args)
    suppressed = request.args.get("suppress") == "1"
    query = _query(choice, municipalities, split, suppressed)
    given = sorted((k, v) for k, v in request.args.items(multi=True) if v != "")
    if request.args and not choice.errors and given != sorted(query):
        return redirect(url_for("survey.survey_page") + "?" + urlencode(query))
    period = choice.period
    result = survey_service.run(db.session, period, municipalities=municipalities, split=split)
    previous = survey_service.run(db.session, period.previous(), municipalities=municipalities)
    subtotals = survey_service.by_municipality(result)
    csv_url = url_for("survey.survey_csv") + "?" + urlencode(query)
    return render_template(
        "survey/survey.html",
        survey=result,
        previous=previous,
        choice=choice,
        errors=choice.errors,
        municipalities=reference.municipality_names(db.session),
        chosen=municipalities,
        split=split,
        suppressed=suppressed,
        csv_url=csv_url,
        charts=[
            ("chart-places", _chart(subtotals, "places_total", suppressed)),
            ("chart-started", _chart(subtotals, "placements_started", suppressed)),
        ],
        columns=survey_service.COLUMNS,
        placement_columns=survey_service.PLACEMENT_COLUMNS,
        column_label=column_label,
        day=formats.day,
        suppress=survey_service.suppress,
    )


def _standard_cells(row: survey_service.Row) -> dict[str, object]:
    """A row's words in the standard dialect: codes, with ``total`` marking totals."""
    return {
        "municipality_code": row.municipality_code,
        "municipality": TOTAL_MARK if row.total == "region" else row.municipality,
        "opening_type": TOTAL_MARK if row.total == "municipality" else (row.opening_type or ""),
        "group": row.group or "",
        "site_ref": row.site_ref or "",
        "site_name": row.site_name or "",
    }


def _finnish_cells(row: survey_service.Row, finnish: FinnishLabels) -> dict[str, object]:
    """A row's words for Finnish spreadsheets: Finnish labels, ``Yhteensä`` marking totals."""
    if row.total == "municipality":
        kind = finnish.total
    else:
        kind = finnish.types.get(row.opening_type, row.opening_type or "")
    return _standard_cells(row) | {
        "municipality": finnish.total if row.total == "region" else row.municipality,
        "opening_type": kind,
        "group": finnish.groups.get(row.group, row.group or ""),
    }


@bp.get("/survey.csv")
@roles_required(COORDINATOR)
def survey_csv():
    """The survey as CSV: by municipality (default) or by site; the standard dialect with
    machine names, or Finnish Excel with Finnish headers and labels (docs/rules.md §9.8)."""
    choice = parse_period(request.args)
    if choice.errors:
        abort(400, description=" ".join(choice.errors.values()))
    period = choice.period
    municipalities = _municipalities(request.args)
    split = _split(request.args)
    suppressed = request.args.get("suppress") == "1"
    excel_fi = request.args.get("dialect") == "excel-fi"
    by_site = request.args.get("level") == "site"
    level = "site" if by_site else "municipality"
    detail = f"period={period.label()} level={level} split={split or '-'} suppress={int(suppressed)}"
    audit_event("survey_exported", object_type="survey", detail=detail)
    columns = SITE_CSV_COLUMNS if by_site else SURVEY_CSV_COLUMNS
    finnish = FinnishLabels(columns, None if by_site else split) if excel_fi else None
    if finnish:
        bounds = {"period_start": finnish.day(period.start), "period_end": finnish.day(period.end)}
    else:
        bounds = {"period_start": period.start.isoformat(), "period_end": period.end.isoformat()}

    def survey_rows():
        if by_site:
            yield from survey_service.site_rows(db.session, period, municipalities=municipalities)
            return
        result = survey_service.run(db.session, period, municipalities=municipalities, split=split)
        if split:
            yield from result.split_rows
            return
        for subtotal, rows in result.sections():
            yield from rows
            yield subtotal
        yield survey_service.Row("", "", None, values=result.totals, total="region")

    def lines():
        for row in survey_rows():
            words = _finnish_cells(row, finnish) if finnish else _standard_cells(row)
            numbers = {k: survey_service.suppress(k, v, suppressed) for k, v in row.values.items()}
            cells = bounds | words | numbers
            yield dict(zip(headers, (cells.get(column) for column in columns), strict=True))

    headers = finnish.headers if finnish else list(columns)
    name = f"survey-{'sites-' if by_site else ''}{period.label()}{'-excel' if excel_fi else ''}.csv"
    return csv_response(csv_stream(headers, lines(), excel_fi=excel_fi), name)
