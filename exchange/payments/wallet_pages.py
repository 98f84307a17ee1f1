"""The wallet page of the workspace: balances, the statement, how to top up by bank transfer, and
withdrawals.

It lives with payments, which sits above accounting (the balances and the statement, read as
``GET /wallet`` and ``GET /wallet/entries`` read them) and owns withdrawals
(``bank.request_withdrawal``, keyed as ``POST /withdrawals`` with the form's key).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Response, Template
from msgspec import Struct

from exchange.accounting import chart
from exchange.accounting.exports import entry_parties, wallet_statement
from exchange.accounting.wallet import balances_of, statement_of
from exchange.parties import service as parties
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.payments import bank
from exchange.payments.routes import withdrawal_out
from exchange.platform.http import Config, Db, Now
from exchange.platform.keyed import keyed
from exchange.platform.settings import Settings
from exchange.web.formats import fen_of_yuan
from kernel.exports import ExportFormat
from kernel.page_actions import is_htmx, refused
from kernel.pagination import Cursor

ENTRIES_PER_PAGE = 20  # as GET /wallet/entries answers by default
WITHDRAWALS_SHOWN = 10
FIELD_WORDS = {"payee": "收款银行账户"}  # as a refusal names the field (``invalid-form``)


def new_form_key() -> str:
    """A fresh idempotency key for one withdrawal form: sending it twice is one withdrawal."""
    return uuid.uuid4().hex


async def _wallet_context(session: Any, trader: Principal, settings: Settings, unit: str, cursor: str | None) -> Any:
    balances = await balances_of(session, trader.org_id)
    statement = await statement_of(session, trader.org_id, unit, ENTRIES_PER_PAGE, cursor)
    # Each line names whom it is about (the listing, the counterpart), as the downloaded statement
    # does; the ledger's own descriptions are the API's, in English.
    account = await chart.find_account(session, chart.wallet(trader.org_id, unit))
    about = await entry_parties(
        session, [line.entry_id for line in statement.items], besides=account.id if account else None
    )
    withdrawals, _ = await bank.list_withdrawals(
        session, org_id=trader.org_id, status=None, limit=WITHDRAWALS_SHOWN, cursor=None
    )
    org = await parties.get_org(session, trader.org_id)
    return {
        "section": "workspace",
        "workspace_tab": "wallet",
        "balances": {b.unit: b for b in balances},
        "entries": statement.items,
        "about": about,
        "next_cursor": statement.next_cursor,
        "first_page": cursor is None,
        "unit": unit,
        "withdrawals": withdrawals,
        # Top-ups by bank transfer: into the exchange's settlement account, quoting the payer's
        # credit code, by which an operator finds the organisation when recording the transfer.
        "bank": {
            "bank_name": settings.settlement_bank_name,
            "account_name": settings.settlement_account_name,
            "account_number": settings.settlement_account_number,
            "reference": org.credit_code,
        },
        "is_admin": trader.is_admin,
        "form_key": new_form_key(),
    }


@get("/workspace/wallet", include_in_schema=False, name="workspace-wallet")
async def wallet_page(
    trader: Caller, db: Db, settings: Config, unit: FromQuery[Literal["CNY", "VCH"]] = "CNY", cursor: Cursor = None
) -> Template:
    """Balances (``GET /wallet``), the statement page by page (``GET /wallet/entries``), top-up
    instructions and withdrawals."""
    async with db.read() as session:
        context = await _wallet_context(session, trader, settings, unit, cursor)
    return Template("payments/wallet.html", context=context)


class WithdrawalForm(Struct):
    amount: str = ""  # yuan, as typed
    payee: str = ""
    key: str = ""


@post("/workspace/wallet/withdrawals", include_in_schema=False, status_code=201)
async def request_withdrawal(
    request: Request[Any, Any, Any],
    data: Annotated[WithdrawalForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    trader: Caller,
    db: Db,
    clock: Now,
    settings: Config,
) -> Response[Any]:
    """A withdrawal (``POST /withdrawals``): an admin's, held on the wallet until an operator pays it."""
    request.state.action = "withdrawal"  # its refusals have words of their own (messages.ACTION_MESSAGES)
    trader.require_admin()  # money leaves the organisation on its admins' word, as the API
    amount = fen_of_yuan(data.amount)
    payee = data.payee.strip()
    if not payee or len(payee) > 500:
        raise refused(
            "name the bank, the account number and the account's name (up to 500 characters)", "payee", FIELD_WORDS
        )

    async def work(session: Any) -> Any:
        withdrawal = await bank.request_withdrawal(
            session, org_id=trader.org_id, amount=amount, payee=payee, user_id=trader.user_id, now=clock.now()
        )
        return withdrawal_out(withdrawal)

    body = {"amount": amount, "payee": payee}  # the API's request, so a key means the same either way
    await keyed(db, clock, trader, data.key or None, action="withdrawal", request=body, work=work, required=True)
    if not is_htmx(request):
        return Redirect(path="/workspace/wallet?notice=withdrawal-requested", status_code=303)
    async with db.read() as session:
        context = await _wallet_context(session, trader, settings, "CNY", None)
    context["notice_key"] = "withdrawal-requested"
    return Template(
        "payments/wallet_answer.html", context=context, status_code=201, headers={"Cache-Control": "no-store"}
    )


@get("/workspace/wallet/statement", include_in_schema=False, name="workspace-wallet-statement")
async def wallet_statement_download(
    trader: Caller,
    db: Db,
    clock: Now,
    format: FromQuery[ExportFormat],
    unit: FromQuery[Literal["CNY", "VCH"]] = "CNY",
    cursor: Cursor = None,
) -> Response[bytes]:
    """The statement as CSV or xlsx for the pages' session: the same file as
    ``GET /api/v1/wallet/entries?format=`` (which takes a bearer token, so a page cannot link to it)."""
    async with db.read() as session:
        export, next_cursor = await wallet_statement(session, trader.org_id, trader.org_name, unit, cursor, clock.now())
    return export.response(format, headers={"X-Next-Cursor": next_cursor} if next_cursor else None)


PAGE_HANDLERS = [wallet_page, request_withdrawal, wallet_statement_download]
