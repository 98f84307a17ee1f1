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
    # attachments (exchange/documents)
    "document_kind": {
        "patent_certificate": "专利证书",
        "appraisal_report": "评估报告",
        "licence": "许可文件",
        "evidence": "证据材料",
        "business_licence": "营业执照",
        "delivery_report": "交付报告",
        "meeting_minutes": "会议纪要",
        "expert_opinion": "专家论证意见",
        "contract": "技术合同",
        "other": "其他材料",
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


# -- the operators' console (/console/…) ----------------------------------------------------------------
CONSOLE_LABELS: Mapping[str, Mapping[str, str]] = {
    "day_kind": {"off": "放假", "workday": "调休上班", "normal": "普通日（周一至周五上班）"},
    "calendar_action": {"seed": "初始数据", "import": "导入", "replace": "替换", "correct": "调整"},
    "withdrawal_status": {"requested": "待支付", "completed": "已支付", "rejected": "已退回"},
    "provider": {"bank_transfer": "银行转账", "stripe": "银行卡（Stripe）"},
    "reconciliation_status": {"running": "进行中", "completed": "已完成", "failed": "失败"},
    "reconciliation_outcome": {
        "matched": "一致",
        "amount_mismatch": "金额不符",
        "missing_in_ledger": "账本缺少",
        "missing_at_provider": "渠道缺少",
    },
    "resolution_status": {"proposed": "待批准", "approved": "已批准"},
}
LABELS = {**LABELS, **CONSOLE_LABELS}
# -- printed documents (docs/documents.md, PDFs): a voucher redemption's kind and state ----------
LABELS = {
    **LABELS,
    "redemption_kind": {
        "service_orders": "服务订单兑付",
        "exchange_fees": "交易服务费兑付",
        "commissions": "技术经纪佣金兑付",
    },
    "redemption_state": {
        "noticed": "公示中",
        "suspended": "公示暂停（异议待处理）",
        "ready": "公示期满，待审批",
        "approved": "已批准兑付",
        "rejected": "已驳回",
    },
}
# The seller's workspace (exchange/trading/seller_pages.py): the words of its listings' histories,
# of the confidential details' readers, of negotiations and deals.
LABELS = {
    **LABELS,
    "listing_action": {
        "create": "创建草稿",
        "edit": "修改草稿",
        "submit": "提交审核",
        "approve": "审核通过并公示",
        "reject": "审核未通过",
        "revise": "退回修改",
        "amend": "修改公示内容",
        "suspend": "公示暂停（异议待处理）",
        "uphold_objection": "异议成立，挂牌终止",
        "end_announcement": "公示期满",
        "close_unsold": "未成交",
        "start_negotiation": "进入协商",
        "start_auction": "进入竞价",
        "relist": "重新挂牌",
        "form_deal": "成交",
        "cancel_deal": "成交取消",
        "complete_sale": "交割完成",
        "withdraw": "撤回",
    },
    "read_basis": {"seller": "转让方", "operator": "交易所", "nda": "已签署保密协议"},
    "negotiation_status": {
        "open": "协商中",
        "agreed": "已达成",
        "declined": "已拒绝",
        "expired": "已过期",
        "closed": "已结束",
    },
    "deal_state": {
        "result_notice": "成交公示中",
        "awaiting_signatures": "待签署",
        "awaiting_payment": "待付款",
        "paying_instalments": "分期付款中",
        "settled": "已结算",
        "cancelled": "已取消",
        "defaulted": "已违约",
    },
}
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
        "commission": "技术经纪佣金",
    },
    "entry_phase": {
        "posted": "已入账",
        "pending": "冻结中",
        "post_pending": "冻结转入账",
        "void_pending": "冻结解除",
        "expire_pending": "冻结到期解除",
    },
    "reconciliation_provider": {"bank_transfer": "银行转账", "stripe": "Stripe 银行卡"},
}
# -- the buyer's workspace, deals and the wallet (the pages both parties of a trade share) ---------------
LABELS = {
    **LABELS,
    "intent_status": {"active": "有效", "withdrawn": "已撤回", "released": "已释放", "won": "已成交"},
    "deposit_state": {
        "none": "无需保证金",
        "held": "冻结中",
        "applied": "已抵作价款",
        "released": "已解冻",
        "forfeited": "已没收",
    },
    "offer_status": {
        "open": "待答复",
        "superseded": "已还价",
        "accepted": "已接受",
        "declined": "已拒绝",
        "expired": "已过期",
    },
    "side": {"buyer": "受让方", "seller": "转让方"},
    "instalment_status": {
        "pending": "待付",
        "overdue": "逾期",
        "settled": "已结算",
        "defaulted": "违约未付",
        "cancelled": "已取消",
    },
    "party_task": {"answer_offer": "待您答复报价", "sign": "待您签署", "pay": "待您付款"},
    "payment_kind": {"lump_sum": "一次性付款", "installments": "分期付款"},
    "unit": {"CNY": "人民币", "VCH": "创新券"},
}
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
    "program_status": {"upcoming": "尚未开始", "active": "有效期内", "ended": "已结束"},
}
# -- the account pages: sessions and the preferences of notifications (exchange/notifications/domain.py) --
LABELS = {
    **LABELS,
    "session_kind": {"page": "网页", "api": "接口（API）"},
    "language": {"zh": "中文", "en": "English"},
    "notification_kind": {
        "listing.approved": "挂牌审核通过",
        "listing.rejected": "挂牌审核未通过",
        "objection.filed": "公示收到异议",
        "objection.resolved": "异议处理结果",
        "objection.answered": "异议收到答复",
        "listing.amended": "公示内容修改",
        "announcement.closing": "公示即将期满",
        "intent.registered": "受让意向登记",
        "deposit.held": "保证金冻结",
        "deposit.released": "保证金释放",
        "auction.outbid": "出价被超过",
        "auction.extended": "竞价延时",
        "auction.won": "竞得",
        "auction.lost": "未竞得",
        "auction.sold": "竞价成交",
        "auction.unsold": "竞价流拍",
        "offer.received": "收到议价报价",
        "offer.expiring": "报价即将过期",
        "offer.accepted": "报价被接受",
        "offer.declined": "报价被拒绝",
        "deal.awaiting_signature": "成交待签署",
        "payment.due": "付款即将到期",
        "payment.overdue": "付款逾期",
        "payment.defaulted": "付款违约",
        "deal.settled": "交易结算完成",
        "voucher.granted": "创新券发放",
        "voucher.expiring": "创新券即将到期",
        "voucher.redeemed": "创新券兑付",
        "service_order.updated": "服务订单进展",
        "withdrawal.paid": "提现已支付",
        "withdrawal.rejected": "提现被退回",
        "operator.org_to_verify": "待认证机构",
        "operator.listing_to_review": "待审核挂牌",
        "operator.objection_to_resolve": "待处理异议",
        "operator.reconciliation_differences": "对账差异",
        "operator.withdrawals_waiting": "待支付提现",
        "operator.calendar_year_missing": "工作日历缺少年份",
        "account.email_confirmation": "邮箱确认",
        "account.already_registered": "重复注册提醒",
        "account.invitation": "机构邀请",
        "account.password_reset": "重置密码",
        "account.password_changed": "密码已修改",
        "account.membership_changed": "成员变动",
    },
}
# -- documents on the workspace pages: an objection's state beside its evidence ------------------------
LABELS = {
    **LABELS,
    "objection_status": {"pending": "待处理", "upheld": "异议成立", "dismissed": "异议不成立", "lapsed": "已失效"},
}
# -- a university's own transfer process (exchange/institutions, the 成果转化 pages) ----------------------
LABELS = {
    **LABELS,
    "transfer_step": {
        "initiate": "发起",
        "first_review": "初审",
        "evaluation": "评估",
        "expert_review": "论证",
        "decision": "决策",
        "notice": "公示",
        "implementation": "实施",
    },
    "institution_role": {
        "inventor": "发明人",
        "office": "成果转化办公室",
        "evaluator": "评估人员",
        "expert_panel": "专家论证组",
        "decision_body": "决策机构",
    },
    "step_outcome": {"completed": "通过", "returned": "退回", "stopped": "终止"},
    "process_status": {"active": "进行中", "finished": "已完成", "stopped": "已终止"},
    "intended_form": {"transfer": "转让", "license": "许可", "equity": "作价入股", "keep": "学校自行实施或保留"},
    "funding_kind": {"government": "政府资助项目", "other": "其他资助"},
    "evaluation_kind": {"internal": "内部评估", "external": "外部评估报告"},
    "vote": {"approve": "同意", "reject": "不同意", "abstain": "弃权"},
    "period_unit": {"calendar_days": "自然日", "working_days": "工作日"},
}
# -- inventors' own accounts (收益分配 paid to them, their withdrawals) ---------------------------------------
LABELS = {
    **LABELS,
    "notification_kind": {
        **LABELS["notification_kind"],
        "income.received": "成果转化收入到账",
        "inventor.paid": "收益分配到账",
    },
}
# -- income distribution on the institutions' pages (exchange/institutions/income_pages.py) -------------
LABELS = {
    **LABELS,
    "plan_status": {
        "noticed": "公示中",
        "suspended": "异议处理中",
        "approved": "公示期满，待分配",
        "paid": "已分配",
        "cancelled": "已撤销",
    },
}
# -- technical demands, campaigns and proposals (exchange/demands) ---------------------------------------------
LABELS = {
    **LABELS,
    "notification_kind": {
        **LABELS["notification_kind"],
        "demand.proposal_received": "收到需求解决方案",
        "proposal.shortlisted": "方案入围",
        "proposal.declined": "方案未被采纳",
        "proposal.negotiation_opened": "需求方发起洽谈",
        "demand.deadline": "需求即将截止",
        "campaign.submission_screened": "征集筛选结果",
        "matching.digest": "每日对接推荐",
    },
    "demand_status": {"draft": "草稿", "published": "征集中", "closed": "已截止", "withdrawn": "已撤回"},
    "accepted_form": {
        "transfer": "转让",
        "license": "许可",
        "equity": "作价入股",
        "commissioned_development": "委托开发",
        "technical_service": "技术服务",
    },
    "demand_visibility": {"public": "公开", "invited": "仅受邀机构可见"},
    "campaign_kind": {"demands": "征集技术需求", "solutions": "征集解决方案"},
    "campaign_status": {"open": "征集中", "closed": "已截止"},
    "screening": {"pending": "待筛选", "accepted": "已入选", "rejected": "未入选"},
    "proposal_status": {"submitted": "已提交", "shortlisted": "已入围", "declined": "未采纳", "negotiating": "洽谈中"},
    "negotiation_path": {"listing": "就已挂牌成果洽谈（登记意向）", "new_listing": "据方案新建挂牌"},
}
# -- technology brokers (exchange/brokers) -------------------------------------------------------------------
LABELS = {
    **LABELS,
    "notification_kind": {
        **LABELS["notification_kind"],
        "broker_engagement.proposed": "技术经纪委托待答复",
        "broker_engagement.accepted": "技术经纪委托已接受",
        "broker_engagement.declined": "技术经纪委托被拒绝",
        "broker.verified": "技术经纪人通过认证",
        "broker.rejected": "技术经纪人未通过认证",
        "broker.suspended": "技术经纪人被暂停",
        "broker.reinstated": "技术经纪人恢复执业",
        "credit_rating.received": "收到服务评价",
        "credit_complaint.filed": "收到服务投诉",
        "credit_complaint.decided": "服务投诉已处理",
        "credit_demonstration.designated": "被认定为示范机构",
        "credit_demonstration.ended": "示范机构认定终止",
    },
    "broker_status": {"pending": "待认证", "verified": "已认证", "rejected": "未通过认证", "suspended": "已暂停"},
    "engagement_status": {
        "proposed": "待经纪机构答复",
        "accepted": "已接受",
        "declined": "已拒绝",
        "withdrawn": "已撤回",
        "lapsed": "已失效（佣金超出可承担范围）",
    },
    "engagement_subject": {"listing": "挂牌项目", "demand": "技术需求", "negotiation": "议价", "deal": "成交"},
}
# -- tracking after the deal (exchange/tracking) -------------------------------------------------------------
LABELS = {
    **LABELS,
    "notification_kind": {
        **LABELS["notification_kind"],
        "tracking.report_due": "成果转化跟踪报告即将到期",
        "tracking.report_overdue": "成果转化跟踪报告逾期未报",
        "tracking.report_filed": "受让方已填报成果转化跟踪报告",
    },
    "tracking_status": {
        "in_development": "研发中",
        "in_production": "已投产",
        "abandoned": "已终止",
        "not_reported": "尚未报告",
    },
    "revenue_band": {
        "none": "无",
        "under_1m": "100万元以下",
        "1m_10m": "100万–1000万元",
        "10m_100m": "1000万–1亿元",
        "over_100m": "1亿元以上",
    },
    "tracking_state": {"upcoming": "未到填报期", "open": "待填报", "overdue": "已逾期", "filed": "已填报"},
}

# -- the credit evaluation (exchange/credit) --------------------------------------------------------------
LABELS.update(
    {
        "complaint_status": {"open": "待处理", "upheld": "投诉成立", "dismissed": "投诉驳回"},
        "credit_engagement": {"service_order": "创新券服务订单", "brokered_deal": "技术经纪成交"},
        "penalty_kind": {
            "upheld_complaint": "成立的投诉",
            "revocation": "被创新券项目撤销资格",
            "missed_delivery": "确认后取消订单（未能交付）",
        },
    }
)

# -- the achievement registry (exchange/registry) -------------------------------------------------------------
LABELS = {
    **LABELS,
    "notification_kind": {
        **LABELS["notification_kind"],
        "registry.registered": "科技成果已登记",
        "registry.returned": "科技成果登记被退回",
        "operator.registry_to_check": "待审核成果登记",
    },
    "registry_status": {
        "draft": "草稿",
        "submitted": "待审核",
        "returned": "已退回",
        "registered": "已登记",
        "withdrawn": "已撤销",
    },
    "registry_origin": {"listing": "来自挂牌", "disclosure": "来自披露", "own": "直接填报", "import": "批量导入"},
}
