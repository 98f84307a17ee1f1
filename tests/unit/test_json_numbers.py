"""Whole-valued JSON numbers are the integers JSON Schema counts them as; nothing else becomes one."""

from __future__ import annotations

import math

from exchange.server.http_rules import _json_number


def test_whole_numbers_written_as_floats_are_integers_and_others_stay_floats():
    assert [_json_number(text) for text in ("2.0", "2e3", "-0.0", "60000.00")] == [2, 2000, 0, 60000]
    assert all(type(_json_number(text)) is int for text in ("2.0", "2e3"))
    assert _json_number("2.5") == 2.5
    # Not the integer it looks like: past 2**53 a float is another number; a tiny fraction rounds away.
    for text in ("9007199254740993.0", "100.000000000000001", "1e-400"):
        assert type(_json_number(text)) is float, text
    assert math.isinf(_json_number("1e999"))
