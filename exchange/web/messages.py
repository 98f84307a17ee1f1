"""What a refusal says on a page, in Chinese.

The API answers a refusal as problem details with a stable ``type`` slug and an English detail;
a page shows the same refusal by its slug, with the figures the problem carries (a minimum bid, an
increment) written as yuan. One table, so the API and the pages can never disagree on *whether*
something is refused — only on the words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from exchange.web.formats import beijing, yuan

Extra = Mapping[str, Any]


def _minimum(extra: Extra) -> str:
    return f"出价须不低于 {yuan(extra.get('minimum'))}。"


def _grid(extra: Extra) -> str:
    return f"出价须为起拍价 {yuan(extra.get('asking_price'))} 加上加价幅度 {yuan(extra.get('increment'))} 的整数倍。"


def _not_open(extra: Extra) -> str:
    opens = extra.get("opens_at")
    if not isinstance(opens, str):
        return "竞价尚未开始。"
    return f"竞价尚未开始，将于 {beijing(datetime.fromisoformat(opens.replace('Z', '+00:00')))} 开始接受出价。"


def _funds(extra: Extra) -> str:
    if extra.get("unit") == "CNY" and extra.get("needed") is not None:
        return f"账户可用余额不足：需要 {yuan(extra.get('needed'))}，可用 {yuan(extra.get('available'))}。"
    return "账户可用余额不足。"


def _objection_limit(extra: Extra) -> str:
    return f"同一机构对一则公示最多提出 {extra.get('limit', 3)} 次异议，您的机构已达上限。"


def _document_too_large(extra: Extra) -> str:
    limit = extra.get("max_bytes")
    if isinstance(limit, int) and limit >= 1024 * 1024:
        return f"文件过大：单个文件不得超过 {limit / (1024 * 1024):g} MB。"
    if isinstance(limit, int) and limit > 0:
        return f"文件过大：单个文件不得超过 {limit / 1024:g} KB。"
    return "文件过大，超过了交易所允许的大小。"


def _document_mismatch(extra: Extra) -> str:
    detected = str(extra.get("detected") or "").upper()
    return f"文件内容是 {detected} 格式，与文件扩展名不符，请确认后重新上传。" if detected else "文件内容与扩展名不符。"


# What the states named by an ``invalid-state`` refusal are called, where a page can say more than "not now".
STATES = {"closed": "已结束", "suspended": "已暂停", "cancelled": "已撤销"}


def _invalid_state(extra: Extra) -> str:
    state = STATES.get(str(extra.get("state")))
    return f"当前状态（{state}）不允许此操作。" if state else "当前状态不允许此操作。"


MESSAGES: dict[str, str | Callable[[Extra], str]] = {
    "bid-below-asking-price": _minimum,
    "bid-below-minimum": _minimum,
    "bid-off-increment-grid": _grid,
    "auction-closed": "竞价已结束，不再接受出价。",
    "auction-not-open": _not_open,
    "bid-rejected": "出价不符合竞价规则。",
    "amount-not-yuan": "请以元为单位填写金额，例如 1,236,000 或 1236000.50。",
    "idempotency-key-required": "页面已过期，请刷新后重新提交。",
    "idempotency-key-reused": "这份表单已提交过另一笔出价，请刷新页面后重新出价。",
    "not-a-participant": "您的机构未登记本项目的受让意向，只能观看竞价。",
    "seller-cannot-buy": "转让方不能参与自己项目的竞价。",
    "org-not-verified": "您的机构尚未通过交易所审核，暂不能进行此操作。",
    "org-suspended": "您的机构已被暂停交易。",
    "objection-limit-reached": _objection_limit,
    "objection-pending": "您对这则公示的异议正在处理中，处理完毕前不能再次提出。",
    "invalid-state": _invalid_state,
    "insufficient-funds": _funds,
    "intent-exists": "贵机构已登记本项目的受让意向。",
    "listing-not-announced": "受让意向只能在公示期内登记或撤回。",
    "invalid-request": "查询或提交的内容有误，请检查后重试。",
    "invalid-cursor": "翻页链接有误或已失效，请从第一页重新浏览。",
    "rate-limited": "尝试次数过多，请稍后再试。",
    "rate-limit-unavailable": "系统繁忙，请稍后再试。",
    "unauthorized": "请先登录。",
    "forbidden": "您没有权限进行此操作。",
    "not-found": "您要找的页面不存在，或已被撤下。",
    "validation-error": "提交的内容有误，请检查后重试。",
    "bad-request": "请求格式有误。",
    "conflict": "操作与当前状态冲突，请刷新后重试。",
    "csrf": "页面已过期，请刷新后重新提交。",
    "invalid-token": "链接无效或已过期（每个链接只能使用一次），请重新申请。",
    "weak-password": "密码须为 10 至 200 个字符，不能全是空格，也不能是常见密码，请换一个。",
    "email-taken": "该邮箱已有账号。",
    "internal-error": "系统出现错误，已记录，请稍后再试。",
    # attachments (exchange/documents)
    "document-too-large": _document_too_large,
    "document-type-not-allowed": "仅接受 PDF、JPEG、PNG、OFD、DOCX 或 XLSX 格式的文件（按文件内容判断）。",
    "document-type-mismatch": _document_mismatch,
    "document-empty": "文件为空，请重新选择。",
    "nda-required": "请先签署本项目的保密协议，才能查看保密材料。",
}

# A page that names its action (``request.state.action``) may word a refusal its own way: the same
# refusal, said as what it means for that form. Keys are "action:problem-type".
ACTION_MESSAGES: dict[str, str | Callable[[Extra], str]] = {
    "objection:invalid-state": "此公示已不在公示期内，不再接受异议。",
    "objection:invalid-request": "异议理由须为 10 至 2,000 个字，请补充后再提交。",
    "invitation:email-taken": "该邮箱已在另一家机构注册，不能通过邀请加入；请联系邀请人，或用该账号登录。",
    "invitation:invalid-token": "邀请链接无效或已过期（可能已被使用或撤销），请联系机构管理员重新邀请。",
    "documents:invalid-state": "此事项已不能再上传或删除材料（例如已提交审核或已结束）。",
    "documents:forbidden": "只有此事项的提交方可以上传或删除材料。",
}

# What a page that redirects says on the page it sends its reader to (``?notice=<key>``, shown by
# the layout): fixed sentences only, so that a link can never put words of its own on the site.
NOTICES: dict[str, str] = {
    "email-confirmed": "邮箱已确认，您已登录。",
    "invitation-accepted": "您已加入机构并已登录。",
    "password-reset": "密码已重置，所有设备上的登录均已退出，请用新密码登录。",
    "document-uploaded": "材料已上传。",
    "document-removed": "材料已删除。",
}


def notice_for(key: object) -> str | None:
    return NOTICES.get(key) if isinstance(key, str) else None


TITLES = {
    400: "请求有误",
    401: "需要登录",
    403: "没有权限",
    404: "页面不存在",
    405: "不支持此操作",
    409: "操作未完成",
    410: "已撤下",
    413: "提交的内容过大",
    422: "操作未完成",
    429: "请求过于频繁",
    500: "系统错误",
    503: "服务暂不可用",
}


def message_for(problem_type: str, status: int, extra: Extra | None = None, action: str | None = None) -> str:
    """The Chinese sentence for a refusal: the action's own, else the refusal's, else its status's."""
    found = (action and ACTION_MESSAGES.get(f"{action}:{problem_type}")) or MESSAGES.get(problem_type)
    if callable(found):
        return found(extra or {})
    if found is not None:
        return found
    return {
        401: MESSAGES["unauthorized"],
        403: MESSAGES["forbidden"],
        404: MESSAGES["not-found"],
        409: MESSAGES["conflict"],
        422: MESSAGES["validation-error"],
        429: MESSAGES["rate-limited"],
    }.get(status, MESSAGES["bad-request"] if status < 500 else MESSAGES["internal-error"])


