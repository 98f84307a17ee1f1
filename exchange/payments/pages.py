"""The operators' console of money: bank transfers to record, withdrawals to pay, reconciliations
and the maker–checker resolution of their differences (``/console/…``).

Each page calls what the API's operator route calls (``exchange/payments/routes.py``) with the
same refusals; amounts are typed in yuan (``formats.fen_of_yuan``) and become the API's fen.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties import service as parties
from exchange.parties.domain import Principal
from exchange.payments import bank, reconciliation
from exchange.payments.domain import Provider, china_day
from exchange.payments.exports import reconciliation_export
from exchange.payments.providers import run_reconciliation
from exchange.payments.routes import reconciliation_out, run_report
from exchange.payments.schemas import (
    BankTransferIn,
    CompleteWithdrawalIn,
    ReconciliationIn,
    RejectWithdrawalIn,
    ResolutionIn,
)
from exchange.platform.http import Config, Db, Now
from exchange.web.formats import fen_of_yuan
from kernel.exports import ExportFormat
from kernel.page_actions import InvalidForm, checked, done, read_form

Operator = NamedDependency[Principal]
PAGE_SIZE = 20


def console(tab: str, **context: Any) -> dict[str, Any]:
    return {**context, "section": "workspace", "workspace_tab": tab}


# -- bank transfers ---------------------------------------------------------------------------------------


class TransferForm(msgspec.Struct):
    """The bank's record as the operator types it from the statement, and the organisation chosen."""

    amount: str = ""  # yuan
    reference: str = ""
    payer_name: str = ""
    payer_account: str = ""
    received_on: str = ""
    note: str = ""
    org_id: str = ""
    org: str = ""  # a name to look for, when neither the account nor the payer's name finds the payer


class Suggestion(msgspec.Struct):
    org_id: UUID
    name: str
    why: str


async def suggestions(session: AsyncSession, form: TransferForm) -> list[Suggestion]:
    """Who probably paid: the organisations that paid from this account before (the API's
    ``GET /bank-accounts?account=``), then those whose name contains the payer's name or the name
    looked for (the directory's ``q``). Only suggestions: the operator confirms one."""
    found: dict[UUID, Suggestion] = {}
    account = bank.payer_account_key(form.payer_account)
    if account and account.isalnum() and len(account) <= 64:
        rows, _ = await bank.orgs_paying_from(session, account, limit=10, cursor=None)
        for row in rows:
            why = f"曾从该账户付款 {row.transfers} 次（户名 {row.payer_name or '—'}）"
            found.setdefault(row.org_id, Suggestion(row.org_id, row.org_name, why))
    for name, why in ((form.payer_name, "名称与付款人户名相符"), (form.org, "名称相符")):
        if name and len(name) <= 200:
            orgs, _ = await parties.list_orgs(
                session, q=name, credit_code=None, status=None, verified=None, kind=None, limit=10, cursor=None
            )
            for org in orgs:
                found.setdefault(org.id, Suggestion(org.id, org.name, why))
    return list(found.values())


@get("/console/bank-transfers", include_in_schema=False, name="console-bank-transfers")
async def bank_transfers(request: Request[Any, Any, Any], operator: Operator, db: Db) -> Template:
    """The form of ``POST /api/v1/bank-transfers``; given the bank's record (``?payer_account=…``),
    the organisations it suggests, for the operator to confirm."""
    given = {k: v.strip() for k, v in request.query_params.items() if k in TransferForm.__struct_fields__}
    form = msgspec.convert(given, TransferForm)
    looked = any((form.payer_account, form.payer_name, form.org))
    async with db.read() as session:
        suggested = await suggestions(session, form) if looked else []
    return Template(
        "payments/console_bank_transfers.html",
        context=console("bank-transfers", form=form, looked=looked, suggestions=suggested),
    )


@post("/console/bank-transfers", include_in_schema=False, status_code=200)
async def record_transfer(
    request: Request[Any, Any, Any], operator: Operator, db: Db, clock: Now
) -> Template | Redirect:
    """Credit the transfer to the chosen organisation's wallet, as ``POST /api/v1/bank-transfers``
    does (each bank reference once: a second submission of the same record is refused)."""
    form = await read_form(request, TransferForm)
    if not form.org_id:
        raise InvalidForm("choose the organisation that paid", field="org_id")
    fields = {
        "org_id": form.org_id,
        "amount": fen_of_yuan(form.amount),
        "reference": form.reference,
        "received_on": form.received_on or None,
        "note": form.note,
        "payer_account": form.payer_account,
        "payer_name": form.payer_name,
    }
    data = checked(BankTransferIn, fields)
    await db.transaction(
        lambda s: bank.record_transfer(s, **msgspec.structs.asdict(data), operator_id=operator.user_id, now=clock.now())
    )
    return done(request, "transfer-recorded", "/console/bank-transfers")


