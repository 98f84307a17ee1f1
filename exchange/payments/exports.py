"""A reconciliation run's report as a spreadsheet (``GET /reconciliations/{id}?format=csv|xlsx``
and ``techx payments reconcile --format csv``): one row per difference, per outcome's total, per
unreadable statement line and per unmatched Stripe event, in that order, with the organisations
and listings of each difference's ledger entry named."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exchange.accounting.exports import entry_parties
from exchange.payments.schemas import ReconciliationOut
from exchange.web.labels import zh
from kernel.exports import BEIJING, Column, Export, Kind, column, money


def _gap(row: dict[str, Any]) -> int | None:
    if row.get("ledger") is None and row.get("provider") is None:
        return None
    return (row.get("provider") or 0) - (row.get("ledger") or 0)


COLUMNS: list[Column] = [
    column("类别", Kind.TEXT, "section"),
    column("结果", Kind.TEXT, lambda r: zh(r["outcome"], "reconciliation_outcome") if r.get("outcome") else ""),
    column("参考号", Kind.TEXT, "reference"),
    *money("账簿金额（元）", "ledger"),
    *money("渠道金额（元）", "provider"),
    *money("差额（元）", _gap),  # the provider's less the ledger's
    column("笔数", Kind.INT, "count"),
    column("相关机构", Kind.TEXT, "orgs"),
    column("相关项目", Kind.TEXT, "listings"),
    column("说明", Kind.TEXT, "note"),
    column("结果代码", Kind.RAW, "outcome"),
    column("分录 ID", Kind.RAW, "entry_id"),
]


async def report_rows(session: AsyncSession, report: ReconciliationOut) -> list[dict[str, Any]]:
    ids = [uuid.UUID(line.entry_id) for line in report.differences if line.entry_id]
    parties = await entry_parties(session, ids)
    rows: list[dict[str, Any]] = []
    for line in report.differences:
        about = parties.get(uuid.UUID(line.entry_id)) if line.entry_id else None
        rows.append(
            {
                "section": "差异",
                "outcome": line.outcome,
                "reference": line.reference,
                "ledger": line.ledger_amount,
                "provider": line.provider_amount,
                "count": 1,
                "orgs": "；".join(about.orgs) if about else "",
                "listings": "；".join(about.listings) if about else "",
                "entry_id": line.entry_id,
            }
        )
    for outcome, total in report.totals.items():
        rows.append(
            {
                "section": "合计",
                "outcome": outcome,
                "ledger": total.ledger_amount,
                "provider": total.provider_amount,
                "count": total.count,
            }
        )
    for error in report.row_errors:
        rows.append({"section": "对账单行错误", "reference": f"第 {error.line} 行", "note": error.message})
    for event in report.unmatched_events:
        rows.append({"section": "未匹配的渠道事件", "reference": event.object_id, "note": f"{event.type} {event.id}"})
    return rows


async def reconciliation_export(session: AsyncSession, report: ReconciliationOut) -> Export:
    rows = await report_rows(session, report)
    start, end = report.period_from.strftime("%Y%m%d"), report.period_to.strftime("%Y%m%d")
    provider = zh(report.provider, "reconciliation_provider")
    made = report.created_at.astimezone(BEIJING).strftime("%Y%m%d")
    return Export(
        COLUMNS,
        rows,
        filename=f"对账报告-{provider}-{start}-{end}",
        fallback=f"reconciliation-{report.provider}-{start}-{end}-{report.id}",
        sheet=f"对账报告 {made}",
    )
