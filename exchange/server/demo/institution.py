"""The demo university's technology-transfer office: 东海理工大学 runs its own transfer process
(发起 初审 评估 论证 决策 公示 实施, then 收益分配) through the institutions services, in every step.

- ``scene_transfer_office`` (the start): the office invites the people of its process (an inventor,
  the evaluator, the expert panel's secretary, the decision body's secretary), who join by the
  invitation mailed to them; it grants their roles and saves its settings.
- ``scene_decided_transfers`` (the first three weeks): two disclosures go through to a decision; their
  notices run fifteen days and close; the hard-carbon anode patent is implemented as the listing the
  exchange later auctions (catalogue index ``market.AUCTION_SETTLED``), the other waits for 实施.
- ``scene_income_plan`` (the day the auction's deal is paid): the settlement wrote the income
  receipt; the office checks the inventors' identity and proposes the default plan, whose notice
  runs fifteen working days.
- ``scene_transfer_desk`` (the last week or so): processes left at 初审, 评估, 论证 and 决策, one under
  公示 with an objection pending, one returned once, one stopped by the decision body, the waiting
  one implemented as a listing draft; the year's annual-report inputs.
- ``scene_inventor_payout`` (today): the plan's notice has closed: the office pays the inventors.

The demo never writes a timestamp itself: each act happens at the clock's moment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.institutions import config, distribution, implementation, inventors, processes, reports
from exchange.institutions.annual import beijing_year
from exchange.institutions.domain import Role, Step
from exchange.institutions.income import list_receipts
from exchange.institutions.models import DistributionPlan, TransferProcess
from exchange.institutions.schemas import (
    AnnualInputsIn,
    DecisionIn,
    DisclosureIn,
    EvaluationIn,
    ExpertReviewIn,
    ExtraApprovalIn,
    FirstReviewIn,
    IdentityCheckIn,
    ImplementationIn,
    PlanIn,
    SettingsIn,
)
from exchange.parties import members
from exchange.parties import service as parties
from exchange.parties.auth import session_lifetime
from exchange.parties.domain import Role as MemberRole
from exchange.parties.sessions import Device
from exchange.payments.domain import china_day
from exchange.platform.outbox import Kind, OutboxEvent
from exchange.server.demo.data import CATALOGUE, DEMO_PASSWORD
from exchange.server.demo.scenes import APPRAISER, listing_request, patent_number
from exchange.server.demo.stage import Demo, DemoError, morning
from listings import Notice
from listings import notices as listing_notices

UNIVERSITY = "donghai"
SOLD = 32  # market.AUCTION_SETTLED: the university's patent that its process puts up for auction
SCHOOL = "材料科学与工程学院"


@dataclass(frozen=True)
class Member:
    key: str  # in demo.principals
    email: str
    name: str
    role: Role | None  # the institution role granted; None: a member who discloses (the inventor's role)
    what: str  # for the tour


MEMBERS = [
    Member("donghai:inventor", "liming@donghai-univ.demo.cn", "李明", None, "材料学院教授，发明人：披露职务科技成果"),
    Member("donghai:evaluator", "assess@donghai-univ.demo.cn", "刘思远", Role.EVALUATOR, "评估人员：录入评估结果"),
    Member("donghai:panel", "panel@donghai-univ.demo.cn", "黄志刚", Role.EXPERT_PANEL, "专家论证组秘书"),
    Member("donghai:board", "board@donghai-univ.demo.cn", "周晓燕", Role.DECISION_BODY, "决策机构秘书（领导小组）"),
]

DECISION_BODY = "东海理工大学科技成果转化工作领导小组"
SETTINGS = {
    "decision_body": DECISION_BODY,
    "notice_days": 15,
    "notice_unit": "calendar_days",
    "plan_notice_days": 15,
    "plan_notice_unit": "working_days",
    "inventor_share_bp": 8000,  # the university's own rule: 80 % to the inventors (the listing's reward share)
    "extra_approval_threshold_fen": 30_000_000,
    "institution_parts": [
        {"name": "学校", "weight": 5},
        {"name": SCHOOL, "weight": 3},
        {"name": "技术转移中心", "weight": 2},
    ],
}
DECISION_MAKERS = [
    {"name": "王建国", "vote": "approve"},
    {"name": "孙立群", "vote": "approve"},
    {"name": "郑海涛", "vote": "approve"},
    {"name": "陈静", "vote": "abstain"},
]


@dataclass
class Achievement:
    """A disclosure of the demo university, as the form posts it."""

    title: str
    summary: str
    field: str
    keywords: tuple[str, ...]
    inventors: tuple[tuple[str, str, int], ...]  # name, affiliation, share in bp
    patent: str  # the invention patent's number
    funding: tuple[tuple[str, str, str], ...] = (("government", "国家自然科学基金委员会", "52174321"),)
    form: str = "transfer"
    maturity: int = 5
    appraised_yuan: int = 0
    floor_yuan: int = 0
    pricing: str = "listed"
    report_no: int = 0  # the valuation report's number of the year
    extra: dict[str, Any] = field(default_factory=dict)

    def disclosure(self) -> DisclosureIn:
        body = {
            "title": self.title,
            "summary": self.summary,
            "field": self.field,
            "keywords": list(self.keywords),
            "maturity": self.maturity,
            "ip_assets": [{"kind": "invention_patent", "number": self.patent, "title": self.title}],
            "inventors": [{"name": n, "affiliation": a, "share_bp": s} for n, a, s in self.inventors],
            "funding": [{"kind": k, "funder": f, "project_number": p} for k, f, p in self.funding],
            "intended_form": self.form,
        }
        return msgspec.convert(body, DisclosureIn)


def _sold() -> Achievement:
    item = CATALOGUE[SOLD]
    return Achievement(
        item.title, item.summary, item.field, item.keywords,
        ((item.inventors[0], SCHOOL, 6000), (item.inventors[1], SCHOOL, 4000)),
        patent_number(SOLD),
        funding=(
            ("government", "国家重点研发计划", "2022YFB2404800"), ("other", "上海固能新材料有限公司（横向合作）", ""),
        ),
        maturity=6, appraised_yuan=item.asking_yuan * 9 // 10, floor_yuan=item.asking_yuan, pricing="auction",
        report_no=132,
    )  # fmt: skip


WAITING = Achievement(  # decided in the first weeks; implemented as a listing draft in the last
    "高强韧铝锂合金板材形变热处理工艺",
    "通过预拉伸与双级时效协同调控析出相，板材屈服强度提高12%、断裂韧性提高20%，已在航空型材企业完成小批量试制。",
    "new_materials", ("铝锂合金", "热处理", "轻量化"),
    (("王芳", SCHOOL, 7000), ("何俊", SCHOOL, 3000)), "ZL202310456789.2",
    appraised_yuan=1_600_000, report_no=157, floor_yuan=1_800_000, pricing="listed",
)  # fmt: skip

# The processes of the last days, each left at its own point.
AT_FIRST_REVIEW = Achievement(
    "基于北斗高精度定位的桥梁结构健康监测系统",
    "北斗RTK与光纤光栅传感融合，毫米级实时监测主梁挠度与索力，已在两座跨江大桥试运行一年。",
    "electronic_information", ("北斗", "结构健康监测", "桥梁"),
    (("吴涛", "土木工程学院", 5000), ("林晨", "土木工程学院", 3000), ("韩冰", "测绘学院", 2000)), "ZL202410112233.5",
    funding=(("government", "上海市科学技术委员会", "23DZ1200800"),), form="license",
)  # fmt: skip
AT_EVALUATION = Achievement(
    "钙钛矿/晶硅叠层太阳电池界面钝化方法",
    "双功能分子钝化钙钛矿上界面，叠层电池认证效率31.2%，85℃湿热老化1000小时效率保持率超过90%。",
    "new_energy", ("钙钛矿", "叠层电池", "钝化"),
    (("许诺", "能源与动力工程学院", 6000), ("邵阳", "能源与动力工程学院", 4000)), "ZL202410334455.8",
)  # fmt: skip
AT_EXPERT_REVIEW = Achievement(
    "工业废水电催化高级氧化处理装置",
    "掺硼金刚石电极与三维粒子电极耦合，COD去除率95%以上、吨水电耗降低35%，适用于印染与制药废水。",
    "energy_saving_environment", ("电催化", "高级氧化", "工业废水"),
    (("陶然", "环境科学与工程学院", 5500), ("冯雪", "环境科学与工程学院", 4500)), "ZL202310998877.1",
    funding=(("other", "学校自主科研经费", ""),), appraised_yuan=900_000, report_no=164,
)  # fmt: skip
AT_DECISION = Achievement(
    "深海装备用钛合金厚板窄间隙焊接残余应力调控方法",
    "超声冲击与层间温度协同控制，焊接残余应力峰值降低45%，已通过船级社工艺评定。",
    "advanced_manufacturing", ("钛合金", "窄间隙焊接", "残余应力"),
    (("钱坤", "船舶与海洋工程学院", 7000), ("罗毅", "船舶与海洋工程学院", 3000)), "ZL202310776655.3",
    appraised_yuan=2_200_000, report_no=171, floor_yuan=2_400_000,
)  # fmt: skip
UNDER_NOTICE = Achievement(
    "新能源汽车电驱系统碳化硅功率模块双面散热结构",
    "双面银烧结与针翅直冷一体化设计，模块热阻降低30%，功率密度提升至每升45千瓦。",
    "new_energy", ("碳化硅", "功率模块", "散热"),
    (("姜宁", "机械工程学院", 5000), ("马骁", "机械工程学院", 3000), ("白露", "电气工程学院", 2000)),
    "ZL202310665544.6",
    appraised_yuan=3_000_000, report_no=178, floor_yuan=3_200_000, pricing="auction",
)  # fmt: skip
RETURNED = Achievement(
    "城市轨道交通轮轨噪声主动控制方法",
    "基于轨道动力吸振器阵列的宽频降噪，曲线段轮轨啸叫降低8分贝，已在地铁试验线验证。",
    "advanced_manufacturing", ("轨道交通", "降噪", "动力吸振器"),
    (("欧阳静", "交通运输工程学院", 6000), ("唐磊", "交通运输工程学院", 4000)), "ZL202310554433.9",
    form="license", appraised_yuan=1_100_000, report_no=185,
)  # fmt: skip
STOPPED = Achievement(
    "可降解镁合金骨钉表面微弧氧化涂层技术",
    "微弧氧化与聚乳酸复合涂层使镁合金骨钉降解速率降低60%，动物实验骨愈合良好。",
    "biomedicine", ("镁合金", "可降解", "骨科植入物"),
    (("邓佳", SCHOOL, 5000), ("胡静", "医学院", 5000)), "ZL202310443322.4",
    appraised_yuan=1_500_000, report_no=192,
)  # fmt: skip

OBJECTION = "公示的完成人名单遗漏了参与样机研制的博士后赵某，请核实完成人及其贡献比例。"
EXPERTS = [
    ("王振华", "上海交通大学", "技术路线清晰，指标经第三方检测，具备产业化条件，建议转化。"),
    ("李雪梅", "中国科学院上海硅酸盐研究所", "创新性强，专利布局较完整，建议明确后续技术服务安排。"),
    ("张国栋", "上海市新能源产业协会", "市场需求明确，底价合理，同意按决策方式转化。"),
]


# -- helpers ---------------------------------------------------------------------------------------


def office(demo: Demo) -> Any:
    return demo.principals[UNIVERSITY]


async def _mailed_token(session: AsyncSession, email: str) -> str:
    """The invitation's token as the mail carries it (the outbox the notifications module delivers)."""
    rows = await session.scalars(
        select(OutboxEvent).where(OutboxEvent.kind == Kind.INVITATION.value).order_by(OutboxEvent.id.desc())
    )
    for row in rows:
        if email in row.audience.get("emails", ()) and row.data.get("token"):
            return str(row.data["token"])
    raise DemoError(f"no invitation mailed to {email}")