# -- withdrawals ------------------------------------------------------------------------------------------


@get("/console/withdrawals", include_in_schema=False, name="console-withdrawals")
async def withdrawals(request: Request[Any, Any, Any], operator: Operator, db: Db) -> Template:
    """Withdrawals to pay (``GET /api/v1/withdrawals?status=requested`` as an operator), or the
    completed and rejected ones (``?status=``), newest first."""
    status = request.query_params.get("status") or "requested"
    if status not in ("requested", "completed", "rejected"):
        raise InvalidForm(f"unknown status {status!r}", field="status")
    cursor = request.query_params.get("cursor") or None
    async with db.read() as session:
        rows, next_cursor = await bank.list_withdrawals(
            session, org_id=None, status=status, limit=PAGE_SIZE, cursor=cursor
        )
        names = await parties.org_names(session, [w.org_id for w in rows])
    context = console("withdrawals", withdrawals=rows, names=names, status=status, next_cursor=next_cursor)
    return Template("payments/console_withdrawals.html", context=context)


class PaidForm(msgspec.Struct):
    bank_reference: str = ""
    paid_on: str = ""


class RejectForm(msgspec.Struct):
    reason: str = ""


@post("/console/withdrawals/{withdrawal_id:uuid}/complete", include_in_schema=False, status_code=200)
async def complete_withdrawal(
    request: Request[Any, Any, Any], withdrawal_id: FromPath[UUID], operator: Operator, db: Db, clock: Now
) -> Template | Redirect:
    """The bank paid it: the hold is posted, as ``POST /api/v1/withdrawals/{id}/complete`` does."""
    form = await read_form(request, PaidForm)
    data = checked(CompleteWithdrawalIn, {"bank_reference": form.bank_reference, "paid_on": form.paid_on or None})
    await db.transaction(
        lambda s: bank.complete_withdrawal(
            s,
            withdrawal_id,
            bank_reference=data.bank_reference,
            paid_on=data.paid_on,
            operator_id=operator.user_id,
            now=clock.now(),
        )
    )
    return done(request, "withdrawal-completed", "/console/withdrawals")


@post("/console/withdrawals/{withdrawal_id:uuid}/reject", include_in_schema=False, status_code=200)
async def reject_withdrawal(
    request: Request[Any, Any, Any], withdrawal_id: FromPath[UUID], operator: Operator, db: Db, clock: Now
) -> Template | Redirect:
    """Not paid: the hold is voided, as ``POST /api/v1/withdrawals/{id}/reject`` does."""
    form = await read_form(request, RejectForm)
    data = checked(RejectWithdrawalIn, {"reason": form.reason})
    await db.transaction(
        lambda s: bank.reject_withdrawal(
            s, withdrawal_id, reason=data.reason, operator_id=operator.user_id, now=clock.now()
        )
    )
    return done(request, "withdrawal-rejected", "/console/withdrawals")


# -- reconciliations ----------------------------------------------------------------------------------------


class RunForm(msgspec.Struct):
    provider: Literal["stripe", "bank_transfer"] = "bank_transfer"
    period_from: date | None = None
    period_to: date | None = None
    statement: str = ""


class ProposeForm(msgspec.Struct):
    reference: str = ""
    counter_account: str = ""
    reason: str = ""


@get("/console/reconciliations", include_in_schema=False, name="console-reconciliations")
async def reconciliations(request: Request[Any, Any, Any], operator: Operator, db: Db, clock: Now) -> Template:
    """The runs, newest first (``GET /api/v1/reconciliations``), and the form that starts one."""
    cursor = request.query_params.get("cursor") or None
    async with db.read() as session:
        runs, next_cursor = await reconciliation.list_runs(session, limit=PAGE_SIZE, cursor=cursor)
    context = console(
        "reconciliations",
        runs=[reconciliation_out(r, []) for r in runs],
        next_cursor=next_cursor,
        today=china_day(clock.now()).isoformat(),
    )
    return Template("payments/console_reconciliations.html", context=context)


