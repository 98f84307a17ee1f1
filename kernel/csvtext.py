"""CSV text for every export of the exchange, safe to open in a spreadsheet.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or a
carriage return) as a formula: a listing titled ``=HYPERLINK(...)`` would become a link in the
reader's copy of the open-data export. Following OWASP's guidance on CSV injection, every text cell
that starts so is written with a ``'`` in front, which spreadsheets show as text. Cells that are not
text — the numbers, dates and flags the exporter itself writes, such as a negative amount as an
``int`` — are written as they are, so they stay numbers. ``None`` is an empty cell.

Rows are RFC 4180 records (CRLF line ends, quoted where needed).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: object) -> object:
    """The cell as it may be written: text that a spreadsheet would run as a formula gets a ``'``."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """The rows (a header row is a row like any other) as CSV text, text cells neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([neutralised(cell) for cell in row] for row in rows)
    return out.getvalue()
