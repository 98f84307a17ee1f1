"""The notice board (公示公告) pages: the board with its filters, a notice with its signed text and
its signature verified in the reader's browser, and the objection form.

The handlers call the same functions as the JSON routes (``notices.list_notices``, ``get_notice``,
``objection_counts``, ``file_objection``) and shape a notice with the API's own views, so a page
and ``GET /api/v1/notices`` can never disagree. What is here is presentation: parsing a GET form,
and the Chinese words for the signed content's fields.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template
from msgspec import Struct

from kernel.pagination import DEFAULT_LIMIT
from listings import notices
from listings.domain import (
    FIELD_LABELS,
    Field,
    NoticeKind,
    NoticeStatus,
    NoticeStatusFilter,
    objection_window_open,
)
from listings.models import Notice
from listings.routes import Caller, Ctx, Db, Now
from listings.service import WITHDRAWN_BY_SELLER
from listings.views import notice_out, notice_summary

KIND_NAMES = {
    NoticeKind.LISTING_ANNOUNCEMENT: "挂牌公告",
    NoticeKind.NEGOTIATED_PRICE: "协议定价公示",
    NoticeKind.DEAL_RESULT: "成交结果公示",
    NoticeKind.VOUCHER_REDEMPTION: "创新券兑付公示",
}
STATUS_NAMES = {
    NoticeStatus.OPEN: "公示中",
    NoticeStatus.SUSPENDED: "异议处理中",
    NoticeStatus.CLOSED: "已结束",
    NoticeStatus.CANCELLED: "已撤销",
}
STATUS_FILTER_NAMES = {
    NoticeStatusFilter.ALL: "全部",
    **{NoticeStatusFilter(s.value): n for s, n in STATUS_NAMES.items()},
}
STATUS_BADGES = {
    NoticeStatus.OPEN: "open",
    NoticeStatus.SUSPENDED: "bad",
    NoticeStatus.CLOSED: "closed",
    NoticeStatus.CANCELLED: "closed",
}
FIELD_NAMES = {f: label.split(" ", 1)[0] for f, label in FIELD_LABELS.items()}  # the Chinese half
BOARD_PAGE_SIZE = DEFAULT_LIMIT  # the API's default page

E = TypeVar("E", bound=StrEnum)


def _choice(enum: type[E], name: str, value: str) -> E | None:
    """A select's value: empty means "any"; anything else must be one of the choices (else 400)."""
    value = value.strip()
    if not value:
        return None
    try:
        return enum(value)
    except ValueError:
        raise _bad(name, f"not one of {', '.join(e.value for e in enum)}") from None


