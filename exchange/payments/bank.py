"""The bank-transfer provider: incoming transfers recorded by operators, withdrawals paid by bank.

Each function runs inside the caller's transaction: the payment's row and its ledger entry are
written together or not at all.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.parties.domain import Principal
from exchange.parties.models import Org
from exchange.payments.domain import (
    WITHDRAWALS,
    DuplicateBankReference,
    InvalidPayee,
    Provider,
    UnknownOrg,
    WithdrawalAction,
    WithdrawalNotFound,
    check_amount,
    check_reference,
    china_day,
    day_start,
    next_withdrawal_state,
)
from exchange.payments.models import BankTransfer, Booking, Withdrawal
from exchange.payments.payers import Payer, Payers
from exchange.payments.schemas import WithdrawalOut
from exchange.platform.outbox import OPERATORS, Audience, Kind, Subject, notify
from exchange.platform.tables import new_id
from kernel.errors import NotFound, found
from kernel.pagination import by_id, cursor_str, cursor_uuid, decode_cursor, id_after, keyset_page
from kernel.shapes import shaped
from kernel.time import rfc3339
from ledger import service as ledger
from ledger.errors import IdempotencyKeyReused


async def require_org(session: AsyncSession, org_id: UUID) -> Org:
    return found(await session.get(Org, org_id), UnknownOrg(f"organisation {org_id} does not exist", field="org_id"))


async def record_transfer(
    session: AsyncSession,
    *,
    org_id: UUID,
    amount: int,
    reference: str,
    received_on: date | None,
    note: str,
    operator_id: UUID,
    now: datetime,
    payer_account: str = "",
    payer_name: str = "",
) -> BankTransfer:
    """Credit an incoming transfer to the organisation's wallet: ``bank:settlement → org:<id>:cash``."""
    check_amount(amount)
    reference = check_reference(reference)
    await require_org(session, org_id)
    taken = await session.scalar(select(BankTransfer.id).where(BankTransfer.reference == reference))
    if taken is not None:
        raise DuplicateBankReference(
            f"bank reference {reference!r} was recorded as transfer {taken}", field="reference", transfer_id=str(taken)
        )
    received_on = received_on or china_day(now)
    transfer_id = new_id()
    credited = (chart.clearing(Provider.BANK_TRANSFER), chart.org_cash(org_id))
    meta = {"transfer_id": str(transfer_id), "org_id": str(org_id)}
    try:
        # The reference is a key of the ledger too: of two concurrent duplicates only one posts.
        key = f"payments:bank-transfer:{reference}"
        details = {"description": f"bank transfer {reference}", "external_ref": reference, "idempotency_key": key}
        entry = await chart.move(session, *credited, amount, kind="bank_transfer", now=now, metadata=meta, **details)
    except IdempotencyKeyReused:
        raise DuplicateBankReference(
            f"bank reference {reference!r} has already been recorded", field="reference"
        ) from None
    if entry.replayed:
        raise DuplicateBankReference(f"bank reference {reference!r} has already been recorded", field="reference")
    transfer = BankTransfer(
        id=transfer_id,
        org_id=org_id,
        amount=amount,
        reference=reference,
        received_on=received_on,
        note=note,
        entry_id=entry.id,
        recorded_by=operator_id,
        created_at=now,
        payer_account=payer_account_key(payer_account),
        payer_name=payer_name.strip(),
    )
    session.add(transfer)
    await _book(session, entry.id, reference, received_on)
    return transfer


def payer_account_key(account: str) -> str:
    """An account number as compared: without the spaces and dashes statements group digits with."""
    return "".join(c for c in account if c not in " -").upper()