def has_action_message(problem_type: str, action: str | None) -> bool:
    return bool(action) and f"{action}:{problem_type}" in ACTION_MESSAGES


def title_for(status: int) -> str:
    return TITLES.get(status, "操作未完成" if status < 500 else "系统错误")


# -- the operators' console (/console/…) ----------------------------------------------------------------
# Refusals of the console's actions, by the problem's type.
MESSAGES.update(
    {
        "email-not-confirmed": "该机构的管理员尚未确认邮箱，确认后才能认证。",
        "unknown-org": "没有这家机构，请从建议中选择或填写正确的机构。",
        "duplicate-bank-reference": "这笔银行流水号已经登记过，不能重复入账。",
        "invalid-amount": "金额须大于零。",
        "invalid-reference": "流水号须为 1 至 200 个字母、数字或 - . / : # _，与银行回单一致。",
        "invalid-period": "对账期间有误：开始日期不能晚于结束日期。",
        "invalid-statement": "无法读取银行对账单，请检查 CSV 的格式（日期,金额,流水号）。",
        "invalid-counter-account": "调整的对方科目须为账本中另一个人民币科目。",
        "already-resolving": "这项差异已有待批准的调整方案。",
        "nothing-to-resolve": "本次对账在该流水号下没有差异。",
        "maker-cannot-approve": "调整方案须由另一位运营人员批准，提出人不能自己批准。",
        "already-approved": "这项调整方案已经批准。",
        "withdrawal-decided": "这笔提现已经处理过。",
        "withdrawal-not-found": "没有这笔提现。",
        "reconciliation-not-found": "没有这次对账。",
        "provider-not-configured": "该支付渠道尚未配置，不能对账。",
        "provider-unavailable": "支付渠道暂时没有正确应答，请稍后再试。",
        "invalid-calendar": "日历调整有误，请检查日期、类型与依据。",
        "calendar-year-missing": "工作日历还没有该年份的数据，请先导入该年的安排。",
    }
)

# What a console page says after an action done without scripts (``?notice=``), and with htmx in place.
NOTICES.update(
    {
        "org-verified": "机构已通过认证。",
        "listing-approved": "挂牌已审核通过，公示已发布。",
        "listing-rejected": "挂牌已退回，卖方可修改后重新提交。",
        "objection-upheld": "异议成立：公示已撤销。",
        "objection-dismissed": "异议不成立：公示继续。",
        "transfer-recorded": "银行到账已登记，款项已记入机构钱包。",
        "withdrawal-completed": "提现已登记为已支付。",
        "withdrawal-rejected": "提现已退回，冻结金额已释放。",
        "reconciliation-run": "对账已完成。",
        "resolution-proposed": "调整方案已提出，等待另一位运营人员批准。",
        "resolution-approved": "调整方案已批准并入账。",
        "day-corrected": "工作日历已更新。",
        "retry-requested": "已安排在下一轮定时任务中重试。",
    }
)

# The fields of the console's forms, as a refusal names them (``invalid-form``).
FORM_FIELDS: dict[str, str] = {
    "decision": "审核结论",
    "note": "备注",
    "day": "日期",
    "kind": "类型",
    "name": "名称",
    "notice": "依据的通知",
    "reason": "原因",
    "org_id": "入账机构",
    "amount": "金额",
    "reference": "流水号",
    "received_on": "到账日期",
    "payer_account": "付款账号",
    "payer_name": "付款人名称",
    "bank_reference": "银行流水号",
    "paid_on": "支付日期",
    "provider": "支付渠道",
    "period_from": "对账开始日期",
    "period_to": "对账结束日期",
    "statement": "银行对账单",
    "counter_account": "对方科目",
}


def _invalid_form(extra: Extra) -> str:
    errors = extra.get("errors") or [{}]
    field = extra.get("label") or FORM_FIELDS.get(str(errors[0].get("field")))
    return f"请检查“{field}”一栏后重新提交。" if field else "表单内容有误，请检查后重新提交。"


MESSAGES["invalid-form"] = _invalid_form
# -- printed documents (docs/documents.md, PDFs) -------------------------------------------------
MESSAGES["pdf-unavailable"] = "暂时无法生成 PDF（服务器缺少排版组件），请稍后再试，或在页面上查看并核验签名。"
# ----------------------------------------------------------------------------------------------
# The seller's listing form (exchange/trading/listing_form.py): a refusal of the API names the field
# at fault (``pricing.asking_price``, ``ip_assets.0.expires_on``); the form shows these words next
# to it. Keyed by the field with its row numbers as ``*``; a field whose rule has several refusals
# is told apart by the English words of the domain's message (``listings.domain.validate_listing``).

