"""Programs, their funding, grants and declared related parties. Each function is one transaction's
work: it takes the caller's session and moves the ledger in it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.parties.domain import OrgKind, OrgStatus, Principal
from exchange.parties.models import Org
from exchange.platform.outbox import Audience, Kind, Subject, notify
from exchange.vouchers.domain import BP, Category, ProgramRules, VoucherRuleBroken
from exchange.vouchers.models import ProviderRevocation, RelatedParty, VoucherGrant, VoucherProgram, VoucherWallet
from exchange.vouchers.schemas import ProgramOut
from kernel.errors import DomainError, Forbidden, NotFound, OrgNotVerified, OrgSuspended, found
from kernel.shapes import shaped
from kernel.time import rfc3339


class InvalidProgram(VoucherRuleBroken):
    problem_type = "invalid-program"
    title = "The program's terms are not consistent"


class NotAnEnterprise(VoucherRuleBroken):
    problem_type = "not-an-enterprise"
    title = "Vouchers are granted to enterprises"


@dataclass(frozen=True)
class ProgramTerms:
    name: str
    year: int
    budget: int
    categories: tuple[Category, ...]
    valid_from: datetime
    valid_until: datetime
    per_org_cap: int
    coverage_bp: int
    min_provider_grade: str | None = None  # a credit grade (exchange.credit.Grade); None: any provider


def rules_of(program: VoucherProgram) -> ProgramRules:
    return shaped(ProgramRules, program)


async def get_program(
    session: AsyncSession, program_id: uuid.UUID, *, lock: bool = False, share: bool = False
) -> VoucherProgram:
    """``lock`` for changes to the program (grants, funding, revocation, redemption); ``share`` for
    uses of its vouchers that must not interleave with a revocation (confirmations, claims)."""
    query = select(VoucherProgram).where(VoucherProgram.id == program_id)
    if lock or share:
        query = query.with_for_update(read=not lock)
    return found(await session.scalar(query), NotFound(f"voucher program {program_id} not found"))


def program_out(program: VoucherProgram, now: datetime) -> ProgramOut:
    """A program as the API and the pages show it, with its status at ``now``."""
    return shaped(ProgramOut, program, status=rules_of(program).status(now))


async def list_programs(
    session: AsyncSession, *, limit: int, after: uuid.UUID | None, owner_org_id: uuid.UUID | None = None
) -> list[VoucherProgram]:
    """Programs, newest first; ``after`` continues below the last one a page showed; ``owner_org_id``
    keeps the programs of one government organisation (its administrators' workspace)."""
    query = select(VoucherProgram).order_by(VoucherProgram.id.desc()).limit(limit)
    if after is not None:
        query = query.where(VoucherProgram.id < after)
    if owner_org_id is not None:
        query = query.where(VoucherProgram.owner_org_id == owner_org_id)
    return list((await session.scalars(query)).all())


async def wallets_of(session: AsyncSession, org_id: uuid.UUID) -> list[tuple[VoucherWallet, VoucherProgram]]:
    """An enterprise's vouchers, program by program, the soonest to expire first (the order in which
    ``orders.place_order`` draws on them when the enterprise names no program)."""
    rows = await session.execute(
        select(VoucherWallet, VoucherProgram)
        .join(VoucherProgram, VoucherProgram.id == VoucherWallet.program_id)
        .where(VoucherWallet.org_id == org_id)
        .order_by(VoucherProgram.valid_until, VoucherProgram.id)
    )
    return [(wallet, program) for wallet, program in rows]


def require_program_admin(caller: Principal, program: VoucherProgram) -> None:
    """The program's administrators: admins of the government organisation that owns it."""
    caller.require_active_verified()
    if caller.org_id != program.owner_org_id:
        raise Forbidden("only the program's own government organisation may do this")
    caller.require_admin()


async def create_program(
    session: AsyncSession, caller: Principal, terms: ProgramTerms, now: datetime
) -> VoucherProgram:
    caller.require_active_verified()
    caller.require_kind(OrgKind.GOVERNMENT)
    caller.require_admin()
    if terms.valid_until <= terms.valid_from:
        raise InvalidProgram("valid_until must be after valid_from", field="valid_until")
    if terms.per_org_cap > terms.budget:
        raise InvalidProgram("the per-enterprise cap may not exceed the budget", field="per_org_cap")
    if not 0 < terms.coverage_bp <= BP:
        raise InvalidProgram("coverage_bp is between 1 and 10000", field="coverage_bp")
    if not terms.categories:
        raise InvalidProgram("a program covers at least one category", field="categories")
    counters = dict.fromkeys(("funded", "issued", "spent", "redeemed", "expired", "revoked"), 0)
    program = shaped(
        VoucherProgram,
        terms,
        owner_org_id=caller.org_id,
        categories=sorted({c.value for c in terms.categories}),
        **counters,
        created_by=caller.user_id,
        created_at=now,
    )
    session.add(program)
    await session.flush()
    # The program's accounts exist from the start, so that reports and audits find them.
    await chart.open_account(session, chart.program_funding(program.id), now)
    await chart.open_account(session, chart.program_issuance(program.id), now)
    return program


async def fund(
    session: AsyncSession, operator: Principal, program_id: uuid.UUID, amount: int, bank_reference: str, now: datetime
) -> VoucherProgram:
    """An operator records cash received for the program: ``bank:settlement → program:<id>:funding``."""
    operator.require_operator()
    program = await get_program(session, program_id, lock=True)
    received = (chart.BANK_SETTLEMENT, chart.program_funding(program.id))
    why = f"funding of voucher program {program.name}"[:500]
    meta, ref = {"program_id": str(program.id)}, bank_reference or None
    await chart.move(
        session,
        *received,
        amount,
        kind="voucher_program_funding",
        now=now,
        description=why,
        metadata=meta,
        external_ref=ref,
    )
    program.funded += amount
    return program


async def wallet_for_update(session: AsyncSession, program_id: uuid.UUID, org_id: uuid.UUID) -> VoucherWallet:
    wallet = await session.scalar(
        select(VoucherWallet)
        .where(VoucherWallet.program_id == program_id, VoucherWallet.org_id == org_id)
        .with_for_update()
    )
    if wallet is None:
        wallet = VoucherWallet(program_id=program_id, org_id=org_id, granted=0, held=0, spent=0, expired=0)
        session.add(wallet)
        await session.flush()
    return wallet


async def grant(
    session: AsyncSession,
    caller: Principal,
    program_id: uuid.UUID,
    org_id: uuid.UUID,
    amount: int,
    note: str,
    now: datetime,
) -> VoucherGrant:
    # The program row is locked first: grants of one program queue, so cap and budget hold.
    program = await get_program(session, program_id, lock=True)
    require_program_admin(caller, program)
    if now >= program.valid_until:
        rules_of(program).require_active(now)
    org = await session.get(Org, org_id)
    if org is None:
        raise NotFound(f"organisation {org_id} not found", field="org_id")
    if org.kind != OrgKind.ENTERPRISE.value:
        raise NotAnEnterprise(f"organisation {org_id} is a {org.kind}, not an enterprise", field="org_id")
    if not org.verified:
        raise OrgNotVerified(f"organisation {org_id} has not been verified by an operator")
    if org.status != OrgStatus.ACTIVE.value:
        raise OrgSuspended(f"organisation {org_id} is suspended")
    wallet = await wallet_for_update(session, program.id, org_id)
    rules_of(program).check_grant(amount, granted_to_org=wallet.granted, granted_total=program.issued)
    granted = (chart.program_issuance(program.id), chart.org_vouchers(org_id))
    why = f"vouchers of program {program.name}"[:500]
    meta = {"program_id": str(program.id), "org_id": str(org_id)}
    entry = await chart.move(session, *granted, amount, kind="voucher_grant", now=now, description=why, metadata=meta)
    wallet.granted += amount
    program.issued += amount
    record = VoucherGrant(
        program_id=program.id,
        org_id=org_id,
        amount=amount,
        entry_id=entry.id,
        granted_by=caller.user_id,
        note=note,
        created_at=now,
    )
    session.add(record)
    await session.flush()
    data = {
        "program_id": str(program.id),
        "program_name": program.name,
        "grant_id": str(record.id),
        "amount_fen": amount,
        "expires_at": rfc3339(program.valid_until),
    }
    to = Audience.of_orgs(org_id)
    notify(session, Kind.VOUCHER_GRANTED, to=to, now=now, subject=Subject("voucher_program", program.id), data=data)
    return record


async def org_names(session: AsyncSession, org_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names of these organisations (one statement), so that pages and reports name them."""
    if not org_ids:
        return {}
    rows = await session.execute(select(Org.id, Org.name).where(Org.id.in_(org_ids)))
    return {org_id: name for org_id, name in rows}


async def grants_of(session: AsyncSession, program_id: uuid.UUID, *, limit: int = 100) -> list[VoucherGrant]:
    """The program's latest grants, newest first."""
    query = (
        select(VoucherGrant)
        .where(VoucherGrant.program_id == program_id)
        .order_by(VoucherGrant.created_at.desc(), VoucherGrant.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def programs_named(session: AsyncSession, program_ids: set[uuid.UUID]) -> list[VoucherProgram]:
    if not program_ids:
        return []
    return list((await session.scalars(select(VoucherProgram).where(VoucherProgram.id.in_(program_ids)))).all())


async def revocations_of(session: AsyncSession, program_id: uuid.UUID) -> list[ProviderRevocation]:
    """The providers this program revoked (its part of the credit records), newest first."""
    query = (
        select(ProviderRevocation)
        .where(ProviderRevocation.program_id == program_id)
        .order_by(ProviderRevocation.created_at.desc())
    )
    return list((await session.scalars(query)).all())


# -- related parties ---------------------------------------------------------------------------------


def _pair(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    return (a, b) if str(a) < str(b) else (b, a)


async def declare_related(
    session: AsyncSession, caller: Principal, other_org_id: uuid.UUID, note: str, now: datetime
) -> RelatedParty:
    """The caller's organisation declares itself related to another (either side may declare)."""
    caller.require_active_verified()
    if other_org_id == caller.org_id:
        raise VoucherRuleBroken("an organisation is always related to itself", field="org_id")
    if await session.get(Org, other_org_id) is None:
        raise NotFound(f"organisation {other_org_id} not found", field="org_id")
    org_a, org_b = _pair(caller.org_id, other_org_id)
    existing = await session.scalar(
        select(RelatedParty).where(RelatedParty.org_a == org_a, RelatedParty.org_b == org_b)
    )
    if existing is not None:
        return existing
    relation = RelatedParty(org_a=org_a, org_b=org_b, declared_by=caller.user_id, note=note, created_at=now)
    session.add(relation)
    await session.flush()
    return relation


async def are_related(session: AsyncSession, a: uuid.UUID, b: uuid.UUID) -> bool:
    org_a, org_b = _pair(a, b)
    return (
        await session.scalar(select(RelatedParty.id).where(RelatedParty.org_a == org_a, RelatedParty.org_b == org_b))
        is not None
    )


async def move_wallet(
    session: AsyncSession,
    program_id: uuid.UUID,
    org_id: uuid.UUID,
    *,
    held: int = 0,
    spent: int = 0,
    expired: int = 0,
) -> bool:
    """Change a wallet's counters if it stays within what was granted; False when it would not."""
    result = await session.execute(
        update(VoucherWallet)
        .where(
            VoucherWallet.program_id == program_id,
            VoucherWallet.org_id == org_id,
            VoucherWallet.held + held >= 0,
            VoucherWallet.granted - VoucherWallet.held - VoucherWallet.spent - VoucherWallet.expired
            >= held + spent + expired,
        )
        .values(
            held=VoucherWallet.held + held,
            spent=VoucherWallet.spent + spent,
            expired=VoucherWallet.expired + expired,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def check_positive(amount: int, field: str) -> None:
    if amount <= 0:
        raise DomainError(f"{field} must be a positive number of fen", field=field)
