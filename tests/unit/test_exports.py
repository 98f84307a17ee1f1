"""The export helper: any text round-trips through the CSV (BOM first) and the xlsx, and no cell
a spreadsheet reads starts a formula; amounts, flags and times are written as people read them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.csvtext import FORMULA_STARTS
from kernel.exports import Export, Kind, column, content_disposition, csv_bytes, money, xlsx_bytes, yuan_text

COLUMNS = [
    column("文本", Kind.TEXT, "text"),
    *money("金额（元）", "fen"),
    column("是否", Kind.FLAG, "flag"),
    column("时间", Kind.MOMENT, "at"),
    column("日期", Kind.DATE, "day"),
]


def read(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@given(st.lists(st.text(), max_size=5))
def test_any_text_round_trips_and_never_starts_a_formula(texts: list[str]) -> None:
    rows = read(csv_bytes(COLUMNS[:1], [{"text": t} for t in texts]))
    assert rows[0] == ["文本"]
    for written, (got,) in zip(texts, rows[1:], strict=True):
        assert not got.startswith(FORMULA_STARTS)
        assert got == ("'" + written if written.startswith(FORMULA_STARTS) else written)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"))), min_size=1, max_size=3))
def test_xlsx_keeps_text_as_text_never_as_a_formula(texts: list[str]) -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(COLUMNS[:1], [{"text": t} for t in texts]))).active
    for index, written in enumerate(texts, start=2):
        cell = sheet.cell(row=index, column=1)
        assert (cell.value or "") == written and cell.data_type in ("s", "n")  # empty text is an empty cell
        assert cell.data_type != "f"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_yuan_reads_back_as_the_fen(fen: int) -> None:
    text = yuan_text(fen)
    assert round(float(text.replace(",", "")) * 100) == fen or int(text.replace(",", "").replace(".", "")) == fen


def test_amounts_flags_times_and_dates_as_people_read_them_with_the_raw_fen() -> None:
    row = {
        "text": "-2 技术",
        "fen": -123_600_000,
        "flag": False,
        "at": datetime(2026, 3, 2, 16, 30, tzinfo=UTC),
        "day": date(2026, 3, 3),
    }
    header, line = read(csv_bytes(COLUMNS, [row]))
    assert header == ["文本", "金额（元）", "金额（分）", "是否", "时间", "日期"]
    # The exporter's own negative amount is not neutralised; the text that looks like one is.
    assert line == ["'-2 技术", "-1,236,000.00", "-123600000", "否", "2026-03-03 00:30:00", "2026-03-03"]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(COLUMNS, [row]))).active
    values = [c.value for c in sheet[2]]
    assert values[1:] == [-1_236_000, -123_600_000, "否", datetime(2026, 3, 3, 0, 30), datetime(2026, 3, 3)]
    assert sheet["B2"].number_format == "#,##0.00" and sheet["E2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet["A2"].value == "-2 技术" and sheet["A2"].quotePrefix  # text, shown as written
    assert [c.value for c in sheet[1]] == header and sheet["A1"].font.bold


def test_the_download_name_is_ascii_with_the_chinese_name_beside_it() -> None:
    assert content_disposition("钱包流水 3月.csv", 'wallet "3".csv') == (
        'attachment; filename="wallet _3_.csv"; '
        "filename*=UTF-8''%E9%92%B1%E5%8C%85%E6%B5%81%E6%B0%B4%203%E6%9C%88.csv"
    )
    answer = Export(COLUMNS, [], filename="报表", fallback="report").response("xlsx")
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="report.xlsx"')