def _day(name: str, value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(name, "not a date (YYYY-MM-DD)") from None


def _bad(name: str, message: str) -> ValidationException:
    # The shape of the framework's own query validation errors: a 400 the pages show in Chinese.
    return ValidationException(
        detail=f"{name}: {message}", extra=[{"key": name, "source": "query", "message": message}]
    )


@get("/notices", include_in_schema=False, name="notice-board")
async def notice_board(
    request: Request[Any, Any, Any],
    db: Db,
    clock: Now,
    listings: Ctx,
    kind: FromQuery[str] = "",
    field: FromQuery[str] = "",
    status: FromQuery[str] = "",
    opened_from: FromQuery[str] = "",
    opened_to: FromQuery[str] = "",
    cursor: FromQuery[str | None] = None,
) -> Template:
    """The board: every kind and status by default, the latest to close first (so running notices
    lead); the filters are a plain GET form, so a filtered board is a link one can share."""
    request.state.action = "notice-board"  # its refusals in its own words (exchange/web/messages.py)
    chosen = {
        "kind": _choice(NoticeKind, "kind", kind),
        "field": _choice(Field, "field", field),
        "status": _choice(NoticeStatusFilter, "status", status) or NoticeStatusFilter.ALL,
        "opened_from": _day("opened_from", opened_from),
        "opened_to": _day("opened_to", opened_to),
    }
    now = clock.now()
    async with db.read() as session:
        rows, next_cursor = await notices.list_notices(
            session,
            status=chosen["status"].status(),
            kind=chosen["kind"],
            subject_id=None,
            field=chosen["field"],
            opened_from=chosen["opened_from"],
            opened_to=chosen["opened_to"],
            limit=BOARD_PAGE_SIZE,
            cursor=cursor or None,
        )
        counts = await notices.objection_counts(session, [n.id for n in rows])
        days = await notices.working_days_left(session, listings, rows, now)
    form = {key: ("" if value is None else str(value)) for key, value in chosen.items()}
    if chosen["status"] is NoticeStatusFilter.ALL:
        form["status"] = ""
    shown = {key: value for key, value in form.items() if value}
    context = {
        "section": "notices",
        "items": [notice_summary(n, counts.get(n.id, (0, 0)), now) for n in rows],
        "days_left": days,
        "form": form,
        "filtered": bool(shown),
        "first_page": not cursor,
        "first_url": "/notices" + (f"?{urlencode(shown)}" if shown else ""),
        "next_url": f"/notices?{urlencode({**shown, 'cursor': next_cursor})}" if next_cursor else None,
        **_names(),
    }
    return Template("listings/notices.html", context=context)


def _names() -> dict[str, Any]:
    return {
        "kind_names": KIND_NAMES,
        "status_names": STATUS_NAMES,
        "status_filter_names": STATUS_FILTER_NAMES,
        "status_badges": STATUS_BADGES,
        "field_names": FIELD_NAMES,
    }


# ----------------------------------------------------------------------------------------------
# A notice


@get("/notices/{notice_id:uuid}", include_in_schema=False, name="notice")
async def notice_page(
    request: Request[Any, Any, Any], notice_id: FromPath[uuid.UUID], db: Db, clock: Now, listings: Ctx
) -> Template:
    return Template("listings/notice.html", context=await _notice_context(request, db, clock, listings, notice_id))


async def _notice_context(
    request: Request[Any, Any, Any], db: Db, clock: Now, listings: Ctx, notice_id: uuid.UUID, **more: Any
) -> dict[str, Any]:
    now = clock.now()
    async with db.read() as session:
        notice = await notices.get_notice(session, notice_id)
        counts = await notices.objection_counts(session, [notice.id])
        days = await notices.working_days_left(session, listings, [notice], now)
    shaped = notice_out(notice, counts.get(notice.id, (0, 0)), now)
    return {
        "section": "notices",
        "notice": shaped,
        "days_left": days.get(notice.id),
        "ending": _ending(notice),
        "facts": readable(shaped.content),
        "objections_open": objection_window_open(NoticeStatus(notice.status), notice.closes_at, now),
        "signed_in": request.state.get("principal") is not None,
        "site": str(request.base_url).rstrip("/"),
        "answer": None,
        **_names(),
        **more,
    }


def _ending(notice: Notice) -> dict[str, Any] | None:
    """How an ended or suspended notice reads at the top of its page: what happened, and where to go."""
    if notice.superseded_by_id is not None:
        return {"text": "此公示已被新版本取代，以新版本为准。", "newer": notice.superseded_by_id, "reason": ""}
    if notice.status == NoticeStatus.CANCELLED.value:
        upheld = notices.cancelled_on_objection(notice)
        text = "此公示因异议成立已撤销。" if upheld else "此公示已撤回。"
        return {
            "text": text,
            "newer": None,
            "reason": "" if upheld else END_REASONS.get(notice.end_reason, notice.end_reason),
        }
    if notice.status == NoticeStatus.CLOSED.value:
        return {"text": "此公示期已满，公示已结束。", "newer": None, "reason": ""}
    if notice.status == NoticeStatus.SUSPENDED.value:
        text = "公示期已满，因有异议尚待处理，公示暂停；交易所处理后公示结束或撤销。"
        return {"text": text, "newer": None, "reason": ""}
    return None


# The reasons the exchange itself gives for withdrawing a notice, in Chinese; any other (an
# operator's own words when a voucher claim is rejected) is shown as written.
END_REASONS = {WITHDRAWN_BY_SELLER: "转让方撤回了挂牌。"}


# ----------------------------------------------------------------------------------------------
# The signed content, field by field in Chinese (the exact text is shown beside it)

LABELS = {
    "notice_id": "公示编号",
    "kind": "公示类型",
    "issuer": "发布机构",
    "title": "标题",
    "subject": "公示对象",
    "type": "类型",
    "id": "编号",
    "opens_at": "开始时间",
    "closes_at": "截止时间",
    "period_rule": "期限规则",
    "supersedes": "取代的公示",
    "body": "公示内容",
    "listing_id": "项目 ID",
    "number": "编号",
    "version": "版本",
    "status": "状态",
    "summary": "简介",
    "field": "技术领域",
    "keywords": "关键词",
    "maturity": "技术成熟度",
    "ip_assets": "知识产权",
    "expires_on": "到期日",
    "inventors": "发明人",
    "deal": "交易方式",
    "pricing": "价格",
    "mode": "定价方式",
    "asking_price": "挂牌价",
    "appraised_value": "评估值",
    "appraisal_report": "评估报告",
    "deposit": "保证金",
    "increment": "加价幅度",
    "inventor_reward_bp": "发明人奖励比例",
    "seller": "转让方",
    "name": "名称",
    "org_id": "机构 ID",
    "announcement": "公示安排",
    "round": "公示轮次",
    "working_days": "公示工作日数",
    "auction_opens_at": "竞价开始时间",
    "achievement": "科技成果",
    "listing_number": "项目编号",
    "deal_type": "交易类型",
    "deal_terms": "交易条件",
    "price": "成交价",
    "buyer": "受让方",
    "concluded_by": "成交方式",
    "related_party": "关联交易",
    "program": "创新券项目",
    "provider": "服务机构",
    "amount": "金额",
    "service_orders": "服务订单",
    "exchange_fees": "交易服务费",
    "scope": "许可方式",
    "term_months": "许可期限（月）",
    "territory": "许可地域",
    "company_name": "公司名称",
    "shares_bp": "股权比例",
}
MONEY = {"asking_price", "appraised_value", "deposit", "increment", "price", "amount", "fee", "total"}
MOMENTS = {"opens_at", "closes_at", "auction_opens_at"}
BASIS_POINTS = {"inventor_reward_bp", "shares_bp"}
WORDS = {
    "kind": {k.value: n for k, n in KIND_NAMES.items()},
    "field": {f.value: n for f, n in FIELD_NAMES.items()},
    "deal_type": {"transfer": "转让", "license": "许可", "equity": "作价入股"},
    "mode": {"negotiated": "协议定价", "listed": "挂牌", "auction": "竞价"},
    "scope": {"exclusive": "独占许可", "sole": "排他许可", "non_exclusive": "普通许可"},
    "concluded_by": {"negotiation": "协议", "auction": "竞价", "listed": "挂牌"},
    # a subject's type, and a deal's terms' type
    "type": {
        "listing": "科技成果挂牌",
        "deal": "成交",
        "voucher_redemption": "创新券兑付",
        "transfer": "转让",
        "license": "许可",
        "equity": "作价入股",
    },
}
# The signed text's keys are sorted (canonical JSON); a reader wants what it is first, then when, then the body.
ORDER = [
    "title",
    "kind",
    "notice_id",
    "issuer",
    "subject",
    "opens_at",
    "closes_at",
    "period_rule",
    "supersedes",
    "body",
]


@dataclasses.dataclass
class Fact:
    """One field of the signed content: its Chinese label, and its value (written by the template
    with the filter ``format`` names: ``yuan``, ``beijing``, ``percent_bp`` or plain ``text``) or its parts."""

    label: str
    value: Any = None
    format: str = "text"
    parts: list[Fact] = dataclasses.field(default_factory=list)


def readable(content: dict[str, Any]) -> list[Fact]:
    """The signed content's fields in Chinese, money in yuan and moments in Beijing time. Unknown
    keys keep their own name: the exact text is on the page, nothing is hidden."""
    keys = sorted(content, key=lambda k: (ORDER.index(k) if k in ORDER else len(ORDER), k))
    return [_fact(key, content[key]) for key in keys]


def _fact(key: str, value: Any) -> Fact:
    label = LABELS.get(key, key)
    if isinstance(value, dict):
        return Fact(label, parts=[_fact(k, v) for k, v in value.items()])
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return Fact(label, "、".join(_word(key, v) for v in value) or "—")
        return Fact(label, parts=[_item(key, i, v) for i, v in enumerate(value, 1)])
    if key in MONEY and isinstance(value, int) and not isinstance(value, bool):
        return Fact(label, value, "yuan")
    if key in BASIS_POINTS and isinstance(value, int) and not isinstance(value, bool):
        return Fact(label, value, "percent_bp")
    if key in MOMENTS and isinstance(value, str):
        try:
            return Fact(label, datetime.fromisoformat(value), "beijing")
        except ValueError:
            pass
    return Fact(label, _word(key, value))


def _item(key: str, index: int, value: Any) -> Fact:
    if isinstance(value, dict):
        return Fact(f"第 {index} 项", parts=[_fact(k, v) for k, v in value.items()])
    return Fact(f"第 {index} 项", _word(key, value))


def _word(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    return WORDS.get(key, {}).get(str(value), str(value))


# ----------------------------------------------------------------------------------------------
# Objections


class ObjectionForm(Struct):
    reason: str = ""


@post("/notices/{notice_id:uuid}/objections", include_in_schema=False, status_code=200, name="notice-objection")
async def object_to_notice(
    request: Request[Any, Any, Any],
    notice_id: FromPath[uuid.UUID],
    data: Annotated[ObjectionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    actor: Caller,
    db: Db,
    clock: Now,
    listings: Ctx,
) -> Template:
    """File an objection as ``POST /api/v1/notices/{id}/objections`` does. htmx gets the answer
    alone, in place of the form's answer; a browser without scripts gets the notice page with it.
    A refusal is raised to the pages' error handler, which words it in Chinese (for htmx: in place)."""
    request.state.action = "objection"  # refusals read in the objection's words (exchange/web/messages.py)
    objection = await db.transaction(lambda s: notices.file_objection(s, actor, notice_id, data.reason, clock.now()))
    async with db.read() as session:
        notice = await notices.get_notice(session, notice_id)
    answer = {"filed_at": objection.filed_at, "closes_at": notice.closes_at}
    if request.headers.get("hx-request") == "true":
        return Template("listings/objection_answer.html", context={"answer": answer})
    context = await _notice_context(request, db, clock, listings, notice_id, answer=answer)
    return Template("listings/notice.html", context=context)


PAGE_HANDLERS = [notice_board, notice_page, object_to_notice]
