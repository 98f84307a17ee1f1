"""Bank transfers recorded by operators and withdrawals paid by bank, over HTTP on both databases."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import Party, assert_problem, operator, verified

API = "/api/v1"


async def balance(client, party: Party) -> dict[str, int]:
    response = await client.get(f"{API}/wallet", headers=party.headers)
    assert response.status_code == 200, response.text
    cny = next(b for b in response.json()["balances"] if b["unit"] == "CNY")
    return {"posted": cny["posted"], "held": cny["held"], "available": cny["available"]}


async def top_up(client, ops: Party, party: Party, amount: int, reference: str | None = None) -> dict:
    response = await client.post(
        f"{API}/bank-transfers",
        json={"org_id": party.org_id, "amount": amount, "reference": reference or f"BANK-{uuid.uuid4().hex[:10]}"},
        headers=ops.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def parties(client, app):
    ops = await operator(client, app)
    buyer = await verified(client, ops)
    return ops, buyer


async def test_a_recorded_transfer_credits_the_wallet_and_its_reference_only_once(client, parties):
    ops, buyer = parties
    transfer = await top_up(client, ops, buyer, 1_000_000, "CMB20260302-0001")
    assert transfer["amount"] == 1_000_000 and transfer["reference"] == "CMB20260302-0001"
    assert await balance(client, buyer) == {"posted": 1_000_000, "held": 0, "available": 1_000_000}

    again = await client.post(
        f"{API}/bank-transfers",
        json={"org_id": buyer.org_id, "amount": 1_000_000, "reference": "CMB20260302-0001"},
        headers=ops.headers,
    )
    assert_problem(again, 409, "duplicate-bank-reference", field="reference")
    assert (await balance(client, buyer))["posted"] == 1_000_000

    entry = await client.get(f"{API}/ledger/entries/{transfer['entry_id']}", headers=ops.headers)
    assert entry.status_code == 200, entry.text
    assert entry.json()["external_ref"] == "CMB20260302-0001"


async def test_the_same_idempotency_key_replays_the_recorded_transfer(client, parties):
    ops, buyer = parties
    body = {"org_id": buyer.org_id, "amount": 5_000, "reference": "ICBC-77"}
    headers = {**ops.headers, "Idempotency-Key": "tr-1"}
    first = await client.post(f"{API}/bank-transfers", json=body, headers=headers)
    second = await client.post(f"{API}/bank-transfers", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.json()["id"] == second.json()["id"]
    assert (await balance(client, buyer))["posted"] == 5_000


async def test_bad_transfers_are_refused_and_write_nothing(client, parties):
    ops, buyer = parties
    for amount in (0, -5, 1.5):
        bad = await client.post(
            f"{API}/bank-transfers",
            json={"org_id": buyer.org_id, "amount": amount, "reference": "X1"},
            headers=ops.headers,
        )
        assert bad.status_code == 400, bad.text
    unknown = await client.post(
        f"{API}/bank-transfers",
        json={"org_id": str(uuid.uuid4()), "amount": 100, "reference": "X2"},
        headers=ops.headers,
    )
    assert_problem(unknown, 422, "unknown-org", field="org_id")
    by_user = await client.post(
        f"{API}/bank-transfers", json={"org_id": buyer.org_id, "amount": 100, "reference": "X3"}, headers=buyer.headers
    )
    assert_problem(by_user, 403, "forbidden")
    assert await balance(client, buyer) == {"posted": 0, "held": 0, "available": 0}
    # The unknown organisation's reference was not consumed.
    await top_up(client, ops, buyer, 100, "X2")


async def test_a_withdrawal_is_held_then_paid_under_the_bank_reference(client, parties):
    ops, buyer = parties
    await top_up(client, ops, buyer, 100_000)
    requested = await client.post(
        f"{API}/withdrawals",
        json={"amount": 60_000, "payee": "招商银行 6225 **** 0001"},
        headers={**buyer.headers, "Idempotency-Key": "w-1"},
    )
    assert requested.status_code == 201, requested.text
    withdrawal = requested.json()
    assert withdrawal["status"] == "requested"
    assert await balance(client, buyer) == {"posted": 100_000, "held": 60_000, "available": 40_000}

    done = await client.post(
        f"{API}/withdrawals/{withdrawal['id']}/complete", json={"bank_reference": "CMB-OUT-1"}, headers=ops.headers
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["bank_reference"] == "CMB-OUT-1"
    assert await balance(client, buyer) == {"posted": 40_000, "held": 0, "available": 40_000}

    twice = await client.post(
        f"{API}/withdrawals/{withdrawal['id']}/reject", json={"reason": "late"}, headers=ops.headers
    )
    assert_problem(twice, 409, "withdrawal-decided")
    mine = await client.get(f"{API}/withdrawals/{withdrawal['id']}", headers=buyer.headers)
    assert mine.json()["status"] == "completed"


async def test_a_rejected_withdrawal_releases_the_hold(client, parties):
    ops, buyer = parties
    await top_up(client, ops, buyer, 10_000)
    requested = await client.post(
        f"{API}/withdrawals",
        json={"amount": 10_000, "payee": "acct"},
        headers={**buyer.headers, "Idempotency-Key": "w"},
    )
    assert await balance(client, buyer) == {"posted": 10_000, "held": 10_000, "available": 0}
    rejected = await client.post(
        f"{API}/withdrawals/{requested.json()['id']}/reject", json={"reason": "收款账户名不符"}, headers=ops.headers
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert await balance(client, buyer) == {"posted": 10_000, "held": 0, "available": 10_000}


async def test_a_withdrawal_cannot_exceed_the_available_balance(client, parties):
    ops, buyer = parties
    await top_up(client, ops, buyer, 10_000)
    too_much = await client.post(
        f"{API}/withdrawals",
        json={"amount": 10_001, "payee": "acct"},
        headers={**buyer.headers, "Idempotency-Key": "a"},
    )
    assert_problem(too_much, 409, "insufficient-funds")
    no_key = await client.post(f"{API}/withdrawals", json={"amount": 1, "payee": "acct"}, headers=buyer.headers)
    assert_problem(no_key, 400, "idempotency-key-required")
    first = await client.post(
        f"{API}/withdrawals", json={"amount": 7_000, "payee": "acct"}, headers={**buyer.headers, "Idempotency-Key": "b"}
    )
    assert first.status_code == 201
    second = await client.post(
        f"{API}/withdrawals", json={"amount": 7_000, "payee": "acct"}, headers={**buyer.headers, "Idempotency-Key": "c"}
    )
    assert_problem(second, 409, "insufficient-funds")
    assert await balance(client, buyer) == {"posted": 10_000, "held": 7_000, "available": 3_000}


async def test_a_bank_reference_pays_one_withdrawal_only(client, parties):
    ops, buyer = parties
    await top_up(client, ops, buyer, 10_000)
    ids = []
    for key in ("k1", "k2"):
        response = await client.post(
            f"{API}/withdrawals",
            json={"amount": 100, "payee": "acct"},
            headers={**buyer.headers, "Idempotency-Key": key},
        )
        ids.append(response.json()["id"])
    ok = await client.post(f"{API}/withdrawals/{ids[0]}/complete", json={"bank_reference": "R-9"}, headers=ops.headers)
    assert ok.status_code == 200
    dup = await client.post(f"{API}/withdrawals/{ids[1]}/complete", json={"bank_reference": "R-9"}, headers=ops.headers)
    assert_problem(dup, 409, "duplicate-bank-reference", field="bank_reference")
    listed = await client.get(f"{API}/withdrawals?status=requested", headers=ops.headers)
    assert [w["id"] for w in listed.json()["items"]] == [ids[1]]


async def test_withdrawals_and_top_ups_of_nothing_are_refused(client, parties):
    ops, buyer = parties
    await top_up(client, ops, buyer, 1_000)
    for amount in (0, -1, 1.5, None):
        for path, body in (("withdrawals", {"amount": amount, "payee": "acct"}), ("payments", {"amount": amount})):
            response = await client.post(
                f"{API}/{path}", json=body, headers={**buyer.headers, "Idempotency-Key": f"{path}-{amount}"}
            )
            assert response.status_code == 400, response.text
            assert any(e["field"] == "amount" or "amount" in e.get("message", "") for e in response.json()["errors"])
    assert await balance(client, buyer) == {"posted": 1_000, "held": 0, "available": 1_000}
