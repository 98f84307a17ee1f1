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


# -- exports (docs/documents.md "Exports"): ledger entries and reconciliation as statements name them
LABELS = {
    **LABELS,
    "entry_kind": {
        "top_up": "充值",
        "bank_transfer": "银行转账入账",
        "card_top_up": "银行卡充值",
        "card_refund": "银行卡退款",
        "withdrawal": "提现",
        "deposit_hold": "交易保证金冻结",
        "deal_payment": "成交价款支付",
        "settlement": "成交价款结算",
        "fee": "交易服务费",
        "inventor_reward": "完成人奖励",
        "forfeiture": "保证金没收",
        "reconciliation_adjustment": "对账调整",
        "reversal": "冲正",
        "voucher_program_funding": "创新券资金拨付",
        "voucher_grant": "创新券发放",
        "voucher_order_hold": "创新券服务订单冻结",
        "service_order_hold": "服务订单冻结",
        "voucher_fee": "创新券抵扣服务费",
        "voucher_redemption": "创新券兑付",
        "voucher_retirement": "创新券核销",
        "voucher_expiry": "创新券过期",
        "voucher_revocation": "创新券撤销",
    },
    "entry_phase": {
        "posted": "已入账",
        "pending": "冻结中",
        "post_pending": "冻结转入账",
        "void_pending": "冻结解除",
        "expire_pending": "冻结到期解除",
    },
    "reconciliation_outcome": {
        "matched": "一致",
        "missing_in_ledger": "账簿缺失",
        "missing_at_provider": "渠道缺失",
        "amount_mismatch": "金额不符",
    },
    "reconciliation_provider": {"bank_transfer": "银行转账", "stripe": "Stripe 银行卡"},
    "reconciliation_status": {"completed": "已完成", "failed": "失败", "running": "进行中"},
}