LISTING_FIELDS: dict[str, str] = {
    "title": "请填写成果名称（1 至 200 个字）。",
    "summary": "成果简介最多 5,000 个字。",
    "field": "请选择技术领域。",
    "keywords": "关键词最多 20 个，每个 1 至 50 个字，以逗号或顿号分隔。",
    "maturity": "请选择 1 至 9 级的技术成熟度。",
    "ip_assets": "请至少填写一项知识产权（最多 50 项）。",
    "ip_assets.*.kind": "请选择知识产权类型。",
    "ip_assets.*.number": "请填写证书号或申请号（1 至 64 个字符），同一类型的同一编号只能填写一次。",
    "ip_assets.*.title": "请填写知识产权名称（1 至 200 个字）。",
    "ip_assets.*.expires_on": "专利须填写有效期届满日，且届满日须晚于今天（格式 2030-01-31）。",
    "deal": "请选择交易方式并填写其条件。",
    "deal.type": "请选择交易方式（转让、许可或作价入股）；公示后不能更改。",
    "deal.term_months": "许可期限为 1 至 240 个月，且不能晚于所列权利中最早的届满日。",
    "deal.scope": "请选择许可方式。",
    "deal.territory": "请填写许可地域（1 至 100 个字）。",
    "deal.field_of_use": "许可的使用领域最多 500 个字。",
    "deal.royalty_bp": "提成比例须为 0 至 100 之间的百分数，最多两位小数。",
    "deal.company_name": "请填写作价入股的公司名称（1 至 200 个字）。",
    "deal.shares_bp": "入股比例须为大于 0、不超过 100 的百分数，最多两位小数。",
    "pricing.mode": "请选择定价方式；公示后不能更改。",
    "pricing.asking_price": "挂牌价须为大于 0 的金额（元）；高校、科研院所竞价挂牌的价格不得低于评估值。",
    "pricing.appraised_value": "评估值须为大于 0 的金额（元）；作价入股须经评估，填写评估报告时须同时填写评估值。",
    "pricing.deposit": "保证金不得超过挂牌价的 30%；不填则按挂牌价的 10% 收取。",
    "pricing.increment": "加价幅度须为大于 0 的金额，不超过挂牌价；协议定价不设加价幅度。",
    "pricing.appraisal_report": (
        "评估报告须同时填写报告编号、评估机构和报告日期；更改已公示的评估值须提供新的评估报告。"
    ),
    "pricing.appraisal_report.report_number": "请填写评估报告编号（1 至 64 个字符）；新的评估须有新的报告编号。",
    "pricing.appraisal_report.appraiser": "请填写评估机构名称（1 至 200 个字）。",
    "pricing.appraisal_report.report_date": "报告日期不能晚于今天，也不能早于原评估报告的日期（格式 2026-11-30）。",
    "inventors": "发明人最多 50 位。",
    "inventors.*.name": "请填写发明人姓名（1 至 100 个字）。",
    "inventors.*.related_to_buyer": "请填写 18 位统一社会信用代码，多个以逗号分隔（最多 20 个）。",
    "inventor_reward_bp": "高校、科研院所奖励发明人的比例须不低于 70%、不超过 100%；其他机构不填。",
    "confidential_details": "保密信息最多 20,000 个字。",
}

# The same field refused by another rule, told apart by the words of the domain's message.
LISTING_FIELD_RULES: dict[tuple[str, str], str] = {
    ("ip_assets.*.expires_on", "is required for patents"): "专利须填写有效期届满日（格式 2030-01-31）。",
    ("ip_assets.*.expires_on", "the right expired on"): "该权利已过有效期，不能挂牌。",
    ("ip_assets.*.number", "is listed as"): "同一类型的同一编号已在上面填写过。",
    ("pricing.appraised_value", "must be appraised"): "作价入股的知识产权须经评估，请填写评估值。",
    ("pricing.appraised_value", "comes with the appraised value"): "填写了评估报告，请同时填写报告所载的评估值。",
    (
        "pricing.asking_price",
        "may not be below",
    ): "高校、科研院所竞价挂牌的价格不得低于评估值（重新挂牌不得低于评估值的 90%）。",
    ("pricing.increment", "negotiated listings"): "协议定价不设加价幅度，请留空。",
    ("pricing.increment", "may not exceed"): "加价幅度不能超过挂牌价。",
    ("inventor_reward_bp", "only public institutions"): "只有高校、科研院所填写发明人奖励比例，贵机构请留空。",
    ("inventor_reward_bp", "receive at least"): "高校、科研院所奖励发明人的比例不得低于 70%。",
}

LISTING_FORM_PROBLEMS: dict[str, str] = {
    "amount-not-yuan": "请以元为单位填写金额，例如 1,236,000 或 1236000.50。",
    "not-a-percent": "请填写百分数，例如 70 或 12.5（最多两位小数）。",
    "required": "请填写此项。",
}


class FieldMessage(Protocol):
    def __call__(self, field: str, problem_type: str, item: Mapping[str, Any] | None = None) -> str: ...


def field_words(
    fields: Mapping[str, str], rules: Mapping[tuple[str, str], str], fallback: FieldMessage | None = None
) -> FieldMessage:
    """The words next to a form's input for a refusal of ``field``: a problem the form names as a
    whole, else the rule whose English words the refusal's message holds (``rules``, by the field
    with its indexes as ``*``), else the input's words (``fields``, the nearest enclosing name),
    else ``fallback``'s (another form's words) or the generic one."""

    def message(field: str, problem_type: str, item: Mapping[str, Any] | None = None) -> str:
        if problem_type in LISTING_FORM_PROBLEMS:
            return LISTING_FORM_PROBLEMS[problem_type]
        key = ".".join("*" if part.isdigit() else part for part in field.split("."))
        english = str((item or {}).get("message") or "")
        for (rule_field, words), sentence in rules.items():
            if rule_field == key and words in english:
                return sentence
        probe = key
        while probe:
            if probe in fields:
                return fields[probe]
            probe = probe.rpartition(".")[0]
        return fallback(field, problem_type, item) if fallback else str(MESSAGES["validation-error"])

    return message


# The words next to an input of the listing form for a refusal of ``field``.
listing_field_message = field_words(LISTING_FIELDS, LISTING_FIELD_RULES)


# -- the buyer's workspace, negotiations, deals and the wallet -------------------------------------------


def _not_due(extra: Extra) -> str:
    due = extra.get("due_at")
    if not isinstance(due, str):
        return "下一期款项尚未到期，到期时将从贵机构账户自动扣收。"
    return (
        f"下一期款项于 {beijing(datetime.fromisoformat(due.replace('Z', '+00:00')))} 到期，届时将从贵机构账户自动扣收。"
    )


