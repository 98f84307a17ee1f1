"""The shared kernel: canonical JSON, RFC 3339 text, signed documents and cursors, one copy each."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from kernel.canonical import canonical_json
from kernel.errors import InvalidCursor
from kernel.pagination import by_id, decode_cursor, id_after, keyset_page
from kernel.signing import sign_content
from kernel.time import rfc3339


def test_canonical_json_is_rfc_8785() -> None:
    one = canonical_json({"b": 1, "a": ["技术", 2.5, None, True]})
    two = canonical_json({"a": ["技术", 2.5, None, True], "b": 1})
    assert one == two == '{"a":["技术",2.5,null,true],"b":1}'.encode()
    # RFC 8785 §3.2.2.3: numbers as ECMAScript writes them; §3.2.3: keys in UTF-16 order.
    assert canonical_json([1.0, 1e21, 0.1, -0.0]) == b"[1,1e+21,0.1,0]"
    assert canonical_json({"\U0001f600": 1, "\ufb01": 2}) == '{"\U0001f600":1,"\ufb01":2}'.encode()


def test_canonical_json_refuses_what_it_cannot_write_exactly() -> None:
    assert canonical_json(2**53 - 1) == b"9007199254740991"
    for bad in (2**53, float("nan"), {1: "not a text key"}):
        with pytest.raises(ValueError):
            canonical_json(bad)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_canonical_json_is_one_string_per_value_whatever_the_key_order(value) -> None:
    def reordered(v):
        if isinstance(v, dict):
            return {k: reordered(v[k]) for k in reversed(list(v))}
        if isinstance(v, list):
            return [reordered(x) for x in v]
        return v

    assert canonical_json(value) == canonical_json(reordered(value))


def test_signed_documents_verify_with_the_public_key() -> None:
    key = Ed25519PrivateKey.generate()
    signer = SimpleNamespace(key_id="k1", sign=key.sign)
    text, signature = sign_content(signer, {"notice": "挂牌公告", "price": 123_600_000})
    assert text == '{"notice":"挂牌公告","price":123600000}'
    key.public_key().verify(base64.b64decode(signature), text.encode("utf-8"))


def test_rfc3339_is_utc_with_a_z() -> None:
    beijing = timezone(timedelta(hours=8))
    assert rfc3339(datetime(2027, 1, 28, 16, 0, tzinfo=beijing)) == "2027-01-28T08:00:00Z"
    assert rfc3339(datetime(2027, 1, 28, 8, 0, 0, 5, tzinfo=UTC)) == "2027-01-28T08:00:00.000005Z"


def test_a_page_hands_out_a_cursor_only_when_another_page_exists() -> None:
    rows = [SimpleNamespace(id=uuid.uuid4()) for _ in range(3)]
    items, cursor = keyset_page(rows, 2, by_id)  # read with LIMIT 3: a third row exists
    assert items == rows[:2] and id_after(cursor) == rows[1].id
    assert keyset_page(rows[:2], 2, by_id) == (rows[:2], None)  # exactly a full page: no empty next page
    assert keyset_page([], 2, by_id) == ([], None)


@pytest.mark.parametrize("cursor", ["%%%", "³", "bm90IGpzb24", "e30", "eyJpZCI6MX0"])
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        id_after(cursor)
    assert decode_cursor(None, "id") is None
