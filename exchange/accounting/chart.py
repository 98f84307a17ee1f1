"""The chart of accounts (SPEC §5.1): every ledger account the exchange uses, named here once.

A module asks this module for an account — ``chart.org_cash(org_id)`` is the ``AccountSpec``
(code, unit, type, no_overdraft) of an organisation's wallet (each per-owner account is its
line's ``Line.of``) — and opens it with
``open_account`` (created on first use) or reads it with ``find_account`` (``None`` until it
exists). No other module spells an account code. ``CHART`` lists the lines of the chart in the
order of docs/ledger.md, whose table a test compares with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from ledger import AccountState, AccountType, EntryView
from ledger import service as ledger

CNY = "CNY"
VCH = "VCH"
OWNER = "<id>"  # where a line's code names its owner: an organisation, listing, deal or program


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """One ledger account as the exchange opens it."""

    code: str
    unit: str
    type: AccountType
    no_overdraft: bool


@dataclass(frozen=True, slots=True)
class Line:
    """A line of the chart: one account (``exchange:fees``) or one per owner (``org:<id>:cash``)."""

    pattern: str
    unit: str
    type: AccountType
    no_overdraft: bool
    purpose: str
    matcher: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        owned = re.escape(self.pattern).replace(re.escape(OWNER), "[^:]+")
        object.__setattr__(self, "matcher", re.compile(f"^{owned}$"))

    def of(self, owner: UUID | str | None = None) -> AccountSpec:
        if (OWNER in self.pattern) != (owner is not None):
            raise ValueError(f"{self.pattern} {'needs' if owner is None else 'takes no'} owner")
        code = self.pattern if owner is None else self.pattern.replace(OWNER, str(owner))
        return AccountSpec(code, self.unit, self.type, self.no_overdraft)


CHART: list[Line] = []


def _line(pattern: str, unit: str, type_: str, no_overdraft: bool, purpose: str) -> Line:
    line = Line(pattern, unit, AccountType(type_), no_overdraft, purpose)
    CHART.append(line)
    return line


# -- trading --------------------------------------------------------------------------------------------------

org_cash = _line("org:<id>:cash", CNY, "liability", True, "the party's wallet at the exchange").of
listing_deposits = _line(
    "listing:<id>:deposits", CNY, "liability", False, "intent deposits of a listing, once posted"
).of
deal_escrow = _line("deal:<id>:escrow", CNY, "liability", False, "price held for a deal").of
org_inventor_rewards = _line(
    "org:<id>:inventor_rewards", CNY, "liability", False, "rewards owed to the seller's inventors"
).of
EXCHANGE_FEES = _line("exchange:fees", CNY, "revenue", False, "trading and brokerage fees").of()
EXCHANGE_FORFEITS = _line("exchange:forfeits", CNY, "revenue", False, "the exchange's share of forfeited deposits").of()

# -- payments ---------------------------------------------------------------------------------------------------

PSP_STRIPE_CLEARING = _line("psp:stripe:clearing", CNY, "asset", False, "money at the payment provider").of()
BANK_SETTLEMENT = _line("bank:settlement", CNY, "asset", False, "the exchange's settlement bank account").of()
PSP_STRIPE_FEES = _line("psp:stripe:fees", CNY, "expense", False, "provider fees").of()

# -- vouchers ------------------------------------------------------------------------------------------------

program_funding = _line("program:<id>:funding", CNY, "liability", True, "cash backing a voucher program").of
program_issuance = _line("program:<id>:issuance", VCH, "equity", False, "source of issued vouchers").of
org_vouchers = _line("org:<id>:vouchers", VCH, "liability", True, "an enterprise's vouchers").of
org_vouchers_received = _line(
    "org:<id>:vouchers_received", VCH, "liability", True, "a provider's vouchers awaiting redemption"
).of
EXCHANGE_VOUCHERS_RECEIVED = _line(
    "exchange:vouchers_received",
    VCH,
    "liability",
    True,
    "vouchers that paid the exchange's fees, awaiting redemption",
).of()

# -- institutions -------------------------------------------------------------------------------------------

inventor_cash = _line(
    "inventor:<id>:cash", CNY, "liability", True, "an inventor's income distributed by an institution"
).of


# The account that holds the money while it is at a payment provider, by provider name.
_CLEARING = {"stripe": PSP_STRIPE_CLEARING, "bank_transfer": BANK_SETTLEMENT}

# An organisation's wallet: one account per unit (``GET /wallet``).
WALLET_UNITS = (CNY, VCH)
_WALLET = {CNY: org_cash, VCH: org_vouchers}


def line_of(code: str) -> Line | None:
    """The chart's line an account code belongs to (``org:…:cash`` → the wallet line), or ``None``
    for an account outside the chart (one an operator opened through ``POST /ledger/accounts``)."""
    return next((line for line in CHART if line.matcher.match(code)), None)


def clearing(provider: str) -> AccountSpec:
    return _CLEARING[provider]


def wallet(org_id: UUID | str, unit: str) -> AccountSpec:
    return _WALLET[unit](org_id)


# -- opening and finding --------------------------------------------------------------------------------------


async def open_account(session: AsyncSession, spec: AccountSpec, now: datetime) -> AccountState:
    """The account, created on first use (safe when several transactions create it at once)."""
    return await ledger.get_or_create_account(session, spec.code, spec.unit, spec.type, spec.no_overdraft, now=now)


async def find_account(session: AsyncSession, spec: AccountSpec) -> AccountState | None:
    """The account as it stands, or ``None`` when nothing has opened it yet."""
    return await ledger.account_by_code(session, spec.code)


async def move(
    session: AsyncSession,
    debit: AccountSpec,
    credit: AccountSpec,
    amount: int,
    *,
    kind: str,
    now: datetime,
    pending: bool = False,
    **details: Any,
) -> EntryView:
    """``debit → credit`` in the unit of the chart's accounts, each opened on first use; a hold when
    ``pending``. ``details`` as for ``ledger.service.transfer`` (description, metadata, external_ref,
    idempotency_key, timeout_seconds)."""
    source = await open_account(session, debit, now)
    target = await open_account(session, credit, now)
    return await ledger.transfer(
        session, source.id, target.id, amount, unit=debit.unit, kind=kind, now=now, pending=pending, **details
    )