async def _process(demo: Demo, process_id: uuid.UUID) -> TransferProcess:
    async with demo.db.read() as session:
        return await processes.get_process(session, process_id)


async def disclose(demo: Demo, item: Achievement, by: str = UNIVERSITY) -> uuid.UUID:
    """The office discloses on the inventors' behalf (``by``: or the inventor member himself)."""
    process = await demo.tx(lambda s: processes.open_disclosure(s, demo.principals[by], item.disclosure(), demo.now))
    return process.id  # type: ignore[no-any-return]


async def first_review(demo: Demo, pid: uuid.UUID, note: str = "材料齐全，权属清晰，无利益冲突") -> None:
    data = FirstReviewIn(complete=True, institution_owns=True, conflicts="", note=note)
    await demo.tx(lambda s: processes.first_review(s, office(demo), pid, data, demo.now))


async def evaluate(demo: Demo, pid: uuid.UUID, item: Achievement, *, external: bool = True) -> None:
    today = china_day(demo.now)
    body: dict[str, Any] = {
        "kind": "external" if external else "internal",
        "appraised_value": item.appraised_yuan * 100,
    }
    if external:
        body |= {
            "appraiser": APPRAISER,
            "report_number": f"申城评报字({today.year})第{item.report_no:04d}号",
            "report_date": (today - timedelta(days=3)).isoformat(),
            "note": "委托外部评估机构出具资产评估报告",
        }
    else:
        body |= {
            "appraiser": "技术转移中心评估组",
            "report_date": today.isoformat(),
            "note": "内部评估：参照近三年同类专利成交价",
        }
    data = msgspec.convert(body, EvaluationIn)
    await demo.tx(
        lambda s: processes.evaluation(s, demo.principals["donghai:evaluator"], pid, data, demo.now, today=today)
    )


