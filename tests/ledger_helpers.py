"""Helpers for driving the ledger, in-process and over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

from ledger import service as ledger
from ledger.domain import AccountState


def code(prefix: str = "test") -> str:
    """A fresh account code."""
    return f"{prefix}:{uuid.uuid4().hex[:12]}"


async def open_accounts(db: Any, now: Any, *specs: tuple[str, str, bool], unit: str = "CNY") -> list[AccountState]:
    """Accounts ``(prefix, type, no_overdraft)`` created in one transaction."""

    async def work(session: Any) -> list[AccountState]:
        return [
            await ledger.create_account(
                session, code=code(prefix), unit=unit, type=type_, no_overdraft=no_overdraft, now=now
            )
            for prefix, type_, no_overdraft in specs
        ]

    return await db.transaction(work)


async def balances(db: Any, *accounts: AccountState) -> list[tuple[int, int, int, int]]:
    """(debits_posted, credits_posted, debits_pending, credits_pending) of each account, read now."""
    async with db.read() as session:
        result = []
        for account in accounts:
            a = await ledger.get_account(session, account.id)
            result.append((a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending))
        return result


async def available(db: Any, account: AccountState) -> int:
    async with db.read() as session:
        return (await ledger.get_account(session, account.id)).available


def posting(account_id: Any, side: str, amount: int) -> dict[str, Any]:
    return {"account_id": str(account_id), "side": side, "amount": amount}


def entry_body(debit: Any, credit: Any, amount: int, **extra: Any) -> dict[str, Any]:
    return {
        "unit": extra.pop("unit", "CNY"),
        "kind": extra.pop("kind", "transfer"),
        "postings": [posting(debit, "debit", amount), posting(credit, "credit", amount)],
        **extra,
    }


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}
