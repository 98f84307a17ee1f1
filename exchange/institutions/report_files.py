"""The annual report as files: a PDF (kernel/printing.py, Chinese with the embedded CJK font, not
signed) and a spreadsheet (kernel/exports.py: CSV with a BOM, or xlsx with typed cells), for an
institution; and the operators' summary as a spreadsheet. Each is made from the very answer the
JSON route gives (``reports.annual_report`` / ``reports.annual_summary``).

The institution's spreadsheet is "long": one row per figure — its section, the item, a count, an
amount in yuan and in fen, a moment where the row is a deal, and a note (a joint body's partner,
the problems and plans), and the tracking of what it transferred (七、成果转化跟踪: deals by the
latest reported status, reports due, filed and overdue, jobs, revenue bands) — which a pivot table
takes directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from litestar import Request, Response

from exchange.institutions.annual import CONTRACT_KINDS, DEAL_TYPES
from exchange.institutions.schemas import AnnualReportOut, AnnualSummaryOut, DealsOut
from exchange.web.labels import zh
from kernel.exports import BEIJING, Column, Export, ExportFormat, Kind, column, money
from kernel.printing import pdf_response, print_document

ReportFormat = Literal["json", "pdf", "csv", "xlsx"]
SummaryFormat = Literal["json", "csv", "xlsx"]

# The words of the report's own vocabularies (the deal types and IP kinds are the listings').
WORDS: Mapping[str, Mapping[str, str]] = {
    "intended_form": {"transfer": "转让", "license": "许可", "equity": "作价投资", "keep": "自行实施或保留"},
    "funding": {"government": "财政资助项目形成", "other": "非财政资助"},
    "contract": {"development": "技术开发合同", "consulting": "技术咨询合同", "service": "技术服务合同"},
    "deal_state": {
        "result_notice": "结果公示中",
        "awaiting_signatures": "待签约",
        "awaiting_payment": "待付款",
        "paying_instalments": "分期付款中",
        "settled": "已结算",
        "defaulted": "已违约",
    },
}


def word(vocabulary: str, code: str) -> str:
    if vocabulary in WORDS:
        return WORDS[vocabulary].get(code, code)
    return zh(code, vocabulary)


# -- the spreadsheet -----------------------------------------------------------------------------

COLUMNS: list[Column] = [
    column("板块", Kind.TEXT, "section"),
    column("项目", Kind.TEXT, "item"),
    column("数量", Kind.INT, "count"),
    *money("金额（元）", "amount"),
    column("时间", Kind.MOMENT, "at"),
    column("说明", Kind.TEXT, "note"),
]


def _deal_rows(section: str, deals: DealsOut) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "section": section,
            "item": word("deal_type", t),
            "count": deals.by_type[t].count,
            "amount": deals.by_type[t].amount,
        }
        for t in DEAL_TYPES
    ]
    rows.append({"section": section, "item": "合计", "count": deals.total.count, "amount": deals.total.amount})
    rows.extend(
        {
            "section": f"{section}明细",
            "item": d.title,
            "count": 1,
            "amount": d.price,
            "at": d.formed_at,
            "note": f"{word('deal_type', d.deal_type)}；{word('deal_state', d.state)}",
        }
        for d in deals.deals
    )
    return rows


def report_rows(report: AnnualReportOut) -> list[dict[str, Any]]:
    found, income, inputs = report.achievements, report.income, report.inputs
    s1, s2, s3 = "一、科技成果", "二、转化（本单位转化流程）", "二、转化（作为卖方的全部成交）"
    rows: list[dict[str, Any]] = [
        {"section": s1, "item": "披露的科技成果", "count": found.disclosures},
        {"section": s1, "item": "知识产权（件）", "count": found.ip_assets},
    ]
    rows += [{"section": s1, "item": word("ip_kind", k), "count": n} for k, n in found.by_ip_kind.items()]
    rows += [{"section": s1, "item": word("funding", k), "count": n} for k, n in found.by_funding.items()]
    rows += [{"section": s1, "item": f"拟{word('intended_form', k)}", "count": n} for k, n in found.by_form.items()]
    rows += _deal_rows(s2, report.process_deals)
    rows += _deal_rows(s3, report.seller_deals)
    s4 = "三、收入与分配"
    rows += [
        {"section": s4, "item": "收到的转化收入", "count": income.received.count, "amount": income.received.amount},
        {"section": s4, "item": "已发放给成果完成人", "count": income.plans_paid, "amount": income.to_inventors},
        {"section": s4, "item": "单位留存", "amount": income.retained},
    ]
    rows += [
        {"section": s4, "item": f"单位留存：{part}", "amount": amount}
        for part, amount in income.retained_by_part.items()
    ]
    s5 = "四、技术开发、咨询、服务合同"
    rows += [
        {
            "section": s5,
            "item": word("contract", k),
            "count": inputs.contracts[k].count,
            "amount": inputs.contracts[k].amount,
        }
        for k in CONTRACT_KINDS
    ]
    rows.append(
        {"section": s5, "item": "合计", "count": inputs.contracts_total.count, "amount": inputs.contracts_total.amount}
    )
    s6 = "五、联合研发机构"
    rows.append({"section": s6, "item": "联合研发机构", "count": len(inputs.joint_bodies)})
    rows += [
        {
            "section": s6,
            "item": b.name,
            "note": b.partner + (f"（{b.founded_on.isoformat()} 成立）" if b.founded_on else ""),
        }
        for b in inputs.joint_bodies
    ]
    rows += [
        {"section": "六、问题与计划", "item": "存在的问题", "note": inputs.problems},
        {"section": "六、问题与计划", "item": "下一步计划", "note": inputs.plans},
    ]
    rows += tracking_rows(report)
    return rows


def tracking_rows(report: AnnualReportOut) -> list[dict[str, Any]]:
    """七、成果转化跟踪, as the page and the PDF show it; none where tracking is not wired."""
    found = report.tracking
    if found is None:
        return []
    s7 = "七、成果转化跟踪"
    rows: list[dict[str, Any]] = [{"section": s7, "item": "跟踪的成交", "count": found.deals}]
    rows += [
        {"section": s7, "item": f"最近报告：{word('tracking_status', k)}", "count": n}
        for k, n in found.by_status.items()
    ]
    rows += [
        {"section": s7, "item": "本年度到期的报告", "count": found.reports_due},
        {"section": s7, "item": "已填报", "count": found.reports_filed},
        {"section": s7, "item": "逾期未报", "count": found.reports_overdue},
        {"section": s7, "item": "新增就业（人）", "count": found.jobs},
    ]
    rows += [
        {"section": s7, "item": f"收入{word('revenue_band', k)}", "count": n} for k, n in found.by_revenue_band.items()
    ]
    return rows


def report_export(report: AnnualReportOut) -> Export:
    day = report.generated_at.astimezone(BEIJING).strftime("%Y%m%d")
    return Export(
        COLUMNS,
        report_rows(report),
        filename=f"{report.org_name}-{report.year}年度科技成果转化报告-{day}",
        fallback=f"annual-report-{report.org_id}-{report.year}-{day}",
        sheet=f"{report.year}年度报告",
    )


SUMMARY_COLUMNS: list[Column] = [
    column("机构", Kind.TEXT, "name"),
    column("披露成果", Kind.INT, "disclosures"),
    column("其中财政资助", Kind.INT, "government_funded"),
    column("知识产权（件）", Kind.INT, "ip_assets"),
    column("转化流程成交（笔）", Kind.INT, lambda r: r.process_deals.count),
    *money("转化流程成交金额（元）", lambda r: r.process_deals.amount),
    column("卖方成交（笔）", Kind.INT, lambda r: r.seller_deals.count),
    *money("卖方成交金额（元）", lambda r: r.seller_deals.amount),
    *money("转化收入（元）", "received"),
    *money("发放给完成人（元）", "to_inventors"),
    *money("单位留存（元）", "retained"),
    column("技术合同（项）", Kind.INT, lambda r: r.contracts.count),
    *money("技术合同金额（元）", lambda r: r.contracts.amount),
    column("联合研发机构", Kind.INT, "joint_bodies"),
    column("机构 ID", Kind.RAW, lambda r: str(r.org_id) if r.org_id else ""),
]


def summary_export(summary: AnnualSummaryOut) -> Export:
    day = summary.generated_at.astimezone(BEIJING).strftime("%Y%m%d")
    return Export(
        SUMMARY_COLUMNS,
        [*summary.items, summary.totals],
        filename=f"{summary.year}年度高校院所科技成果转化汇总-{day}",
        fallback=f"annual-reports-{summary.year}-{day}",
        sheet=f"{summary.year}年度汇总",
    )


# -- the PDF -------------------------------------------------------------------------------------


async def report_pdf(request: Request[Any, Any, Any], report: AnnualReportOut) -> Response[bytes]:
    pdf = await print_document(
        request,
        "institutions/report_pdf.html",
        report=report,
        word=word,
        deal_types=DEAL_TYPES,
        contract_kinds=CONTRACT_KINDS,
    )
    return pdf_response(pdf, f"annual-report-{report.org_id}-{report.year}.pdf", private=True)


async def report_response(request: Request[Any, Any, Any], report: AnnualReportOut, fmt: ReportFormat) -> Response[Any]:
    """The report as the asked format chooses: JSON, PDF or a spreadsheet."""
    if fmt == "pdf":
        return await report_pdf(request, report)
    if fmt in ("csv", "xlsx"):
        export_format: ExportFormat = "xlsx" if fmt == "xlsx" else "csv"
        return report_export(report).response(export_format, {"Cache-Control": "private, no-store"})
    return Response(report)
