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


# -- vouchers: the workspaces of service providers, enterprises and program administrators --------


def _form_field(extra: Extra) -> str:
    label = extra.get("label")
    return f"“{label}”填写有误，请检查后重新提交。" if label else "表单填写有误，请检查后重新提交。"


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
        "invalid-form": _form_field,
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
