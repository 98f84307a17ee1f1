"""The one CSV writer of every export: text a spreadsheet would run as a formula is neutralised."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kernel.csvtext import FORMULA_STARTS, csv_text

DANGEROUS = ['=HYPERLINK("http://evil.example","点击")', "+1+2", "-2+3", "@SUM(A1:A2)", "\tx", "\rx"]


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_text_cells_that_start_a_formula_get_a_quote_in_front() -> None:
    rows = read(csv_text([["cell"], *([d] for d in DANGEROUS)]))
    assert rows[0] == ["cell"]
    assert [r[0] for r in rows[1:]] == ["'" + d for d in DANGEROUS]


def test_numbers_dates_flags_and_empty_cells_the_exporter_writes_stay_as_they_are() -> None:
    text = csv_text(
        [
            ["amount", "yuan", "day", "public", "none", "safe"],
            [-5_000, Decimal("-30.00"), date(2026, 3, 2), False, None, "a-b"],
        ]
    )
    assert text == "amount,yuan,day,public,none,safe\r\n-5000,-30.00,2026-03-02,False,,a-b\r\n"


@given(st.lists(st.lists(st.text() | st.integers(), max_size=4), max_size=4))
def test_no_text_cell_reads_back_as_a_formula_and_nothing_else_changes(rows) -> None:
    back = read(csv_text(rows))
    assert len(back) == len(rows)
    for written, read_row in zip(rows, back, strict=True):
        for cell, got in zip(written, read_row, strict=True):
            if isinstance(cell, int):
                assert got == str(cell)
            elif cell.startswith(FORMULA_STARTS):
                assert got == "'" + cell
            else:
                assert got == cell
