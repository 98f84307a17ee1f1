"""Exports people open in a spreadsheet — Excel on Chinese Windows first — as CSV or ``.xlsx``.

Every export of the exchange (the open-data feed, wallet statements, voucher reports,
reconciliation reports) describes its columns once, as ``Column``s, and this module writes the
rows in either format:

- CSV starts with a UTF-8 byte-order mark: without it Excel on Chinese Windows reads the file as
  GBK and the Chinese comes out garbled. Rows are RFC 4180 records (CRLF, quoted where needed).
- Amounts are written twice: as yuan the way people read them (``1,236,000.00``) and as the raw
  fen integer, which is what a program or a sum should use (``money`` makes the pair).
- Flags are 是/否; moments are Beijing time (``2026-03-02 09:00:00``, which Excel reads as a
  date-time); dates are ``2026-03-02``.
- Text that a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``, a tab or
  a carriage return) gets a leading ``'`` (``kernel.csvtext.neutralised``, OWASP's advice on CSV
  injection). The yuan and numbers the exporter writes itself are not text and are left alone, so
  ``-500.00`` stays a negative amount.
- The ``.xlsx`` has the same header and rows with real cell types: fen and counts as integers,
  yuan as numbers formatted ``#,##0.00``, moments and dates as date cells; text cells are always
  stored as text (never as a formula) and marked with Excel's quote prefix when they look like one.
- The answer carries ``Content-Disposition: attachment`` with an ASCII ``filename`` and the real
  (often Chinese) name in ``filename*=UTF-8''…`` (RFC 6266 / RFC 5987).
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Response
from litestar.openapi.spec import OpenAPIMediaType, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from kernel.csvtext import FORMULA_STARTS, neutralised

BEIJING = ZoneInfo("Asia/Shanghai")
BOM = "\ufeff"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
ExportFormat = Literal["csv", "xlsx"]

FEN_PER_YUAN = 100
MOMENT_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"
YUAN_FORMAT = "#,##0.00"


class Kind(enum.Enum):
    TEXT = "text"  # any text the exchange did not write itself: neutralised
    RAW = "raw"  # a value written as it is (an int, an id, a code, a machine-read flag or time)
    YUAN = "yuan"  # fen in, yuan out
    FEN = "fen"  # fen as an integer
    INT = "int"  # a count
    FLAG = "flag"  # 是/否
    MOMENT = "moment"  # an aware datetime (or RFC 3339 text), written in Beijing time
    DATE = "date"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header, what it holds and how to read its value from a row."""

    header: str
    kind: Kind
    value: Callable[[Any], Any]


def column(header: str, kind: Kind, key: str | Callable[[Any], Any]) -> Column:
    """A column reading ``key`` from a mapping (or attribute of an object), or through a function."""
    if callable(key):
        return Column(header, kind, key)
    name = key
    return Column(header, kind, lambda row: row.get(name) if isinstance(row, dict) else getattr(row, name, None))


def money(header: str, key: str | Callable[[Any], Any], *, fen_header: str | None = None) -> list[Column]:
    """The pair of columns of an amount: ``header`` in yuan as people read it, then the raw fen
    (``金额（元）`` is followed by ``金额（分）``)."""
    yuan = column(header, Kind.YUAN, key)
    fen = fen_header or (header.replace("（元）", "（分）") if "（元）" in header else f"{header}（分）")
    return [yuan, Column(fen, Kind.FEN, yuan.value)]


# -- cell values ----------------------------------------------------------------------------------


def yuan_text(fen: int) -> str:
    """``1,236,000.00``; ``-500.00`` for a negative amount (no ¥: Excel reads the cell as a number)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), FEN_PER_YUAN)
    return f"{sign}{whole:,}.{cents:02d}"


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(BEIJING) if value.tzinfo else value


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(BEIJING).date() if value.tzinfo else value.date()
    if isinstance(value, str):
        return date.fromisoformat(value)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def csv_cell(kind: Kind, value: Any) -> object:
    """The value as the CSV writes it."""
    if value is None:
        return ""
    if kind is Kind.TEXT:
        return neutralised(_text(value))
    if kind is Kind.YUAN:
        return yuan_text(value)
    if kind in (Kind.FEN, Kind.INT):
        return int(value)
    if kind is Kind.FLAG:
        return "是" if value else "否"
    if kind is Kind.MOMENT:
        moment = _moment(value)
        return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""
    if kind is Kind.DATE:
        day = _day(value)
        return day.isoformat() if day else ""
    return neutralised(_text(value)) if isinstance(value, str) else value


# -- CSV -----------------------------------------------------------------------------------------


def csv_bytes(columns: Sequence[Column], rows: Iterable[Any]) -> bytes:
    """The header and the rows as CSV, a UTF-8 BOM first."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow([neutralised(c.header) for c in columns])
    for row in rows:
        writer.writerow([csv_cell(c.kind, c.value(row)) for c in columns])
    return out.getvalue().encode("utf-8")


