"""The ledger accounts trading moves money between (SPEC §5.1)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ledger import AccountState
from ledger import service as ledger

CNY = "CNY"


async def cash(session: AsyncSession, org_id: uuid.UUID, now: datetime) -> AccountState:
    return await ledger.get_or_create_account(session, f"org:{org_id}:cash", CNY, "liability", True, now=now)


async def deposits(session: AsyncSession, listing_id: uuid.UUID, now: datetime) -> AccountState:
    return await ledger.get_or_create_account(session, f"listing:{listing_id}:deposits", CNY, "liability", now=now)


async def escrow(session: AsyncSession, deal_id: uuid.UUID, now: datetime) -> AccountState:
    return await ledger.get_or_create_account(session, f"deal:{deal_id}:escrow", CNY, "liability", now=now)


async def inventor_rewards(session: AsyncSession, org_id: uuid.UUID, now: datetime) -> AccountState:
    return await ledger.get_or_create_account(session, f"org:{org_id}:inventor_rewards", CNY, "liability", now=now)


async def fees(session: AsyncSession, now: datetime) -> AccountState:
    return await ledger.get_or_create_account(session, "exchange:fees", CNY, "revenue", now=now)


async def forfeits(session: AsyncSession, now: datetime) -> AccountState:
    return await ledger.get_or_create_account(session, "exchange:forfeits", CNY, "revenue", now=now)
