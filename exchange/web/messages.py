"""What a refusal says on a page, in Chinese.

The API answers a refusal as problem details with a stable ``type`` slug and an English detail;
a page shows the same refusal by its slug, with the figures the problem carries (a minimum bid, an
increment) written as yuan. One table, so the API and the pages can never disagree on *whether*
something is refused — only on the words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

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
}

# A page that names its action (``request.state.action``) may word a refusal its own way: the same
# refusal, said as what it means for that form. Keys are "action:problem-type".
ACTION_MESSAGES: dict[str, str | Callable[[Extra], str]] = {
    "objection:invalid-state": "此公示已不在公示期内，不再接受异议。",
    "objection:invalid-request": "异议理由须为 10 至 2,000 个字，请补充后再提交。",
    "invitation:email-taken": "该邮箱已在另一家机构注册，不能通过邀请加入；请联系邀请人，或用该账号登录。",
    "invitation:invalid-token": "邀请链接无效或已过期（可能已被使用或撤销），请联系机构管理员重新邀请。",
}

# What a page that redirects says on the page it sends its reader to (``?notice=<key>``, shown by
# the layout): fixed sentences only, so that a link can never put words of its own on the site.
NOTICES: dict[str, str] = {
    "email-confirmed": "邮箱已确认，您已登录。",
    "invitation-accepted": "您已加入机构并已登录。",
    "password-reset": "密码已重置，所有设备上的登录均已退出，请用新密码登录。",
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


def listing_field_message(field: str, problem_type: str, item: Mapping[str, Any] | None = None) -> str:
    """The words next to an input of the listing form for a refusal of ``field``."""
    if problem_type in LISTING_FORM_PROBLEMS:
        return LISTING_FORM_PROBLEMS[problem_type]
    key = ".".join("*" if part.isdigit() else part for part in field.split("."))
    english = str((item or {}).get("message") or "")
    for (rule_field, words), sentence in LISTING_FIELD_RULES.items():
        if rule_field == key and words in english:
            return sentence
    while key:
        if key in LISTING_FIELDS:
            return LISTING_FIELDS[key]
        key = key.rpartition(".")[0]
    return MESSAGES["validation-error"]
