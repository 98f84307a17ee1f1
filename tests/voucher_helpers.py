"""Helpers for voucher tests: the parties of a program, balances read from the ledger, invariants."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Litestar

from exchange.accounting import chart
from ledger import service as ledger
from tests.helpers import Party, operator, verified

API = "/api/v1"


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


@dataclass
class Cast:
    ops: Party
    gov: Party
    ent: Party
    prov: Party


async def cast(client: Any, app: Litestar) -> Cast:
    ops = await operator(client, app)
    return Cast(
        ops=ops,
        gov=await verified(client, ops, "government", "上海市科学技术委员会"),
        ent=await verified(client, ops, "enterprise", "上海固能新材料有限公司"),
        prov=await verified(client, ops, "service_provider", "上海知识产权服务中心"),
    )


def program_body(app: Litestar, **changes: Any) -> dict[str, Any]:
    now = app.state.clock.now()
    body: dict[str, Any] = {
        "name": "2026年度上海市科技创新券",
        "year": 2026,
        "budget": 100_000_000,
        "categories": ["testing", "tech_search", "brokerage"],
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=60)).isoformat(),
    }
    body.update(changes)
    return body


async def create_program(client: Any, app: Litestar, gov: Party, **changes: Any) -> dict[str, Any]:
    response = await client.post(f"{API}/voucher-programs", json=program_body(app, **changes), headers=gov.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def fund(client: Any, ops: Party, program_id: str, amount: int) -> None:
    response = await client.post(
        f"{API}/voucher-programs/{program_id}/fund",
        json={"amount": amount, "bank_reference": f"BANK-{uuid.uuid4().hex[:8]}"},
        headers={**ops.headers, **key()},
    )
    assert response.status_code == 200, response.text


async def grant(client: Any, gov: Party, program_id: str, org_id: str, amount: int) -> dict[str, Any]:
    response = await client.post(
        f"{API}/voucher-programs/{program_id}/grants",
        json={"org_id": org_id, "amount": amount},
        headers={**gov.headers, **key()},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def service(client: Any, prov: Party, category: str = "testing", price: int = 10_000_000) -> dict[str, Any]:
    response = await client.post(
        f"{API}/services",
        json={"category": category, "title": "材料性能检测", "description": "CNAS 认可实验室检测", "price": price},
        headers=prov.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def top_up(app: Litestar, org_id: str, amount: int) -> None:
    """Cash into a wallet, as the payments module records a bank transfer."""
    now = app.state.clock.now()

    async def work(session: Any) -> None:
        bank = await chart.open_account(session, chart.BANK_SETTLEMENT, now)
        cash = await chart.open_account(session, chart.org_cash(org_id), now)
        await ledger.transfer(session, bank.id, cash.id, amount, unit="CNY", kind="top_up", now=now)

    await app.state.db.transaction(work)


async def order(client: Any, ent: Party, service_id: str, voucher_amount: int, **extra: Any) -> Any:
    return await client.post(
        f"{API}/service-orders",
        json={"service_id": service_id, "voucher_amount": voucher_amount, **extra},
        headers=ent.headers,
    )


async def act(client: Any, party: Party, order_id: str, action: str, body: Any = None) -> Any:
    return await client.post(f"{API}/service-orders/{order_id}/{action}", json=body, headers=party.headers)


async def balance(app: Litestar, code: str) -> tuple[int, int]:
    """(posted, held) of a ledger account; (0, 0) when it does not exist yet."""
    async with app.state.db.read() as session:
        account = await ledger.account_by_code(session, code)
    return (account.balance, account.pending_outflow) if account else (0, 0)


async def check_invariants(client: Any, gov: Party, program_id: str, holders: list[str]) -> dict[str, Any]:
    """SPEC §4's invariants from the report, and its outstanding figure against the ledger:
    every voucher still out sits in an enterprise's or a provider's account."""
    response = await client.get(f"{API}/voucher-programs/{program_id}/report", headers=gov.headers)
    assert response.status_code == 200, response.text
    report = response.json()
    figures = report["figures"]
    assert figures["broken_invariants"] == [], figures
    assert figures["issued"] - figures["redeemed"] - figures["expired"] - figures["revoked"] == figures["outstanding"]
    assert figures["redeemed"] <= figures["funded"]
    return report


async def vch_out(app: Litestar, codes: list[str]) -> int:
    return sum([(await balance(app, code))[0] for code in codes])
