"""The portal's bar charts: round axes, bars in proportion, nothing drawn past the plot."""

from __future__ import annotations

import pytest

from exchange.web.charts import (
    COLUMN_HEIGHT,
    LABEL_WIDTH,
    WIDTH,
    bar_chart,
    column_chart,
    nice_max,
    ticks,
)
from exchange.web.formats import wan_yuan


@pytest.mark.parametrize(
    ("value", "top"),
    [(0, 1), (1, 1), (2, 2), (3, 5), (5, 5), (6, 10), (10, 10), (11, 20), (21, 50), (51, 100), (1_234_567, 2_000_000)],
)
def test_the_axis_ends_at_a_round_number_at_or_above_the_largest_value(value: int, top: int) -> None:
    assert nice_max(value) == top


@pytest.mark.parametrize(
    ("top", "lines"),
    [
        (1, [0, 1]),
        (2, [0, 1, 2]),
        (5, [0, 1, 2, 3, 4, 5]),
        (10, [0, 2, 4, 6, 8, 10]),
        (20, [0, 5, 10, 15, 20]),
        (50, [0, 10, 20, 30, 40, 50]),
        (2_000_000, [0, 500_000, 1_000_000, 1_500_000, 2_000_000]),
    ],
)
def test_grid_lines_are_evenly_spaced_whole_numbers(top: int, lines: list[int]) -> None:
    assert ticks(top) == lines


def test_horizontal_bars_are_in_proportion_to_their_values_and_in_the_given_order() -> None:
    chart = bar_chart([("转让", 10), ("许可", 5), ("作价入股", 0)])
    assert [b.label for b in chart.bars] == ["转让", "许可", "作价入股"]
    full = chart.plot_right - chart.plot_left
    assert chart.bars[0].width == full  # 10 is the axis' end
    assert chart.bars[1].width == full / 2
    assert chart.bars[2].width == 0
    assert all(b.x == LABEL_WIDTH for b in chart.bars)
    assert chart.bars[0].y < chart.bars[1].y < chart.bars[2].y  # one row each, top to bottom
    assert not chart.empty
    # Every bar and its value label stay inside the drawing.
    assert all(b.x + b.width <= WIDTH and b.text_x < WIDTH and b.y + b.height <= chart.height for b in chart.bars)


def test_columns_stand_on_the_baseline_and_reach_their_share_of_the_plot() -> None:
    chart = column_chart([("1月", 0), ("2月", 3), ("3月", 6)])
    assert nice_max(6) == 10
    heights = [b.height for b in chart.bars]
    assert heights == [0, COLUMN_HEIGHT * 3 / 10, COLUMN_HEIGHT * 6 / 10]
    assert all(b.y + b.height == chart.plot_bottom for b in chart.bars)
    assert chart.bars[0].x < chart.bars[1].x < chart.bars[2].x
    assert chart.bars[-1].x + chart.bars[-1].width <= chart.plot_right
    assert [t.shown for t in chart.ticks] == ["0", "2", "4", "6", "8", "10"]
    assert chart.ticks[0].at == chart.plot_bottom and chart.ticks[-1].at == chart.plot_bottom - COLUMN_HEIGHT


def test_values_are_written_as_people_read_them() -> None:
    chart = bar_chart([("电子信息", 123_600_000)], shown=wan_yuan)
    assert chart.bars[0].shown == "123.6 万元"
    assert chart.ticks[-1].shown == "200 万元"
    assert chart.ticks[0].shown == "0"  # the origin, not ¥0.00


def test_a_chart_of_nothing_says_so_and_draws_no_bar() -> None:
    chart = column_chart([(f"{m}月", 0) for m in range(1, 13)])
    assert chart.empty
    assert all(b.height == 0 for b in chart.bars)
    assert bar_chart([]).bars == []
