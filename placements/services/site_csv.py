"""The site CSV format (docs/rules.md §10.1–§10.2): columns, reading bytes into rows, writing rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask import has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _

from placements import codes
from placements.services.csv_export import csv_stream

COLUMNS = (
    "site_ref",
    "organisation",
    "organisation_kind",
    "site_name",
    "street_address",
    "postal_code",
    "municipality_code",
    "latitude",
    "longitude",
    "accessibility",
    "contact_name",
    "contact_phone",
    "contact_email",
    "opening_type",
    "opening_title",
    "task_areas",
    "days_per_week_min",
    "days_per_week_max",
    "hours_per_day_min",
    "hours_per_day_max",
    "places_total",
    "places_external",
    "supports",
    "physical_demand",
    "social_intensity",
    "languages",
    "status",
    "description",
)
# Accepted after the standard columns; export writes it so that a round trip keeps the date.
OPTIONAL_COLUMNS = ("last_confirmed",)
# Columns that describe the site; every row of one site_ref must agree on them.
SITE_COLUMNS = (
    "organisation",
    "organisation_kind",
    "site_name",
    "street_address",
    "postal_code",
    "municipality_code",
    "latitude",
    "longitude",
    "accessibility",
    "contact_name",
    "contact_phone",
    "contact_email",
    "description",
)
MULTI_SEPARATOR = "|"
# The template offered on the import page: two openings of one example site, valid as they are.
TEMPLATE_ROWS = (
    {
        "site_ref": "KAJ-001",
        "organisation": "Esimerkkiyhdistys ry",
        "organisation_kind": "association",
        "site_name": "Esimerkkipaja, Kajaani",
        "street_address": "Kauppakatu 1",
        "postal_code": "87100",
        "municipality_code": "205",
        "latitude": 64.2250,
        "longitude": 27.7300,
        "accessibility": "step_free_access|public_transport_nearby",
        "contact_name": "Maija Esimerkki",
        "contact_phone": "040 123 4567",
        "contact_email": "maija.esimerkki@example.fi",
        "opening_type": "rehabilitative_work",
        "opening_title": "Keittiöapulainen",
        "task_areas": "kitchen|cleaning",
        "days_per_week_min": 2,
        "days_per_week_max": 4,
        "hours_per_day_min": 4,
        "hours_per_day_max": 6,
        "places_total": 5,
        "places_external": 1,
        "supports": "work_instructor|meal_provided",
        "physical_demand": "moderate",
        "social_intensity": "medium",
        "languages": "fi",
        "status": "open",
        "description": "Lounaskeittiö ja kahvio; työ alkaa perehdytyksellä.",
    },
    {
        "site_ref": "KAJ-001",
        "organisation": "Esimerkkiyhdistys ry",
        "organisation_kind": "association",
        "site_name": "Esimerkkipaja, Kajaani",
        "street_address": "Kauppakatu 1",
        "postal_code": "87100",
        "municipality_code": "205",
        "latitude": 64.2250,
        "longitude": 27.7300,
        "accessibility": "step_free_access|public_transport_nearby",
        "contact_name": "Maija Esimerkki",
        "contact_phone": "040 123 4567",
        "contact_email": "maija.esimerkki@example.fi",
        "opening_type": "work_trial",
        "opening_title": "Kahvion asiakaspalvelu",
        "task_areas": "cafe_service",
        "days_per_week_min": 3,
        "days_per_week_max": 5,
        "hours_per_day_min": 4,
        "hours_per_day_max": 7.5,
        "places_total": 2,
        "places_external": 0,
        "supports": "job_coach",
        "physical_demand": "light",
        "social_intensity": "high",
        "languages": "fi|en",
        "status": "open",
        "description": "Lounaskeittiö ja kahvio; työ alkaa perehdytyksellä.",
    },
)
# What may follow an opening type's name at the start of a title (docs/rules.md §10.14).
TITLE_SEPARATORS = (":", "–", "—", "-")
# The languages whose type names a title may start with.
TITLE_LOCALES = ("fi", "en")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: ``row`` as a spreadsheet numbers it (header = 1)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        place = []
        if self.row is not None:
            place.append(_("row %(row)s", row=self.row))
        if self.column:
            place.append(_("column %(column)s", column=self.column))
        return (", ".join(place) + ": " if place else "") + self.message


@dataclass
class ParsedFile:
    rows: list[tuple[int, dict[str, str]]]
    columns: list[str]
    delimiter: str
    problems: list[Problem]


def decode(data: bytes) -> tuple[str | None, Problem | None]:
    """UTF-8 with or without BOM; anything else is refused with the place of the first bad byte."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, Problem(
            line,
            None,
            _(
                "The file is not in UTF-8 encoding (first unreadable character on line "
                '%(line)s). In Excel, save it as "CSV UTF-8 (comma delimited)".',
                line=line,
            ),
        )


