"""The outcomes as CSV rows, in the standard dialect (codes) or for Finnish spreadsheets
(Finnish headers and labels, docs/rules.md §19.6)."""

from __future__ import annotations

from collections.abc import Iterator

from babel import Locale
from babel.dates import format_date
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from placements import codes
from placements.services.outcomes import EMPLOYED, STEPS, Outcomes, share, shown

CSV_COLUMNS = (
    "period_start",
    "period_end",
    "municipalities",
    "figure",
    "opening_type",
    "category",
    "count",
    "share_percent",
    "median_days",
)
COLUMN_LABELS = {
    "period_start": _l("Period start"),
    "period_end": _l("Period end"),
    "municipalities": _l("Municipalities"),
    "figure": _l("Figure"),
    "opening_type": _l("Opening type"),
    "category": _l("Category"),
    "count": _l("Count"),
    "share_percent": _l("Share (%)"),
    "median_days": _l("Median (days)"),
}
FIGURES = {
    "ended": _l("Placements ended"),
    "placement_length": _l("Length of ended placements"),
    "needs_to_start": _l("From the first needs record to the first start"),
    "proposal_to_answer": _l("From a proposal to the host's answer"),
    "transition": _l("Path transition"),
}
STEP_LABELS = dict(codes.OPENING_TYPES) | {EMPLOYED: _l("employed")}
TOTAL = "total"


def _capitalised(text: object) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


class FinnishWords:
    """Everything the Finnish Excel CSV writes in words, translated once."""

    def __init__(self, municipality_names: dict[str, str]):
        with force_locale("fi"):
            self.headers = [str(COLUMN_LABELS[column]) for column in CSV_COLUMNS]
            self.figures = {code: str(text) for code, text in FIGURES.items()}
            self.steps = {code: _capitalised(text) for code, text in STEP_LABELS.items()}
            self.reasons = {code: _capitalised(text) for code, text in codes.END_REASONS.items()}
            self.total = str(_l("Total"))
            self.all = _capitalised(_l("all"))
        self.names = municipality_names
        self.locale = Locale("fi")

    def day(self, value) -> str:
        return format_date(value, "medium", locale=self.locale)


def csv_rows(outcomes: Outcomes, words: FinnishWords | None = None) -> Iterator[list[object]]:
    """Every figure as rows of CSV_COLUMNS; small counts as "<5", medians of fewer than five
    values left empty (docs/rules.md §19.5)."""
    period = outcomes.period
    if words:
        start, end = words.day(period.start), words.day(period.end)
        chosen = ", ".join(words.names.get(code, code) for code in outcomes.municipalities) or words.all
    else:
        start, end = period.start.isoformat(), period.end.isoformat()
        chosen = "|".join(outcomes.municipalities)

    def figure(code: str) -> str:
        return words.figures[code] if words else code

    def kind(code: str) -> str:
        if code == TOTAL:
            return words.total if words else TOTAL
        return words.steps.get(code, code) if words and code else code

    def reason(code: str) -> str:
        if code == TOTAL:
            return words.total if words else TOTAL
        return words.reasons.get(code, code) if words else code

    def row(code, opening_type="", category="", count=None, percent=None, median=None) -> list[object]:
        return [start, end, chosen, figure(code), opening_type, category, count, percent, median]

    every = outcomes.ended_total()
    for opening_type in outcomes.types_ended() + [TOTAL]:
        total = every if opening_type == TOTAL else outcomes.ended_total(opening_type)
        for code in codes.END_REASONS:
            count = outcomes.ended_count(None if opening_type == TOTAL else opening_type, code)
            yield row("ended", kind(opening_type), reason(code), shown(count), share(count, total))
        yield row("ended", kind(opening_type), reason(TOTAL), shown(total))
    for opening_type in outcomes.types_ended() + [TOTAL]:
        median = outcomes.lengths.get("" if opening_type == TOTAL else opening_type)
        if median is not None:
            yield row("placement_length", kind(opening_type), count=shown(median.count), median=median.shown)
    for code, median in (
        ("needs_to_start", outcomes.needs_to_start),
        ("proposal_to_answer", outcomes.proposal_to_answer),
    ):
        yield row(code, count=shown(median.count), median=median.shown)
    for source in outcomes.transition_sources():
        for target in STEPS:
            count = outcomes.transitions.get((source, target), 0)
            if count:
                yield row("transition", kind(source), kind(target), shown(count))
