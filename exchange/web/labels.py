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


# -- the buyer's workspace, deals and the wallet (the pages both parties of a trade share) ---------------
TRADE_LABELS: Mapping[str, Mapping[str, str]] = {
    "intent_status": {"active": "有效", "withdrawn": "已撤回", "released": "已释放", "won": "已成交"},
    "deposit_state": {
        "none": "无需保证金",
        "held": "冻结中",
        "applied": "已抵作价款",
        "released": "已解冻",
        "forfeited": "已没收",
    },
    "negotiation_status": {
        "open": "议价中",
        "agreed": "已达成",
        "declined": "已拒绝",
        "expired": "已过期",
        "closed": "已关闭",
    },
    "offer_status": {
        "open": "待答复",
        "superseded": "已还价",
        "accepted": "已接受",
        "declined": "已拒绝",
        "expired": "已过期",
    },
    "side": {"buyer": "受让方", "seller": "转让方"},
    "deal_state": {
        "result_notice": "成交公示中",
        "awaiting_signatures": "待签署",
        "awaiting_payment": "待付款",
        "paying_instalments": "分期付款中",
        "settled": "已结算",
        "cancelled": "已撤销",
        "defaulted": "已违约",
    },
    "instalment_status": {
        "pending": "待付",
        "overdue": "逾期",
        "settled": "已结算",
        "defaulted": "违约未付",
        "cancelled": "已取消",
    },
    "party_task": {"answer_offer": "待您答复报价", "sign": "待您签署", "pay": "待您付款"},
    "payment_kind": {"lump_sum": "一次性付款", "installments": "分期付款"},
    "entry_kind": {
        "bank_transfer": "银行转账入账",
        "top_up": "充值",
        "card_top_up": "银行卡充值",
        "card_refund": "银行卡退款",
        "deposit_hold": "保证金冻结",
        "deal_payment": "成交价款",
        "settlement": "成交结算",
        "fee": "交易服务费",
        "inventor_reward": "发明人奖励",
        "forfeiture": "保证金没收",
        "withdrawal": "提现",
        "reconciliation_adjustment": "对账调整",
    },
    "entry_phase": {
        "posted": "已记账",
        "pending": "冻结",
        "post_pending": "冻结转记账",
        "void_pending": "解冻",
        "expire_pending": "冻结到期解除",
    },
    "withdrawal_status": {"requested": "待支付", "completed": "已支付", "rejected": "已拒绝"},
    "unit": {"CNY": "人民币", "VCH": "创新券"},
}
LABELS = {**LABELS, **TRADE_LABELS}
STATUS_BADGES = {
    **STATUS_BADGES,
    "held": "open",
    "applied": "ok",
    "released": "closed",
    "forfeited": "bad",
    "result_notice": "open",
    "awaiting_signatures": "open",
    "awaiting_payment": "open",
    "paying_instalments": "open",
    "settled": "ok",
    "cancelled": "closed",
    "defaulted": "bad",
    "agreed": "ok",
    "declined": "closed",
    "expired": "closed",
}
