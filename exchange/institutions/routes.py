"""HTTP controllers of an institution's transfer process. Thin: parse, call one service function in
one transaction, shape the answer (the process whole, with its history, after every act)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting import chart
from exchange.accounting.schemas import StatementPage
from exchange.accounting.wallet import account_statement
from exchange.institutions import (
    config,
    contracts,
    distribution,
    income,
    inventors,
    processes,
    reports,
    transfer_notice,
)
from exchange.institutions.contracts import InstitutionsContext
from exchange.institutions.domain import ProcessStatus, Role, Step
from exchange.institutions.implementation import implement
from exchange.institutions.models import IncomeReceipt, TransferProcess
from exchange.institutions.report_files import ReportFormat, SummaryFormat, report_response, summary_export
from exchange.institutions.schemas import (
    AnnualInputsIn,
    AnnualReportOut,
    AnnualSummaryOut,
    ContractRegistrationIn,
    ContractRegistrationOut,
    DecisionIn,
    DisclosureIn,
    EvaluationIn,
    ExpertReviewIn,
    ExtraApprovalIn,
    FirstReviewIn,
    IdentityCheckIn,
    ImplementationIn,
    InventorAccountList,
    InventorAccountOut,
    ObjectionResolveIn,
    PlanIn,
    PlanOut,
    ProcessOut,
    ProcessPage,
    ReceiptOut,
    ReceiptPage,
    ReturnIn,
    RoleGrantIn,
    RoleList,
    SettingsIn,
    SettingsOut,
    StopIn,
)
from exchange.parties.domain import OrgKind, Principal
from exchange.parties.http import Caller
from exchange.parties.service import get_org
from exchange.platform.http import BEARER, Db, Now
from exchange.platform.keyed import REPLAY_DOC, IdempotencyKey, KeyedWrite, keyed
from kernel.exports import ExportOperation
from kernel.pagination import Cursor, Limit, by_id, id_after, keyset_page
from listings import ListingsContext
from listings.workdays import beijing_date

Act = Callable[[AsyncSession], Awaitable[TransferProcess]]
Institutions = NamedDependency[InstitutionsContext]


async def _answer(db: Db, user: Principal, act: Act) -> ProcessOut:
    async def work(session: AsyncSession) -> ProcessOut:
        return await processes.process_out(session, user, await act(session))

    return await db.transaction(work)


class InstitutionController(Controller):
    path = "/institutions/{org_id:uuid}"
    tags = ["institutions"]
    security = BEARER

    @get("/settings", summary="The institution's workflow, notice periods and distribution settings")
    async def show_settings(
        self, org_id: FromPath[uuid.UUID], user: Caller, db: Db, listings: NamedDependency[ListingsContext]
    ) -> SettingsOut:
        user.require_member_of(org_id, operators_too=True)
        least = listings.rules.inventor_reward_min_bp
        async with db.read() as session:
            org = await get_org(session, org_id)
            return config.settings_out(await config.configuration(session, org_id, OrgKind(org.kind),
                                                                  least_share_bp=least))  # fmt: skip

    @put("/settings", summary="Save the institution's settings (its admins)")
    async def save_settings(
        self,
        org_id: FromPath[uuid.UUID],
        data: JSONBody[SettingsIn],
        user: Caller,
        db: Db,
        clock: Now,
        listings: NamedDependency[ListingsContext],
    ) -> SettingsOut:
        least = listings.rules.inventor_reward_min_bp

        async def work(session: AsyncSession) -> SettingsOut:
            saved = await config.save_settings(session, user, org_id, data, clock.now(), least_share_bp=least)
            return config.settings_out(saved)

        return await db.transaction(work)

    @get("/roles", summary="Who holds the institution's roles (admins are its office)")
    async def roles(self, org_id: FromPath[uuid.UUID], user: Caller, db: Db) -> RoleList:
        async with db.read() as session:
            return RoleList(await config.list_roles(session, user, org_id))

    @post("/roles", status_code=200, summary="Give a member a role in the process (its admins)")
    async def grant(
        self, org_id: FromPath[uuid.UUID], data: JSONBody[RoleGrantIn], user: Caller, db: Db, clock: Now
    ) -> RoleList:
        async def work(session: AsyncSession) -> RoleList:
            await config.grant_role(session, user, org_id, data.user_id, data.role, clock.now())
            return RoleList(await config.list_roles(session, user, org_id))

        return await db.transaction(work)

    @delete("/roles/{user_id:uuid}/{role:str}", status_code=200, summary="Take a granted role back (its admins)")
    async def revoke(
        self, org_id: FromPath[uuid.UUID], user_id: FromPath[uuid.UUID], role: FromPath[Role], user: Caller, db: Db
    ) -> RoleList:
        async def work(session: AsyncSession) -> RoleList:
            await config.revoke_role(session, user, org_id, user_id, role)
            return RoleList(await config.list_roles(session, user, org_id))

        return await db.transaction(work)

    @get("/processes", summary="The institution's transfer processes, newest first")
    async def list_processes(
        self,
        org_id: FromPath[uuid.UUID],
        user: Caller,
        db: Db,
        status: Annotated[ProcessStatus | None, QueryParameter(description="only processes in this status")] = None,
        step: Annotated[Step | None, QueryParameter(description="only processes at this open step")] = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> ProcessPage:
        async with db.read() as session:
            rows = await processes.list_processes(
                session, user, org_id, status=status.value if status else None, step=step,
                after=id_after(cursor), limit=limit + 1,
            )  # fmt: skip
        page, next_cursor = keyset_page(rows, limit, lambda row: by_id(row[0]))
        return ProcessPage([processes.summary_out(p, title) for p, title in page], next_cursor)


class ProcessController(Controller):
    path = "/transfer-processes"
    tags = ["institutions"]
    security = BEARER

    @post("/", summary="Disclose a service invention and begin its transfer process (members)")
    async def disclose(self, data: JSONBody[DisclosureIn], user: Caller, db: Db, clock: Now) -> ProcessOut:
        return await _answer(db, user, lambda s: processes.open_disclosure(s, user, data, clock.now()))

    @get("/{process_id:uuid}", summary="A transfer process: its disclosure, records and history")
    async def show(self, process_id: FromPath[uuid.UUID], user: Caller, db: Db) -> ProcessOut:
        async with db.read() as session:
            return await processes.process_out(
                session, user, await processes.visible_process(session, user, process_id)
            )

    @post(
        "/{process_id:uuid}/disclosure",
        status_code=200,
        summary="发起 again: the corrected disclosure after a return to 发起",
    )
    async def amend(
        self, process_id: FromPath[uuid.UUID], data: JSONBody[DisclosureIn], user: Caller, db: Db, clock: Now
    ) -> ProcessOut:
        return await _answer(db, user, lambda s: processes.amend_disclosure(s, user, process_id, data, clock.now()))

    @post("/{process_id:uuid}/first-review", status_code=200, summary="初审: the office's first review")
    async def first_review(
        self, process_id: FromPath[uuid.UUID], data: JSONBody[FirstReviewIn], user: Caller, db: Db, clock: Now
    ) -> ProcessOut:
        return await _answer(db, user, lambda s: processes.first_review(s, user, process_id, data, clock.now()))

    @post("/{process_id:uuid}/evaluation", status_code=200, summary="评估: the appraisal of record")
    async def evaluation(
        self, process_id: FromPath[uuid.UUID], data: JSONBody[EvaluationIn], user: Caller, db: Db, clock: Now
    ) -> ProcessOut:
        now = clock.now()
        return await _answer(
            db, user, lambda s: processes.evaluation(s, user, process_id, data, now, today=beijing_date(now))
        )

    @post("/{process_id:uuid}/expert-review", status_code=200, summary="论证: the expert panel's opinions and votes")
    async def expert_review(
        self, process_id: FromPath[uuid.UUID], data: JSONBody[ExpertReviewIn], user: Caller, db: Db, clock: Now
    ) -> ProcessOut:
        return await _answer(db, user, lambda s: processes.expert_review(s, user, process_id, data, clock.now()))

    @post("/{process_id:uuid}/decision", status_code=200, summary="决策: the decision body's approval and record")
    async def decision(
        self,
        process_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn],
        user: Caller,
        db: Db,
        clock: Now,
        institutions: Institutions,
    ) -> ProcessOut:
        return await _answer(
            db, user, lambda s: processes.decide(s, institutions.listings, user, process_id, data, clock.now())
        )

    @post("/{process_id:uuid}/return", status_code=200, summary="Send the process back to an earlier step")
    async def send_back(
        self, process_id: FromPath[uuid.UUID], data: JSONBody[ReturnIn], user: Caller, db: Db, clock: Now
    ) -> ProcessOut:
        return await _answer(
            db, user, lambda s: processes.send_back(s, user, process_id, data.to, data.reason, data.role, clock.now())
        )

    @post("/{process_id:uuid}/stop", status_code=200, summary="End the process (the office; the decision body at 决策)")
    async def stop(
        self, process_id: FromPath[uuid.UUID], data: JSONBody[StopIn], user: Caller, db: Db, clock: Now
    ) -> ProcessOut:
        return await _answer(
            db, user, lambda s: processes.halt(s, user, process_id, data.reason, data.role, clock.now())
        )

    @post(
        "/{process_id:uuid}/objections/{objection_id:uuid}/resolve",
        status_code=200,
        summary="The office upholds (returning or stopping the process) or dismisses an objection to its notice",
    )
    async def resolve_objection(
        self,
        process_id: FromPath[uuid.UUID],
        objection_id: FromPath[uuid.UUID],
        data: JSONBody[ObjectionResolveIn],
        user: Caller,
        db: Db,
        clock: Now,
        institutions: Institutions,
    ) -> ProcessOut:
        return await _answer(
            db,
            user,
            lambda s: transfer_notice.resolve(
                s, institutions.listings, user, process_id, objection_id, data, clock.now()
            ),
        )

    @post(
        "/{process_id:uuid}/implementation",
        status_code=200,
        summary="实施: the listing draft at the exchange, or the signed contract (the office, once 公示 closed)",
    )
    async def implementation(
        self,
        process_id: FromPath[uuid.UUID],
        data: JSONBody[ImplementationIn],
        user: Caller,
        db: Db,
        clock: Now,
        institutions: Institutions,
    ) -> ProcessOut:
        return await _answer(
            db, user, lambda s: implement(s, institutions.listings, user, process_id, data, clock.now())
        )


class ContractRegistrationController(Controller):
    path = "/deals/{deal_id:uuid}/contract-registration"
    tags = ["institutions"]
    security = BEARER

    @post(
        "/", status_code=201, summary="技术合同认定登记: record the deal's contract registration (the seller's office)"
    )
    async def register(
        self,
        deal_id: FromPath[uuid.UUID],
        data: JSONBody[ContractRegistrationIn],
        user: Caller,
        db: Db,
        clock: Now,
        institutions: Institutions,
    ) -> ContractRegistrationOut:
        now = clock.now()

        async def work(session: AsyncSession) -> ContractRegistrationOut:
            row = await contracts.register_contract(
                session, institutions.deals, user, deal_id, data, now, today=beijing_date(now)
            )
            return contracts.registration_out(row)

        return await db.transaction(work)

    @get("/", summary="The deal's contract registration (both parties and operators)")
    async def show(
        self, deal_id: FromPath[uuid.UUID], user: Caller, db: Db, institutions: Institutions
    ) -> ContractRegistrationOut:
        async with db.read() as session:
            row = await contracts.contract_registration(session, institutions.deals, user, deal_id)
            return contracts.registration_out(row)


# -- income and its distribution (收益分配) --------------------------------------------------------------

Listings = NamedDependency[ListingsContext]


async def _receipt_out(session: AsyncSession, receipt: IncomeReceipt) -> ReceiptOut:
    return ReceiptOut(
        id=receipt.id, org_id=receipt.org_id, process_id=receipt.process_id, deal_id=receipt.deal_id,
        seq=receipt.seq, amount=receipt.amount, reward_held=receipt.reward_held, received_at=receipt.received_at,
        plans=[distribution.plan_out(p) for p in await income.plans_of(session, receipt.id)],
    )  # fmt: skip


class IncomeController(Controller):
    path = "/"
    tags = ["institutions"]
    security = BEARER

    @get("/institutions/{org_id:uuid}/income-receipts", summary="The institution's income receipts, newest first")
    async def list_receipts(
        self, org_id: FromPath[uuid.UUID], user: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None
    ) -> ReceiptPage:
        async with db.read() as session:
            rows = await income.list_receipts(session, user, org_id, after=id_after(cursor), limit=limit + 1)
            page, next_cursor = keyset_page(rows, limit, by_id)
            return ReceiptPage([await _receipt_out(session, r) for r in page], next_cursor)

    @get("/income-receipts/{receipt_id:uuid}", summary="An income receipt with its distribution plans")
    async def show_receipt(self, receipt_id: FromPath[uuid.UUID], user: Caller, db: Db) -> ReceiptOut:
        async with db.read() as session:
            return await _receipt_out(session, await income.visible_receipt(session, user, receipt_id))

    @post(
        "/income-receipts/{receipt_id:uuid}/plans",
        summary="Propose the receipt's distribution plan (the office); its public notice opens",
    )
    async def propose(
        self, receipt_id: FromPath[uuid.UUID], data: JSONBody[PlanIn], user: Caller, db: Db, clock: Now,
        listings: Listings,
    ) -> PlanOut:  # fmt: skip
        async def work(session: AsyncSession) -> PlanOut:
            plan = await distribution.propose(session, listings, user, receipt_id, data, clock.now())
            return distribution.plan_out(plan)

        return await db.transaction(work)

    @get("/distribution-plans/{plan_id:uuid}", summary="A distribution plan")
    async def show_plan(self, plan_id: FromPath[uuid.UUID], user: Caller, db: Db) -> PlanOut:
        async with db.read() as session:
            return distribution.plan_out(await distribution.visible_plan(session, user, plan_id))

    @post(
        "/distribution-plans/{plan_id:uuid}/extra-approval",
        status_code=200,
        summary="Record the higher meeting's approval of a plan paying someone above the threshold (the office)",
    )
    async def extra_approval(
        self, plan_id: FromPath[uuid.UUID], data: JSONBody[ExtraApprovalIn], user: Caller, db: Db, clock: Now
    ) -> PlanOut:
        async def work(session: AsyncSession) -> PlanOut:
            return distribution.plan_out(await distribution.approve_extra(session, user, plan_id, data, clock.now()))

        return await db.transaction(work)

    @post(
        "/distribution-plans/{plan_id:uuid}/pay",
        status_code=200,
        summary="Pay an approved plan to the inventors' accounts (the office; Idempotency-Key required)",
        operation_class=KeyedWrite,
        response_headers=REPLAY_DOC,
    )
    async def pay(
        self, plan_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now, idempotency_key: IdempotencyKey = None
    ) -> Response[PlanOut]:
        async def work(session: AsyncSession) -> PlanOut:
            return distribution.plan_out(await distribution.pay(session, user, plan_id, clock.now()))

        return await keyed(db, clock, user, idempotency_key, action="distribution-payout", request=str(plan_id),
                           work=work, status=200, required=True)  # fmt: skip

    @get("/institutions/{org_id:uuid}/inventor-accounts", summary="The inventors the institution pays, with balances")
    async def list_inventor_accounts(self, org_id: FromPath[uuid.UUID], user: Caller, db: Db) -> InventorAccountList:
        async with db.read() as session:
            rows = await inventors.list_accounts(session, user, org_id)
            return InventorAccountList([await inventors.account_out(session, a) for a in rows])

    @get("/inventor-accounts/{account_id:uuid}", summary="An inventor's account and balance")
    async def show_inventor_account(self, account_id: FromPath[uuid.UUID], user: Caller, db: Db) -> InventorAccountOut:
        async with db.read() as session:
            return await inventors.account_out(session, await inventors.visible_account(session, user, account_id))

    @get(
        "/inventor-accounts/{account_id:uuid}/entries",
        summary="The statement of an inventor's account, newest first (as GET /wallet/entries for a wallet)",
    )
    async def inventor_statement(
        self, account_id: FromPath[uuid.UUID], user: Caller, db: Db, limit: Limit = 20, cursor: Cursor = None
    ) -> StatementPage:
        async with db.read() as session:
            account = await inventors.visible_account(session, user, account_id)
            page = await account_statement(session, chart.inventor_cash(account.id), limit, cursor)
        return StatementPage(page.items, page.next_cursor)

    @post(
        "/inventor-accounts/{account_id:uuid}/identity-check",
        status_code=200,
        summary="Mark the inventor's identity as checked, optionally linking the member who is that inventor (office)",
    )
    async def identity_check(
        self, account_id: FromPath[uuid.UUID], data: JSONBody[IdentityCheckIn], user: Caller, db: Db, clock: Now
    ) -> InventorAccountOut:
        async def work(session: AsyncSession) -> InventorAccountOut:
            account = await inventors.check_identity(session, user, account_id, data, clock.now())
            return await inventors.account_out(session, account)

        return await db.transaction(work)


FORMAT_WORDS = "json (default), pdf, csv (UTF-8 with a BOM, for Excel) or xlsx"


class AnnualReportController(Controller):
    """年度报告: an institution's annual report for a year (its members and operators), the office's
    inputs to it, and the exchange-wide summary (operators)."""

    path = "/institutions"
    tags = ["institutions"]
    security = BEARER

    @get(
        "/{org_id:uuid}/annual-reports/{year:int}",
        summary="The institution's annual report for a year (JSON, or ?format=pdf|csv|xlsx)",
        operation_class=ExportOperation,
    )
    async def annual_report(
        self,
        request: Request[Any, Any, Any],
        org_id: FromPath[uuid.UUID],
        year: FromPath[int],
        user: Caller,
        db: Db,
        clock: Now,
        institutions: Institutions,
        format: Annotated[ReportFormat, QueryParameter(description=FORMAT_WORDS)] = "json",
    ) -> Response[AnnualReportOut]:
        async with db.read() as session:
            report = await reports.annual_report(session, user, org_id, year, clock.now(), institutions.outcomes)
        return await report_response(request, report, format)

    @put(
        "/{org_id:uuid}/annual-reports/{year:int}/inputs",
        summary="The office's inputs to the year's report: contracts, joint R&D bodies, problems and plans",
    )
    async def save_inputs(
        self,
        org_id: FromPath[uuid.UUID],
        year: FromPath[int],
        data: JSONBody[AnnualInputsIn],
        user: Caller,
        db: Db,
        clock: Now,
        institutions: Institutions,
    ) -> AnnualReportOut:
        async def work(session: AsyncSession) -> AnnualReportOut:
            return await reports.save_inputs(session, user, org_id, year, data, clock.now(), institutions.outcomes)

        return await db.transaction(work)

    @get(
        "/annual-reports/{year:int}",
        summary="Every institution's figures of the year and their totals (operators; ?format=csv|xlsx)",
        operation_class=ExportOperation,
    )
    async def annual_summary(
        self,
        year: FromPath[int],
        user: Caller,
        db: Db,
        clock: Now,
        format: Annotated[SummaryFormat, QueryParameter(description="json (default), csv or xlsx")] = "json",
    ) -> Response[AnnualSummaryOut]:
        async with db.read() as session:
            summary = await reports.annual_summary(session, user, year, clock.now())
        if format != "json":
            return summary_export(summary).response(format)  # type: ignore[return-value]
        return Response(summary)


INSTITUTION_ROUTES = [
    InstitutionController,
    ProcessController,
    ContractRegistrationController,
    IncomeController,
    AnnualReportController,
]
