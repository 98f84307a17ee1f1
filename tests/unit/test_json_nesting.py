"""The door's nesting measure agrees with the nesting of any JSON text, strings full of brackets,
quotes and backslashes included."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from exchange.server.http_rules import MAX_JSON_NESTING, _nested_too_deep

TRICKY_TEXT = st.text(alphabet='[]{}"\\ ab\u4e2d', max_size=8)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def nested(levels: int, inner: Any) -> Any:
    for level in range(levels):
        inner = [inner] if level % 2 else {"k": inner, "[": "{"}
    return inner


documents = st.builds(
    nested,
    st.integers(min_value=0, max_value=MAX_JSON_NESTING + 3),
    st.recursive(
        st.none() | st.integers() | TRICKY_TEXT,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY_TEXT, inner, max_size=3),
        max_leaves=12,
    ),
)


@given(documents, st.booleans())
def test_the_measure_matches_the_documents_nesting(document, ascii_only):
    body = json.dumps(document, ensure_ascii=ascii_only).encode()
    assert _nested_too_deep(body) == (depth(document) > MAX_JSON_NESTING)


def test_the_limit_itself_is_allowed_and_one_more_is_not():
    assert not _nested_too_deep(b"[" * MAX_JSON_NESTING + b"]" * MAX_JSON_NESTING)
    assert _nested_too_deep(b"[" * (MAX_JSON_NESTING + 1) + b"]" * (MAX_JSON_NESTING + 1))
    assert _nested_too_deep(b"{" * (MAX_JSON_NESTING + 1))  # never closed
    assert not _nested_too_deep(b"[" + b"[]," * 10_000 + b"[]]")  # wide, not deep
