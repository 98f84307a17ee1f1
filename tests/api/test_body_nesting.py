"""A JSON body nested deeper than any real document is refused at the door with 400 problem+json,
before anything decodes it; one nested as deep as allowed still reaches the operation's own rules."""

from __future__ import annotations

from typing import Any

from tests.helpers import assert_problem, operator

API = "/api/v1"
JSON = {"content-type": "application/json"}


def arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def objects(depth: int, leaf: Any = 1) -> dict[str, Any]:
    value: Any = leaf
    for _ in range(depth - 1):
        value = {"a": value}
    return value


async def test_a_body_nested_200000_deep_is_400_on_login_and_on_a_logged_in_route(client, app):
    deep = b'{"email": ' + arrays(200_000) + b', "password": "0123456789abc"}'
    assert len(deep) < app.state.settings.max_request_body_bytes
    login = await client.post(f"{API}/auth/login", content=deep, headers=JSON)
    assert_problem(login, 400, "validation-error", "body")
    ops = await operator(client, app)
    entry = b'{"unit": "CNY", "kind": "transfer", "postings": [], "metadata": {"a": ' + arrays(200_000) + b"}}"
    refused = await client.post(f"{API}/ledger/entries", content=entry, headers={**ops.headers, **JSON})
    assert_problem(refused, 400, "validation-error", "body")
    # Unclosed brackets nest as deep for a decoder that recurses before it finds the end missing.
    unclosed = await client.post(f"{API}/auth/login", content=b"[" * 200_000, headers=JSON)
    assert_problem(unclosed, 400, "validation-error", "body")


async def test_a_body_nested_as_deep_as_allowed_reaches_the_operations_rules(client, app):
    allowed = 60  # under the limit of 64, the outer object included
    email = b'{"email": ' + arrays(allowed) + b', "password": "0123456789abc"}'
    login = await client.post(f"{API}/auth/login", content=email, headers=JSON)
    assert_problem(login, 400, "validation-error", "email")
    ops = await operator(client, app)
    body = {"unit": "CNY", "kind": "transfer", "postings": [], "metadata": objects(allowed)}
    refused = await client.post(f"{API}/ledger/entries", json=body, headers={**ops.headers, "Idempotency-Key": "n-1"})
    assert_problem(refused, 400, "validation-error", "postings")


async def test_brackets_inside_strings_are_text_not_nesting(client):
    # An escaped quote does not end a string, an escaped backslash before the quote does: the
    # brackets between are text, and the login's own rule (an email's length) answers.
    email = '\\"' + "[" * 10_000 + "{\\\\"
    body = ('{"email": "' + email + '", "password": "0123456789abc"}').encode()
    login = await client.post(f"{API}/auth/login", content=body, headers=JSON)
    assert_problem(login, 400, "validation-error", "email")
