"""The demo's innovation vouchers: a city program funded and granted, services ordered and redeemed.

The city's science and technology commission runs the program; the operator records the cash the
treasury sent; six enterprises get vouchers and spend part of them on the three providers'
services. One provider's claim was approved weeks ago; another's is under its public notice now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.payments.domain import china_day
from exchange.server.demo.data import (
    GRANTS,
    PROGRAM_BUDGET,
    PROGRAM_CATEGORIES,
    PROGRAM_FUNDING,
    PROGRAM_NAME,
    SERVICES,
)
from exchange.server.demo.stage import BankLine, Demo, morning
from exchange.vouchers import orders, programs, redemptions
from exchange.vouchers.domain import Category
from exchange.vouchers.models import Redemption, ServiceOrder
from listings import Notice

# name: (enterprise, service, vouchers in yuan, how far it got)
ORDERS = {
    "guneng-materials": ("guneng", "materials", 30_000, "accepted"),
    "lvhe-patents": ("lvhe", "patents", 40_000, "accepted"),
    "kangyuan-search": ("kangyuan", "search", 15_000, "accepted"),
    "zhizao-valuation": ("zhizao", "valuation", 50_000, "accepted"),
    "xinxun-emc": ("xinxun", "emc", 22_500, "delivered"),
    "qinghuan-valuation": ("qinghuan", "valuation", 50_000, "confirmed"),
    "zhizao-materials": ("zhizao", "materials", 30_000, "cancelled"),
}
FIRST_CLAIM = ("jianyan", ["guneng-materials"])  # approved after its notice
SECOND_CLAIM = ("zhiquan", ["lvhe-patents", "kangyuan-search"])  # under notice at the present
RESULTS = {
    "materials": "检测报告 No. JY-2026-0318：拉伸强度与导热系数均满足企业标准",
    "patents": "完成12件专利的布局分析与年费监控台账",
    "search": "查新报告 No. ZQ-2026-0107：检索到相关文献23篇，新颖性结论明确",
    "valuation": "评估报告 No. PG-2026-045：收益法评估值人民币420万元",
    "emc": "EMC 摸底测试报告：辐射发射超标2项，已给出整改建议",
}


async def scene_program(demo: Demo) -> str:
    """The city's voucher program: created, funded by bank transfer, granted; providers publish services."""
    demo.advance_to(demo.now + timedelta(hours=1))
    gov, ops = demo.principals["kewei"], demo.principals["ops"]
    terms = programs.ProgramTerms(
        name=PROGRAM_NAME,
        year=demo.present.year,
        budget=PROGRAM_BUDGET,
        categories=tuple(Category(c) for c in PROGRAM_CATEGORIES),
        valid_from=demo.now - timedelta(days=1),
        valid_until=demo.present + timedelta(days=180),
        per_org_cap=demo.settings.voucher_per_org_cap_fen,  # as the route defaults them
        coverage_bp=demo.settings.voucher_coverage_bp,
    )
    program = await demo.tx(lambda s: programs.create_program(s, gov, terms, demo.now))
    demo.program_id = program.id
    reference = f"ICBC{china_day(demo.now):%Y%m%d}0088"
    await demo.tx(lambda s: programs.fund(s, ops, program.id, PROGRAM_FUNDING, reference, demo.now))
    demo.bank.append(BankLine(china_day(demo.now), PROGRAM_FUNDING, reference))
    for key, amount in GRANTS.items():
        await demo.tx(
            lambda s, k=key, a=amount: programs.grant(s, gov, program.id, demo.org(k), a, "首批创新券", demo.now)
        )
    for service in SERVICES:
        published = await demo.tx(
            lambda s, sv=service: orders.publish_service(
                s,
                demo.principals[sv.provider],
                category=Category(sv.category),
                title=sv.title,
                description=sv.description,
                price=sv.price,
                now=demo.now,
            )
        )
        demo.orders[f"service:{service.key}"] = published.id
    granted = sum(GRANTS.values())
    return (
        f"budget ¥{PROGRAM_BUDGET // 100:,}, funded ¥{PROGRAM_FUNDING // 100:,}, "
        f"¥{granted // 100:,} granted to {len(GRANTS)} enterprises, {len(SERVICES)} services published"
    )


