"""Every sub-resource of a listing answers with the listing's own visibility rule (SPEC §1, OWASP API1).

A draft is its seller's and the operators' business: to anyone else each route under
`/listings/{id}/...` answers exactly as `GET /listings/{id}` does — 404, as for an id that does
not exist — so nothing tells another organisation that the draft exists.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Litestar

from tests.helpers import assert_problem, create_listing, operator, verified
from tests.trading_helpers import fund

API = "/api/v1"
LISTING = "/api/v1/listings/{listing_id:uuid}"


def listing_get_routes(app: Litestar) -> list[str]:
    """The path of every GET route of the app under ``/listings/{listing_id}`` (the listing itself too)."""
    paths = []
    for route in app.routes:
        under = route.path == LISTING or route.path.startswith(LISTING + "/")
        if under and "GET" in getattr(route, "methods", set()):
            paths.append(route.path)
    return sorted(paths)


def at(path: str, listing_id: Any) -> str:
    return path.replace("{listing_id:uuid}", str(listing_id))


async def test_every_get_under_a_draft_answers_as_the_listing_itself(client, app):
    ops = await operator(client, app)
    seller, other = await verified(client, ops), await verified(client, ops)
    draft = await create_listing(client, seller)
    paths = listing_get_routes(app)
    assert {at(p, "x") for p in paths} >= {
        f"{API}/listings/x",
        f"{API}/listings/x/negotiations",
        f"{API}/listings/x/auction",
        f"{API}/listings/x/transitions",
        f"{API}/listings/x/confidential",
    }, paths

    for path in paths:
        own = await client.get(at(path, draft["id"]), headers=seller.headers)
        assert own.status_code == 200 or path.endswith("/auction"), (path, own.text)  # a draft has no auction
        for viewer in (other.headers, {}):
            shown = await client.get(at(path, draft["id"]), headers=viewer)
            nowhere = await client.get(at(path, uuid.uuid4()), headers=viewer)
            assert shown.status_code == nowhere.status_code, (path, shown.text, nowhere.text)
            if viewer:
                assert_problem(shown, 404, "not-found")


async def test_trading_writes_on_a_draft_answer_as_the_listing_itself(client, app):
    ops = await operator(client, app)
    seller, other = await verified(client, ops), await verified(client, ops)
    await fund(app, other, 100_000_000)
    draft = await create_listing(client, seller, mode="negotiated")
    offer = {"price": 40_000_000, "payment_terms": {"kind": "lump_sum"}}
    for path, body in (("intents", None), ("negotiations", offer), ("nda", None)):
        response = await client.post(f"{API}/listings/{draft['id']}/{path}", json=body, headers=other.headers)
        assert_problem(response, 404, "not-found")
