"""The demo's credit evaluation (服务与信用评价), after the service orders are done: the patent
agency takes three more search orders paid in cash; the enterprises rate every accepted order (the
patent agency reaches grade A, the valuation firm a lower grade), the patent agency answers a
rating; the operators designate it a demonstration institution (示范机构); one complaint about the
testing centre waits in the console.

Every act goes through the credit and vouchers services at the clock's moment, as the pages do.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from exchange.credit import EngagementKind
from exchange.credit import service as credit
from exchange.server.demo.stage import Demo
from exchange.vouchers import orders
from exchange.vouchers.models import Service

EXTRA_ORDERS = ("zhizao", "zhizao", "xinxun")  # cash orders of the patent agency's search service
# order name → (quality, timeliness, professionalism, comment)
RATINGS = {
    "guneng-materials": (4, 4, 5, "检测数据完整，报告出具比约定晚两天。"),
    "lvhe-patents": (5, 5, 5, "布局分析细致，年费台账很实用。"),
    "kangyuan-search": (5, 5, 5, "查新结论清楚，响应快。"),
    "zhizao-valuation": (3, 3, 4, "评估方法说明较少，沟通次数偏多。"),
}
COMPLAINT = ("xinxun", "xinxun-emc", "整改建议不够具体，未说明超标频段的复测安排。")


async def scene_credit(demo: Demo) -> str:
    demo.advance_to(demo.now + timedelta(hours=2))
    ctx = demo.modules.credit
    agency = demo.principals["zhiquan"]
    async with demo.db.read() as session:
        search = await session.scalar(
            select(Service.id).where(Service.provider_org_id == agency.org_id, Service.category == "tech_search")
        )
    assert search is not None, "the demo's patent agency publishes a search service"
    rated: list[tuple[str, object, tuple]] = []
    for number, buyer in enumerate(EXTRA_ORDERS):
        who = demo.principals[buyer]
        placed = await demo.tx(lambda s, w=who: orders.place_order(s, w, service_id=search, voucher_amount=0,
                                                                   program_id=None, now=demo.now))  # fmt: skip
        await demo.tx(lambda s, o=placed.id: orders.confirm(s, agency, o, demo.now))
        report = f"查新报告 No. ZQ-2026-02{number:02d}：新颖性结论明确"
        await demo.tx(lambda s, o=placed.id, r=report: orders.deliver(s, agency, o, r, demo.now))
        await demo.tx(lambda s, o=placed.id, w=who: orders.accept(s, w, o, demo.now))
        rated.append((buyer, placed.id, (5, 5, 5, "报告规范，交付准时。")))
    for name, marks in RATINGS.items():
        buyer = name.split("-", 1)[0]
        rated.append((buyer, demo.orders[name], marks))
    demo.advance_to(demo.now + timedelta(hours=1))
    for buyer, order_id, (q, t, p, comment) in rated:
        await demo.tx(
            lambda s, w=demo.principals[buyer], o=order_id, q=q, t=t, p=p, c=comment: credit.rate(
                s, ctx, w, kind=EngagementKind.SERVICE_ORDER, engagement_id=o, quality=q, timeliness=t,
                professionalism=p, comment=c, now=demo.now,
            )
        )  # fmt: skip
    # The valuation firm answers its rating; the testing centre faces a complaint the console decides.
    valuation = await demo.tx(
        lambda s: credit.rating_of(s, EngagementKind.SERVICE_ORDER, demo.orders["zhizao-valuation"])
    )
    await demo.tx(lambda s: credit.answer(s, demo.principals["pinggu"], valuation.id,
                                          "感谢反馈，已补充评估方法说明并指定专人对接。", demo.now))  # fmt: skip
    buyer, name, reason = COMPLAINT
    await demo.tx(lambda s: credit.complain(s, ctx, demo.principals[buyer], kind=EngagementKind.SERVICE_ORDER,
                                            engagement_id=demo.orders[name], reason=reason, now=demo.now))  # fmt: skip
    demo.advance_to(demo.now + timedelta(hours=1))
    stored = await demo.tx(lambda s: credit.designate(s, ctx, demo.principals["ops"], agency.org_id, demo.now))
    async with demo.db.read() as session:
        counts = await credit.grade_counts(session)
    graded = ", ".join(f"{g} {counts[g]}" for g in "ABCD" if counts[g])
    return (
        f"{len(rated)} ratings (grades: {graded}); the patent agency (grade {stored.grade}) a demonstration institution"
    )
