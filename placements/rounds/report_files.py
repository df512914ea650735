"""A closed round's report as a page, CSV (both dialects) and a print-ready PDF
(docs/rules.md §17.5). The PDF is made with WeasyPrint from the app's own template, styles
and fonts; its URL fetcher serves only the app's static files, so nothing is fetched from the
network."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from pathlib import Path

from flask import Response, current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from placements import formats
from placements.codes import AGE_BANDS, GENDERS, OPENING_TYPES
from placements.services import round_report
from placements.services.csv_export import csv_stream

CSV_COLUMNS = ("round", "reference_date", "municipality_code", "municipality", "opening_type") + round_report.COLUMNS
TOTAL_MARK = "total"
# The PDF's relative links resolve under this address, which only ``static_fetcher`` answers.
STATIC_BASE = "https://registry.invalid/static/"


def column_label(column: str) -> str:
    return {
        "round": _("Survey round"),
        "reference_date": _("Reference date"),
        "municipality_code": _("Municipality code"),
        "municipality": _("Municipality"),
        "opening_type": _("Opening type"),
        "sites": _("Sites"),
        "openings": _("Openings"),
        "places_total": _("Places in total"),
        "places_external": _("Places held by participants from elsewhere"),
        "participants_registry": _("Participants placed through the registry"),
        "participants_outside": _("Participants from outside the registry"),
    }[column]


def _bars(report: round_report.Report) -> list[dict[str, object]]:
    """Places by municipality, as bars on one scale."""
    totals = [line for line in report.lines if line.opening_type is None]
    top = max([line.values["places_total"] for line in totals] + [1])
    return [
        {
            "name": line.municipality,
            "value": line.values["places_total"],
            "width": max(round(100 * line.values["places_total"] / top, 1), 1.0) if line.values["places_total"] else 0,
        }
        for line in totals
    ]


def context(report: round_report.Report) -> dict:
    return {
        "report": report,
        "survey_round": report.survey_round,
        "columns": round_report.COLUMNS,
        "column_label": column_label,
        "suppress": round_report.suppress,
        "bars": _bars(report),
        "age_bands": AGE_BANDS,
        "genders": GENDERS,
        "type_label": lambda kind: str(OPENING_TYPES.get(kind, kind)),
    }


def csv_lines(report: round_report.Report, *, excel_fi: bool) -> Iterator[str]:
    """Standard dialect: machine names and ISO dates; Finnish Excel: Finnish headers, labels
    and dates, ``Yhteensä`` marking totals. People counts of 1–4 are "<5" in both."""
    survey_round = report.survey_round
    if excel_fi:
        with force_locale("fi"):
            headers = [column_label(column) for column in CSV_COLUMNS]
            total = _("Total")
            types = {kind: str(label) for kind, label in OPENING_TYPES.items()}
            reference_date = formats.day(survey_round.reference_date)
    else:
        headers, total, types = list(CSV_COLUMNS), TOTAL_MARK, {}
        reference_date = survey_round.reference_date.isoformat()

    # Read before the body streams: the request's unit of work has committed by then.
    base = {"round": survey_round.name, "reference_date": reference_date}

    def rows():
        for line in report.lines:
            kind = total if line.opening_type is None else types.get(line.opening_type, line.opening_type)
            words = {
                "municipality_code": line.municipality_code,
                "municipality": line.municipality,
                "opening_type": kind,
            }
            numbers = {column: round_report.suppress(column, line.values[column]) for column in round_report.COLUMNS}
            yield base | words | numbers
        numbers = {column: round_report.suppress(column, report.totals[column]) for column in round_report.COLUMNS}
        yield base | {"municipality_code": "", "municipality": total, "opening_type": total} | numbers

    def cells():
        for row in rows():
            yield dict(zip(headers, (row[column] for column in CSV_COLUMNS), strict=True))

    return csv_stream(headers, cells(), excel_fi=excel_fi)


def static_fetcher(static_folder: str):
    """A WeasyPrint URL fetcher that serves the app's static files and refuses anything else."""
    root = Path(static_folder).resolve()

    def fetch(url: str):
        prefix = STATIC_BASE
        if not url.startswith(prefix):
            raise ValueError(f"not fetched: {url[:80]}")
        path = (root / url[len(prefix) :].lstrip("/")).resolve()
        if root not in path.parents or not path.is_file():
            raise ValueError(f"not fetched: {url[:80]}")
        return {
            "string": path.read_bytes(),
            "mime_type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            "redirected_url": url,
        }

    return fetch


def pdf_bytes(report: round_report.Report) -> bytes:
    from weasyprint import HTML

    html = render_template("rounds/report_pdf.html", **context(report))
    document = HTML(string=html, base_url=STATIC_BASE, url_fetcher=static_fetcher(current_app.static_folder))
    return document.write_pdf()


def pdf_response(report: round_report.Report, filename: str) -> Response:
    response = Response(pdf_bytes(report), content_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
