"""A voucher program's report as a spreadsheet (``GET /voucher-programs/{id}/report?format=csv|xlsx``).

One row per figure — the program's totals, then each enterprise's and each provider's — in the
"long" layout a pivot table takes directly: who (by name, with the id), which figure, its amount in
yuan and in fen (vouchers count fen of face value), or a count for a provider's orders.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting.exports import names_of
from exchange.parties.domain import Principal
from exchange.vouchers import programs, reports
from exchange.vouchers.schemas import FiguresOut, ReportOut
from kernel.exports import BEIJING, Column, Export, Kind, column, money
from kernel.shapes import shaped

PROGRAM_FIGURES = {
    "budget": "预算",
    "funded": "已到位资金",
    "issued": "已发放",
    "spent": "已使用",
    "redeemed": "已兑付",
    "expired": "已过期",
    "revoked": "已撤销",
    "outstanding": "流通中",
}
ENTERPRISE_FIGURES = {
    "granted": "已发放",
    "held": "冻结中",
    "spent": "已使用",
    "expired": "已过期",
    "available": "可用",
}
PROVIDER_FIGURES = {"received": "已收券", "claimed": "兑付申请中", "redeemed": "已兑付", "revoked": "已撤销"}

COLUMNS: list[Column] = [
    column("类别", Kind.TEXT, "section"),
    column("名称", Kind.TEXT, "name"),
    column("指标", Kind.TEXT, "figure"),
    *money("金额（元）", "amount"),
    column("笔数", Kind.INT, "count"),
    column("创新券项目", Kind.TEXT, "program"),
    column("机构 ID", Kind.RAW, "org_id"),
]


async def program_report(session: AsyncSession, reader: Principal, program_id: uuid.UUID, now: datetime) -> ReportOut:
    """The program's report for its government's members and operators (403 for others): what
    ``GET /voucher-programs/{id}/report`` answers, and what its spreadsheets and the page's download are made of."""
    program = await programs.get_program(session, program_id)
    reader.require_member_of(program.owner_org_id, operators_too=True)
    figures = await reports.program_figures(session, program)
    return ReportOut(
        program=programs.program_out(program, now),
        figures=shaped(FiguresOut, figures, broken_invariants=figures.broken_invariants()),
        enterprises=await reports.enterprise_figures(session, program.id),
        providers=await reports.provider_figures(session, program.id),
    )


async def report_rows(session: AsyncSession, report: ReportOut) -> list[dict[str, Any]]:
    program = report.program
    orgs = {e.org_id for e in report.enterprises} | {p.org_id for p in report.providers} | {program.owner_org_id}
    names = await names_of(session, orgs, set())
    base = {"program": program.name}
    rows: list[dict[str, Any]] = []
    owner = names.get(program.owner_org_id, "")
    for key, words in PROGRAM_FIGURES.items():
        rows.append(
            {**base, "section": "项目合计", "name": owner, "figure": words, "amount": getattr(report.figures, key)}
        )
    for row in rows:  # the program's rows carry its owner's id
        row["org_id"] = str(program.owner_org_id)
    for e in report.enterprises:
        who = {**base, "section": "企业", "name": names.get(e.org_id, ""), "org_id": str(e.org_id)}
        rows.extend({**who, "figure": words, "amount": getattr(e, key)} for key, words in ENTERPRISE_FIGURES.items())
    for p in report.providers:
        who = {**base, "section": "服务机构", "name": names.get(p.org_id, ""), "org_id": str(p.org_id)}
        rows.append({**who, "figure": "订单数", "count": p.orders})
        rows.extend({**who, "figure": words, "amount": getattr(p, key)} for key, words in PROVIDER_FIGURES.items())
    return rows


async def voucher_report_export(session: AsyncSession, report: ReportOut, now: datetime) -> Export:
    day = now.astimezone(BEIJING).strftime("%Y%m%d")
    return Export(
        COLUMNS,
        await report_rows(session, report),
        filename=f"创新券报表-{report.program.name}-{day}",
        fallback=f"voucher-report-{report.program.id}-{day}",
        sheet="创新券报表",
    )