async def review(demo: Demo, pid: uuid.UUID) -> None:
    experts = [{"name": n, "affiliation": a, "external": True, "opinion": o, "vote": "approve"} for n, a, o in EXPERTS]
    data = msgspec.convert({"experts": experts, "note": "专家论证会（线上）"}, ExpertReviewIn)
    await demo.tx(lambda s: processes.expert_review(s, demo.principals["donghai:panel"], pid, data, demo.now))


def _minutes(demo: Demo, item: Achievement, number: int) -> str:
    mode = {"auction": "拍卖", "listed": "挂牌", "negotiated": "协议定价"}[item.pricing]
    return (
        f"{DECISION_BODY}{beijing_year(demo.now)}年第{number}次会议纪要：同意《{item.title}》以{mode}方式"
        f"在技术交易所公开转化，底价人民币{item.floor_yuan:,}元。"
    )


async def decide(demo: Demo, pid: uuid.UUID, item: Achievement, number: int) -> None:
    body = {
        "minutes": _minutes(demo, item, number),
        "decision_makers": DECISION_MAKERS,
        "pricing": item.pricing,
        "floor_price": item.floor_yuan * 100,
    }
    data = msgspec.convert(body, DecisionIn)
    await demo.tx(
        lambda s: processes.decide(s, demo.modules.listings, demo.principals["donghai:board"], pid, data, demo.now)
    )


