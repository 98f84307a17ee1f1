"""The Chinese words of the exchange's vocabularies (fields, deal types, states…) as pages show them.

The API speaks in stable English codes (``new_energy``, ``exclusive``); a page writes
``{{ listing.field | zh("field") }}`` and lists a filter's choices with ``{% for code, words in
choices("field") %}``. An unknown code is shown as it is, never as an error: a new state added to
the API shows up on the pages before its words are written here.
"""

from __future__ import annotations

from collections.abc import Mapping

LABELS: Mapping[str, Mapping[str, str]] = {
    "field": {
        "electronic_information": "电子信息",
        "biomedicine": "生物医药",
        "advanced_manufacturing": "先进制造",
        "new_materials": "新材料",
        "new_energy": "新能源",
        "energy_saving_environment": "节能环保",
        "agriculture": "现代农业",
        "other": "其他",
    },
    "deal_type": {"transfer": "转让", "license": "许可", "equity": "作价入股"},
    "license_scope": {"exclusive": "独占许可", "sole": "排他许可", "non_exclusive": "普通许可"},
    "pricing_mode": {"negotiated": "协议定价", "listed": "挂牌交易", "auction": "拍卖"},
    "listing_status": {
        "draft": "草稿",
        "under_review": "审核中",
        "rejected": "未通过审核",
        "announced": "公示中",
        "suspended": "公示暂停",
        "closing": "公示期满",
        "unsold": "未成交",
        "negotiating": "协商中",
        "auctioning": "竞价中",
        "deal_formed": "已成交",
        "sold": "已完成交割",
        "withdrawn": "已撤回",
    },
    "org_kind": {
        "university": "高等院校",
        "research_institute": "科研院所",
        "enterprise": "企业",
        "service_provider": "服务机构",
        "government": "政府部门",
        "operator": "交易所",
    },
    "ip_kind": {
        "invention_patent": "发明专利",
        "utility_model": "实用新型专利",
        "design_patent": "外观设计专利",
        "software_copyright": "软件著作权",
        "ic_layout": "集成电路布图设计",
        "plant_variety": "植物新品种",
        "know_how": "技术秘密",
    },
    "auction_status": {"scheduled": "待开始", "open": "竞价中", "closed": "已结束"},
    "notice_kind": {
        "listing_announcement": "挂牌公示",
        "negotiated_price": "协议定价公示",
        "deal_result": "成交结果公示",
        "voucher_redemption": "创新券兑付公示",
    },
    "notice_status": {"open": "公示中", "suspended": "暂停", "closed": "已结束", "cancelled": "已撤销"},
    "order": {
        "relevance": "相关度",
        "newest": "最新发布",
        "closing": "即将截止",
        "price_asc": "价格从低到高",
        "price_desc": "价格从高到低",
    },
    "territory": {"CN": "中国境内"},
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
    "concluded_by": {"auction": "网络竞价", "negotiation": "协议成交", "listed_price": "挂牌价成交"},
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
