"""The ledger over HTTP, as operators and auditors use it (SPEC §7 and §7.1)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from datetime import timedelta

import pytest

from exchange.accounting.jobs import seal_pending, seal_task
from exchange.server.app import periodic_tasks
from ledger import merkle
from tests.helpers import assert_problem, operator, register, verified
from tests.ledger_helpers import entry_body, key, posting

API = "/api/v1/ledger"


@pytest.fixture
async def ops(client, app):
    return await operator(client, app)


async def new_account(client, ops, code, type_="liability", unit="CNY", no_overdraft=True):
    response = await client.post(
        f"{API}/accounts",
        json={"code": code, "unit": unit, "type": type_, "no_overdraft": no_overdraft},
        headers=ops.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def book(client, ops, body, idempotency=None):
    return await client.post(f"{API}/entries", json=body, headers={**ops.headers, **(idempotency or key())})


async def account(client, ops, account_id, **params):
    response = await client.get(f"{API}/accounts/{account_id}", params=params, headers=ops.headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def funded(client, ops):
    """A bank account and a wallet holding 10,000 fen."""
    bank = await new_account(client, ops, "ops:bank:1", type_="asset", no_overdraft=False)
    wallet = await new_account(client, ops, "ops:test:1")
    assert (await book(client, ops, entry_body(bank["id"], wallet["id"], 10_000))).status_code == 201
    return bank, wallet


async def test_only_operators_use_the_ledger(client, app, ops):
    anonymous = await client.get(f"{API}/accounts")
    assert_problem(anonymous, 401, "unauthorized")
    trader = await verified(client, ops)
    assert_problem(await client.get(f"{API}/accounts", headers=trader.headers), 403, "forbidden")
    refused = await client.post(
        f"{API}/entries", json=entry_body(trader.org_id, trader.org_id, 1), headers={**trader.headers, **key()}
    )
    assert_problem(refused, 403, "forbidden")


async def test_an_account_is_created_in_the_documented_shape(client, ops):
    created = await new_account(client, ops, "ops:test:1")
    assert created == {
        "id": created["id"],
        "code": "ops:test:1",
        "unit": "CNY",
        "type": "liability",
        "no_overdraft": True,
        "closed": False,
        "debits_posted": 0,
        "credits_posted": 0,
        "debits_pending": 0,
        "credits_pending": 0,
        "balance": 0,
        "available": 0,
        "version": 0,
    }
    again = await client.post(
        f"{API}/accounts", json={"code": "ops:test:1", "unit": "CNY", "type": "asset"}, headers=ops.headers
    )
    assert_problem(again, 409, "account-exists", field="code")
    unknown_unit = await client.post(
        f"{API}/accounts", json={"code": "ops:test:2", "unit": "USD", "type": "asset"}, headers=ops.headers
    )
    assert_problem(unknown_unit, 422, "unknown-unit", field="unit")


async def test_a_posted_entry_moves_money_and_reads_back(client, ops, funded):
    bank, wallet = funded
    body = entry_body(
        wallet["id"],
        bank["id"],
        2_500,
        kind="withdrawal",
        description="提现",
        metadata={"bank_ref": "B-1"},
        external_ref="wd:1",
    )
    created = await book(client, ops, body)
    assert created.status_code == 201
    entry = created.json()
    assert (entry["status"], entry["unit"], entry["kind"], entry["expires_at"]) == ("posted", "CNY", "withdrawal", None)
    assert [(p["side"], p["amount"]) for p in entry["postings"]] == [("debit", 2_500), ("credit", 2_500)]
    shown = await client.get(f"{API}/entries/{entry['id']}", headers=ops.headers)
    assert shown.json() == entry
    assert (await account(client, ops, wallet["id"]))["balance"] == 7_500


async def test_ledger_writes_need_an_idempotency_key_and_replay_the_original(client, ops, funded):
    bank, wallet = funded
    body = entry_body(bank["id"], wallet["id"], 300)
    missing = await client.post(f"{API}/entries", json=body, headers=ops.headers)
    assert_problem(missing, 400, "idempotency-key-required", field="Idempotency-Key")
    same = key()
    first = await book(client, ops, body, same)
    replay = await book(client, ops, body, same)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert replay.json() == first.json()
    assert_problem(
        await book(client, ops, entry_body(bank["id"], wallet["id"], 301), same), 409, "idempotency-key-reused"
    )
    assert (await account(client, ops, wallet["id"]))["balance"] == 10_300


async def test_one_key_sent_many_times_at_once_with_two_bodies_records_one_entry(client, ops, funded):
    """The entry is written before its key is looked up: racing requests with one key still take
    effect once, the winner's body replays and the other body is refused."""
    bank, wallet = funded
    same = key()
    bodies = [entry_body(bank["id"], wallet["id"], amount) for amount in (100, 200) * 4]
    answers = await asyncio.gather(*(book(client, ops, body, same) for body in bodies))
    won = [a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers]
    assert len(won) == 1, [a.status_code for a in answers]
    amount = won[0].json()["postings"][0]["amount"]
    for body, answer in zip(bodies, answers, strict=True):
        if body["postings"][0]["amount"] == amount:
            assert answer.status_code == 201 and answer.json() == won[0].json()
        else:
            assert_problem(answer, 409, "idempotency-key-reused")
    assert (await account(client, ops, wallet["id"]))["balance"] == 10_000 + amount


