"""The annual report's pages: the institution's own (``/workspace/transfers/annual-report?year=``),
with its tables in yuan and Beijing time and its downloads (PDF, xlsx, CSV); and the operators'
summary across institutions (``/console/institutions/annual-reports?year=``), each institution's
report one click further. They call the functions the JSON routes call (``reports.annual_report``,
``reports.annual_summary``); the downloads are the same files as ``?format=`` on those routes,
for the pages' session (a bearer token's route is not one a page can link to).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from exchange.institutions import reports
from exchange.institutions.annual import CONTRACT_KINDS, DEAL_TYPES, beijing_year
from exchange.institutions.config import roles_of
from exchange.institutions.contracts import InstitutionsContext, TransferOutcomes
from exchange.institutions.domain import Role
from exchange.institutions.page_forms import Form
from exchange.institutions.report_files import (
    ReportFormat,
    SummaryFormat,
    report_response,
    summary_export,
    word,
)
from exchange.institutions.schemas import AnnualReportOut
from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from exchange.web.formats import yuan

PRIVATE = {"public_cache": False}
Institutions = NamedDependency[InstitutionsContext]


def _year(year: int | None, now: datetime) -> int:
    """The year asked for; none: the current year in Beijing time."""
    return year if year is not None else beijing_year(now)


def _report_context(report: AnnualReportOut, download: str, tab: str) -> dict[str, Any]:
    return {
        "section": "workspace",
        "workspace_tab": tab,
        "report": report,
        "word": word,
        "deal_types": DEAL_TYPES,
        "contract_kinds": CONTRACT_KINDS,
        "download": download,
        "years": list(range(report.year + 1, report.year - 5, -1)),
        "may_edit_inputs": False,  # the office's own page offers the inputs form (it sets this)
    }


@get("/workspace/transfers/annual-report", include_in_schema=False, name="institution-annual-report", opt=PRIVATE)
async def annual_report_page(
    user: Caller, db: Db, clock: Now, institutions: Institutions, year: FromQuery[int | None] = None
) -> Template:
    now = clock.now()
    context = await report_with_inputs(db, user, _year(year, now), now, outcomes=institutions.outcomes)
    return Template("institutions/report.html", context=context)


@get("/workspace/transfers/annual-report/download", include_in_schema=False, opt=PRIVATE)
async def annual_report_download(
    request: Request[Any, Any, State],
    user: Caller,
    db: Db,
    clock: Now,
    institutions: Institutions,
    year: FromQuery[int],
    format: FromQuery[ReportFormat],
) -> Response[Any]:
    async with db.read() as session:
        report = await reports.annual_report(session, user, user.org_id, year, clock.now(), institutions.outcomes)
    return await report_response(request, report, format)


@get("/console/institutions/annual-reports", include_in_schema=False, name="console-annual-reports", opt=PRIVATE)
async def summary_page(operator: Caller, db: Db, clock: Now, year: FromQuery[int | None] = None) -> Template:
    now = clock.now()
    async with db.read() as session:
        summary = await reports.annual_summary(session, operator, _year(year, now), now)
    return Template(
        "institutions/report_summary.html",
        context={
            "section": "workspace",
            "workspace_tab": "annual-reports",
            "summary": summary,
            "years": list(range(summary.year + 1, summary.year - 5, -1)),
        },
    )


@get("/console/institutions/annual-reports/download", include_in_schema=False, opt=PRIVATE)
async def summary_download(
    operator: Caller, db: Db, clock: Now, year: FromQuery[int], format: FromQuery[SummaryFormat]
) -> Response[Any]:
    async with db.read() as session:
        summary = await reports.annual_summary(session, operator, year, clock.now())
    if format == "json":
        return Response(summary)
    return summary_export(summary).response(format)


@get("/console/institutions/{org_id:uuid}/annual-report", include_in_schema=False, opt=PRIVATE)
async def institution_report_page(
    org_id: FromPath[uuid.UUID],
    operator: Caller,
    db: Db,
    clock: Now,
    institutions: Institutions,
    year: FromQuery[int | None] = None,
) -> Template:
    now = clock.now()
    _operator_only(operator)
    async with db.read() as session:
        report = await reports.annual_report(session, operator, org_id, _year(year, now), now, institutions.outcomes)
    download = f"/console/institutions/{org_id}/annual-report/download"
    return Template("institutions/report.html", context=_report_context(report, download, "annual-reports"))


@get("/console/institutions/{org_id:uuid}/annual-report/download", include_in_schema=False, opt=PRIVATE)
async def institution_report_download(
    request: Request[Any, Any, State],
    org_id: FromPath[uuid.UUID],
    operator: Caller,
    db: Db,
    clock: Now,
    institutions: Institutions,
    year: FromQuery[int],
    format: FromQuery[ReportFormat],
) -> Response[Any]:
    _operator_only(operator)
    async with db.read() as session:
        report = await reports.annual_report(session, operator, org_id, year, clock.now(), institutions.outcomes)
    return await report_response(request, report, format)


def inputs_values(report: AnnualReportOut) -> dict[str, str]:
    inputs = report.inputs
    values = {"problems": inputs.problems, "plans": inputs.plans}
    for kind in CONTRACT_KINDS:
        tally = inputs.contracts.get(kind)
        values[f"contracts.{kind}.count"] = str(tally.count) if tally else "0"
        values[f"contracts.{kind}.amount"] = yuan(tally.amount) if tally else "0"
    for i, body in enumerate(inputs.joint_bodies):
        values[f"joint_bodies.{i}.name"] = body.name
        values[f"joint_bodies.{i}.partner"] = body.partner
        values[f"joint_bodies.{i}.founded_on"] = body.founded_on.isoformat() if body.founded_on else ""
    return values


async def report_with_inputs(
    db: Db,
    user: Principal,
    year: int,
    now: datetime,
    form: Form | None = None,
    done: str = "",
    outcomes: TransferOutcomes | None = None,
) -> dict[str, Any]:
    async with db.read() as session:
        report = await reports.annual_report(session, user, user.org_id, year, now, outcomes)
        office = Role.OFFICE in await roles_of(session, user, user.org_id)
    context = _report_context(report, "/workspace/transfers/annual-report/download", "annual-report")
    context.update(inputs_form=form or Form("inputs", inputs_values(report)), may_edit_inputs=office, done=done,
                   contract_words={"development": "技术开发合同", "consulting": "技术咨询合同",
                                   "service": "技术服务合同"})  # fmt: skip
    return context


def _operator_only(caller: Principal) -> None:
    caller.require_operator()


PAGE_HANDLERS = [
    annual_report_page,
    annual_report_download,
    summary_page,
    summary_download,
    institution_report_page,
    institution_report_download,
]