# -- vouchers: the workspaces of service providers, enterprises and program administrators --------


PROGRAM_FIELDS = {
    "valid_until": "有效期止须晚于有效期起。",
    "per_org_cap": "每家企业上限不能超过总预算。",
    "coverage_bp": "创新券支付比例须在 0.01% 至 100% 之间。",
    "categories": "请至少选择一类可购买的服务。",
}


def _invalid_program(extra: Extra) -> str:
    errors = extra.get("errors") or [{}]
    return "项目设置有误：" + PROGRAM_FIELDS.get(str(errors[0].get("field")), "请检查后重新提交。")


def _vouchers_short(extra: Extra) -> str:
    if extra.get("needed") is not None:
        return f"创新券可用余额不足：需要 {yuan(extra.get('needed'))}，可用 {yuan(extra.get('available'))}。"
    return "创新券可用余额不足。"


MESSAGES.update(
    {
        "admin-required": "只有机构管理员可以签署、付款或撤销成交，请联系贵机构的管理员。",
        "already-signed": "贵机构已签署本成交。",
        "deal-on-hold": "一方机构被暂停交易，本成交暂停办理，恢复后继续。",
        "instalment-not-due": _not_due,
        "offer-not-standing": "这份报价已不是待答复的报价（已被还价、接受或拒绝，或议价已结束），请刷新页面。",
        "offer-expired": "报价已过期，议价将随之结束。",
        "offer-out-of-turn": "现在轮到对方答复，请等待对方还价或接受。",
        "too-many-offers": "本次议价的报价次数已达上限，请接受或拒绝对方的报价。",
        "trading-rule-broken": "报价不符合交易规则，请检查价格与条件。",
        "invalid-payment-terms": "付款安排不符合规则，请检查首付款与各期金额。",
    }
)
ACTION_MESSAGES.update(
    {
        "withdrawal:forbidden": "只有机构管理员可以申请提现，请联系贵机构的管理员。",
        "withdrawal:insufficient-funds": _funds,
        "offer:amount-not-yuan": "请以元为单位填写报价金额，例如 1,236,000 或 1236000.50。",
    }
)
NOTICES.update(
    {
        "offer-made": "报价已发出，等待对方答复。",
        "offer-declined": "已拒绝对方报价，本次议价结束。",
        "deal-formed": "已接受报价，成交已达成。",
        "deal-signed": "已签署。",
        "deal-paid": "付款已完成。",
        "withdrawal-requested": "提现申请已提交，金额已冻结，待交易所支付。",
    }
)
MESSAGES.update(
    {
        "invalid-program": _invalid_program,
        "grant-over-cap": "超过本项目对每家企业的发放上限，不能发放。",
        "grant-over-budget": "超过本项目的总预算，不能发放。",
        "not-an-enterprise": "创新券只能发放给企业。",
        "voucher-over-coverage": "创新券支付金额超过项目规定的比例，其余部分须以现金支付。",
        "category-not-eligible": "该服务的类别不在贵机构创新券项目的支持范围内。",
        "program-not-active": "创新券项目不在有效期内。",
        "related-parties": "企业不能用创新券向本机构或已申报的关联方购买服务。",
        "provider-revoked": "该服务机构已被创新券项目撤销资格，不能接受该项目的创新券订单。",
        "already-revoked": "本项目已撤销该服务机构的资格。",
        "already-redeemed": "订单已在兑付申请中，不能重复申请。",
        "notice-open": "兑付公示尚未期满（或有异议待处理），暂不能批准。",
        "invalid-redemption": "所选订单不能申请兑付：须为本机构已验收、使用创新券支付的订单，且属于同一项目。",
        "voucher-rule-broken": "不符合创新券项目的规则。",
    }
)

