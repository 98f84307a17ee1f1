"""The pages of tracking after the deal (成果转化跟踪): the buyer's workspace (/workspace/tracking:
the reports due, overdue and filed of the deals it bought, each open one with its form), the
seller's (/workspace/tracking/transferred: the latest status of everything it transferred, with
overdue reports flagged) and the operators' console (/console/tracking: overdue reports).

Every handler calls the service function of the JSON route. A refused form is shown again as
typed with the Chinese words next to the input at fault (422), nothing written.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from exchange.parties.domain import Principal
from exchange.parties.http import Caller
from exchange.platform.http import Db, Now
from exchange.tracking import service
from exchange.tracking.domain import ReportStatus, RevenueBand
from exchange.tracking.schemas import ReportIn, TrackedDealOut
from exchange.web import forms
from exchange.web.forms import Refused, checked, names_fields, refused_by, typed
from exchange.web.messages import field_words, listing_field_message
from kernel.errors import DomainError

PRIVATE = {"public_cache": False}

FIELDS = {
    "status": "请选择实施状态：研发中、已投产或已终止。",
    "reason": "实施已终止的，须说明终止原因（最多 2,000 字）。",
    "products": "产品或工艺最多 2,000 字。",
    "revenue_band": "请选择本期收入区间。",
    "jobs_created": "新增就业人数须为 0 至 1,000,000 的整数。",
    "further_ip_count": "后续知识产权数量须为 0 至 10,000 的整数。",
    "further_ip": "填写了后续知识产权数量的，须列出其名称或编号（最多 2,000 字）。",
}
RULES = {
    ("reason", "needs its reason"): FIELDS["reason"],
    ("further_ip", "describe the further IP"): FIELDS["further_ip"],
}
tracking_field_message = field_words(FIELDS, RULES, listing_field_message)


class Form(forms.Form):
    inputs: Mapping[str, re.Pattern[str]] = {
        "report": re.compile(r"^(status|reason|products|revenue_band|jobs_created|further_ip_count|further_ip)$")
    }

    def message(self, name: str, problem_type: str, item: Mapping[str, Any] | None = None) -> str:
        return tracking_field_message(name, problem_type, item)


def _count(form: Form, name: str) -> int | str:
    text = form.value(name) or "0"
    return int(text) if text.isdigit() else text  # not a number: refused by the schema, naming the field


def report_in(form: Form) -> ReportIn:
    body = {
        "status": form.value("status"),
        "reason": form.value("reason"),
        "products": form.value("products"),
        "revenue_band": form.value("revenue_band") or RevenueBand.NONE.value,
        "jobs_created": _count(form, "jobs_created"),
        "further_ip_count": _count(form, "further_ip_count"),
        "further_ip": form.value("further_ip"),
    }
    return checked(form, ReportIn, body)


def report_values(deals: list[TrackedDealOut]) -> dict[uuid.UUID, dict[str, str]]:
    """Each filed report's stored values, as its correction form shows them."""
    values: dict[uuid.UUID, dict[str, str]] = {}
    for deal in deals:
        for r in deal.reports:
            if r.filed_at is not None:
                values[r.id] = {
                    "status": r.status or "", "reason": r.reason, "products": r.products,
                    "revenue_band": r.revenue_band or "", "jobs_created": str(r.jobs_created or 0),
                    "further_ip_count": str(r.further_ip_count or 0), "further_ip": r.further_ip,
                }  # fmt: skip
    return values


def _context(deals: list[TrackedDealOut], tab: str, **extra: Any) -> dict[str, Any]:
    return {
        "section": "workspace", "workspace_tab": tab, "deals": deals, "statuses": [s.value for s in ReportStatus],
        "bands": [b.value for b in RevenueBand], **extra,
    }  # fmt: skip


async def _buyer_context(db: Db, user: Principal, now: Any, form: Form | None = None) -> dict[str, Any]:
    async with db.read() as session:
        deals, _ = await service.deals_of_side(session, user, "buyer", now)
    forms_by_report = {rid: Form(f"report:{rid}", values) for rid, values in report_values(deals).items()}
    if form is not None:
        forms_by_report[uuid.UUID(form.key.partition(":")[2])] = form
    return _context(deals, "tracking", forms=forms_by_report, blank=lambda rid: Form(f"report:{rid}"))


@get("/workspace/tracking", include_in_schema=False, name="tracking-buyer", opt=PRIVATE)
async def buyer_page(user: Caller, db: Db, clock: Now) -> Template:
    """``GET /tracking/deals?side=buyer``: the deals the organisation bought and their reports."""
    return Template("tracking/buyer.html", context=await _buyer_context(db, user, clock.now()))


@post("/workspace/tracking/reports/{report_id:uuid}", include_in_schema=False, status_code=200)
async def file_report(
    request: Request[Any, Any, Any], report_id: FromPath[uuid.UUID], user: Caller, db: Db, clock: Now
) -> Template | Redirect:
    """``POST /tracking/reports/{id}``: file the report, or correct it."""
    form = await typed(request, f"report:{report_id}", Form)
    now = clock.now()
    try:
        data = report_in(form)
        await db.transaction(lambda s: service.file_report(s, user, report_id, data, now))
    except Refused:
        return Template("tracking/buyer.html", context=await _buyer_context(db, user, now, form), status_code=422)
    except DomainError as refusal:
        if not names_fields(refusal):
            raise
        refused_by(form, refusal)
        context = await _buyer_context(db, user, now, form)
        return Template("tracking/buyer.html", context=context, status_code=refusal.status)
    return Redirect(f"/workspace/tracking?notice=tracking-report-filed#report-{report_id}", status_code=303)


@get("/workspace/tracking/transferred", include_in_schema=False, name="tracking-seller", opt=PRIVATE)
async def seller_page(user: Caller, db: Db, clock: Now) -> Template:
    """``GET /tracking/deals?side=seller``: what the organisation transferred, and how it is used."""
    async with db.read() as session:
        deals, _ = await service.deals_of_side(session, user, "seller", clock.now())
    return Template("tracking/seller.html", context=_context(deals, "tracking-transferred"))


@get("/console/tracking", include_in_schema=False, name="console-tracking", opt=PRIVATE)
async def console_page(user: Caller, db: Db, clock: Now) -> Template:
    """``GET /tracking/overdue``: reports past their due date and not filed."""
    async with db.read() as session:
        items, _ = await service.overdue_reports(session, user, clock.now())
    return Template(
        "tracking/console.html", context={"section": "workspace", "workspace_tab": "console-tracking", "items": items}
    )


PAGE_HANDLERS = [buyer_page, file_report, seller_page, console_page]
