"""The Chinese words of the exchange's vocabularies (fields, deal types, states…) as pages show them.

The API speaks in stable English codes (``new_energy``, ``exclusive``); a page writes
``{{ listing.field | zh("field") }}`` and lists a filter's choices with ``{% for code, words in
choices("field") %}``. An unknown code is shown as it is, never as an error: a new state added to
the API shows up on the pages before its words are written here.
"""

from __future__ import annotations

from collections.abc import Mapping

from listings.labels import LISTING_LABELS

LABELS: Mapping[str, Mapping[str, str]] = {
    **LISTING_LABELS,
    "auction_status": {"scheduled": "待开始", "open": "竞价中", "closed": "已结束"},
    "role": {"admin": "管理员", "member": "成员"},
    "category": {  # services payable with innovation vouchers
        "tech_search": "科技查新与检索",
        "patent_management": "专利管理",
        "valuation": "评估评价",
        "engineering_verification": "工程化验证",
        "testing": "检验检测",
        "brokerage": "技术经纪",
        "r_and_d": "研发设计",
        "consulting": "技术咨询",
    },
}

# The badge of a listing's state in lists: open while intents may be registered, ok once sold.
STATUS_BADGES: Mapping[str, str] = {
    "announced": "open",
    "auctioning": "open",
    "negotiating": "open",
    "deal_formed": "ok",
    "sold": "ok",
    "suspended": "bad",
    "unsold": "closed",
    "closing": "closed",
    "withdrawn": "closed",
    "rejected": "bad",
}


def zh(code: object, vocabulary: str) -> str:
    """The Chinese words of ``code`` in ``vocabulary``; the code itself when none are written."""
    text = str(getattr(code, "value", code))
    return LABELS.get(vocabulary, {}).get(text, text)


def choices(vocabulary: str) -> list[tuple[str, str]]:
    """Every (code, words) of a vocabulary, for a filter's options."""
    return list(LABELS[vocabulary].items())


def badge(status: object) -> str:
    return STATUS_BADGES.get(str(getattr(status, "value", status)), "")


# -- vouchers: service orders, redemptions and programs (the voucher workspaces) ---------------------
LABELS = {
    **LABELS,
    "service_order_state": {
        "ordered": "待服务机构确认",
        "confirmed": "服务中",
        "delivered": "已交付，待验收",
        "accepted": "已验收",
        "cancelled": "已取消",
    },
    "redemption_state": {
        "noticed": "公示中",
        "suspended": "公示暂停（异议处理中）",
        "ready": "公示期满，待审核",
        "approved": "已兑付",
        "rejected": "已驳回",
    },
    "program_status": {"upcoming": "尚未开始", "active": "有效期内", "ended": "已结束"},
}