ACTION_MESSAGES.update(
    {
        "voucher-order:forbidden": "只有企业可以订购服务并使用创新券支付。",
        "voucher-order:insufficient-funds": _vouchers_short,
        "voucher-order:not-found": "未找到该服务或创新券项目。",
        "program:forbidden": "只有政府部门的管理员可以设立创新券项目。",
        "grant:forbidden": "只有项目所属政府部门的管理员可以发放创新券。",
        "grant:not-found": "未找到该企业。",
        "revoke:forbidden": "只有项目所属政府部门的管理员可以撤销服务机构资格。",
        "order-confirm:insufficient-funds": "企业的创新券或现金余额不足，订单无法确认。",
        "redemption:forbidden": "只有服务机构可以申请兑付本机构的订单。",
    }
)
# -- the account pages (exchange/parties/account_pages.py, the preferences of notifications) --------
MESSAGES.update(
    {
        "last-admin": "机构至少要保留一位管理员：请先将另一位成员设为管理员，再卸任、移除或退出。",
        "already-a-member": "该邮箱已是本机构的成员。",
        "passwords-differ": "两次输入的新密码不一致。",
        "notification-mandatory": "这类通知关系到资金或账户安全，不能关闭。",
        "unknown-notification-kind": "没有这类通知，请刷新页面后重新设置。",
    }
)
ACTION_MESSAGES.update(
    {
        "member:forbidden": "只有机构管理员可以邀请成员、调整角色或移除成员。",
        "member:not-found": "本机构没有这位成员或这份邀请（可能已被移除或撤销）。",
        "member:conflict": "这份邀请已被接受，请在成员列表中调整或移除该成员。",
        "password:forbidden": "当前密码不正确。",
    }
)
NOTICES.update(
    {
        "member-invited": "邀请已发送到对方邮箱。",
        "invitation-revoked": "邀请已撤销，邀请链接不再有效。",
        "role-changed": "成员角色已调整。",
        "member-removed": "成员已移除，其登录已失效。",
        "session-revoked": "已退出该设备上的登录。",
        "session-ended": "已退出本设备上的登录。",
        "password-changed": "密码已修改，其他设备上的登录均已退出。",
        "preferences-saved": "通知偏好已保存。",
    }
)
# -- the seller's answer to an objection (exchange/trading/seller_pages.py, 异议答复) ------------------
MESSAGES["objection-answered"] = "此异议已答复，答复提交后不能修改。"
ACTION_MESSAGES.update(
    {
        "answer:invalid-request": "答复须为 10 至 2,000 个字，请补充后再提交。",
        "answer:invalid-state": "此异议已处理完毕，不能再答复。",
        "answer:forbidden": "只有公示所涉项目的转让方可以答复异议。",
        "answer:not-found": "没有这项异议，或您无权查看。",
    }
)
NOTICES["objection-answered"] = "答复已提交，交易所和异议人将看到您的答复。"
FORM_FIELDS["answer"] = "答复"
# -- a university's own transfer process (exchange/institutions/pages.py, 成果转化) ------------------------
MESSAGES.update(
    {
        "invalid-disclosure": "披露内容不符合要求，请查看标出的内容。",
        "invalid-step-record": "本环节的记录不符合要求，请查看标出的内容。",
        "invalid-workflow": (
            "转化流程设置不符合要求：发起为第一步，决策、公示、实施依次为最后三步，每个环节至少有一个角色办理。"
        ),
        "invalid-institution-rules": "转化设置不符合要求，请查看标出的内容。",
        "not-an-institution": "只有高校和科研院所在 TechX 办理职务科技成果转化流程。",
        "not-a-member": "该用户不是本机构的成员。",
    }
)
ACTION_MESSAGES.update(
    {
        "transfer:forbidden": "您在本机构没有在此环节办理的角色（由机构管理员在“转化设置”中授予）。",
        "transfer:invalid-state": "流程已前进到其他环节或已结束，请刷新页面查看当前环节。",
        "transfer:not-found": "没有这个转化流程，或您无权查看。",
        "transfer-settings:forbidden": "只有机构管理员可以修改转化设置、授予或收回角色。",
        "transfer-settings:not-found": "该成员没有这项已授予的角色（可能已被收回）。",
    }
)
NOTICES.update(
    {
        "transfer-disclosed": "披露已提交，转化流程已发起。",
        "transfer-step-done": "本环节已办理，流程进入下一环节。",
        "transfer-returned": "流程已退回到所选环节，开始新一轮办理。",
        "transfer-stopped": "流程已终止。",
        "transfer-settings-saved": "转化设置已保存，之后发起的流程按新设置办理。",
        "transfer-role-granted": "角色已授予。",
        "transfer-role-revoked": "角色已收回。",
    }
)
# The words next to an input of the transfer pages, by the field a refusal names (rows as ``*``);
# a field with several rules is told apart by the English words of the domain's message. The
# achievement's own fields (title, field, ip_assets…) are the listing form's (``LISTING_FIELDS``).
INSTITUTION_FIELDS: dict[str, str] = {
    "inventors": "请至少填写一位发明人（最多 50 位）。",
    "inventors.*.name": "请填写发明人姓名（1 至 100 个字）。",
    "inventors.*.affiliation": "请填写发明人所在单位（学院、系或研究所）。",
    "inventors.*.share_bp": "贡献份额须为大于 0、不超过 100 的百分数，最多两位小数，例如 60 或 60.5。",
    "funding": "资助来源最多 20 项。",
    "funding.*.kind": "请选择资助类型。",
    "funding.*.funder": "请填写资助方。",
    "funding.*.project_number": "政府资助项目须填写项目编号。",
    "intended_form": "请选择拟转化方式。",
    "note": "备注最多 2,000 个字。",
    "complete": "初审只通过内容完整的披露；不完整的请退回到发起环节补充。",
    "institution_owns": "初审只通过本单位有权转化的成果（职务成果，且无第三方权利障碍）。",
    "conflicts": "利益冲突说明最多 2,000 个字。",
    "kind": "请选择评估方式。",
    "appraised_value": "评估值须为大于 0 的金额（元）。",
    "appraiser": "请填写评估机构或内部评估人。",
    "report_number": "外部评估报告须填写报告编号。",
    "report_date": "请填写评估日期（不能晚于今天）。",
    "experts": "专家论证至少需要 3 位专家。",
    "experts.*.name": "请填写专家姓名。",
    "experts.*.opinion": "每位专家须给出书面意见。",
    "experts.*.vote": "请选择表决意见。",
    "minutes": "请填写会议纪要的编号或名称。",
    "decision_makers": "请填写出席的决策成员。",
    "decision_makers.*.name": "请填写决策成员姓名，每人只填一次。",
    "decision_makers.*.recused": "与受让方有关联的决策成员须回避。",
    "decision_makers.*.vote": "未回避的决策成员须表决（同意、不同意或弃权）；回避的成员不参加表决。",
    "pricing": "请选择定价方式：协议定价、挂牌交易或拍卖。",
    "floor_price": "底价须为大于 0 的金额（元）。",
    "counterparty": "协议定价须写明受让方；挂牌或拍卖的受让方在交易所产生，此处留空。",
    "related_inventors": "所填关联发明人须为本披露中的发明人，以逗号或顿号分隔。",
    "related_party_declaration": "发明人或决策成员与受让方存在关联关系，须填写关联关系声明。",
    "approved": "不批准的决定请使用“终止流程”，并写明理由。",
    "to": "请选择退回到的环节（须在当前环节之前）。",
    "reason": "请填写理由（1 至 2,000 个字）。",
    "workflow": "转化流程设置不符合要求。",
    "decision_body": "决策机构名称最多 200 个字。",
    "notice_days": "成果转化公示期为 15 至 90 天。",
    "notice_unit": "请选择计日方式。",
    "plan_notice_days": "收益分配方案公示期为 1 至 90 天。",
    "plan_notice_unit": "请选择计日方式。",
    "inventor_share_bp": "奖励发明人的比例为 0 至 100 的百分数（最多两位小数）；事业单位不得低于 70%。",
    "extra_approval_threshold_fen": "额外审批门槛须为大于 0 的金额（元）。",
    "institution_parts": "请至少填写一个收益分配部分（最多 20 个），每个名称只填一次。",
    "institution_parts.*.name": "请填写部分名称（例如 学校、学院）。",
    "institution_parts.*.weight": "权重须为 1 至 1,000,000 的整数。",
    "user_id": "请选择一位本机构成员。",
    "role": "请选择角色。",
}
INSTITUTION_FIELD_RULES: dict[tuple[str, str], str] = {
    ("inventors", "add up to"): "各发明人的贡献份额合计须恰好为 100%。",
    ("inventors", "at most"): "发明人最多 50 位。",
    ("inventors.*.name", "listed twice"): "同一发明人（姓名与单位相同）只能填写一次。",
    ("experts", "did not approve"): "专家组未通过：同意票须超过半数（弃权按不同意计）。未通过的论证请退回或终止流程。",
    ("experts.*.name", "twice"): "同一位专家只能填写一次。",
    ("experts.*.name", "is an inventor"): "发明人不能担任本成果的论证专家。",
    ("decision_makers", "no decision-maker is left"): "关联成员回避后须至少留有一位决策成员。",
    (
        "decision_makers",
        "did not approve",
    ): "决策未获通过：同意票须超过未回避成员的半数（弃权按不同意计）。不批准的，请终止流程。",
    ("floor_price", "at least the appraised value"): "事业单位的底价不得低于评估值。",
    ("counterparty", "negotiated price names"): "协议定价须写明受让方。",
    ("counterparty", "finds its counterparty"): "挂牌或拍卖的受让方在交易所产生，此处请留空。",
    ("counterparty", "related parties are declared"): "存在关联关系时，须写明受让方。",
    ("inventor_share_bp", "receive at least"): "事业单位奖励发明人的比例不得低于 70%。",
    ("institution_parts", "named once"): "每个收益分配部分只填写一次。",
    ("institution_parts.*.name", "listed twice"): "每个收益分配部分只填写一次。",
}


