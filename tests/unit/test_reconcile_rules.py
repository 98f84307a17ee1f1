"""Reconciliation matching and bank statement parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.payments.reconcile import (
    Outcome,
    Record,
    StatementFormatError,
    Totals,
    parse_statement,
    reconcile,
    yuan_to_fen,
)

references = st.text("ABCDEFGH0123", min_size=1, max_size=4)
sides = st.dictionaries(references, st.integers(-(10**6), 10**6), max_size=30)


@given(sides, sides)
def test_matching_agrees_with_a_dictionary_comparison(ours, theirs):
    ledger = [Record(ref, amount, entry_id=f"e-{ref}") for ref, amount in sorted(ours.items())]
    provider = [Record(ref, amount) for ref, amount in sorted(theirs.items())]
    lines = list(reconcile(ledger, provider))
    by_ref = {line.reference: line for line in lines}
    assert len(lines) == len(set(ours) | set(theirs))
    for ref in set(ours) | set(theirs):
        line = by_ref[ref]
        if ref not in theirs:
            assert line.outcome is Outcome.MISSING_AT_PROVIDER and line.entry_id == f"e-{ref}"
        elif ref not in ours:
            assert line.outcome is Outcome.MISSING_IN_LEDGER
        elif ours[ref] == theirs[ref]:
            assert line.outcome is Outcome.MATCHED
        else:
            assert line.outcome is Outcome.AMOUNT_MISMATCH
            assert (line.ledger_amount, line.provider_amount) == (ours[ref], theirs[ref])
    totals = Totals()
    for line in lines:
        totals.add(line)
    assert totals.clean == (ours == theirs)
    assert totals.ledger_amounts[Outcome.MATCHED] == sum(v for k, v in ours.items() if theirs.get(k) == v)


def test_repeated_references_pair_off_in_order():
    lines = list(reconcile([Record("R1", 100)], [Record("R1", 100), Record("R1", 100)]))
    assert [line.outcome for line in lines] == [Outcome.MATCHED, Outcome.MISSING_IN_LEDGER]


def test_unsorted_input_is_refused_rather_than_misreported():
    with pytest.raises(ValueError, match="not ordered"):
        list(reconcile([Record("B", 1), Record("A", 1)], []))


def test_matching_streams_without_materialising_its_inputs():
    def ledger():
        for i in range(100_000):
            yield Record(f"R{i:07d}", i)

    def provider():
        for i in range(100_000):
            yield Record(f"R{i:07d}", i + (1 if i == 500 else 0))

    lines = reconcile(ledger(), provider())
    first = next(lines)
    assert first.outcome is Outcome.MATCHED  # answered before the inputs were read to the end
    mismatches = [line for line in lines if line.outcome is Outcome.AMOUNT_MISMATCH]
    assert [m.reference for m in mismatches] == ["R0000500"]


def test_yuan_amounts_become_exact_fen():
    assert yuan_to_fen("1,234.56") == 123456
    assert yuan_to_fen("¥0.1") == 10
    assert yuan_to_fen("-20") == -2000
    for bad in ("1.234", "abc", "NaN", "inf", "", "9" * 40):
        with pytest.raises(ValueError):
            yuan_to_fen(bad)


def test_statement_rows_and_line_numbered_errors():
    text = (
        "Date,Amount,Reference\n"
        "2026-03-02,1500.00,BANK-001\n"
        "2026-13-01,10.00,BANK-002\n"
        "2026-03-03,12.345,BANK-003\n"
        "\n"
        "2026-03-04,20.00,\n"
        "2026-03-05,99\n"
        "2026-03-06,-300.50,BANK-004\n"
    )
    rows, errors = parse_statement(text)
    assert [(r.line, r.amount, r.reference) for r in rows] == [(2, 150000, "BANK-001"), (8, -30050, "BANK-004")]
    assert [e.line for e in errors] == [3, 4, 6, 7]


def test_a_statement_without_the_required_columns_is_refused():
    with pytest.raises(StatementFormatError, match="reference"):
        parse_statement("date,amount,memo\n2026-03-02,1.00,x\n")
    with pytest.raises(StatementFormatError):
        parse_statement("")


def test_statement_line_numbers_count_physical_lines_and_a_bom_is_ignored():
    text = (
        '\ufeffDate,Amount,Reference\n2026-03-02,"1,000.00",A1\n2026-03-02,5.00,"multi\nline"\n'
        "2026-03-02,0,Z\nnot-a-date,1,B\n"
    )
    rows, errors = parse_statement(text)
    assert [(r.line, r.reference, r.amount) for r in rows] == [(2, "A1", 100_000), (3, "multi\nline", 500)]
    assert [(e.line, e.message.split()[0]) for e in errors] == [(5, "the"), (6, "date")]


async def test_the_asynchronous_merge_agrees_with_the_synchronous_one():
    from exchange.payments.reconcile import areconcile

    ours = [Record("A", 1, "e1"), Record("B", 2, "e2"), Record("D", 4, "e4")]
    theirs = [Record("B", 3), Record("C", 3), Record("D", 4)]

    async def stream(records):
        for record in records:
            yield record

    expected = list(reconcile(ours, theirs))
    assert [line async for line in areconcile(stream(ours), stream(theirs))] == expected
    assert [line.outcome for line in expected] == [
        Outcome.MISSING_AT_PROVIDER,
        Outcome.AMOUNT_MISMATCH,
        Outcome.MISSING_IN_LEDGER,
        Outcome.MATCHED,
    ]
