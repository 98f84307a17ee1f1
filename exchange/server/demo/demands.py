"""The demo's technical demands (需求挂牌) and a campaign (需求征集), two days before the present:

- the city's science commission (东海市科学技术委员会, a government program) opens a campaign for
  new-energy and new-materials demands;
- four enterprises publish demands across fields (materials, manufacturing, biomedicine,
  agriculture), one of them shown only to the universities it invites, and two submit theirs to the
  campaign; the commission accepts one, the other waits for screening;
- the university answers the hydrogen-storage demand with one of its listings, the materials
  institute with a new solution; the enterprise shortlists the university's.

Every act goes through the demands services at the clock's moment, as the pages do.
"""

from __future__ import annotations

from datetime import timedelta

from exchange.demands import campaigns, proposals, service
from exchange.demands.domain import AcceptedForm, CampaignKind, Screening, Visibility, beijing_today
from exchange.demands.schemas import CampaignIn, DemandIn, ProposalIn, ScreeningIn, SubmissionIn
from exchange.server.demo.stage import Demo
from listings.domain import Field

L, T, C, S = (
    AcceptedForm.LICENSE, AcceptedForm.TRANSFER, AcceptedForm.COMMISSIONED_DEVELOPMENT, AcceptedForm.TECHNICAL_SERVICE,
)  # fmt: skip
SEALED = "目标成本与现有供应商见附件（签署保密协议后可见）。"
# Each accepts technology from maturity level 4 (a laboratory prototype) up.
# (enterprise, title, field, description, performance, keywords, budget yuan (min, max), forms, days left, invited)
DEMANDS = [
    ("guneng", "车载储氢瓶轻量化内胆材料", Field.NEW_MATERIALS,
     "需要用于70MPa车载储氢瓶的轻量化内胆材料，替代现有铝合金内胆。",
     "质量储氢密度≥5.5wt%，循环寿命≥15000次", ["储氢", "轻量化", "复合材料"], (500_000, 2_000_000), [T, C], 60, ()),
    ("zhizao", "焊缝缺陷在线视觉检测", Field.ADVANCED_MANUFACTURING, "产线焊缝缺陷依赖人工抽检，需在线视觉检测方案。",
     "漏检率≤0.5%，节拍≤2秒/件", ["机器视觉", "焊缝", "缺陷检测"], (300_000, 800_000), [L, S], 45, ()),
    ("kangyuan", "抗体药物高表达细胞株构建", Field.BIOMEDICINE, "需提高CHO细胞株的抗体表达量，缩短细胞株开发周期。",
     "表达量≥5g/L，开发周期≤4个月", ["抗体", "细胞株", "CHO"], (1_000_000, 3_000_000), [L, C], 90,
     ("donghai", "shenjiang")),
    ("lvhe", "秸秆厌氧发酵产气效率提升", Field.AGRICULTURE, "现有秸秆沼气工程产气率低，冬季尤甚。",
     "容积产气率提高30%，冬季稳定运行", ["厌氧发酵", "秸秆", "沼气"], (None, 500_000), [S, C], 30, ()),
]  # fmt: skip


async def scene_demands(demo: Demo) -> str:
    today = beijing_today(demo.now)
    kewei = demo.principals["kewei"]
    call = CampaignIn(
        theme="东海市新能源与新材料企业技术需求征集", kind=CampaignKind.DEMANDS, deadline=today + timedelta(days=40),
        description="面向本市新能源、新材料企业征集亟待解决的技术难题，入选需求将推送给高校、科研院所并优先对接。",
        rules="已认证企业提交已发布的技术需求；每家至多三项；市科委在截止后十个工作日内完成筛选。",
    )  # fmt: skip
    campaign = await demo.tx(lambda s: campaigns.create_campaign(s, kewei, call, demo.now))
    posted = {}
    for key, title, field, text, performance, words, (low, high), forms, days, invited in DEMANDS:
        owner = demo.principals[key]
        data = DemandIn(
            title=title, description=text, performance=performance, field=field, keywords=words, min_maturity=4,
            budget_min_fen=low * 100 if low else None, budget_max_fen=high * 100, accepted_forms=forms,
            deadline=today + timedelta(days=days), visibility=Visibility.INVITED if invited else Visibility.PUBLIC,
            invited_org_ids=[demo.org(k) for k in invited], confidential=SEALED,
        )  # fmt: skip
        demand = await demo.tx(
            lambda s, o=owner, d=data: service.create_demand(s, demo.modules.demands, o, d, demo.now)
        )
        await demo.tx(lambda s, o=owner, i=demand.id: service.publish_demand(s, o, i, demo.now))
        posted[key] = demand.id
    submitted = []
    for key in ("guneng", "zhizao"):
        entry = SubmissionIn(demand_id=posted[key])
        sub = await demo.tx(lambda s, k=key, e=entry: campaigns.submit(s, demo.principals[k], campaign.id, e, demo.now))
        submitted.append(sub.id)
    accept = ScreeningIn(decision=Screening.ACCEPTED)
    await demo.tx(lambda s: campaigns.screen(s, kewei, submitted[0], accept, demo.now))

    uni, institute = demo.principals["donghai"], demo.principals["pujiang"]
    async with demo.db.read() as session:
        own = await proposals.own_listings(session, uni)
    answer = ProposalIn(
        summary="本校储氢合金与碳纤维复合内胆技术可直接用于70MPa储氢瓶，已完成样件验证。",
        listing_ids=[own[0][0]] if own else [], solution="" if own else "碳纤维复合内胆工艺，已完成样件验证。",
        budget_fen=150_000_000,
    )  # fmt: skip
    by_uni = await demo.tx(lambda s: proposals.propose(s, uni, posted["guneng"], answer, demo.now))
    idea = ProposalIn(
        summary="采用热塑性内胆与纤维缠绕一体成型，可降重20%。", solution="研究院可承担委托开发，周期约一年。"
    )
    await demo.tx(lambda s: proposals.propose(s, institute, posted["guneng"], idea, demo.now))
    await demo.tx(lambda s: proposals.shortlist(s, demo.principals["guneng"], by_uni.id, demo.now))
    return f"{len(DEMANDS)} demands published, a campaign with {len(submitted)} submissions, 2 proposals"