# The words next to an input of the transfer pages for a refusal of ``field``.
institution_field_message = field_words(INSTITUTION_FIELDS, INSTITUTION_FIELD_RULES, listing_field_message)


# -- an inventor's withdrawal from their own account (exchange/institutions/inventor_pages.py) ------------
ACTION_MESSAGES.update(
    {
        "inventor-withdrawal:insufficient-funds": _funds,
        "inventor-withdrawal:forbidden": "只有成果完成人本人或本单位成果转化办公室可以从该账户提现。",
        "inventor-withdrawal:not-found": "没有这个成果完成人账户。",
        "inventor-withdrawal:invalid-state": "成果转化办公室尚未核验您的身份或登记本人银行账户，暂不能提现。",
    }
)
# -- 公示, 实施, contract registration, income distribution and the annual report's inputs on the
# institutions' pages (exchange/institutions/notice_pages.py, income_pages.py) -----------------------
NOTICES.update(
    {
        "transfer-objection-resolved": "异议已处理。",
        "transfer-objection-answered": "答复已提交，交易所和异议人将看到您的答复。",
        "transfer-implemented": "已办理实施，流程完成。",
        "contract-registered": "技术合同认定登记已记录。",
        "plan-proposed": "收益分配方案已提交，方案公示已开始。",
        "plan-extra-approved": "额外审批已记录。",
        "plan-paid": "收益已分配到发明人账户。",
        "inventor-identity-checked": "发明人身份已核验。",
        "annual-inputs-saved": "年度报告填报内容已保存。",
    }
)
INSTITUTION_FIELDS.update(
    {
        "decision": "请选择异议是否成立。",
        "return_to": "异议成立时，请选择退回到的环节（公示之前）或终止流程。",
        "stop": "异议成立时，请选择退回到的环节（公示之前）或终止流程。",
        "answer": "请填写答复（答复提交后不能修改）。",
        "deal": "请选择交易方式并填写其条款。",
        "deal.type": "请选择交易方式。",
        "deal.term_months": "许可期限须为 1 至 240 个月。",
        "deal.scope": "请选择许可方式。",
        "deal.territory": "请填写许可地域（最多 100 个字）。",
        "deal.royalty_bp": "提成比例须为 0 至 100 的百分数（最多两位小数）。",
        "deal.company_name": "请填写公司名称。",
        "deal.shares_bp": "股权比例须为大于 0、不超过 100 的百分数（最多两位小数）。",
        "ip_assets": "请至少填写一项知识产权。",
        "deposit": "保证金须为 0 或以上的金额（元）。",
        "increment": "加价幅度须为大于 0 的金额（元）。",
        "contract": "协议定价须填写与受让方签订的合同。",
        "contract.amount": "合同金额须为不低于底价的金额（元）。",
        "contract.terms": "请填写合同主要条款（最多 5,000 个字）。",
        "contract.signed_on": "请填写合同签订日期。",
        "contract.counterparty_org_id": "受让方须为决策所列、在交易所认证的机构；同名机构多于一家时请填写机构编号。",
        "contract_number": "请填写合同登记编号（最多 64 个字符）。",
        "registry_name": "请填写技术合同登记机构（最多 200 个字）。",
        "registered_on": "请填写登记日期（不能晚于今天）。",
        "certified_amount": "认定技术交易额须为大于 0 的金额（元）。",
        "payouts": "各项分配合计须恰好等于到账金额。",
        "payouts.*.amount": "分配金额须为 0 或以上的金额（元）。",
        "institution": "请填写本单位各部分的分配金额。",
        "institution.*.name": "分配部分须为转化设置中的部分，每个只填一次。",
        "user_id": "请选择一位本机构成员。",
        "year": "年度须在 2000 至 2100 之间。",
        "contracts": "合同数须为 0 至 10 亿的整数，金额须为 0 或以上的金额（元）；有金额须有合同数。",
        "joint_bodies": "联合研发机构最多 100 个。",
        "joint_bodies.*.name": "请填写联合研发机构名称，每个只填一次。",
        "joint_bodies.*.partner": "合作方最多 200 个字。",
        "joint_bodies.*.founded_on": "成立日期不能晚于本年度。",
        "problems": "问题最多 5,000 个字。",
        "plans": "计划最多 5,000 个字。",
    }
)
INSTITUTION_FIELD_RULES.update(
    {
        ("inventors", "receive at least"): "发明人合计所得不得低于本单位规定的奖励比例（按分向上取整）。",
        ("inventors", "names every disclosed inventor"): "方案须列出每一位披露的发明人。",
        ("inventors", "gives both"): "调整方案须同时列出发明人与本单位各部分的金额。",
        ("inventors.*.name", "not a disclosed inventor"): "所列发明人须为本成果披露的发明人。",
        ("inventors.*.name", "named twice"): "同一发明人只能列出一次。",
        ("contracts", "amount with no contracts"): "填写了金额，须同时填写合同数。",
    }
)
DISTRIBUTION_RULES = {
    "one-plan-per-receipt": "这笔到账已有生效的分配方案；方案撤销后才能提出新方案。",
    "notice-closed-first": "分配方案公示期满后才能分配。",
    "extra-approval-above-threshold": "有人所得超过额外审批门槛，请先记录上级会议的额外审批。",
    "paid-once": "该方案已经分配，不能重复分配。",
    "identity-checked": "请先核验发明人的身份再分配。",
    "no-payout-above-threshold": "该方案无人超过额外审批门槛，不需要额外审批。",
    "plan-ended": "该方案已撤销或已分配。",
}
ACTION_MESSAGES.update(
    {
        "distribution:invalid-state": lambda extra: DISTRIBUTION_RULES.get(
            str(extra.get("rule", "")), "方案当前的状态不能办理此项，请刷新页面。"
        ),
        "distribution:forbidden": "只有本机构的技术转移办公室（管理员或被授予办公室角色的成员）可以办理收益分配。",
        "distribution:not-found": "没有这笔到账或方案，或您无权查看。",
        "transfer:already-registered": "该成交的技术合同已登记，每笔成交只登记一次。",
    }
)

