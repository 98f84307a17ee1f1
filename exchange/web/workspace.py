"""The workspaces' navigation: which pages a signed-in user's organisation works in.

Every role's pages extend ``workspace/base.html``, which draws this navigation for the reader and
marks the page's own item (the template variable ``workspace_tab`` names its key). An item is
shown to the organisations whose work it is; the page itself still checks the caller, as the API
does, so hiding an item is a convenience and never the guard.

The caller is read by its attributes (``org_kind``, ``is_operator``, ``is_admin``): this package
sits below the parties module and may not import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SELLERS = frozenset({"university", "research_institute", "enterprise"})
BUYERS = frozenset({"university", "research_institute", "enterprise"})


def _kind(caller: Any) -> str:
    return str(getattr(caller.org_kind, "value", caller.org_kind))


def anyone(caller: Any) -> bool:
    return True


def sellers(caller: Any) -> bool:
    return _kind(caller) in SELLERS


def buyers(caller: Any) -> bool:
    return _kind(caller) in BUYERS


def enterprises(caller: Any) -> bool:
    return _kind(caller) == "enterprise"


def providers(caller: Any) -> bool:
    return _kind(caller) == "service_provider"


def governments(caller: Any) -> bool:
    return _kind(caller) == "government"


def operators(caller: Any) -> bool:
    return bool(caller.is_operator)


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str  # the page's ``workspace_tab``
    href: str
    label: str


@dataclass(frozen=True, slots=True)
class NavGroup:
    title: str
    shown_to: Callable[[Any], bool]
    items: tuple[NavItem, ...]


# The one list of workspace pages. A role's pages live in the module that owns their work (see
# docs/portal.md, "Workspaces"); the operators' console lives under /console.
WORKSPACE_NAV: tuple[NavGroup, ...] = (
    NavGroup("工作台", anyone, (NavItem("overview", "/workspace", "概览"),)),
    NavGroup(
        "卖方",
        sellers,
        (
            NavItem("listings", "/workspace/listings", "我的挂牌"),
            NavItem("new-listing", "/workspace/listings/new", "新建挂牌"),
            NavItem("sales", "/workspace/sales", "议价与成交（卖方）"),
        ),
    ),
    NavGroup(
        "买方",
        buyers,
        (
            NavItem("intents", "/workspace/intents", "意向与保证金"),
            NavItem("purchases", "/workspace/purchases", "议价与成交（买方）"),
        ),
    ),
    NavGroup("资金", buyers, (NavItem("wallet", "/workspace/wallet", "钱包"),)),
    NavGroup("创新券", enterprises, (NavItem("my-vouchers", "/workspace/vouchers", "我的创新券与服务订单"),)),
    NavGroup(
        "服务机构",
        providers,
        (
            NavItem("services", "/workspace/services", "服务项目"),
            NavItem("orders", "/workspace/orders", "服务订单"),
        ),
    ),
    NavGroup("项目管理", governments, (NavItem("programs", "/workspace/programs", "创新券项目"),)),
    NavGroup(
        "运营后台",
        operators,
        (
            NavItem("verifications", "/console/verifications", "机构认证"),
            NavItem("reviews", "/console/reviews", "挂牌审核"),
            NavItem("objections", "/console/objections", "异议处理"),
            NavItem("bank-transfers", "/console/bank-transfers", "银行到账"),
            NavItem("withdrawals", "/console/withdrawals", "提现支付"),
            NavItem("reconciliations", "/console/reconciliations", "对账"),
            NavItem("ledger", "/console/ledger", "账本状态"),
            NavItem("calendar", "/console/calendar", "工作日历"),
            NavItem("sweeps", "/console/sweeps", "定时任务"),
            NavItem("annual-reports", "/console/institutions/annual-reports", "成果转化年度报告"),
            NavItem("console-campaigns", "/console/campaigns", "需求征集与筛选"),
            NavItem("console-brokers", "/console/brokers", "技术经纪人认证"),
            NavItem("console-tracking", "/console/tracking", "成果转化跟踪（逾期报告）"),
            NavItem("console-registry", "/console/registry", "科技成果登记审核"),
            NavItem("console-registry-imports", "/console/registry/imports", "成果批量导入"),
            NavItem("console-credit", "/console/credit", "服务投诉与示范机构"),
            NavItem("white-paper", "/console/reports/white-paper", "年度白皮书"),
        ),
    ),
    NavGroup(
        "账户",
        anyone,
        (
            NavItem("notifications", "/workspace/notifications", "通知"),
            NavItem("org", "/workspace/org", "机构资料"),
            NavItem("members", "/workspace/members", "成员"),
            NavItem("sessions", "/workspace/sessions", "登录设备"),
        ),
    ),
)


def workspace_nav(caller: Any) -> list[NavGroup]:
    """The groups of pages shown to this caller, in the order of ``WORKSPACE_NAV``."""
    if caller is None:
        return []
    return [group for group in WORKSPACE_NAV if group.shown_to(caller)]


# -- a university's or research institute's own transfer process (exchange/institutions/pages.py) -------
INSTITUTIONS = frozenset({"university", "research_institute"})


def institutions(caller: Any) -> bool:
    return _kind(caller) in INSTITUTIONS


WORKSPACE_NAV += (
    NavGroup(
        "成果转化",
        institutions,
        (
            NavItem("transfers", "/workspace/transfers", "披露与转化"),
            NavItem("new-transfer", "/workspace/transfers/new", "新建披露"),
            NavItem("transfer-settings", "/workspace/transfers/settings", "转化设置"),
            NavItem("transfer-income", "/workspace/transfers/income", "收益分配"),
            NavItem("annual-report", "/workspace/transfers/annual-report", "年度报告"),
        ),
    ),
)

# -- an inventor's own account (exchange/institutions/inventor_pages.py) ------------------------------------
# The navigation is chosen by the organisation's kind, not per user: every member of an institution
# sees the entry, and a member the office has not linked to an inventor account is told so there.
WORKSPACE_NAV += (NavGroup("成果收益", institutions, (NavItem("inventor", "/workspace/inventor", "我的成果收益"),)),)


# -- technical demands (exchange/demands/pages.py) --------------------------------------------------------
WORKSPACE_NAV += (
    NavGroup("技术需求", enterprises, (NavItem("demands", "/workspace/demands", "我的技术需求"),)),
    NavGroup("需求应答", sellers, (NavItem("proposals", "/workspace/proposals", "我的解决方案"),)),
)

# -- matches, both ways (exchange/demands/match_pages.py) -----------------------------------------------
WORKSPACE_NAV += (NavGroup("对接推荐", anyone, (NavItem("matches", "/workspace/matches", "对接推荐"),)),)

# -- campaigns (需求征集): the organiser's pages (exchange/demands/campaign_pages.py) ----------------------
WORKSPACE_NAV += (NavGroup("需求征集", governments, (NavItem("campaigns", "/workspace/campaigns", "需求征集与筛选"),)),)

# -- technology brokers (exchange/brokers/pages.py) --------------------------------------------------------
WORKSPACE_NAV += (
    NavGroup("技术经纪", providers, (NavItem("brokers", "/workspace/brokers", "技术经纪人与委托"),)),
    NavGroup("技术经纪", sellers, (NavItem("brokerage", "/workspace/brokerage", "委托技术经纪人"),)),
)

# -- tracking after the deal (exchange/tracking/pages.py) --------------------------------------------------
WORKSPACE_NAV += (
    NavGroup(
        "成果转化跟踪",
        buyers,
        (
            NavItem("tracking", "/workspace/tracking", "受让成果实施报告"),
            NavItem("tracking-transferred", "/workspace/tracking/transferred", "已转让成果的跟踪"),
        ),
    ),
)

# -- the credit evaluation (exchange/credit/pages.py) ----------------------------------------------------
WORKSPACE_NAV += (NavGroup("信用评价", anyone, (NavItem("credit", "/workspace/credit", "信用评价与投诉"),)),)

# -- the achievement registry (exchange/registry/workspace_pages.py): an organisation's registrations ----------
WORKSPACE_NAV += (NavGroup("成果登记", sellers, (NavItem("registry", "/workspace/registry", "成果登记"),)),)