async def _claim(demo: Demo, provider: str, names: list[str]) -> Redemption:
    ids = [demo.orders[n] for n in names]
    return await demo.tx(
        lambda s: redemptions.claim(s, demo.modules.listings, demo.principals[provider], ids, demo.now)
    )


async def scene_service_orders(demo: Demo) -> str:
    """Nine weeks ago: enterprises order services, half paid with vouchers; a first claim is redeemed."""
    demo.advance_to(demo.now + timedelta(days=2))
    providers = {s.key: s.provider for s in SERVICES}
    for name, (buyer, service, vouchers, _) in ORDERS.items():
        order = await demo.tx(
            lambda s, b=buyer, sv=service, v=vouchers: orders.place_order(
                s,
                demo.principals[b],
                service_id=demo.orders[f"service:{sv}"],
                voucher_amount=v * 100,
                program_id=demo.program_id,
                now=demo.now,
            )
        )
        demo.orders[name] = order.id
        demo.advance_to(demo.now + timedelta(hours=1))

    def step(name: str, who: str, action: str) -> Callable[[AsyncSession], Awaitable[ServiceOrder]]:
        """The transaction of one move of an order, as its route runs it."""
        order_id, principal = demo.orders[name], demo.principals[who]
        if action == "confirm":
            return lambda s: orders.confirm(s, principal, order_id, demo.now)
        if action == "deliver":
            return lambda s: orders.deliver(s, principal, order_id, RESULTS[ORDERS[name][1]], demo.now)
        if action == "accept":
            return lambda s: orders.accept(s, principal, order_id, demo.now)
        reason = "项目计划调整，暂不需要该服务"
        return lambda s: orders.cancel(s, principal, order_id, reason, demo.now, credit_context=demo.modules.credit)

    plan = {"confirmed": ["confirm"], "delivered": ["confirm", "deliver"], "accepted": ["confirm", "deliver", "accept"]}
    for action in ("confirm", "deliver", "accept"):
        demo.advance_to(demo.now + timedelta(days=2))
        for name, (buyer, service, _, fate) in ORDERS.items():
            if action in plan.get(fate, []):
                who = buyer if action == "accept" else providers[service]
                await demo.tx(step(name, who, action))
    for name, (buyer, _, _, fate) in ORDERS.items():
        if fate == "cancelled":
            await demo.tx(step(name, buyer, "cancel"))

    # The testing centre claims cash for its accepted order; after five working days of notice the
    # commission approves it.
    demo.advance_to(demo.now + timedelta(days=1))
    claim = await _claim(demo, *FIRST_CLAIM)
    async with demo.db.read() as session:
        closes_at = await session.scalar(select(Notice.closes_at).where(Notice.id == claim.notice_id))
    demo.advance_to(closes_at + timedelta(minutes=5))
    await demo.sweep()
    demo.advance_to(demo.next_morning(1))
    approved = await demo.tx(lambda s: redemptions.approve(s, demo.principals["kewei"], claim.id, demo.now))
    states = Counter(fate for *_, fate in ORDERS.values())
    shown = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    return f"{len(ORDERS)} service orders ({shown}); a claim of ¥{approved.amount // 100:,} redeemed"


async def scene_redemption_notice(demo: Demo) -> str:
    """Yesterday: the patent agency claims cash for two orders; the public notice runs five working days."""
    demo.advance_to(morning(demo.present.date() - timedelta(days=1)) + timedelta(minutes=30))
    claim = await _claim(demo, *SECOND_CLAIM)
    async with demo.db.read() as session:
        closes_at = await session.scalar(select(Notice.closes_at).where(Notice.id == claim.notice_id))
    return f"a claim of ¥{claim.amount // 100:,} under public notice until {closes_at:%Y-%m-%d %H:%M} UTC"