# Matches (exchange/demands/match_pages.py)
NOTICES["match-marked"] = "已记录您的标记，本机构以后的推荐将据此调整。"

# -- technical demands, campaigns and proposals (exchange/demands/page_forms.py) ---------------------------
NOTICES.update(
    {
        "demand-saved": "需求草稿已保存。",
        "demand-published": "需求已发布，符合条件的机构可以在需求大厅看到并提交方案。",
        "proposal-sent": "解决方案已提交，需求方处理后您会收到通知。",
        "proposal-shortlist": "已将该方案列入候选，对方已收到通知。",
        "proposal-decline": "已婉拒该方案，理由已反馈给对方。",
        "proposal-listing": "已就该挂牌登记意向。",
        "proposal-new_listing": "已请对方据方案新建挂牌。",
        "campaign-opened": "需求征集已发布。",
        "submission-screened": "筛选结果已保存，提交方已收到通知。",
    }
)
# The words next to an input of the demand, proposal, decline, campaign and screening forms, by the
# field a refusal names (rows as ``*``); the achievement-like fields fall back to the listing form's.
DEMAND_FIELDS: dict[str, str] = {
    "title": "请填写需求名称（1 至 200 个字）。",
    "description": "发布需求须描述要解决的技术问题（最多 5,000 个字）。",
    "performance": "发布需求须写明需要达到的技术指标（最多 5,000 个字）。",
    "ipc_codes": "IPC 分类号形如 H01M 或 H01M 10/0525，以逗号分隔，每个只填一次（最多 20 个）。",
    "min_maturity": "最低技术成熟度须为 1 至 9 级，或不限。",
    "keywords": "关键词每个 1 至 50 个字，最多 20 个。",
    "budget_min_fen": "预算下限须为不小于 0 的金额（元）。",
    "budget_max_fen": "发布需求须填写预算上限（元），且不低于预算下限。",
    "accepted_forms": "发布需求须至少选择一种可接受的合作方式。",
    "deadline": "截止日期须晚于今天（北京时间）；发布需求须填写截止日期。",
    "visibility": "请选择公开或仅受邀机构可见。",
    "invited_org_ids": (
        "仅受邀机构可见的需求须至少邀请一家机构（不含本单位，每家一次，最多 50 家）；公开需求不邀请机构。"
    ),
    "confidential": "保密信息最多 5,000 个字。",
    "summary": "请概述方案如何解决该需求。",
    "solution": "请关联本单位的挂牌，或描述新的解决方案。",
    "listing_ids": "只能关联本单位的挂牌，每项一次（最多 10 项）。",
    "budget_fen": "报价须为不小于 0 的金额（元）。",
    "reason": "请填写理由，对方将看到此理由（最多 2,000 个字）。",
    "theme": "请填写征集主题（1 至 200 个字）。",
    "rules": "请写明征集规则。",
    "kind": "请选择征集类型。",
    "decision": "请选择通过或不通过。",
}
DEMAND_FIELD_RULES: dict[tuple[str, str], str] = {
    ("description", "describes what it calls for"): "请写明征集说明。",
    ("deadline", "after today"): "截止日期须晚于今天（北京时间）。",
    ("budget_max_fen", "at least its minimum"): "预算上限不能低于预算下限。",
}


# The words next to an input of the demand pages for a refusal of ``field``.
demand_field_message = field_words(DEMAND_FIELDS, DEMAND_FIELD_RULES, listing_field_message)


# -- technology brokers (exchange/brokers/pages.py): the console's verification, the workspaces' forms --------
MESSAGES.update(
    {
        "broker-rule-broken": "提交的内容不符合技术经纪的规则，请检查后重试。",
        "broker-not-verified": "该技术经纪人尚未通过认证或已被暂停，不能接受委托。",
    }
)
NOTICES.update(
    {
        "broker-registered": "技术经纪人已登记，等待交易所认证。",
        "broker-verified": "技术经纪人已通过认证。",
        "broker-rejected": "技术经纪人未通过认证，已通知其机构。",
        "broker-suspended": "技术经纪人已暂停，不再接受新的委托。",
        "broker-reinstated": "技术经纪人已恢复。",
        "engagement-proposed": "委托已发出，等待经纪机构答复。",
        "engagement-accepted": "委托已接受，佣金将在成交结算时支付。",
        "engagement-declined": "委托已拒绝，已通知委托方。",
        "engagement-withdrawn": "委托已撤回。",
    }
)
FORM_FIELDS.update({"credential_number": "证书编号"})
# The words next to an input of the brokers' forms, by the input (a refusal of the API's field is
# placed on the input that fills it: ``commission_bp`` on the percentage, ``commission_fen`` on the yuan).
BROKER_FIELDS: dict[str, str] = {
    "name": "请填写经纪人姓名（最多 100 个字）。",
    "credential_number": "证书编号须为 8 至 32 位大写字母与数字，可用连字符分组，例如 JSJJR-310000-2024-000123。",
    "issuing_body": "请填写发证机构（最多 200 个字）。",
    "contact": "请填写联系方式（最多 200 个字）。",
    "broker_id": "请选择一位已认证的技术经纪人（不能是本机构的经纪人）。",
    "subject_kind": "请选择委托事项。",
    "subject_id": "请填写正确的挂牌项目、议价或成交编号（须为本机构参与的事项）。",
    "owed_by": "佣金由委托方自己承担：请选择本机构在该事项中的身份（转让方或受让方）。",
    "basis": "请选择按成交价比例或固定金额计算佣金。",
    "commission_percent": "佣金比例须为大于 0、不超过 100 的百分数（最多两位小数），例如 3 或 2.5。",
    "commission_yuan": "固定佣金须为大于 0 的金额（元），例如 50,000 或 50000.00，且不超过承担方可承担的金额。",
    "note": "备注最多 2,000 个字。",
    "reason": "请填写原因。",
}
BROKER_FIELD_RULES: dict[tuple[str, str], str] = {
    ("credential_number", "registered already"): "该证书编号的经纪人已经登记过。",
    (
        "commission_percent",
        "exceeds",
    ): "按该比例计算的佣金超出承担方可承担的金额（转让方以实收为限，受让方以成交价为限）。",
    ("commission_yuan", "exceeds"): "固定佣金超出承担方可承担的金额（转让方以实收为限，受让方以成交价为限）。",
    ("broker_id", "not verified"): "该技术经纪人尚未通过认证或已被暂停，不能接受委托。",
}