# -- xlsx ----------------------------------------------------------------------------------------


def _xlsx_value(kind: Kind, value: Any) -> tuple[object, str | None]:
    """The cell's value and its number format."""
    if value is None:
        return None, None
    if kind is Kind.YUAN:
        return Decimal(int(value)) / FEN_PER_YUAN, YUAN_FORMAT
    if kind in (Kind.FEN, Kind.INT):
        return int(value), "0"
    if kind is Kind.FLAG:
        return ("是" if value else "否"), None
    if kind is Kind.MOMENT:
        moment = _moment(value)
        # Excel has no time zones: the cell holds the Beijing wall-clock time.
        return (moment.replace(tzinfo=None) if moment else None), MOMENT_FORMAT
    if kind is Kind.DATE:
        return _day(value), DATE_FORMAT
    if kind is Kind.RAW and isinstance(value, bool | int | float | Decimal):
        return value, None
    return _text(value), None


def _sheet_title(title: str) -> str:
    # Excel's sheet names: at most 31 characters, none of []:*?/\
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'") or "Sheet1"
    return cleaned[:31]


def _illegal_free(text: str) -> str:
    """Control characters XML 1.0 cannot carry (and openpyxl refuses) are dropped from text cells."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)


def xlsx_bytes(columns: Sequence[Column], rows: Iterable[Any], *, sheet: str = "Sheet1") -> bytes:
    """The header and the rows as an Excel workbook of one sheet, with typed cells."""
    from openpyxl import Workbook  # imported on use: only an export needs it
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    ws = book.active
    ws.title = _sheet_title(sheet)
    bold = Font(bold=True)
    for index, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=index)
        cell.value = _illegal_free(col.header)
        cell.data_type = TYPE_STRING
        cell.font = bold
    ws.freeze_panes = "A2"
    for r, row in enumerate(rows, start=2):
        for index, col in enumerate(columns, start=1):
            value, number_format = _xlsx_value(col.kind, col.value(row))
            cell = ws.cell(row=r, column=index)
            if isinstance(value, str):
                text = _illegal_free(value)
                if not text:
                    continue  # an empty cell, as in the CSV
                cell.value = text
                cell.data_type = TYPE_STRING  # never a formula, whatever it starts with
                if text.startswith(FORMULA_STARTS):
                    cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
            else:
                cell.value = value
            if number_format:
                cell.number_format = number_format
    for index, col in enumerate(columns, start=1):
        letter = ws.cell(row=1, column=index).column_letter
        ws.column_dimensions[letter].width = max(10, min(40, len(col.header) * 2 + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- the answer ----------------------------------------------------------------------------------


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and the real name in ``filename*``."""
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in fallback)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@dataclass(frozen=True, slots=True)
class Export:
    """What an export is made of: its columns, its rows and its names."""

    columns: Sequence[Column]
    rows: Sequence[Any]
    filename: str  # without extension; may be Chinese (``钱包流水-CNY-20260302``)
    fallback: str  # the same in ASCII (``wallet-CNY-20260302``)
    sheet: str = "Sheet1"

    def body(self, fmt: ExportFormat) -> bytes:
        if fmt == "xlsx":
            return xlsx_bytes(self.columns, self.rows, sheet=self.sheet)
        return csv_bytes(self.columns, self.rows)

    def response(self, fmt: ExportFormat, headers: dict[str, str] | None = None) -> Response[bytes]:
        media_type = XLSX_MEDIA_TYPE if fmt == "xlsx" else CSV_MEDIA_TYPE
        disposition = content_disposition(f"{self.filename}.{fmt}", f"{self.fallback}.{fmt}")
        return Response(
            self.body(fmt), media_type=media_type, headers={"Content-Disposition": disposition, **(headers or {})}
        )


@dataclass
class ExportOperation(Operation):
    """An operation that answers JSON, or the same data as a spreadsheet with ``?format=csv|xlsx``:
    its 200 answer documents all three media types."""

    def __post_init__(self) -> None:
        responses = dict(self.responses or {})
        ok = responses.get("200")
        if ok is not None:
            content = dict(ok.content or {})
            content["text/csv"] = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
            content[XLSX_MEDIA_TYPE] = OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
            )
            ok.content = content
            ok.description = f"{ok.description or 'Request fulfilled'}; with ?format=csv or xlsx, a spreadsheet"
        self.responses = responses