@post("/console/reconciliations", include_in_schema=False, status_code=303)
async def start_reconciliation(
    request: Request[Any, Any, Any], operator: Operator, db: Db, clock: Now, settings: Config
) -> Redirect:
    """Reconcile a provider's records for a period with the ledger, as ``POST /api/v1/reconciliations``
    does (a bank run reads the statement pasted as CSV: date, amount, reference); then its report."""
    form = await read_form(request, RunForm)
    fields = {
        "provider": form.provider,
        "period_from": form.period_from,
        "period_to": form.period_to,
        "statement": form.statement or None,
    }
    data = checked(ReconciliationIn, fields)
    run, _ = await run_reconciliation(
        db,
        settings,
        clock,
        provider=Provider(data.provider),
        period_from=data.period_from,
        period_to=data.period_to,
        statement=reconciliation.Statement.from_text(data.statement) if data.statement is not None else None,
        operator_id=operator.user_id,
    )
    return Redirect(path=f"/console/reconciliations/{run.id}", status_code=303)


@get("/console/reconciliations/{run_id:uuid}", include_in_schema=False, name="console-reconciliation")
async def reconciliation_report(run_id: FromPath[UUID], operator: Operator, db: Db) -> Template:
    """A run's report (``GET /api/v1/reconciliations/{id}``) and its resolutions: who proposed each,
    who approved it; the form to propose one for a difference, and to approve another's."""
    async with db.read() as session:
        report = await run_report(session, run_id)
        resolutions = await reconciliation.list_resolutions(session, run_id)
        names = await parties.user_names(
            session, [r.maker_id for r in resolutions] + [r.checker_id for r in resolutions]
        )
    resolved = {r.reference: r for r in resolutions}
    context = console(
        "reconciliations",
        report=report,
        resolutions=resolutions,
        resolved=resolved,
        names=names,
        me=operator.user_id,
    )
    return Template("payments/console_reconciliation.html", context=context)


@get("/console/reconciliations/{run_id:uuid}/report", include_in_schema=False, name="console-reconciliation-report")
async def reconciliation_download(
    run_id: FromPath[UUID], operator: Operator, db: Db, format: FromQuery[ExportFormat]
) -> Response[bytes]:
    """The report as CSV or xlsx for the pages' session: the same file as
    ``GET /api/v1/reconciliations/{id}?format=`` (a bearer token's route, which a page cannot link to)."""
    async with db.read() as session:
        return (await reconciliation_export(session, await run_report(session, run_id))).response(format)


@post("/console/reconciliations/{run_id:uuid}/resolutions", include_in_schema=False, status_code=200)
async def propose_resolution(
    request: Request[Any, Any, Any], run_id: FromPath[UUID], operator: Operator, db: Db, clock: Now
) -> Template | Redirect:
    """The maker's half (``POST /api/v1/reconciliations/{id}/resolutions``): an adjustment that makes
    the ledger agree with the provider, posted only once another operator approves it."""
    form = await read_form(request, ProposeForm)
    fields = {"reference": form.reference, "counter_account": form.counter_account, "reason": form.reason}
    data = checked(ResolutionIn, fields)
    await db.transaction(
        lambda s: reconciliation.propose_resolution(
            s,
            run_id,
            reference=data.reference,
            counter_account=data.counter_account,
            reason=data.reason,
            maker_id=operator.user_id,
            now=clock.now(),
        )
    )
    return done(request, "resolution-proposed", f"/console/reconciliations/{run_id}")


@post(
    "/console/reconciliations/{run_id:uuid}/resolutions/{resolution_id:uuid}/approve",
    include_in_schema=False,
    status_code=200,
)
async def approve_resolution(
    request: Request[Any, Any, Any],
    run_id: FromPath[UUID],
    resolution_id: FromPath[UUID],
    operator: Operator,
    db: Db,
    clock: Now,
) -> Template | Redirect:
    """The checker's half: the ledger refuses the operator who proposed it (``maker-cannot-approve``)."""
    await db.transaction(
        lambda s: reconciliation.approve_resolution(
            s, run_id, resolution_id, checker_id=operator.user_id, now=clock.now()
        )
    )
    return done(request, "resolution-approved", f"/console/reconciliations/{run_id}")


PAGE_HANDLERS = [
    bank_transfers,
    record_transfer,
    withdrawals,
    complete_withdrawal,
    reject_withdrawal,
    reconciliations,
    start_reconciliation,
    reconciliation_report,
    reconciliation_download,
    propose_resolution,
    approve_resolution,
]