async def test_a_replay_answers_even_when_the_entry_could_no_longer_be_recorded(client, ops, funded):
    _, wallet = funded
    shop = await new_account(client, ops, "ops:shop:2")
    same = key()
    body = entry_body(wallet["id"], shop["id"], 10_000, kind="purchase")
    first = await book(client, ops, body, same)
    replay = await book(client, ops, body, same)  # the wallet is empty now: the write itself is refused
    assert first.status_code == replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert (await account(client, ops, shop["id"]))["balance"] == 10_000


async def test_two_operators_keys_do_not_collide(client, app, ops, funded):
    bank, wallet = funded
    other = await operator(client, app)
    same = key()
    mine = await book(client, ops, entry_body(bank["id"], wallet["id"], 10), same)
    theirs = await client.post(
        f"{API}/entries", json=entry_body(bank["id"], wallet["id"], 20), headers={**other.headers, **same}
    )
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers and theirs.json()["id"] != mine.json()["id"]
    assert (await account(client, ops, wallet["id"]))["balance"] == 10_030


async def test_a_refused_write_can_be_retried_with_its_key(client, ops, funded):
    bank, wallet = funded
    shop = await new_account(client, ops, "ops:shop:1")
    same = key()
    body = entry_body(wallet["id"], shop["id"], 12_000, kind="purchase")
    assert_problem(await book(client, ops, body, same), 409, "insufficient-funds")
    assert (await book(client, ops, entry_body(bank["id"], wallet["id"], 2_000))).status_code == 201
    retried = await book(client, ops, body, same)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert (await account(client, ops, wallet["id"]))["available"] == 0