def broker_field_message(field: str, problem_type: str, english: str = "") -> str:
    """The words next to an input of the brokers' forms for a refusal naming ``field``."""
    for (rule_field, words), sentence in BROKER_FIELD_RULES.items():
        if rule_field == field and words in english:
            return sentence
    if problem_type == "broker-not-verified":
        return MESSAGES["broker-not-verified"]  # type: ignore[return-value]
    return BROKER_FIELDS.get(field) or message_for(problem_type, 422)


NOTICES.update(
    {
        "demand-close": "需求已关闭，不再接收新的方案。",
        "demand-withdraw": "需求已撤回。",
        "campaign-submitted": "已提交到本次征集，组织方筛选后您会收到通知。",
    }
)


# -- the achievement registry (exchange/registry/pages.py): the console's check ------------------------------
MESSAGES.update({"registry-rule-broken": "提交的内容不符合科技成果登记的要求，请检查后重试。"})
NOTICES.update(
    {
        "registry-registered": "成果已登记：已编号并在成果登记库公开。",
        "registry-returned": "成果登记已退回，原因已记录。",
    }
)
NOTICES.update({"tracking-report-filed": "实施情况报告已保存，转让方可以看到最新的实施状态。"})
# -- the credit evaluation of service institutions (exchange/credit/pages.py) ---------------------------------
CRITERIA_WORDS = {
    "grade": "信用等级须为 A 级",
    "engagements": "已完成的服务订单与技术经纪成交须不少于 5 笔",
    "upheld_complaints": "近 365 天内不得有成立的投诉",
}


def _criteria_not_met(extra: Extra) -> str:
    unmet = [CRITERIA_WORDS.get(str(c), str(c)) for c in extra.get("criteria") or []]
    return "不符合示范机构的认定标准：" + "；".join(unmet or ["见公布的标准"]) + "。"


def _grade_too_low(extra: Extra) -> str:
    grade = extra.get("provider_grade")
    shown = "未评级" if grade in (None, "unrated") else f"{grade} 级"
    least = extra.get("min_provider_grade")
    return f"该创新券项目要求服务机构的信用等级不低于 {least} 级（min_provider_grade），该服务机构为{shown}。"


MESSAGES.update(
    {
        "credit-rule-broken": "提交的内容不符合服务评价的规则：评分为 1 至 5 分，原因与回复须填写。",
        "engagement-not-finished": "服务订单验收后、技术经纪成交结算后才能评价。",
        "already-rated": "每笔服务只能评价一次，已经评价过了。",
        "already-answered": "每条评价只能回复一次，已经回复过了。",
        "complaint-open": "关于此项服务的投诉正在处理中，请等待交易所的处理结果。",
        "complaint-decided": "该投诉已经处理过了。",
        "demonstration-criteria-not-met": _criteria_not_met,
        "provider-grade-too-low": _grade_too_low,
    }
)
NOTICES.update(
    {
        "credit-rated": "评价已提交，服务机构的信用评分已重新计算。",
        "credit-answered": "回复已发布。",
        "credit-complained": "投诉已提交，交易所处理后会通知双方。",
        "complaint-upheld": "投诉成立：已通知双方，服务机构的信用评分已重新计算。",
        "complaint-dismissed": "投诉已驳回，已通知双方。",
        "demonstration-designated": "已认定为示范机构，并通知该机构。",
        "demonstration-ended": "示范机构认定已终止，并通知该机构。",
    }
)
NOTICES.update(
    {
        "registry-draft-opened": "成果登记草稿已建立，请补全登记表后提交。",
        "registry-saved": "成果登记草稿已保存。",
        "registry-submitted": "成果登记已提交，等待交易所审核；审核结果将通知贵单位。",
        "registry-corrected": "登记信息已更正，登记号不变，更正已进入汇交数据。",
        "registry-withdrawn": "成果登记已撤销，成果登记库不再公开，撤销已进入汇交数据。",
    }
)
# The words next to an input of the registration forms (exchange/registry/page_forms.py), by the field
# a refusal names: the national registration form's fields, and the reason of a correction or withdrawal.
REGISTRY_FIELDS: dict[str, str] = {
    "title": "请填写成果名称（1 至 200 个字）。",
    "summary": "请填写成果简介（最多 4,000 个字）。",
    "category": "请选择成果类别：基础理论、应用技术或软科学。",
    "keywords": "关键词 1 至 3 个，每个不超过 20 个字，以空格或逗号分隔。",
    "level": "请选择成果水平。",
    "stage": "请选择成果所处阶段：初期、中期或成熟。",
    "field": "请选择所属领域。",
    "funding_source": "经费来源最多 200 个字。",
    "project_numbers": "项目（课题）编号最多 10 个，每个不超过 64 个字符，以空格或逗号分隔。",
    "contact_name": "请填写联系人（最多 50 个字）。",
    "contact_phone": "请填写联系电话：7 至 24 位数字，可含空格或连字符，例如 021-6598 0000。",
    "contact_email": "电子邮箱形如 name@example.cn，可不填。",
    "org_name": "请填写完成单位（最多 200 个字）。",
    "reason": "请写明原因（最多 2,000 个字），原因将随汇交数据报送。",
    "listing_id": "只能从本单位的挂牌建立登记。",
    "disclosure_id": "请从本单位的披露或挂牌中选择一项，不能同时选择两项。",
}
REGISTRY_FIELD_RULES: dict[tuple[str, str], str] = {
    ("category", "part of the number"): "成果类别是登记号的一部分，不能更正；请撤销后重新登记。",
    ("title", "changes nothing"): "更正内容与已登记的信息相同，请修改需要更正的内容。",
    ("keywords", "at most 3"): "关键词最多 3 个。",
}
registry_field_message = field_words(REGISTRY_FIELDS, REGISTRY_FIELD_RULES, listing_field_message)
