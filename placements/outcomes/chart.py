"""The path transitions as stacked bars drawn on the server (docs/rules.md §19.4): one bar per
type a client came from, split by where they went next, on one scale. A count shown as "<5"
gets no segment, so its length does not tell the number (as the survey's charts, §9.9)."""

from __future__ import annotations

from dataclasses import dataclass

from placements.services.outcomes import STEPS, Outcomes, shown

WIDTH = 360  # viewBox units: about one to one on a phone; the SVG scales to the page
LABEL_HEIGHT = 22
BAR_HEIGHT = 26
GAP = 14
MIN_LABEL_WIDTH = 28  # a segment narrower than this carries no number inside


@dataclass(frozen=True)
class Segment:
    step: str
    x: float
    width: float
    value: int | str
    labelled: bool


@dataclass(frozen=True)
class Bar:
    source: str
    y: float
    segments: list[Segment]


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    height: float
    steps: tuple[str, ...]
    width: int = WIDTH

    @property
    def empty(self) -> bool:
        return not any(bar.segments for bar in self.bars)


def transition_chart(outcomes: Outcomes) -> Chart:
    sources = outcomes.transition_sources()
    drawn = {
        key: count for key, count in outcomes.transitions.items() if not isinstance(shown(count), str) and count > 0
    }
    top = max([sum(drawn.get((source, step), 0) for step in STEPS) for source in sources] + [1])
    bars = []
    y = 0.0
    for source in sources:
        x = 0.0
        segments = []
        for step in STEPS:
            count = drawn.get((source, step), 0)
            if not count:
                continue
            width = round(WIDTH * count / top, 1)
            segments.append(Segment(step, x, width, count, width >= MIN_LABEL_WIDTH))
            x += width
        bars.append(Bar(source, y, segments))
        y += LABEL_HEIGHT + BAR_HEIGHT + GAP
    return Chart(bars, max(y - GAP, 1), STEPS)