async def test_holds_post_partially_void_and_reverse_over_http(client, ops, funded):
    _, wallet = funded
    escrow = await new_account(client, ops, "ops:escrow:1", no_overdraft=False)
    hold = (
        await book(
            client,
            ops,
            entry_body(wallet["id"], escrow["id"], 4_000, kind="deposit_hold", pending={"timeout_seconds": 3600}),
        )
    ).json()
    assert hold["status"] == "pending" and hold["expires_at"] == "2026-03-02T02:00:00Z"
    assert (await account(client, ops, wallet["id"]))["available"] == 6_000

    over = await client.post(
        f"{API}/entries/{hold['id']}/post", json={"amount": 4_001}, headers={**ops.headers, **key()}
    )
    assert_problem(over, 422, "exceeds-pending-amount", field="amount")
    posted = await client.post(
        f"{API}/entries/{hold['id']}/post", json={"amount": 3_000}, headers={**ops.headers, **key()}
    )
    assert posted.status_code == 201
    assert posted.json()["pending_id"] == hold["id"]
    again = await client.post(f"{API}/entries/{hold['id']}/void", headers={**ops.headers, **key()})
    assert_problem(again, 409, "already-posted")
    reread = (await client.get(f"{API}/entries/{hold['id']}", headers=ops.headers)).json()
    assert (reread["status"], reread["resolved_by"]) == ("posted", posted.json()["id"])
    assert (await account(client, ops, wallet["id"]))["available"] == 7_000

    reversal = await client.post(
        f"{API}/entries/{posted.json()['id']}/reverse", json={"description": "退款"}, headers={**ops.headers, **key()}
    )
    assert reversal.status_code == 201 and reversal.json()["reverses_id"] == posted.json()["id"]
    twice = await client.post(f"{API}/entries/{posted.json()['id']}/reverse", headers={**ops.headers, **key()})
    assert_problem(twice, 409, "already-reversed")
    assert (await account(client, ops, wallet["id"]))["available"] == 10_000

    second = (await book(client, ops, entry_body(wallet["id"], escrow["id"], 500, pending={}))).json()
    voided = await client.post(f"{API}/entries/{second['id']}/void", json={}, headers={**ops.headers, **key()})
    assert voided.status_code == 201 and voided.json()["status"] == "voided"


async def test_batches_over_http(client, ops, funded):
    _, wallet = funded
    shop = await new_account(client, ops, "ops:shop:1")
    entries = [entry_body(wallet["id"], shop["id"], 6_000), entry_body(wallet["id"], shop["id"], 6_000)]
    atomic = await client.post(
        f"{API}/entries/batch", json={"atomic": True, "entries": entries}, headers={**ops.headers, **key()}
    )
    body = assert_problem(atomic, 409, "insufficient-funds", field="entries.1")
    assert body["index"] == 1
    assert (await account(client, ops, shop["id"]))["balance"] == 0
    each = await client.post(
        f"{API}/entries/batch", json={"atomic": False, "entries": entries}, headers={**ops.headers, **key()}
    )
    assert each.status_code == 201
    results = each.json()["results"]
    assert [r["status"] for r in results] == [201, 409]
    assert results[1]["problem"]["type"] == "insufficient-funds" and results[1]["entry"] is None
    assert (await account(client, ops, shop["id"]))["balance"] == 6_000
    too_many = await client.post(
        f"{API}/entries/batch", json={"entries": [entries[0]] * 1001}, headers={**ops.headers, **key()}
    )
    assert too_many.status_code == 400
    assert (await account(client, ops, shop["id"]))["balance"] == 6_000