def _hours(demo: Demo, hours: float) -> None:
    demo.advance_to(demo.now + timedelta(hours=hours))


# -- the scenes ------------------------------------------------------------------------------------


async def scene_transfer_office(demo: Demo) -> str:
    """The university's transfer office: its people join by invitation, hold their roles; its settings."""
    uni = office(demo)
    password_hash = await parties.hash_in_thread(DEMO_PASSWORD)
    lifetime = timedelta(days=demo.settings.invitation_days)
    for member in MEMBERS:
        await demo.tx(
            lambda s, m=member: members.invite(
                s, uni.org_id, uni, email=m.email, role=MemberRole.MEMBER, now=demo.now, lifetime=lifetime
            )
        )

    async def join(session: AsyncSession, m: Member) -> uuid.UUID:
        token = await _mailed_token(session, m.email)
        signed_in = await members.accept_invitation(
            session, token, password_hash=password_hash, display_name=m.name, now=demo.now,
            device=Device("techx demo"), session_lifetime=session_lifetime(demo.settings),
        )  # fmt: skip
        return signed_in.user.id  # type: ignore[no-any-return]

    _hours(demo, 1)
    for member in MEMBERS:
        user_id = await demo.tx(lambda s, m=member: join(s, m))
        if member.role is not None:
            await demo.tx(lambda s, u=user_id, r=member.role: config.grant_role(s, uni, uni.org_id, u, r, demo.now))
        async with demo.db.read() as session:
            demo.principals[member.key] = await parties.load_principal(session, user_id)  # type: ignore[assignment]
    settings = msgspec.convert(SETTINGS, SettingsIn)
    least = demo.modules.listings.rules.inventor_reward_min_bp
    await demo.tx(lambda s: config.save_settings(s, uni, uni.org_id, settings, demo.now, least_share_bp=least))
    return (
        f"{len(MEMBERS)} members joined 东海理工大学 by invitation; evaluator, expert panel and decision body "
        "granted; settings saved (notice 15 days, plan notice 15 working days, 80 % to the inventors)"
    )


