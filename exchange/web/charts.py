"""The geometry of the portal's bar charts, drawn as inline SVG by the server.

Pure: numbers in, coordinates out. A template only writes the rectangles and labels computed here
(no arithmetic in templates, no chart library, no script). Each chart has a data table beside it on
the page: the SVG is a picture of the table, not the only place its numbers are.

The axis runs from zero to a round maximum (1, 2 or 5 times a power of ten) with a few ticks, so
the bars of two years compare by eye and the grid lines fall on numbers people read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

# The drawing's own units (its viewBox); the page scales the SVG to its width.
WIDTH = 640
ROW = 28  # the height of one bar of a horizontal chart
COLUMN_HEIGHT = 200  # the plot height of a column chart
LABEL_WIDTH = 150  # room for the categories' names left of horizontal bars
VALUE_ROOM = 90  # room for the value written right of the longest bar
AXIS_ROOM = 22  # room for tick labels under the plot
TOP = 8


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    shown: str  # the value as people read it (yuan, a count)
    x: float
    y: float
    width: float
    height: float
    text_x: float  # where the value is written
    text_y: float


@dataclass(frozen=True)
class Tick:
    at: float  # x of a horizontal chart's grid line, y of a column chart's
    shown: str


@dataclass(frozen=True)
class Chart:
    kind: str  # "bars" (horizontal, one row per category) or "columns" (vertical, e.g. months)
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    empty: bool  # every value is zero: the page says so rather than draw nothing


def nice_max(value: int) -> int:
    """The smallest of 1, 2, 5 × 10ⁿ at or above ``value`` (1 for nothing): the axis' end."""
    if value <= 1:
        return 1
    power = 1
    while power * 10 <= value:
        power *= 10
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # unreachable: 10 × power > value by the loop above


def ticks(top: int) -> list[int]:
    """The grid lines from 0 to ``top`` (a ``nice_max``): 2 × 10ⁿ in quarters, 1 or 5 × 10ⁿ in
    fifths, always whole numbers (a top of 1 or 2 has a line at each unit)."""
    divisions = 4 if str(top).startswith("2") else 5
    if top % divisions:
        divisions = top
    return [top * i // divisions for i in range(divisions + 1)]


def _tick(value: int, shown: Callable[[int], str]) -> str:
    return shown(value) if value else "0"  # the axis' origin reads 0 whatever the unit (not ¥0.00)


def _scale(value: int, top: int, length: float) -> float:
    return round(length * value / top, 2)


def bar_chart(items: Sequence[tuple[str, int]], shown: Callable[[int], str] = str) -> Chart:
    """Horizontal bars, one row per category in the given order; ``shown`` writes a value."""
    top = nice_max(max((v for _, v in items), default=0))
    left, right = LABEL_WIDTH, WIDTH - VALUE_ROOM
    length = right - left
    bars = []
    for i, (label, value) in enumerate(items):
        y = TOP + i * ROW
        width = _scale(value, top, length)
        bars.append(Bar(label, value, shown(value), left, y + 4, width, ROW - 8, left + width + 6, y + ROW / 2 + 4))
    bottom = TOP + len(items) * ROW
    grid = [Tick(left + _scale(t, top, length), _tick(t, shown)) for t in ticks(top)]
    return Chart(
        "bars",
        WIDTH,
        int(bottom + AXIS_ROOM),
        bars,
        grid,
        left,
        right,
        TOP,
        bottom,
        empty=all(v == 0 for _, v in items),
    )


def column_chart(items: Sequence[tuple[str, int]], shown: Callable[[int], str] = str) -> Chart:
    """Vertical columns left to right (months of a year); labels under, values above each column."""
    top = nice_max(max((v for _, v in items), default=0))
    left, right = 70, WIDTH - 10
    plot_top, bottom = TOP + 16, TOP + 16 + COLUMN_HEIGHT
    slot = (right - left) / max(len(items), 1)
    bars = []
    for i, (label, value) in enumerate(items):
        height = _scale(value, top, COLUMN_HEIGHT)
        x = round(left + i * slot + slot * 0.15, 2)
        width = round(slot * 0.7, 2)
        bars.append(
            Bar(label, value, shown(value), x, bottom - height, width, height, x + width / 2, bottom - height - 4)
        )
    grid = [Tick(bottom - _scale(t, top, COLUMN_HEIGHT), _tick(t, shown)) for t in ticks(top)]
    return Chart(
        "columns",
        WIDTH,
        int(bottom + AXIS_ROOM),
        bars,
        grid,
        left,
        right,
        plot_top,
        bottom,
        empty=all(v == 0 for _, v in items),
    )