@pytest.mark.parametrize(
    ("mutate", "status", "problem"),
    [
        (
            lambda b, w, v, c: (
                entry_body(b, w, 100) | {"postings": [posting(b, "debit", 100), posting(w, "credit", 90)]}
            ),
            422,
            "unbalanced-entry",
        ),
        (lambda b, w, v, c: entry_body(b, w, 0), 400, "validation-error"),
        (lambda b, w, v, c: entry_body(b, w, -5), 400, "validation-error"),
        (lambda b, w, v, c: entry_body(b, w, 2**63), 400, "validation-error"),
        (lambda b, w, v, c: entry_body(b, v, 100), 422, "unit-mismatch"),
        (lambda b, w, v, c: entry_body(b, "0190f5a0-0000-7000-8000-000000000000", 100), 422, "unknown-account"),
        (lambda b, w, v, c: entry_body(b, c, 100), 422, "account-closed"),
        (lambda b, w, v, c: entry_body(b, "not-a-uuid", 100), 400, "validation-error"),
        (lambda b, w, v, c: entry_body(w, b, 10_001), 409, "insufficient-funds"),
        (lambda b, w, v, c: entry_body(b, w, 100) | {"surprise": 1}, 400, "validation-error"),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(client, ops, funded, mutate, status, problem):
    bank, wallet = funded
    vouchers = await new_account(client, ops, "ops:vouchers:1", unit="VCH")
    closed = await new_account(client, ops, "ops:closed:1")
    assert (await client.post(f"{API}/accounts/{closed['id']}/close", headers=ops.headers)).status_code == 200
    before = [await account(client, ops, a["id"]) for a in (bank, wallet, vouchers, closed)]
    response = await book(client, ops, mutate(bank["id"], wallet["id"], vouchers["id"], closed["id"]))
    assert_problem(response, status, problem)
    assert [await account(client, ops, a["id"]) for a in (bank, wallet, vouchers, closed)] == before


async def test_malformed_ids_and_unknown_entries(client, ops):
    assert (await client.get(f"{API}/entries/not-a-uuid", headers=ops.headers)).status_code in (400, 404)
    unknown = "0190f5a0-0000-7000-8000-000000000000"
    assert_problem(await client.get(f"{API}/entries/{unknown}", headers=ops.headers), 404, "not-found")
    assert_problem(await client.get(f"{API}/accounts/{unknown}", headers=ops.headers), 404, "not-found")
    posted = await client.post(f"{API}/entries/{unknown}/post", headers={**ops.headers, **key()})
    assert_problem(posted, 404, "not-found")
    bad_as_of = await client.get(f"{API}/accounts/{unknown}", params={"as_of": "last tuesday"}, headers=ops.headers)
    assert_problem(bad_as_of, 422, "invalid-as-of", field="as_of")
    bad_cursor = await client.get(f"{API}/accounts", params={"cursor": "%%%"}, headers=ops.headers)
    assert_problem(bad_cursor, 422, "invalid-cursor", field="cursor")


async def test_statements_history_and_trial_balance(client, ops, funded):
    bank, wallet = funded
    first = (await client.get(f"{API}/accounts/{wallet['id']}/entries", headers=ops.headers)).json()["items"]
    (top_up,) = first
    assert (await book(client, ops, entry_body(wallet["id"], bank["id"], 1_000))).status_code == 201
    statement = await client.get(f"{API}/accounts/{wallet['id']}/entries", params={"limit": 1}, headers=ops.headers)
    page = statement.json()
    assert [(line["seq"], line["balance"]) for line in page["items"]] == [(2, 9_000)]
    rest = await client.get(
        f"{API}/accounts/{wallet['id']}/entries", params={"cursor": page["next_cursor"]}, headers=ops.headers
    )
    assert [(line["seq"], line["balance"]) for line in rest.json()["items"]] == [(1, 10_000)]
    then = await account(client, ops, wallet["id"], as_of=top_up["entry_id"])
    assert (then["balance"], then["version"]) == (10_000, 1)
    trial = (await client.get(f"{API}/trial-balance", headers=ops.headers)).json()
    (cny,) = trial["units"]
    assert trial["balanced"] and cny["debits_posted"] == cny["credits_posted"] == 11_000
    listed = (await client.get(f"{API}/accounts", params={"limit": 1}, headers=ops.headers)).json()
    assert [a["code"] for a in listed["items"]] == ["ops:bank:1"] and listed["next_cursor"]


async def test_an_adjustment_needs_a_second_operator(client, app, ops, funded):
    bank, wallet = funded
    checker = await operator(client, app)
    proposed = await client.post(
        f"{API}/adjustments",
        json={"entry": entry_body(bank["id"], wallet["id"], 55, kind="adjustment"), "reason": "对账差异"},
        headers={**ops.headers, **key()},
    )
    assert proposed.status_code == 201
    adjustment = proposed.json()
    assert (adjustment["status"], adjustment["maker_id"]) == ("proposed", ops.user_id)
    assert (await account(client, ops, wallet["id"]))["balance"] == 10_000  # nothing moves yet

    own = await client.post(f"{API}/adjustments/{adjustment['id']}/approve", headers={**ops.headers, **key()})
    assert_problem(own, 403, "maker-cannot-approve")
    approve_key = key()
    approved = await client.post(
        f"{API}/adjustments/{adjustment['id']}/approve", headers={**checker.headers, **approve_key}
    )
    assert approved.status_code == 200
    body = approved.json()
    assert (body["status"], body["checker_id"]) == ("approved", checker.user_id) and body["entry_id"]
    assert (await account(client, ops, wallet["id"]))["balance"] == 10_055
    replay = await client.post(
        f"{API}/adjustments/{adjustment['id']}/approve", headers={**checker.headers, **approve_key}
    )
    assert replay.json() == body and replay.headers["Idempotent-Replayed"] == "true"
    twice = await client.post(f"{API}/adjustments/{adjustment['id']}/approve", headers={**checker.headers, **key()})
    assert_problem(twice, 409, "already-approved")
    entry = (await client.get(f"{API}/entries/{body['entry_id']}", headers=ops.headers)).json()
    assert entry["metadata"]["adjustment_id"] == adjustment["id"]
    assert (await account(client, ops, wallet["id"]))["balance"] == 10_055


async def test_a_proof_verifies_offline_with_the_published_key(client, app, ops, funded):
    bank, wallet = funded
    entry = (await book(client, ops, entry_body(bank["id"], wallet["id"], 77))).json()
    not_yet = await client.get(f"{API}/entries/{entry['id']}/proof", headers=ops.headers)
    assert_problem(not_yet, 409, "not-sealed")
    await seal_pending(app.state.db, app.state.keyring, app.state.settings, app.state.clock)

    proof = (await client.get(f"{API}/entries/{entry['id']}/proof", headers=ops.headers)).json()
    (published,) = (await client.get("/api/v1/keys")).json()["keys"]
    # From here on, only the proof and the public key: what an auditor outside the exchange has.
    public_key = base64.b64decode(published["key"])
    text = merkle.open_note(proof["checkpoint"]["checkpoint"], public_key)
    origin, size, root = text.split("\n")[:3]
    leaf_hash = hashlib.sha256(b"\x00" + proof["leaf"].encode()).digest()
    assert base64.b64decode(proof["leaf_hash"]) == leaf_hash
    path = [base64.b64decode(h) for h in proof["audit_path"]]
    assert merkle.root_from_path(proof["leaf_index"], int(size), leaf_hash, path) == base64.b64decode(root)
    leaf = json.loads(proof["leaf"])
    assert (leaf["id"], [p["amount"] for p in leaf["postings"]]) == (entry["id"], [77, 77])
    assert origin == app.state.settings.ledger_origin
    latest = (await client.get(f"{API}/checkpoints/latest", headers=ops.headers)).json()
    assert latest == proof["checkpoint"] and latest["height"] == 1


async def test_an_unverified_trader_gets_no_ledger_access(client, ops):
    newcomer = await register(client)
    assert_problem(await client.get(f"{API}/trial-balance", headers=newcomer.headers), 403, "forbidden")


async def test_the_server_seals_and_expires_on_its_own(client, app, ops, funded):
    """The periodic tasks the server runs: the sealer signs new entries into blocks, the sweep
    releases holds whose timeout has come."""
    assert {t.name for t in periodic_tasks(app.state.settings)} >= {"ledger-seal", "sweep"}
    assert "ledger-hold-expiry" in app.state.sweeper.step_names
    bank, wallet = funded
    hold = (await book(client, ops, entry_body(wallet["id"], bank["id"], 900, pending={"timeout_seconds": 60}))).json()
    await seal_task(app.state)
    latest = (await client.get(f"{API}/checkpoints/latest", headers=ops.headers)).json()
    assert latest["tree_size"] == 2  # the top-up and the hold
    app.state.clock.advance(timedelta(seconds=60))
    sweep = next(t for t in periodic_tasks(app.state.settings) if t.name == "sweep")
    assert (await sweep.run(app.state))["ledger-hold-expiry"] == 1
    reread = (await client.get(f"{API}/entries/{hold['id']}", headers=ops.headers)).json()
    assert reread["status"] == "expired"
    assert (await account(client, ops, wallet["id"]))["available"] == 10_000
