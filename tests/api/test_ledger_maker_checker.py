"""No single operator moves an organisation's money (SPEC §5: manual entries need maker and checker).

The ledger's direct writes (`POST /ledger/entries`, `/entries/batch`, `/entries/{id}/post`,
`/void`, `/reverse`) and `POST /ledger/accounts` keep off the exchange's chart of accounts —
wallets, deposits, escrow, voucher and program accounts, the exchange's own — which move only by
the exchange's services or by an adjustment a second operator approves.
"""

from __future__ import annotations

from typing import Any

from tests.helpers import assert_problem, operator, verified
from tests.ledger_helpers import entry_body, key
from tests.trading_helpers import announced, fund, intent, wallet

API = "/api/v1/ledger"


async def _account(client: Any, ops: Any, code: str) -> dict[str, Any]:
    page = (await client.get(f"{API}/accounts", params={"code_prefix": code}, headers=ops.headers)).json()
    (found,) = [a for a in page["items"] if a["code"] == code]
    return found


async def _own_account(client: Any, ops: Any, code: str, type_: str = "liability") -> dict[str, Any]:
    made = await client.post(
        f"{API}/accounts", json={"code": code, "unit": "CNY", "type": type_, "no_overdraft": False}, headers=ops.headers
    )
    assert made.status_code == 201, made.text
    return made.json()


async def test_one_operator_cannot_move_an_organisations_money(client, app):
    ops, checker = await operator(client, app), await operator(client, app)
    org = await verified(client, ops)
    await fund(app, org, 50_000)
    cash = await _account(client, ops, f"org:{org.org_id}:cash")
    sink = await _own_account(client, ops, "ops:sink:1")

    alone = await client.post(
        f"{API}/entries", json=entry_body(cash["id"], sink["id"], 20_000), headers={**ops.headers, **key()}
    )
    body = assert_problem(alone, 403, "chart-account", field="postings.0.account_id")
    assert body["accounts"] == [cash["code"]]
    held = await client.post(
        f"{API}/entries",
        json=entry_body(cash["id"], sink["id"], 20_000, pending={"timeout_seconds": 60}),
        headers={**ops.headers, **key()},
    )
    assert_problem(held, 403, "chart-account", field="postings.0.account_id")
    assert (await wallet(client, org))["posted"] == 50_000

    # A batch is refused whole, naming the entry and posting; its first entry is not written either.
    other = await _own_account(client, ops, "ops:other:1", type_="asset")
    batch = {
        "atomic": False,
        "entries": [entry_body(other["id"], sink["id"], 10), entry_body(sink["id"], cash["id"], 10)],
    }
    refused = await client.post(f"{API}/entries/batch", json=batch, headers={**ops.headers, **key()})
    assert_problem(refused, 403, "chart-account", field="entries.1.postings.1.account_id")
    assert (await _account(client, ops, "ops:sink:1"))["balance"] == 0

    # The same change made by a maker and approved by a checker moves the money.
    proposed = await client.post(
        f"{API}/adjustments",
        json={"entry": entry_body(cash["id"], sink["id"], 20_000, kind="adjustment"), "reason": "银行退款差错更正"},
        headers={**ops.headers, **key()},
    )
    assert proposed.status_code == 201, proposed.text
    assert (await wallet(client, org))["posted"] == 50_000
    approved = await client.post(
        f"{API}/adjustments/{proposed.json()['id']}/approve", headers={**checker.headers, **key()}
    )
    assert approved.status_code == 200, approved.text
    assert (await wallet(client, org))["posted"] == 30_000


async def test_one_operator_cannot_resolve_or_reverse_a_chart_entry(client, app):
    ops = await operator(client, app)
    seller, buyer = await verified(client, ops), await verified(client, ops)
    await fund(app, buyer, 100_000_000)
    cash = await _account(client, ops, f"org:{buyer.org_id}:cash")
    listing = await announced(client, seller, ops, mode="auction")
    await intent(client, buyer, listing["id"])
    lines = (await client.get(f"{API}/accounts/{cash['id']}/entries", headers=ops.headers)).json()["items"]
    hold = next(line for line in lines if line["phase"] == "pending")
    top_up = next(line for line in lines if line["phase"] == "posted")
    before = await wallet(client, buyer)

    for action in ("post", "void", "reverse"):
        target = top_up if action == "reverse" else hold
        refused = await client.post(
            f"{API}/entries/{target['entry_id']}/{action}", json={}, headers={**ops.headers, **key()}
        )
        assert_problem(refused, 403, "chart-account", field="entry_id")
    assert await wallet(client, buyer) == before


async def test_operators_cannot_open_chart_accounts_themselves(client, app):
    ops = await operator(client, app)
    org = await verified(client, ops)
    for code in (f"org:{org.org_id}:cash", "listing:x:deposits", "exchange:fees", "bank:settlement"):
        made = await client.post(
            f"{API}/accounts",
            json={"code": code, "unit": "CNY", "type": "asset", "no_overdraft": False},
            headers=ops.headers,
        )
        assert_problem(made, 403, "chart-account", field="code")
    assert (await client.get(f"{API}/accounts", params={"code_prefix": "org:"}, headers=ops.headers)).json()[
        "items"
    ] == []
