"""The office's distribution plan for a receipt, its public notice, the extra approval above the
threshold, and the payout as ledger entries (收益分配, its second half). One function = one
transaction's work.

A plan moves ``noticed`` → ``approved`` (its notice closed with no objection pending) → ``paid``;
an objection pending at the end suspends it (``suspended``) until the office resolves it, and an
objection upheld cancels it (``cancelled``: the office proposes a new one). A receipt has at most
one plan that is not cancelled.

The payout is one atomic ledger batch: the inventors' total leaves the rewards held for them
(``org:<id>:inventor_rewards``); when the plan gives them more than was held for the receipt, the
difference first moves there from the institution's cash, and when less, the rest goes back to the
institution's cash. Each inventor's payout goes to ``inventor:<id>:cash``. The institution's parts
stay in its cash: the plan records them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.institutions.config import configuration, holds_office, require_office, tell_of_objection
from exchange.institutions.domain import (
    DistributionPlan as Plan,
)
from exchange.institutions.domain import (
    InvalidDistribution,
    PayeeKind,
    Payout,
    check_plan,
    distribute,
    needs_extra_approval,
    notice_closes_at,
)
from exchange.institutions.income import get_receipt, visible_receipt
from exchange.institutions.inventors import accounts_for
from exchange.institutions.models import Disclosure as DisclosureRow
from exchange.institutions.models import DistributionPlan, IncomeReceipt, InventorAccount, TransferProcess
from exchange.institutions.processes import disclosed_inventors
from exchange.institutions.schemas import ExtraApprovalIn, PayoutOut, PlanIn, PlanOut
from exchange.parties.domain import Principal
from exchange.platform.outbox import Audience, Kind, Subject, notify
from kernel.db import is_postgres
from kernel.errors import InvalidState, NotFound, found
from kernel.time import rfc3339
from ledger import EntrySpec
from ledger import service as ledger
from listings import ListingsContext, NoticeHandler, NoticeKind, open_notice, working_calendar
from listings.domain import Actor
from listings.models import Notice, Objection

SUBJECT = "distribution_plan"
LIVE = ("noticed", "suspended", "approved", "paid")  # the statuses of a receipt's plan in force


class PlanRefused(InvalidState):
    """409 ``invalid-state`` naming the plan's status and the rule: ``one-plan-per-receipt``,
    ``notice-closed-first``, ``extra-approval-above-threshold``, ``paid-once``,
    ``identity-checked``, ``no-payout-above-threshold``, ``plan-ended``."""

    def __init__(self, detail: str, *, state: str, rule: str, **extra: Any) -> None:
        super().__init__(detail, state=state, rule=rule, **extra)


def _key(text: str) -> tuple[str, ...]:
    return tuple(" ".join(text.split()).casefold().split())


# -- reading ----------------------------------------------------------------------------------------


def plan_out(row: DistributionPlan) -> PlanOut:
    payouts = [
        PayoutOut(p["kind"], p["name"], p.get("affiliation", ""),
                  uuid.UUID(p["inventor_account_id"]) if p.get("inventor_account_id") else None, p["amount"])
        for p in row.payouts
    ]  # fmt: skip
    return PlanOut(
        id=row.id,
        receipt_id=row.receipt_id,
        org_id=row.org_id,
        status=row.status,
        amount=row.amount,
        inventor_share_bp=row.inventor_share_bp,
        inventors_total=sum(p.amount for p in payouts if p.kind == PayeeKind.INVENTOR.value),
        payouts=payouts,
        notice_id=row.notice_id,
        extra_approval_needed=row.extra_approval_needed,
        extra_approval=row.extra_approval,
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
        paid_at=row.paid_at,
    )


async def get_plan(session: AsyncSession, plan_id: uuid.UUID, *, lock: bool = False) -> DistributionPlan:
    query = select(DistributionPlan).where(DistributionPlan.id == plan_id)
    if lock and is_postgres(session):
        query = query.with_for_update()
    return found(await session.scalar(query), NotFound(f"distribution plan {plan_id} not found"))


async def visible_plan(session: AsyncSession, caller: Principal, plan_id: uuid.UUID, *, lock: bool = False
                       ) -> DistributionPlan:  # fmt: skip
    plan = await get_plan(session, plan_id, lock=lock)
    if plan.org_id != caller.org_id and not caller.is_operator:
        raise NotFound(f"distribution plan {plan_id} not found")
    return plan


# -- proposing --------------------------------------------------------------------------------------


def _adjusted(default: Plan, data: PlanIn, affiliations: list[str], parts: list[str]) -> Plan:
    """The office's own payouts, in the disclosure's and the settings' order; 422 naming each
    payee that is not a disclosed inventor or a part of the institution, or is named twice, and
    each disclosed inventor left out."""
    errors: list[dict[str, str]] = []
    if data.inventors is None or data.institution is None:
        field = "inventors" if data.inventors is None else "institution"
        errors.append({"field": field, "message": "an adjusted plan gives both the inventors and the institution"})
        raise InvalidDistribution(f"{field}: {errors[0]['message']}", errors=errors)
    by_key = {(_key(p.name), _key(a)): i for i, (p, a) in enumerate(zip(default.inventors, affiliations, strict=True))}
    amounts: dict[int, int] = {}
    for j, given in enumerate(data.inventors):
        index = by_key.get((_key(given.name), _key(given.affiliation)))
        if index is None:
            errors.append({"field": f"inventors.{j}.name",
                           "message": f"{given.name} of {given.affiliation} is not a disclosed inventor"})  # fmt: skip
        elif index in amounts:
            errors.append({"field": f"inventors.{j}.name", "message": f"{given.name} is named twice"})
        else:
            amounts[index] = given.amount
    for index, payout in enumerate(default.inventors):
        if index not in amounts and not any(e["field"].startswith("inventors.") for e in errors):
            errors.append({"field": "inventors", "message": f"the plan names every disclosed inventor: {payout.name}"})
    part_index = {_key(name): i for i, name in enumerate(parts)}
    part_amounts: dict[int, int] = {}
    for j, given in enumerate(data.institution):
        index = part_index.get(_key(given.name))
        if index is None:
            errors.append({"field": f"institution.{j}.name",
                           "message": f"{given.name} is not a part in the institution's settings"})  # fmt: skip
        elif index in part_amounts:
            errors.append({"field": f"institution.{j}.name", "message": f"{given.name} is named twice"})
        else:
            part_amounts[index] = given.amount
    if errors:
        raise InvalidDistribution(f"{errors[0]['field']}: {errors[0]['message']}", errors=errors)
    return Plan(
        amount=default.amount,
        inventor_share_bp=default.inventor_share_bp,
        inventors=tuple(Payout(PayeeKind.INVENTOR, p.name, amounts[i]) for i, p in enumerate(default.inventors)),
        institution=tuple(Payout(PayeeKind.INSTITUTION, n, part_amounts.get(i, 0)) for i, n in enumerate(parts)),
    )


@dataclass(frozen=True)
class DefaultPlan:
    """The plan ``propose`` makes of a receipt with an empty body, and what it is made of."""

    plan: Plan
    inventors: list[Any]  # the disclosure's inventors (name, affiliation, share)
    config: Any  # the institution's configuration (its rules and parts)
    disclosure: DisclosureRow


async def default_plan(
    session: AsyncSession, ctx: ListingsContext, caller: Principal, receipt: IncomeReceipt
) -> DefaultPlan:
    """The default of the rules for a receipt: the declared share to the disclosed inventors by
    their contribution shares, the rest to the institution's parts by weight (the pages show it
    before the office proposes)."""
    config = await configuration(session, receipt.org_id, caller.org_kind,
                                 least_share_bp=ctx.rules.inventor_reward_min_bp)  # fmt: skip
    process = await session.get(TransferProcess, receipt.process_id)
    assert process is not None
    disclosure = await session.get(DisclosureRow, process.disclosure_id)
    assert disclosure is not None
    inventors = disclosed_inventors(disclosure)
    share = config.rules.inventor_share_bp
    plan = distribute(receipt.amount, inventors, share, config.parts, minimum_bp=share)
    return DefaultPlan(plan, list(inventors), config, disclosure)


async def propose(
    session: AsyncSession, ctx: ListingsContext, caller: Principal, receipt_id: uuid.UUID, data: PlanIn, now: datetime
) -> DistributionPlan:
    """The office proposes the plan for a receipt (the default, or its own payouts checked against
    the declared share) and the plan's public notice opens."""
    receipt = await visible_receipt(session, caller, receipt_id)
    await require_office(session, caller, receipt.org_id, "proposes a distribution plan")
    receipt = await get_receipt(session, receipt_id, lock=True)
    live = await session.scalar(
        select(DistributionPlan).where(DistributionPlan.receipt_id == receipt.id, DistributionPlan.status.in_(LIVE))
    )
    if live is not None:
        raise PlanRefused(
            f"the receipt has a plan in force ({live.id}, {live.status}); a new plan follows only a cancelled one",
            state=live.status, rule="one-plan-per-receipt", plan_id=str(live.id),
        )  # fmt: skip
    default = await default_plan(session, ctx, caller, receipt)
    config, disclosure, inventors, plan = default.config, default.disclosure, default.inventors, default.plan
    rules = config.rules
    share = rules.inventor_share_bp
    if data.inventors is not None or data.institution is not None:
        plan = _adjusted(plan, data, [i.affiliation for i in inventors], [p.name for p in config.parts])
    check_plan(plan, declared_bp=share)
    accounts = await accounts_for(session, receipt.org_id, inventors, now)
    above = needs_extra_approval(plan, rules.extra_approval_threshold_fen)
    payouts: list[dict[str, Any]] = [
        {"kind": p.kind.value, "name": a.name, "affiliation": a.affiliation, "inventor_account_id": str(a.id),
         "amount": p.amount}
        for p, a in zip(plan.inventors, accounts, strict=True)
    ] + [
        {"kind": p.kind.value, "name": p.name, "affiliation": "", "inventor_account_id": None, "amount": p.amount}
        for p in plan.institution
    ]  # fmt: skip
    row = DistributionPlan(
        receipt_id=receipt.id, org_id=receipt.org_id, status="noticed", amount=receipt.amount,
        inventor_share_bp=share, payouts=payouts, extra_approval_needed=bool(above), extra_approval=None,
        reason=data.reason.strip(), created_by=caller.user_id, created_at=now, paid_at=None, version=0,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    closes_at = notice_closes_at(
        now, rules.plan_notice_days, rules.plan_notice_unit, await working_calendar(session, ctx.calendar)
    )
    notice = await open_notice(
        session,
        ctx,
        kind=NoticeKind.DISTRIBUTION_PLAN,
        subject_type=SUBJECT,
        subject_id=row.id,
        title=f"收益分配方案公示：{disclosure.title}"[:200],
        body={
            "institution": {"id": str(caller.org_id), "name": caller.org_name},
            "achievement": disclosure.title,
            "amount": receipt.amount,
            "inventor_share_bp": share,
            "payouts": [{k: p[k] for k in ("kind", "name", "affiliation", "amount")} for p in payouts],
        },
        now=now,
        closes_at=closes_at,
    )
    row.notice_id = notice.id
    await session.flush()
    return row


# -- the notice -------------------------------------------------------------------------------------


class DistributionNotices(NoticeHandler):
    """What the end of a ``distribution_plan`` notice means for its plan; the institution's office
    resolves the objections to its own plans (besides the operators)."""

    async def _plan(self, session: AsyncSession, notice: Notice) -> DistributionPlan | None:
        if notice.subject_type != SUBJECT:
            return None
        plan = await session.get(DistributionPlan, notice.subject_id)
        if plan is None or plan.status not in ("noticed", "suspended") or plan.notice_id != notice.id:
            return None
        return plan

    async def on_closed(self, session: AsyncSession, notice: Notice, now: datetime) -> None:
        plan = await self._plan(session, notice)
        if plan is not None:
            plan.status, plan.version = "approved", plan.version + 1

    async def on_suspended(self, session: AsyncSession, notice: Notice, now: datetime) -> None:
        plan = await self._plan(session, notice)
        if plan is not None:
            plan.status, plan.version = "suspended", plan.version + 1

    async def on_upheld(self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime) -> None:
        plan = await self._plan(session, notice)
        if plan is not None:
            plan.status, plan.version = "cancelled", plan.version + 1
            plan.reason = f"objection upheld: {objection.resolution_note or objection.reason}"[:2000]

    async def on_objection_filed(
        self, session: AsyncSession, notice: Notice, objection: Objection, now: datetime
    ) -> None:
        """As on the transfer notice: the office (and the operators) told, the objector hears it was filed."""
        if notice.subject_type != SUBJECT:
            return
        plan = await session.get(DistributionPlan, notice.subject_id)
        if plan is not None:
            await tell_of_objection(session, plan.org_id, notice, objection, now, plan_id=str(plan.id))

    def answering_side(self, org_id: uuid.UUID) -> ColumnElement[bool]:
        """The institution answers the objections to its own plans (as to its transfer notices)."""
        return _plans_of(org_id)

    def resolving_side(self, actor: Actor) -> ColumnElement[bool] | None:
        return and_(_plans_of(actor.org_id), holds_office(actor.org_id, actor.user_id, is_admin=actor.is_admin))


def _plans_of(org_id: uuid.UUID) -> ColumnElement[bool]:
    return and_(
        Notice.subject_type == SUBJECT,
        Notice.subject_id.in_(select(DistributionPlan.id).where(DistributionPlan.org_id == org_id)),
    )


# -- extra approval and payout ---------------------------------------------------------------------


async def approve_extra(
    session: AsyncSession, caller: Principal, plan_id: uuid.UUID, data: ExtraApprovalIn, now: datetime
) -> DistributionPlan:
    """The minutes of the higher meeting that approved a plan paying someone above the threshold."""
    plan = await visible_plan(session, caller, plan_id, lock=True)
    await require_office(session, caller, plan.org_id, "acts on a distribution plan")
    if plan.status not in ("noticed", "suspended", "approved"):
        raise PlanRefused(f"the plan is {plan.status}", state=plan.status, rule="plan-ended")
    if not plan.extra_approval_needed:
        raise PlanRefused("no payout of this plan is above the threshold: it needs no extra approval",
                          state=plan.status, rule="no-payout-above-threshold")  # fmt: skip
    plan.extra_approval = {"minutes": data.minutes.strip(), "by": str(caller.user_id),
                           "by_name": caller.display_name, "at": now.isoformat()}  # fmt: skip
    plan.version += 1
    await session.flush()
    return plan


CASH, REWARDS = "cash", "rewards"  # the institution's two accounts in a payout's moves


@dataclass(frozen=True)
class Move:
    """One ledger entry of a payout: ``debit`` → ``credit`` (``CASH``, ``REWARDS`` or an inventor
    account's id)."""

    debit: str
    credit: str
    amount: int
    kind: str
    description: str


def payout_moves(held: int, inventors: Sequence[tuple[str, str, int]]) -> list[Move]:
    """The entries that pay ``inventors`` (account id, name, fen) from the ``held`` reward of one
    receipt, in order: a top-up from the institution's cash when they get more than was held, one
    entry per inventor paid, the rest back to the cash when they get less. Net: each inventor gets
    their payout, the rewards account gives up exactly ``held``, the cash ``total - held``."""
    total = sum(amount for _, _, amount in inventors)
    moves: list[Move] = []
    if total > held:
        text = "the institution's cash adds what the plan gives its inventors above the reward held"
        moves.append(Move(CASH, REWARDS, total - held, "inventor_reward_topup", text))
    moves += [
        Move(REWARDS, account, amount, "inventor_distribution", f"income distributed to {name}")
        for account, name, amount in inventors
        if amount > 0
    ]
    if total < held:
        moves.append(Move(REWARDS, CASH, held - total, "inventor_reward_return",
                          "the reward held above the inventors' payouts goes back to the institution"))  # fmt: skip
    return moves


def _transfer(debit: uuid.UUID, credit: uuid.UUID, amount: int, kind: str, text: str, plan: DistributionPlan
              ) -> EntrySpec:  # fmt: skip
    return EntrySpec.transfer(
        debit, credit, amount, unit=chart.CNY, kind=kind, description=text,
        metadata={"plan_id": str(plan.id), "receipt_id": str(plan.receipt_id)},
    )  # fmt: skip


async def pay(session: AsyncSession, caller: Principal, plan_id: uuid.UUID, now: datetime) -> DistributionPlan:
    """The office pays an approved plan: one atomic ledger batch, exact to the fen."""
    plan = await visible_plan(session, caller, plan_id, lock=True)
    await require_office(session, caller, plan.org_id, "acts on a distribution plan")
    if plan.status == "paid":
        raise PlanRefused("the plan is paid already; a plan is paid once", state="paid", rule="paid-once")
    if plan.status != "approved":
        raise PlanRefused(
            f"the plan is {plan.status}: it is paid once its public notice has closed with no objection pending",
            state=plan.status, rule="notice-closed-first",
        )  # fmt: skip
    if plan.extra_approval_needed and not plan.extra_approval:
        raise PlanRefused(
            "a payout is above the threshold: record the higher meeting's approval first (POST …/extra-approval)",
            state=plan.status, rule="extra-approval-above-threshold",
        )  # fmt: skip
    inventors = [(i, p) for i, p in enumerate(plan.payouts) if p["kind"] == PayeeKind.INVENTOR.value]
    linked: list[tuple[InventorAccount, int]] = []  # the inventors who are members, told of their payout
    for i, payout in inventors:
        account = await session.get(InventorAccount, uuid.UUID(payout["inventor_account_id"]))
        if account is not None and account.user_id is not None and payout["amount"] > 0:
            linked.append((account, payout["amount"]))
        if account is None or account.identity_checked_at is None:
            raise PlanRefused(
                f"{payout['name']}'s identity is not checked: the office checks it before paying "
                f"(POST /inventor-accounts/{payout['inventor_account_id']}/identity-check)",
                state=plan.status, rule="identity-checked", field=f"payouts.{i}",
                inventor=payout["name"], inventor_account_id=payout["inventor_account_id"],
            )  # fmt: skip
    receipt = await session.get(IncomeReceipt, plan.receipt_id)
    assert receipt is not None
    accounts = {
        CASH: await chart.open_account(session, chart.org_cash(plan.org_id), now),
        REWARDS: await chart.open_account(session, chart.org_inventor_rewards(plan.org_id), now),
    }
    for _, payout in inventors:
        if payout["amount"] > 0:
            spec = chart.inventor_cash(payout["inventor_account_id"])
            accounts[payout["inventor_account_id"]] = await chart.open_account(session, spec, now)
    planned = payout_moves(
        receipt.reward_held, [(p["inventor_account_id"], p["name"], p["amount"]) for _, p in inventors]
    )
    batch = [
        _transfer(accounts[m.debit].id, accounts[m.credit].id, m.amount, m.kind, m.description, plan) for m in planned
    ]
    if batch:
        await ledger.post_batch(session, batch, now=now, atomic=True)
    plan.status, plan.paid_at, plan.version = "paid", now, plan.version + 1
    await session.flush()
    for account, amount in linked:
        assert account.user_id is not None
        notify(
            session, Kind.INVENTOR_PAID, to=Audience(users=(account.user_id,)), now=now,
            subject=Subject("inventor_account", account.id),
            data={
                "amount_fen": amount, "inventor": account.name, "inventor_account_id": str(account.id),
                "plan_id": str(plan.id), "receipt_id": str(plan.receipt_id), "deal_id": str(receipt.deal_id),
                "paid_at": rfc3339(now),
            },
        )  # fmt: skip
    return plan
