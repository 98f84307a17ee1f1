"""A JSON body is decoded strictly on every route: a number sent as a string (``"amount": "100"``)
or a time sent as a number (``"valid_from": 0``) is 400 naming the field and writes nothing; the
right types, RFC 3339 times and whole numbers written ``60000.0`` among them, still work. Query
parameters are text and stay parsed."""

from __future__ import annotations

import uuid

from tests.helpers import assert_problem, create_listing, listing_body, operator, verified
from tests.trading_helpers import API, fund, key, open_auction_with_two_bidders, wallet
from tests.voucher_helpers import balance, cast, create_program, grant, program_body, service


async def test_money_as_a_string_is_refused_on_bank_transfers_and_withdrawals(client, app):
    ops = await operator(client, app)
    buyer = await verified(client, ops)
    reference = f"BANK-{uuid.uuid4().hex[:8]}"
    body = {"org_id": buyer.org_id, "amount": 100_000, "reference": reference}
    for amount in ("100000", 100_000.5):  # money is an integer of fen, and a JSON number
        refused = await client.post(f"{API}/bank-transfers", json={**body, "amount": amount}, headers=ops.headers)
        assert_problem(refused, 400, "validation-error", "amount")
    assert await wallet(client, buyer) == {"posted": 0, "held": 0, "available": 0}
    done = await client.post(f"{API}/bank-transfers", json=body, headers=ops.headers)
    assert done.status_code == 201, done.text

    withdrawal = {"amount": "60000", "payee": "招商银行 6225 **** 0001"}
    refused = await client.post(f"{API}/withdrawals", json=withdrawal, headers={**buyer.headers, **key()})
    assert_problem(refused, 400, "validation-error", "amount")
    assert await wallet(client, buyer) == {"posted": 100_000, "held": 0, "available": 100_000}
    # 60000.0 is the integer 60000, as JSON Schema (and so the API's OpenAPI document) counts integers.
    fine = await client.post(
        f"{API}/withdrawals", json={**withdrawal, "amount": 60_000.0}, headers={**buyer.headers, **key()}
    )
    assert fine.status_code == 201, fine.text
    assert await wallet(client, buyer) == {"posted": 100_000, "held": 60_000, "available": 40_000}


async def test_voucher_money_and_times_of_the_wrong_type_are_refused(client, app):
    c = await cast(client, app)
    refused = await client.post(f"{API}/voucher-programs", json=program_body(app, valid_from=0), headers=c.gov.headers)
    assert_problem(refused, 400, "validation-error", "valid_from")
    refused = await client.post(
        f"{API}/voucher-programs", json=program_body(app, budget="100000000"), headers=c.gov.headers
    )
    assert_problem(refused, 400, "validation-error", "budget")
    listed = await client.get(f"{API}/voucher-programs", headers=c.gov.headers)
    assert listed.status_code == 200 and listed.json()["items"] == [], listed.text
    program = await create_program(client, app, c.gov)  # RFC 3339 times
    pid = program["id"]
    funding = f"program:{pid}:funding"

    body = {"amount": "50000000", "bank_reference": "ICBC-1"}
    refused = await client.post(f"{API}/voucher-programs/{pid}/fund", json=body, headers={**c.ops.headers, **key()})
    assert_problem(refused, 400, "validation-error", "amount")
    assert await balance(app, funding) == (0, 0)
    fine = await client.post(
        f"{API}/voucher-programs/{pid}/fund", json={**body, "amount": 50_000_000}, headers={**c.ops.headers, **key()}
    )
    assert fine.status_code == 200, fine.text

    grants = f"{API}/voucher-programs/{pid}/grants"
    refused = await client.post(
        grants, json={"org_id": c.ent.org_id, "amount": "1000"}, headers={**c.gov.headers, **key()}
    )
    assert_problem(refused, 400, "validation-error", "amount")
    assert await balance(app, f"org:{c.ent.org_id}:vouchers") == (0, 0)
    await grant(client, c.gov, pid, c.ent.org_id, 1000)
    assert await balance(app, f"org:{c.ent.org_id}:vouchers") == (1000, 0)

    offer = {"category": "testing", "title": "材料性能检测", "description": "检测", "price": "10000000"}
    refused = await client.post(f"{API}/services", json=offer, headers=c.prov.headers)
    assert_problem(refused, 400, "validation-error", "price")
    listed = await client.get(f"{API}/services", params={"category": "testing"})
    assert listed.status_code == 200 and listed.json()["items"] == [], listed.text
    assert (await service(client, c.prov, price=10_000_000))["price"] == 10_000_000


async def test_listing_fields_of_the_wrong_type_are_refused_and_change_nothing(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, kind="university")
    body = listing_body(maturity="6")
    assert_problem(
        await client.post(f"{API}/listings", json=body, headers=seller.headers), 400, "validation-error", "maturity"
    )
    listing = await create_listing(client, seller)
    url = f"{API}/listings/{listing['id']}"
    pricing = {**listing_body()["pricing"], "asking_price": "1000"}
    for patch, field in (({"maturity": "3"}, "maturity"), ({"pricing": pricing}, "pricing.asking_price")):
        assert_problem(await client.patch(url, json=patch, headers=seller.headers), 400, "validation-error", field)
    shown = (await client.get(url, headers=seller.headers)).json()
    assert (shown["maturity"], shown["pricing"]["asking_price"]) == (
        listing["maturity"],
        listing["pricing"]["asking_price"],
    )
    changed = await client.patch(url, json={"maturity": 3}, headers=seller.headers)
    assert changed.status_code == 200 and changed.json()["maturity"] == 3, changed.text


async def test_a_bid_as_a_string_is_refused_and_takes_no_turn(client, app):
    auction, _, a, _ = await open_auction_with_two_bidders(client, app)
    url = f"{API}/auctions/{auction['id']}/bids"
    amount = auction["minimum_next_bid"]
    refused = await client.post(url, json={"amount": str(amount)}, headers={**a.headers, **key()})
    assert_problem(refused, 400, "validation-error", "amount")
    assert (await client.get(url, headers=a.headers)).json()["items"] == []
    placed = await client.post(url, json={"amount": amount}, headers={**a.headers, **key()})
    assert placed.status_code == 201, placed.text


async def test_query_parameters_stay_text_parsed_into_numbers(client, app):
    ops = await operator(client, app)
    await fund(app, await verified(client, ops), 100)
    listed = await client.get(f"{API}/ledger/accounts", params={"limit": "1"}, headers=ops.headers)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 1, listed.text
