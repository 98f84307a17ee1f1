"""The Chinese words of the listings' vocabularies (fields, deal types, states, notice kinds…) as
pages show them: one table, read by the listings' pages and, through ``exchange.web.labels``
(which adds the exchange's own vocabularies), by every template's ``zh`` filter.
"""

from __future__ import annotations

from collections.abc import Mapping

from listings.domain import FIELD_LABELS

LISTING_LABELS: Mapping[str, Mapping[str, str]] = {
    "field": {field.value: label.split(" ", 1)[0] for field, label in FIELD_LABELS.items()},  # the Chinese half
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
    "notice_kind": {
        "listing_announcement": "挂牌公告",
        "negotiated_price": "协议定价公示",
        "deal_result": "成交结果公示",
        "voucher_redemption": "创新券兑付公示",
        "institution_transfer": "成果转化公示",
        "distribution_plan": "收益分配方案公示",
    },
    "notice_status": {"open": "公示中", "suspended": "异议处理中", "closed": "已结束", "cancelled": "已撤销"},
    "objection_status": {"pending": "待处理", "upheld": "异议成立", "dismissed": "异议不成立", "lapsed": "已失效"},
    "order": {
        "relevance": "相关度",
        "newest": "最新发布",
        "closing": "即将截止",
        "price_asc": "价格从低到高",
        "price_desc": "价格从高到低",
    },
    "territory": {"CN": "中国境内"},
    "concluded_by": {"auction": "网络竞价", "negotiation": "协议成交", "listed_price": "挂牌价成交"},
    "subject_type": {
        "listing": "科技成果挂牌",
        "deal": "成交",
        "voucher_redemption": "创新券兑付",
        "institution_process": "成果转化决策",
        "distribution_plan": "收益分配方案",
    },
    "broker_side": {"seller": "转让方", "buyer": "受让方"},  # who owes a broker's commission (notices)
}
