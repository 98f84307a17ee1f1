"""技术合同认定登记: the registration of a signed deal's contract at a technology-contract registry,
recorded by the seller's office, one per deal; read by both parties and operators.

Institutions do not import trading: the deal's parties and whether both have signed come through
``DealReader``, which trading implements and the composition root wires (``InstitutionsContext``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions.config import require_office
from exchange.institutions.domain import InvalidStepRecord
from exchange.institutions.models import ContractRegistration
from exchange.institutions.schemas import ContractRegistrationIn, ContractRegistrationOut
from exchange.parties.domain import Principal
from kernel.errors import Conflict, Forbidden, InvalidState, NotFound
from listings import ListingsContext


@dataclass(frozen=True)
class DealFacts:
    """What institutions need to know of a deal: its parties, its state, and whether both signed."""

    deal_id: uuid.UUID
    seller_org_id: uuid.UUID
    buyer_org_id: uuid.UUID
    state: str
    signed: bool


class InventorWithdrawals(Protocol):
    """Payments' withdrawals as the inventor's page needs them: ``payer`` is ``inventor:<id>``."""

    async def request(self, session: AsyncSession, caller: Principal, payer: str, amount: int, now: datetime) -> Any:
        """The API's answer of ``POST /withdrawals`` with ``payer``: its refusals are the API's."""
        ...

    async def of_payer(self, session: AsyncSession, payer: str, limit: int) -> Sequence[Any]:
        """The payer account's withdrawals, newest first: ``amount``, ``status``, ``payee``,
        ``created_at``, ``bank_reference``, ``paid_on``, ``reason``."""
        ...


class DealReader(Protocol):
    async def deal_facts(self, session: AsyncSession, deal_id: uuid.UUID) -> DealFacts | None: ...


class TransferFigures(Protocol):
    """What became of the technology an institution transferred, as the buyers' implementation
    reports tell it (tracking after the deal): the deals tracked in the year, each by its latest
    reported status, the reports due, filed and overdue, jobs created and the revenue bands."""

    @property
    def deals(self) -> int: ...

    @property
    def by_status(self) -> dict[str, int]: ...

    @property
    def reports_due(self) -> int: ...

    @property
    def reports_filed(self) -> int: ...

    @property
    def reports_overdue(self) -> int: ...

    @property
    def jobs(self) -> int: ...

    @property
    def by_revenue_band(self) -> dict[str, int]: ...


class TransferOutcomes(Protocol):
    async def of_seller(
        self, session: AsyncSession, seller_org_id: uuid.UUID, year: int, as_of: datetime
    ) -> TransferFigures:
        """The figures of the deals ``seller_org_id`` sold that were tracked in ``year``, as known at ``as_of``."""
        ...


@dataclass
class InstitutionsContext:
    """What the institutions module needs from its host: listings (notices, listing drafts) and a
    reader of the exchange's deals."""

    listings: ListingsContext
    deals: DealReader
    # Withdrawals from inventors' accounts, for the inventor's own page (payments, wired by the host).
    withdrawals: InventorWithdrawals | None = None
    # What became of what it transferred (tracking after the deal), for the annual report; None: no section.
    outcomes: TransferOutcomes | None = None


class AlreadyRegistered(Conflict):
    problem_type = "already-registered"
    title = "The deal's contract is already registered"


def registration_out(row: ContractRegistration) -> ContractRegistrationOut:
    return ContractRegistrationOut(
        id=row.id, deal_id=row.deal_id, org_id=row.org_id, contract_number=row.contract_number,
        registry_name=row.registry_name, registered_on=row.registered_on, certified_amount=row.certified_amount,
        recorded_by=row.recorded_by, recorded_at=row.recorded_at,
    )  # fmt: skip


async def _visible_deal(session: AsyncSession, reader: DealReader, caller: Principal, deal_id: uuid.UUID) -> DealFacts:
    facts = await reader.deal_facts(session, deal_id)
    if facts is None or not (caller.is_operator or caller.org_id in (facts.seller_org_id, facts.buyer_org_id)):
        raise NotFound(f"deal {deal_id} not found")
    return facts


async def register_contract(
    session: AsyncSession,
    reader: DealReader,
    caller: Principal,
    deal_id: uuid.UUID,
    data: ContractRegistrationIn,
    now: datetime,
    *,
    today: date,
) -> ContractRegistration:
    """The seller's admin or office records the registration once both parties signed: 404 to whom
    the deal is hidden, 403 to the buyer and to members without the office role, 409 before the
    signatures and once registered, 422 for a registration dated after today."""
    facts = await _visible_deal(session, reader, caller, deal_id)
    if caller.org_id != facts.seller_org_id:
        raise Forbidden("the seller's technology-transfer office registers the deal's contract")
    await require_office(session, caller, caller.org_id, "registers the deal's contract")
    if not facts.signed:
        raise InvalidState(
            "the contract is registered once both parties have signed the deal", state=facts.state, rule="signed-first"
        )
    if data.registered_on > today:
        raise InvalidStepRecord(f"registered_on: the registration is dated after today ({today.isoformat()})",
                                field="registered_on")  # fmt: skip
    existing = await session.scalar(select(ContractRegistration).where(ContractRegistration.deal_id == deal_id))
    if existing is not None:
        raise AlreadyRegistered(f"the contract of deal {deal_id} is registered as {existing.contract_number}")
    row = ContractRegistration(
        deal_id=deal_id,
        org_id=facts.seller_org_id,
        contract_number=data.contract_number.strip(),
        registry_name=data.registry_name.strip(),
        registered_on=data.registered_on,
        certified_amount=data.certified_amount,
        recorded_by=caller.user_id,
        recorded_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def contract_registration(
    session: AsyncSession, reader: DealReader, caller: Principal, deal_id: uuid.UUID
) -> ContractRegistration:
    """Both parties and operators read the registration; 404 before it is recorded."""
    await _visible_deal(session, reader, caller, deal_id)
    row = await session.scalar(select(ContractRegistration).where(ContractRegistration.deal_id == deal_id))
    if row is None:
        raise NotFound(f"the contract of deal {deal_id} is not registered")
    return row
