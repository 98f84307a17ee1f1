"""The Chinese names of the API's codes (fields, deal types, kinds of organisation, service
categories, notice kinds and states), as the pages show them: ``{{ deal.field | label("field") }}``.

An unknown code is shown as it is rather than failing the page: a code added to a module later
shows up in English until it is named here.
"""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
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
    "pricing_mode": {"negotiated": "协议定价", "listed": "挂牌定价", "auction": "网络竞价"},
    "org_kind": {
        "university": "高校",
        "research_institute": "科研院所",
        "enterprise": "企业",
        "service_provider": "服务机构",
        "government": "政府部门",
        "operator": "交易所",
    },
    "category": {
        "tech_search": "科技查新与检索",
        "patent_management": "专利管理",
        "valuation": "评估评价",
        "engineering_verification": "工程化验证",
        "testing": "检验检测",
        "brokerage": "技术经纪",
        "r_and_d": "研发设计",
        "consulting": "技术咨询",
    },
    "notice_kind": {
        "listing_announcement": "挂牌公告",
        "negotiated_price": "协议定价公示",
        "deal_result": "成交结果公示",
        "voucher_redemption": "创新券兑付公示",
    },
    "notice_status": {"open": "公示中", "suspended": "异议处理中", "closed": "已结束", "cancelled": "已撤销"},
    "concluded_by": {"auction": "网络竞价", "negotiation": "协议成交"},
}


def label(code: object, group: str) -> str:
    """The Chinese name of ``code`` in ``group`` (``"field"``, ``"deal_type"``…), or the code itself."""
    text = str(getattr(code, "value", code))
    return LABELS.get(group, {}).get(text, text)
