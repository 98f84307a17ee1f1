"""The chart of accounts is named once: ``exchange/accounting/chart.py``, the table in docs/ledger.md
that shows it, and no account code spelled anywhere else in the exchange."""

from __future__ import annotations

import ast
import re
import uuid
from pathlib import Path

import pytest

from exchange.accounting import chart
from ledger.domain import check_account

ROOT = Path(__file__).resolve().parents[2]
CHART_FILE = ROOT / "exchange" / "accounting" / "chart.py"


def documented_lines() -> list[tuple[str, str, str, bool, str]]:
    text = (ROOT / "docs" / "ledger.md").read_text(encoding="utf-8")
    section = text.split("## Chart of accounts", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("| `"):
            code, unit, type_, no_overdraft, purpose = (cell.strip() for cell in line.strip("|").split("|"))
            rows.append((code.strip("`"), unit, type_, no_overdraft == "yes", purpose))
    return rows


def test_the_documented_table_is_the_chart() -> None:
    assert documented_lines() == [
        (line.pattern, line.unit, line.type.value, line.no_overdraft, line.purpose) for line in chart.CHART
    ]


def test_every_line_makes_a_code_the_ledger_accepts_and_names_its_owner_once() -> None:
    owner = uuid.uuid4()
    codes = set()
    for line in chart.CHART:
        spec = line.of(owner) if chart.OWNER in line.pattern else line.of()
        check_account(spec.code, spec.unit)
        assert (spec.unit, spec.type, spec.no_overdraft) == (line.unit, line.type, line.no_overdraft)
        codes.add(spec.code)
    assert len(codes) == len(chart.CHART)
    with pytest.raises(ValueError):
        chart.CHART[0].of()
    assert chart.org_cash(owner).code == f"org:{owner}:cash"
    assert chart.wallet(owner, "VCH") == chart.org_vouchers(owner)
    assert chart.clearing("bank_transfer") == chart.BANK_SETTLEMENT
    assert chart.clearing("stripe") == chart.PSP_STRIPE_CLEARING


def spelled_strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module (f-strings with ``<id>`` for each placeholder), docstrings aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) else chart.OWNER for v in node.values]
            found.append((node.lineno, "".join(str(p) for p in parts)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.append((node.lineno, node.value))
    return found


def test_no_module_of_the_exchange_spells_an_account_code() -> None:
    patterns = [re.escape(line.pattern).replace(re.escape(chart.OWNER), "[^:]+") for line in chart.CHART]
    code = re.compile(rf"^(?:{'|'.join(patterns)})$")
    spelled = [
        f"{path.relative_to(ROOT)}:{lineno}: {text}"
        for path in sorted((ROOT / "exchange").rglob("*.py"))
        if path != CHART_FILE
        for lineno, text in spelled_strings(path)
        if code.match(text)
    ]
    assert spelled == []
    assert code.match("org:1:cash") and code.match("bank:settlement") and not code.match("org:1:bid")
