"""Streaming CSV that spreadsheets open safely, in the standard or the Finnish Excel dialect."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from placements.services.csv_safety import neutralise


def format_number(value: float) -> str:
    """Shortest plain notation: 4.0 -> "4", 64.222200 -> "64.2222"."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def cell(value: object, excel_fi: bool = False) -> str:
    """Numbers stay numbers (also negative ones); text that looks like a formula is neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = format_number(value)
        return text.replace(".", ",") if excel_fi else text
    return neutralise(str(value))


def csv_stream(columns: Sequence[str], rows: Iterable[dict[str, object]], *, excel_fi: bool = False) -> Iterator[str]:
    """The CSV as text chunks, header first: ``,`` and UTF-8, or for Finnish Excel ``;``,
    a UTF-8 BOM and decimal commas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if excel_fi else ",", lineterminator="\r\n")

    def take() -> str:
        chunk = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return chunk

    writer.writerow(columns)
    yield ("\ufeff" if excel_fi else "") + take()
    for row in rows:
        writer.writerow([cell(row.get(name), excel_fi) for name in columns])
        yield take()
