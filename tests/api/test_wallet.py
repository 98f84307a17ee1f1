"""A party's wallet: its balances per unit and its statement, read from the ledger."""

from __future__ import annotations

from ledger import service as ledger
from tests.helpers import operator, verified


async def test_a_new_wallet_reads_zero_in_every_unit(client, app):
    trader = await verified(client, await operator(client, app))
    wallet = (await client.get("/api/v1/wallet", headers=trader.headers)).json()
    assert wallet == {
        "org_id": trader.org_id,
        "balances": [
            {"unit": "CNY", "posted": 0, "held": 0, "available": 0},
            {"unit": "VCH", "posted": 0, "held": 0, "available": 0},
        ],
    }
    statement = (await client.get("/api/v1/wallet/entries", headers=trader.headers)).json()
    assert statement == {"items": [], "next_cursor": None}


async def test_the_wallet_shows_posted_held_and_available_money_and_its_statement(client, app):
    ops = await operator(client, app)
    trader, other = await verified(client, ops), await verified(client, ops)
    now = app.state.clock.now()

    async def move_money(session):
        cash = await ledger.get_or_create_account(
            session, f"org:{trader.org_id}:cash", "CNY", "liability", True, now=now
        )
        vouchers = await ledger.get_or_create_account(
            session, f"org:{trader.org_id}:vouchers", "VCH", "liability", True, now=now
        )
        bank = await ledger.get_or_create_account(session, "bank:settlement", "CNY", "asset", now=now)
        deposits = await ledger.get_or_create_account(session, "listing:L1:deposits", "CNY", "liability", now=now)
        issuance = await ledger.get_or_create_account(session, "program:P1:issuance", "VCH", "equity", now=now)
        await ledger.transfer(session, bank.id, cash.id, 500_000, unit="CNY", kind="top_up", now=now)
        await ledger.hold(session, cash.id, deposits.id, 120_000, unit="CNY", kind="deposit_hold", now=now)
        await ledger.transfer(session, issuance.id, vouchers.id, 30_000, unit="VCH", kind="voucher_grant", now=now)

    await app.state.db.transaction(move_money)
    wallet = (await client.get("/api/v1/wallet", headers=trader.headers)).json()
    assert wallet["balances"] == [
        {"unit": "CNY", "posted": 500_000, "held": 120_000, "available": 380_000},
        {"unit": "VCH", "posted": 30_000, "held": 0, "available": 30_000},
    ]
    lines = (await client.get("/api/v1/wallet/entries", headers=trader.headers)).json()["items"]
    assert [(line["kind"], line["phase"], line["balance"], line["available"]) for line in lines] == [
        ("deposit_hold", "pending", 500_000, 380_000),
        ("top_up", "posted", 500_000, 500_000),
    ]
    vouchers = (await client.get("/api/v1/wallet/entries", params={"unit": "VCH"}, headers=trader.headers)).json()
    assert [line["amount"] for line in vouchers["items"]] == [30_000]
    # Another organisation sees only its own wallet.
    theirs = (await client.get("/api/v1/wallet", headers=other.headers)).json()
    assert theirs["org_id"] == other.org_id and all(b["posted"] == 0 for b in theirs["balances"])
    assert (await client.get("/api/v1/wallet/entries", headers=other.headers)).json()["items"] == []
