"""The inventor's own page (``/workspace/inventor``, 我的成果收益): a member the office linked to an
inventor account sees its balance, each payout with its plan, deal and date, the withdrawals with
their states, and asks for a withdrawal to the bank account on record.

The withdrawal is payments' (``POST /withdrawals`` with ``payer: inventor:<id>``), reached through
``InstitutionsContext.withdrawals`` which the composition root wires; the form's key makes a form
sent twice one withdrawal, as on the wallet page. A member who is not linked to any inventor
account is told so in Chinese.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Response, Template
from msgspec import Struct
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions import inventors
from exchange.institutions.contracts import InstitutionsContext
from exchange.institutions.models import DistributionPlan, IncomeReceipt, InventorAccount
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from exchange.platform.keyed import keyed
from exchange.web.formats import fen_of_yuan
from kernel.errors import InvalidState
from kernel.page_actions import is_htmx

Institutions = NamedDependency[InstitutionsContext]
WITHDRAWALS_SHOWN = 20


async def linked_accounts(session: AsyncSession, caller: Principal) -> list[InventorAccount]:
    """The inventor accounts the office linked to the caller, in their institution."""
    rows = await session.scalars(
        select(InventorAccount)
        .where(InventorAccount.user_id == caller.user_id, InventorAccount.org_id == caller.org_id)
        .order_by(InventorAccount.id)
    )
    return list(rows.all())


async def payouts_of(session: AsyncSession, account: InventorAccount) -> list[dict[str, Any]]:
    """Each paid plan's payout to the account, newest first: the plan, its receipt's deal, the date."""
    rows = await session.execute(
        select(DistributionPlan, IncomeReceipt)
        .join(IncomeReceipt, IncomeReceipt.id == DistributionPlan.receipt_id)
        .where(DistributionPlan.org_id == account.org_id, DistributionPlan.status == "paid")
        .order_by(DistributionPlan.paid_at.desc())
    )
    out = []
    for plan, receipt in rows.all():
        for payout in plan.payouts:
            if payout.get("inventor_account_id") == str(account.id):
                out.append(
                    {
                        "plan_id": plan.id,
                        "deal_id": receipt.deal_id,
                        "paid_at": plan.paid_at,
                        "amount": payout["amount"],
                    }
                )
    return out


async def _context(
    session: AsyncSession, caller: Principal, context: InstitutionsContext, chosen: uuid.UUID | None
) -> dict[str, Any]:
    accounts = await linked_accounts(session, caller)
    values: dict[str, Any] = {
        "section": "workspace",
        "workspace_tab": "inventor",
        "accounts": accounts,
        "account": None,
    }
    if not accounts:
        return values
    account = next((a for a in accounts if a.id == chosen), accounts[0])
    withdrawals = []
    if context.withdrawals is not None:
        withdrawals = await context.withdrawals.of_payer(session, inventors.payer_ref(account.id), WITHDRAWALS_SHOWN)
    return {
        **values,
        "account": await inventors.account_out(session, account),
        "payouts": await payouts_of(session, account),
        "withdrawals": withdrawals,
        "form_key": uuid.uuid4().hex,
    }


@get("/workspace/inventor", include_in_schema=False, name="workspace-inventor")
async def inventor_page(
    user: Caller, db: Db, institutions: Institutions, account: FromQuery[uuid.UUID | None] = None
) -> Template:
    """The linked inventor's balance, payouts and withdrawals (``GET /inventor-accounts/{id}``,
    ``GET /withdrawals?payer=``), and the withdrawal form."""
    async with db.read() as session:
        context = await _context(session, user, institutions, account)
    return Template("institutions/inventor.html", context=context)


class InventorWithdrawalForm(Struct):
    amount: str = ""  # yuan, as typed
    key: str = ""


@post("/workspace/inventor/{account_id:uuid}/withdrawals", include_in_schema=False, status_code=201)
async def inventor_withdrawal(
    request: Request[Any, Any, Any],
    account_id: FromPath[uuid.UUID],
    data: Annotated[InventorWithdrawalForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    user: Caller,
    db: Db,
    clock: Now,
    institutions: Institutions,
) -> Response[Any]:
    """A withdrawal from the inventor's account (``POST /withdrawals`` with ``payer``), paid to the
    bank account on record."""
    request.state.action = "inventor-withdrawal"  # its refusals' own words (messages.ACTION_MESSAGES)
    desk = institutions.withdrawals
    if desk is None:
        raise InvalidState("withdrawals are not available here", rule="withdrawals-wired")
    amount = fen_of_yuan(data.amount)
    payer = inventors.payer_ref(account_id)

    async def work(session: AsyncSession) -> Any:
        return await desk.request(session, user, payer, amount, clock.now())

    body = {"amount": amount, "payee": "", "payer": payer}  # the API's request: a key means the same either way
    await keyed(db, clock, user, data.key or None, action="withdrawal", request=body, work=work, required=True)
    if not is_htmx(request):
        return Redirect(path=f"/workspace/inventor?account={account_id}&notice=withdrawal-requested", status_code=303)
    async with db.read() as session:
        context = await _context(session, user, institutions, account_id)
    context["notice_key"] = "withdrawal-requested"
    return Template(
        "institutions/inventor_answer.html", context=context, status_code=201, headers={"Cache-Control": "no-store"}
    )


PAGE_HANDLERS = [inventor_page, inventor_withdrawal]