async def payer_accounts(
    session: AsyncSession, org_id: UUID, *, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """The accounts the organisation's recorded transfers were paid from, by account and name: how
    many transfers and the first and last value dates. Transfers recorded without a payer are left out."""
    found(await session.get(Org, org_id), NotFound(f"organisation {org_id} not found"))
    query = (
        select(
            BankTransfer.payer_account,
            BankTransfer.payer_name,
            func.count().label("transfers"),
            func.min(BankTransfer.received_on).label("first_received_on"),
            func.max(BankTransfer.received_on).label("last_received_on"),
        )
        .where(BankTransfer.org_id == org_id, (BankTransfer.payer_account != "") | (BankTransfer.payer_name != ""))
        .group_by(BankTransfer.payer_account, BankTransfer.payer_name)
        .order_by(BankTransfer.payer_account, BankTransfer.payer_name)
        .limit(limit + 1)
    )
    position = decode_cursor(cursor, "account", "name")
    if position is not None:
        account, name = cursor_str(position, "account"), cursor_str(position, "name")
        query = query.where(
            (BankTransfer.payer_account > account)
            | ((BankTransfer.payer_account == account) & (BankTransfer.payer_name > name))
        )
    rows = (await session.execute(query)).all()
    return keyset_page(rows, limit, lambda r: {"account": r.payer_account, "name": r.payer_name})


async def orgs_paying_from(
    session: AsyncSession, account: str, *, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """Who paid from ``account`` (compared without spaces and dashes): each organisation and payer
    name its recorded transfers give, with how many and the first and last value dates."""
    query = (
        select(
            BankTransfer.org_id,
            Org.name.label("org_name"),
            BankTransfer.payer_account,
            BankTransfer.payer_name,
            func.count().label("transfers"),
            func.min(BankTransfer.received_on).label("first_received_on"),
            func.max(BankTransfer.received_on).label("last_received_on"),
        )
        .join(Org, Org.id == BankTransfer.org_id)
        .where(BankTransfer.payer_account == payer_account_key(account))
        .group_by(BankTransfer.org_id, Org.name, BankTransfer.payer_account, BankTransfer.payer_name)
        .order_by(BankTransfer.org_id, BankTransfer.payer_name)
        .limit(limit + 1)
    )
    position = decode_cursor(cursor, "org", "name")
    if position is not None:
        org, name = cursor_uuid(position, "org"), cursor_str(position, "name")
        query = query.where(
            (BankTransfer.org_id > org) | ((BankTransfer.org_id == org) & (BankTransfer.payer_name > name))
        )
    rows = (await session.execute(query)).all()
    return keyset_page(rows, limit, lambda r: {"org": str(r.org_id), "name": r.payer_name})


async def _book(session: AsyncSession, entry_id: UUID, reference: str, day: date) -> None:
    """What the bank's statement will show for an entry: its reference and value date (reconciliation)."""
    value_at = day_start(day)
    session.add(Booking(entry_id=entry_id, provider=Provider.BANK_TRANSFER, reference=reference, value_at=value_at))
    await session.flush()


async def request_withdrawal(
    session: AsyncSession,
    *,
    org_id: UUID,
    amount: int,
    payee: str,
    user_id: UUID,
    now: datetime,
    payer: Payer | None = None,
) -> Withdrawal:
    """Hold ``amount`` on the payer account until an operator pays it: the organisation's wallet
    (``org:<id>:cash → bank:settlement``, pending), or ``payer``'s own account (an inventor's), which
    its organisation answers for and whose withdrawals go to the bank account on its record."""
    check_amount(amount)
    payee = payee.strip()
    if payer is not None:
        org_id, source = payer.org_id, payer.account
        if payee and payee != payer.payee:
            raise InvalidPayee(
                "this account's withdrawals are paid to the bank account its organisation checked; leave payee out",
                field="payee",
            )
        payee = payer.payee
    else:
        source = chart.org_cash(org_id)
    if not payee or len(payee) > 500:
        raise InvalidPayee("name the bank, the account number and the account's name (up to 500 characters)")
    withdrawal_id = new_id()
    paid_out = (source, chart.clearing(Provider.BANK_TRANSFER))
    meta = {"withdrawal_id": str(withdrawal_id), "org_id": str(org_id)}
    if payer is not None:
        meta["payer"] = payer.ref
    details = {"description": "withdrawal by bank transfer", "external_ref": f"withdrawal:{withdrawal_id}"}
    hold = await chart.move(
        session, *paid_out, amount, kind="withdrawal", now=now, pending=True, metadata=meta, **details
    )
    withdrawal = Withdrawal(
        id=withdrawal_id,
        org_id=org_id,
        amount=amount,
        status=WITHDRAWALS.initial.value,
        payee=payee,
        hold_entry_id=hold.id,
        reason="",
        requested_by=user_id,
        created_at=now,
        payer=None if payer is None else payer.ref,
    )
    session.add(withdrawal)
    await session.flush()
    notify(
        session, Kind.WITHDRAWALS_WAITING, to=OPERATORS, now=now, subject=_subject(withdrawal), data=_about(withdrawal)
    )
    return withdrawal


def _told(withdrawal: Withdrawal) -> Audience:
    """Who hears that it was paid or rejected: the organisation's members for its wallet; for
    another payer account, whoever asked for it and the organisation's admins."""
    if withdrawal.payer is None:
        return Audience.of_orgs(withdrawal.org_id)
    return Audience(users=(withdrawal.requested_by,), orgs=(withdrawal.org_id,), admins_only=True)


def _subject(withdrawal: Withdrawal) -> Subject:
    return Subject("withdrawal", withdrawal.id)


def _about(withdrawal: Withdrawal) -> dict[str, Any]:
    return {
        "withdrawal_id": str(withdrawal.id),
        "org_id": str(withdrawal.org_id),
        "amount_fen": withdrawal.amount,
        "payee": withdrawal.payee,
        "payer": withdrawal.payer,
        "requested_at": rfc3339(withdrawal.created_at),
    }


async def _decide(session: AsyncSession, withdrawal_id: UUID, action: WithdrawalAction) -> tuple[Withdrawal, str]:
    """The withdrawal, locked, and its status after ``action``; 409 ``withdrawal-decided`` once it is decided."""
    withdrawal = await session.scalar(select(Withdrawal).where(Withdrawal.id == withdrawal_id).with_for_update())
    if withdrawal is None:
        raise WithdrawalNotFound(f"withdrawal {withdrawal_id} does not exist")
    decided = f"withdrawal {withdrawal_id} is already {withdrawal.status}"
    return withdrawal, next_withdrawal_state(withdrawal.status, action, detail=decided).value


async def complete_withdrawal(
    session: AsyncSession,
    withdrawal_id: UUID,
    *,
    bank_reference: str,
    paid_on: date | None,
    operator_id: UUID,
    now: datetime,
) -> Withdrawal:
    """The bank paid it: post the hold to ``bank:settlement`` under the bank's reference."""
    bank_reference = check_reference(bank_reference, "bank_reference")
    withdrawal, status = await _decide(session, withdrawal_id, WithdrawalAction.COMPLETE)
    taken = await session.scalar(select(Withdrawal.id).where(Withdrawal.bank_reference == bank_reference))
    if taken is not None:
        raise DuplicateBankReference(
            f"bank reference {bank_reference!r} was used for withdrawal {taken}", field="bank_reference"
        )
    paid_on = paid_on or china_day(now)
    posted = await ledger.post_hold(
        session, withdrawal.hold_entry_id, now=now, description=f"withdrawal paid, bank reference {bank_reference}"
    )
    withdrawal.status = status
    withdrawal.entry_id = posted.id
    withdrawal.bank_reference = bank_reference
    withdrawal.paid_on = paid_on
    withdrawal.decided_by = operator_id
    withdrawal.decided_at = now
    await _book(session, posted.id, bank_reference, paid_on)
    data = {**_about(withdrawal), "bank_reference": bank_reference, "paid_on": paid_on.isoformat()}
    to = _told(withdrawal)
    notify(session, Kind.WITHDRAWAL_PAID, to=to, now=now, subject=_subject(withdrawal), data=data)
    return withdrawal


async def reject_withdrawal(
    session: AsyncSession, withdrawal_id: UUID, *, reason: str, operator_id: UUID, now: datetime
) -> Withdrawal:
    """Not paid: void the hold, the money is available on the wallet again."""
    withdrawal, status = await _decide(session, withdrawal_id, WithdrawalAction.REJECT)
    voided = await ledger.void_hold(
        session, withdrawal.hold_entry_id, now=now, description=f"withdrawal rejected: {reason}"[:500]
    )
    withdrawal.status = status
    withdrawal.entry_id = voided.id
    withdrawal.reason = reason
    withdrawal.decided_by = operator_id
    withdrawal.decided_at = now
    await session.flush()
    to = _told(withdrawal)
    data = {**_about(withdrawal), "reason": reason}
    notify(session, Kind.WITHDRAWAL_REJECTED, to=to, now=now, subject=_subject(withdrawal), data=data)
    return withdrawal


async def get_withdrawal(session: AsyncSession, withdrawal_id: UUID) -> Withdrawal:
    return found(
        await session.get(Withdrawal, withdrawal_id), WithdrawalNotFound(f"withdrawal {withdrawal_id} does not exist")
    )


async def list_withdrawals(
    session: AsyncSession,
    *,
    org_id: UUID | None,
    status: str | None,
    limit: int,
    cursor: str | None,
    payer: str | None = None,
) -> tuple[list[Withdrawal], str | None]:
    """A page of withdrawals, newest first: one organisation's from its wallet (or all, for
    ``org_id`` None), or one payer account's (``payer``, ``inventor:<id>``)."""
    query = select(Withdrawal).order_by(Withdrawal.id.desc()).limit(limit + 1)
    if payer is not None:
        query = query.where(Withdrawal.payer == payer)
    elif org_id is not None:
        query = query.where(Withdrawal.org_id == org_id, Withdrawal.payer.is_(None))
    if status:
        query = query.where(Withdrawal.status == status)
    if (after := id_after(cursor)) is not None:
        query = query.where(Withdrawal.id < after)
    return keyset_page((await session.scalars(query)).all(), limit, by_id)


class PayerWithdrawals:
    """Withdrawals from the payer accounts of ``payers`` for a host module's own pages (the
    institutions' inventor page): the same request and the same list as ``/withdrawals``."""

    def __init__(self, payers: Payers) -> None:
        self.payers = payers

    async def request(
        self, session: AsyncSession, caller: Principal, payer: str, amount: int, now: datetime
    ) -> WithdrawalOut:
        drawn = await self.payers.resolve(session, caller, payer, draw=True)
        withdrawal = await request_withdrawal(
            session, org_id=drawn.org_id, amount=amount, payee="", user_id=caller.user_id, now=now, payer=drawn
        )
        return shaped(WithdrawalOut, withdrawal)

    async def of_payer(self, session: AsyncSession, payer: str, limit: int) -> list[Withdrawal]:
        rows, _ = await list_withdrawals(session, org_id=None, status=None, limit=limit, cursor=None, payer=payer)
        return rows
