"""Signed content, field by field in Chinese: what a notice's page and every printed signed
document (notice, certificate, settlement statement, redemption) show beside the exact signed text.

``readable`` walks the canonical JSON: money in yuan, moments in Beijing time, codes in the words
of ``listings.labels``; a key it has no label for keeps its own name, so nothing is hidden.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from listings.labels import LISTING_LABELS

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
    # technology brokers declared by a listing's announcement and a deal's result notice
    "brokerage": "技术经纪",
    "broker": "技术经纪人",
    "broker_id": "经纪人编号",
    "broker_org": "经纪机构",
    "credential_number": "证书编号",
    "basis": "佣金",
    "owed_by": "佣金支付方",
    "commission": "经纪佣金",
}
MONEY = {"asking_price", "appraised_value", "deposit", "increment", "price", "amount", "fee", "total", "commission"}
MOMENTS = {"opens_at", "closes_at", "auction_opens_at"}
BASIS_POINTS = {"inventor_reward_bp", "shares_bp"}
# The vocabulary of a key's value, by the key and the key of the object holding it (a seller's and
# a buyer's ``kind`` are organisations', an IP asset's its kind of right, the notice's a notice kind).
VOCABULARIES: dict[str | tuple[str, str], str] = {
    "kind": "notice_kind",
    "field": "field",
    "deal_type": "deal_type",
    "mode": "pricing_mode",
    "scope": "license_scope",
    "concluded_by": "concluded_by",
    "status": "listing_status",
    "territory": "territory",
    ("seller", "kind"): "org_kind",
    ("buyer", "kind"): "org_kind",
    ("ip_assets", "kind"): "ip_kind",
    ("subject", "type"): "subject_type",
    ("deal", "type"): "deal_type",
    ("deal_terms", "type"): "deal_type",
    ("brokerage", "owed_by"): "broker_side",
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


@dataclasses.dataclass(frozen=True)
class Words:
    """How signed content reads in Chinese: labels of keys, and which keys hold money (fen), moments
    (RFC 3339) and basis points — a key alone, or ``(key of the holding object, key)``."""

    labels: dict[str, str]
    money: frozenset[str | tuple[str, str]]
    moments: frozenset[str | tuple[str, str]]
    basis_points: frozenset[str | tuple[str, str]]
    order: tuple[str, ...] = ()

    def extended(
        self,
        labels: dict[str, str],
        money: Iterable[str | tuple[str, str]] = (),
        moments: Iterable[str | tuple[str, str]] = (),
        order: tuple[str, ...] = (),
    ) -> Words:
        """These words and more: another signed document's (a certificate's, a statement's)."""
        return Words(
            {**self.labels, **labels},
            self.money | frozenset(money),
            self.moments | frozenset(moments),
            self.basis_points,
            order or self.order,
        )

    def holds(self, kinds: frozenset[str | tuple[str, str]], key: str, within: str | None) -> bool:
        return key in kinds or (within, key) in kinds


NOTICE_WORDS = Words(LABELS, frozenset(MONEY), frozenset(MOMENTS), frozenset(BASIS_POINTS), tuple(ORDER))


def readable(content: dict[str, Any], words: Words = NOTICE_WORDS) -> list[Fact]:
    """The signed content's fields in Chinese, money in yuan and moments in Beijing time. Unknown
    keys keep their own name: the exact text is on the page, nothing is hidden. Notices read with
    ``NOTICE_WORDS``; other signed documents with words ``extended`` by their own."""
    order = list(words.order)
    keys = sorted(content, key=lambda k: (order.index(k) if k in order else len(order), k))
    return [_fact(key, content[key], words) for key in keys]


def _fact(key: str, value: Any, words: Words, within: str | None = None) -> Fact:
    label = words.labels.get(key, key)
    if isinstance(value, dict):
        return Fact(label, parts=[_fact(k, v, words, key) for k, v in value.items()])
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return Fact(label, "、".join(_word(key, v, within) for v in value) or "—")
        return Fact(label, parts=[_item(key, i, v, words) for i, v in enumerate(value, 1)])
    number = isinstance(value, int) and not isinstance(value, bool)
    if number and words.holds(words.money, key, within):
        return Fact(label, value, "yuan")
    if number and words.holds(words.basis_points, key, within):
        return Fact(label, value, "percent_bp")
    if isinstance(value, str) and words.holds(words.moments, key, within):
        try:
            return Fact(label, datetime.fromisoformat(value), "beijing")
        except ValueError:
            pass
    return Fact(label, _word(key, value, within))


def _item(key: str, index: int, value: Any, words: Words) -> Fact:
    if isinstance(value, dict):
        return Fact(f"第 {index} 项", parts=[_fact(k, v, words, key) for k, v in value.items()])
    return Fact(f"第 {index} 项", _word(key, value))


def _word(key: str, value: Any, within: str | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    vocabulary = (VOCABULARIES.get((within, key)) if within else None) or VOCABULARIES.get(key, "")
    words = LISTING_LABELS.get(vocabulary, {})
    return words.get(str(value), str(value))