async def scene_decided_transfers(demo: Demo) -> str:
    """Thirteen weeks ago: the university decides two transfers; after 公示, one becomes its listing.

    The hard-carbon anode patent's process ends in the listing draft that the exchange later sells at
    auction (``market.AUCTION_SETTLED``); the other process waits for 实施."""
    sold = _sold()
    first = await disclose(demo, sold, "donghai:inventor")
    _hours(demo, 2)
    second = await disclose(demo, WAITING)
    demo.advance_to(demo.next_morning())
    await first_review(demo, first)
    await first_review(demo, second)
    demo.advance_to(demo.next_morning(1))
    await evaluate(demo, first, sold)
    await evaluate(demo, second, WAITING)
    demo.advance_to(demo.next_morning(5))
    await review(demo, first)
    await review(demo, second)
    demo.advance_to(demo.next_morning(1))
    await decide(demo, first, sold, 7)
    await decide(demo, second, WAITING, 7)
    # The notices run fifteen days; the sweeper closes them and 公示 completes.
    async with demo.db.read() as session:
        closes = [(await _notice(session, pid)).closes_at for pid in (first, second)]
    demo.advance_to(max(closes) + timedelta(hours=1))
    await demo.sweep()
    demo.advance_to(demo.next_morning(1))
    asset = listing_request(CATALOGUE[SOLD], SOLD, china_day(demo.now)).content().ip_assets
    data = msgspec.convert(
        {"ip_assets": msgspec.to_builtins(asset), "note": "公示期满无异议，挂牌拍卖"}, ImplementationIn
    )
    process = await demo.tx(
        lambda s: implementation.implement(s, demo.modules.listings, office(demo), first, data, demo.now)
    )
    demo.listings[SOLD] = process.listing_id
    demo.processes["sold"], demo.processes["waiting"] = first, second
    return "2 processes decided and noticed for 15 days; 1 implemented as the auction listing's draft, 1 awaits 实施"


async def _notice(session: AsyncSession, process_id: uuid.UUID) -> Any:
    process = await processes.get_process(session, process_id)
    notice = await session.get(Notice, process.notice_id)
    assert notice is not None
    return notice


