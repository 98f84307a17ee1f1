"""The ledger accounts of vouchers (SPEC §5.1) and the one place ledger refusals become ours."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.vouchers.domain import InsufficientVouchers
from ledger import AccountState
from ledger import service as ledger
from ledger.errors import InsufficientFunds

VCH = "VCH"
CNY = "CNY"
SETTLEMENT_BANK = "bank:settlement"
EXCHANGE_VOUCHERS_RECEIVED = "exchange:vouchers_received"
EXCHANGE_FEES = "exchange:fees"


def program_funding(program_id: uuid.UUID) -> str:
    return f"program:{program_id}:funding"


def program_issuance(program_id: uuid.UUID) -> str:
    return f"program:{program_id}:issuance"


def org_vouchers(org_id: uuid.UUID) -> str:
    return f"org:{org_id}:vouchers"


def org_vouchers_received(org_id: uuid.UUID) -> str:
    return f"org:{org_id}:vouchers_received"


def org_cash(org_id: uuid.UUID) -> str:
    return f"org:{org_id}:cash"


# code → (unit, type, no_overdraft), by the suffix or the whole code
_KINDS: dict[str, tuple[str, str, bool]] = {
    "funding": (CNY, "liability", True),
    "issuance": (VCH, "equity", False),
    "vouchers": (VCH, "liability", True),
    "vouchers_received": (VCH, "liability", True),
    "cash": (CNY, "liability", True),
    SETTLEMENT_BANK: (CNY, "asset", False),
    EXCHANGE_VOUCHERS_RECEIVED: (VCH, "liability", True),
    EXCHANGE_FEES: (CNY, "revenue", False),
}


async def account(session: AsyncSession, code: str, now: datetime) -> AccountState:
    unit, type_, no_overdraft = _KINDS.get(code) or _KINDS[code.rsplit(":", 1)[1]]
    return await ledger.get_or_create_account(session, code, unit, type_, no_overdraft, now=now)


async def balance(session: AsyncSession, code: str) -> AccountState | None:
    return await ledger.account_by_code(session, code)


@asynccontextmanager
async def funds_checked(what: str) -> AsyncIterator[None]:
    """A ledger funds refusal, said as the voucher module's 409 ``insufficient-funds``."""
    try:
        yield
    except InsufficientFunds as exc:
        raise InsufficientVouchers(f"{what}: {exc.detail}") from exc