def detect_delimiter(header_line: str) -> str:
    return ";" if header_line.count(";") > header_line.count(",") else ","


def parse(data: bytes) -> ParsedFile:
    """Split the file into rows keyed by column name; report problems with its shape."""
    text, problem = decode(data)
    if problem:
        return ParsedFile([], [], ",", [problem])
    if not text.strip():
        return ParsedFile([], [], ",", [Problem(None, None, _("The file is empty."))])
    delimiter = detect_delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as error:
        return ParsedFile(
            [],
            [],
            delimiter,
            [Problem(reader.line_num, None, _("The CSV file is malformed: %(error)s", error=str(error)))],
        )
    header = [name.strip().lower() for name in records[0]]
    problems = _check_header(header)
    rows: list[tuple[int, dict[str, str]]] = []
    if problems:
        return ParsedFile([], header, delimiter, problems)
    for number, cells in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(
                Problem(
                    number,
                    None,
                    _(
                        "The row has %(found)s cells but the header has %(expected)s columns.",
                        found=len(cells),
                        expected=len(header),
                    ),
                )
            )
            continue
        rows.append((number, {name: cell.strip() for name, cell in zip(header, cells, strict=True)}))
    if not rows and not problems:
        problems.append(Problem(None, None, _("The file has a header row but no data rows.")))
    return ParsedFile(rows, header, delimiter, problems)


def _check_header(header: list[str]) -> list[Problem]:
    problems = []
    for name in COLUMNS:
        if name not in header:
            problems.append(Problem(1, name, _("The required column is missing.")))
    seen = set()
    for name in header:
        if name not in COLUMNS and name not in OPTIONAL_COLUMNS:
            problems.append(Problem(1, name or "?", _("Unknown column.")))
        if name in seen:
            problems.append(Problem(1, name, _("The column appears twice.")))
        seen.add(name)
    return problems


_type_names_cache: dict[str, list[str]] = {}


def _type_names(opening_type: str | None) -> list[str]:
    """The type's name in each language (and its code), longest first, case-folded."""
    label = codes.OPENING_TYPES.get(opening_type or "")
    if label is None:
        return []
    if opening_type in _type_names_cache:
        return _type_names_cache[opening_type]
    names = {opening_type.replace("_", " ").casefold()}
    for locale in TITLE_LOCALES:
        with force_locale(locale):
            names.add(" ".join(str(label).split()).casefold())
    ordered = sorted(names, key=len, reverse=True)
    if has_app_context():  # the translations are loaded: the names are final
        _type_names_cache[opening_type] = ordered
    return ordered


def plain_title(title: str | None, opening_type: str | None) -> str | None:
    """The title without a leading repeat of its own opening type (docs/rules.md §10.14):
    "Kuntouttava työtoiminta: eläintenhoito" of a rehabilitative work opening becomes
    "Eläintenhoito", since the type is always shown next to the title. A title that is
    nothing but the type keeps the type's words."""
    if not title:
        return title
    names = _type_names(opening_type)
    text = title.strip()
    changed = True
    while changed:
        changed = False
        folded = text.casefold()
        for name in names:
            if not folded.startswith(name):
                continue
            rest = text[len(name) :].lstrip()
            if not rest.startswith(TITLE_SEPARATORS):
                continue
            rest = rest[1:].strip()
            if not rest:
                return text[: len(name)]
            text = rest[0].upper() + rest[1:]
            changed = True
            break
    return text


def join_codes(codes: Iterable[str]) -> str:
    return MULTI_SEPARATOR.join(codes)


def write(rows: Iterable[dict[str, object]], stream, *, excel_fi: bool = False) -> int:
    """Write rows to a text stream; returns the number of data rows written."""
    count = -1
    for chunk in iter_lines(rows, excel_fi=excel_fi):
        stream.write(chunk)
        count += 1
    return count


def iter_lines(rows: Iterable[dict[str, object]], *, excel_fi: bool = False) -> Iterator[str]:
    """The site CSV as text chunks, for files and streaming responses."""
    return csv_stream(COLUMNS + OPTIONAL_COLUMNS, rows, excel_fi=excel_fi)