async def scene_income_plan(demo: Demo) -> str:
    """The auctioned patent's price settled: the university's income receipt and its plan, noticed.

    The settlement wrote the receipt; the office checks the inventors' identity and proposes the
    default distribution plan, whose notice runs fifteen working days."""
    uni = office(demo)
    demo.advance_to(demo.now + timedelta(hours=2))
    async with demo.db.read() as session:
        receipts = await list_receipts(session, uni, uni.org_id)
    if not receipts:
        raise DemoError("the settled auction's deal wrote no income receipt")
    receipt = receipts[0]
    plan = await demo.tx(
        lambda s: distribution.propose(
            s,
            demo.modules.listings,
            uni,
            receipt.id,
            PlanIn(reason="按学校成果转化收益分配办法（80%奖励完成人）"),
            demo.now,
        )
    )
    demo.processes["plan"] = plan.id
    inventor = demo.principals["donghai:inventor"]
    for payout in plan.payouts:
        if payout["kind"] != "inventor":
            continue
        linked = inventor.user_id if payout["name"] == inventor.display_name else None
        data = IdentityCheckIn(user_id=linked, note="已核验居民身份证与工资卡开户信息")
        account_id = uuid.UUID(payout["inventor_account_id"])
        await demo.tx(lambda s, a=account_id, d=data: inventors.check_identity(s, uni, a, d, demo.now))
    async with demo.db.read() as session:
        notice = await session.get(Notice, plan.notice_id)
    assert notice is not None
    return (
        f"income ¥{receipt.amount / 100:,.2f} received; a plan under notice until {notice.closes_at:%Y-%m-%d %H:%M} UTC"
    )


async def scene_transfer_desk(demo: Demo) -> str:
    """The last days: the university's processes at every step, and its annual report's inputs.

    Left at 初审, 评估, 论证 and 决策 (one on its second pass, returned once), one under 公示 with an
    objection pending, one stopped by the decision body, the waiting one implemented as a draft."""
    uni = office(demo)
    board = demo.principals["donghai:board"]
    limit = morning(demo.present.date() - timedelta(days=2)) - timedelta(hours=2)

    def next_day(hours: float = 1) -> None:
        moment = demo.next_morning(hours)
        demo.advance_to(moment if moment <= limit else min(demo.now + timedelta(hours=1), limit))

    demo.advance_to(demo.next_morning(0.5))
    noticed = await disclose(demo, UNDER_NOTICE)
    returned = await disclose(demo, RETURNED)
    stopped = await disclose(demo, STOPPED)
    for pid in (noticed, returned, stopped):
        await first_review(demo, pid)
    _hours(demo, 3)
    await evaluate(demo, noticed, UNDER_NOTICE)
    await evaluate(demo, returned, RETURNED, external=False)
    await evaluate(demo, stopped, STOPPED)
    next_day(1)
    await review(demo, noticed)
    panel = demo.principals["donghai:panel"]
    await demo.tx(
        lambda s: processes.send_back(
            s,
            panel,
            returned,
            Step.EVALUATION,
            "内部评估依据不足，请委托外部评估机构出具评估报告后再论证",
            None,
            demo.now,
        )
    )
    await review(demo, stopped)
    next_day(1.5)
    await decide(demo, noticed, UNDER_NOTICE, 9)
    await demo.tx(
        lambda s: processes.halt(
            s, board, stopped,
            "领导小组审议认为：该成果与学校在研横向项目存在权属交叉，且临床转化路径尚不明确，本次不予转化",
            Role.DECISION_BODY, demo.now,
        )
    )  # fmt: skip
    next_day(2)
    objector = demo.actor("zhizao")
    notice_id = (await _process(demo, noticed)).notice_id
    await demo.tx(
        lambda s: listing_notices.file_objection(s, objector, notice_id, OBJECTION, demo.now, demo.modules.listings)
    )
    await evaluate(demo, returned, RETURNED)
    waiting = demo.processes["waiting"]
    ip = [{"kind": "invention_patent", "number": WAITING.patent, "title": WAITING.title,
           "expires_on": date(china_day(demo.now).year + 18, 3, 1).isoformat()}]  # fmt: skip
    data = msgspec.convert({"ip_assets": ip, "note": "公示期满无异议，按决策挂牌"}, ImplementationIn)
    implemented = await demo.tx(
        lambda s: implementation.implement(s, demo.modules.listings, uni, waiting, data, demo.now)
    )
    demo.processes["draft_listing"] = implemented.listing_id
    next_day(1)
    await review(demo, returned)
    decision = await disclose(demo, AT_DECISION)
    await first_review(demo, decision)
    await evaluate(demo, decision, AT_DECISION)
    await review(demo, decision)
    expert = await disclose(demo, AT_EXPERT_REVIEW)
    await first_review(demo, expert)
    await evaluate(demo, expert, AT_EXPERT_REVIEW, external=False)
    evaluation = await disclose(demo, AT_EVALUATION)
    await first_review(demo, evaluation)
    _hours(demo, 2)
    await disclose(demo, AT_FIRST_REVIEW)
    await save_annual_inputs(demo)
    return (
        "东海理工大学: processes at 初审, 评估, 论证 and 决策 (one on its second pass), one under 公示 with an "
        "objection, one stopped by the decision body, one implemented as a listing draft; report inputs saved"
    )


async def save_annual_inputs(demo: Demo) -> None:
    uni = office(demo)
    year = beijing_year(demo.present)
    founded = min(date(year, 3, 18), china_day(demo.now))
    body = {
        "contracts": {
            "development": {"count": 46, "amount": 2_860_000_000},
            "consulting": {"count": 18, "amount": 315_000_000},
            "service": {"count": 63, "amount": 742_000_000},
        },
        "joint_bodies": [
            {
                "name": "东海理工—固能钠离子电池材料联合研发中心",
                "partner": "上海固能新材料有限公司",
                "founded_on": founded.isoformat(),
            },
            {"name": "智能装备检测技术联合实验室", "partner": "苏州智造装备股份有限公司", "founded_on": None},
        ],
        "problems": "部分院系对职务科技成果披露的认识不足，披露率偏低；作价投资的国有资产管理流程较长。",
        "plans": "完善成果披露激励，推行“先使用后付费”许可试点；与技术交易所共建技术经理人队伍。",
    }
    data = msgspec.convert(body, AnnualInputsIn)
    await demo.tx(lambda s: reports.save_inputs(s, uni, uni.org_id, year, data, demo.now))


async def scene_inventor_payout(demo: Demo) -> str:
    """Today: the plan's notice closed without objection; the office pays the inventors."""
    uni = office(demo)
    await demo.sweep()  # the plan's notice closes when its period has run
    plan_id = demo.processes["plan"]
    async with demo.db.read() as session:
        plan = await session.get(DistributionPlan, plan_id)
        assert plan is not None
        status, needs_extra = plan.status, plan.extra_approval_needed
    if status != "approved":
        return f"the distribution plan is still {status}: its notice of 15 working days has not closed yet"
    if needs_extra:
        minutes = f"东海理工大学校长办公会{beijing_year(demo.now)}年第21次会议纪要：同意超过30万元的个人奖励"
        extra = ExtraApprovalIn(minutes)
        await demo.tx(lambda s: distribution.approve_extra(s, uni, plan_id, extra, demo.now))
    paid = await demo.tx(lambda s: distribution.pay(s, uni, plan_id, demo.now))
    inventors_total = sum(p["amount"] for p in paid.payouts if p["kind"] == "inventor")
    count = sum(1 for p in paid.payouts if p["kind"] == "inventor")
    return f"the distribution plan paid: ¥{inventors_total / 100:,.2f} into {count} inventors' accounts"
