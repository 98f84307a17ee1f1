"""The demo exchange, built scene by scene through the same services the API calls.

The clock starts ten weeks before the real present and only moves forward; every scene leaves it
at or before the present, so a server started afterwards on the real clock sees a consistent past:
closed announcements, settled and defaulted deals, unsold and relisted listings, a live auction,
negotiations under way, notices still open for objections.

A scene is ``async def scene(demo) -> str`` (its one-line result for the progress display). The
scenes of ``timeline.SCENES`` run in the order of the demo's calendar: listings here, trading in
``market.py``, vouchers in ``programs.py``, payments and reconciliation in ``money.py``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exchange.parties import service as parties
from exchange.parties.domain import OrgKind, credit_code_check_char
from exchange.parties.models import User
from exchange.payments import bank
from exchange.payments.domain import china_day
from exchange.server.demo.data import CATALOGUE, DEMO_PASSWORD, FUNDED, OPERATOR_EMAIL, ORGS, DemoListing
from exchange.server.demo.stage import BankLine, Demo, DemoError, morning
from listings import ListingStatus, ObjectionDecision
from listings import notices as listing_notices
from listings import service as listing_service
from listings.domain import ReviewDecision
from listings.schemas import ListingCreate


def demo_credit_code(index: int) -> str:
    first17 = f"91310000MA1D{index:05d}"
    return first17 + credit_code_check_char(first17)


# -- the cast ----------------------------------------------------------------------------------------


async def scene_parties(demo: Demo) -> str:
    """The operator and thirteen organisations, registered and verified."""
    password_hash = await parties.hash_in_thread(DEMO_PASSWORD)

    async def create(session: AsyncSession) -> None:
        if await session.scalar(select(User.id).limit(1)) is not None:
            raise DemoError("the database already has users: the demo seeds a fresh exchange only")
        ops = await parties.create_operator(
            session, email=OPERATOR_EMAIL, password_hash=password_hash, display_name="值班运营", now=demo.now
        )
        await session.flush()
        demo.principals["ops"] = await parties.load_principal(session, ops.id)  # type: ignore[assignment]
        for i, org in enumerate(ORGS, start=1):
            user, registered = await parties.register(
                session,
                email=org.email,
                password_hash=password_hash,
                display_name=org.person,
                org_name=org.name,
                credit_code=demo_credit_code(i),
                kind=OrgKind(org.kind),
                now=demo.now,
            )
            await parties.verify_org(
                session, registered.id, demo.principals["ops"], "营业执照与法人授权已核验", demo.now
            )
            await session.flush()
            demo.principals[org.key] = await parties.load_principal(session, user.id)  # type: ignore[assignment]

    await demo.tx(create)
    kinds = Counter(o.kind for o in ORGS)
    return f"1 operator, {kinds['university'] + kinds['research_institute']} universities and institutes, " + (
        f"{kinds['enterprise']} enterprises, {kinds['service_provider']} service providers, "
        f"{kinds['government']} government body, all verified"
    )


async def scene_wallets(demo: Demo) -> str:
    """The enterprises' bank transfers, recorded by the operator: their wallets are funded."""
    ops = demo.principals["ops"]

    async def fund(session: AsyncSession) -> int:
        total = 0
        for number, (key, amount) in enumerate(FUNDED.items(), start=1):
            reference = f"CMB{china_day(demo.now):%Y%m%d}{number:04d}"
            transfer = await bank.record_transfer(
                session,
                org_id=demo.org(key),
                amount=amount,
                reference=reference,
                received_on=china_day(demo.now),
                note="银行转账入金（演示）",
                operator_id=ops.user_id,
                now=demo.now,
            )
            demo.bank.append(BankLine(transfer.received_on, amount, reference))
            total += amount
        return total

    total = await demo.tx(fund)
    return f"{len(FUNDED)} bank transfers recorded by the operator, ¥{total // 100:,} in the wallets"


# -- listings ------------------------------------------------------------------------------------------

# The fate of each catalogue entry, by index. Past listings are announced ten weeks ago;
# recent ones two days ago.
PAST_FATES = {
    0: "unsold", 1: "relisted", 2: "suspended", 3: "withdrawn", 4: "dismissed", 5: "upheld",
    12: "relisted", 13: "unsold", 18: "dismissed", 20: "relisted", 25: "unsold", 29: "withdrawn",
}  # fmt: skip
RECENT_FATES = {
    6: "objected", 7: "announced", 8: "draft", 9: "announced", 10: "review",
    11: "objected", 14: "announced", 15: "rejected", 16: "announced", 17: "announced",
    19: "announced", 21: "draft", 22: "announced", 23: "withdrawn", 24: "review",
    26: "announced", 27: "objected", 28: "announced", 30: "draft", 31: "announced",
}  # fmt: skip

OBJECTIONS = [
    "该成果的第二发明人已于去年调离，职务发明的权属需要进一步核实。",
    "挂牌价格明显低于同类专利近期成交价，请核查评估报告的依据。",
    "该专利与我司在先申请的技术方案高度相似，可能存在权属纠纷。",
]

PATENT_YEARS = {"invention_patent": 18, "utility_model": 8, "design_patent": 13}
KINDS = {org.key: org.kind for org in ORGS}
APPRAISER = next(org.name for org in ORGS if org.key == "pinggu")


def patent_number(index: int) -> str:
    """The (made-up) number of catalogue entry ``index``'s patent."""
    return f"ZL20{21 + index % 5}1{index:07d}.{index % 10}"


def listing_request(item: DemoListing, index: int, today: date) -> ListingCreate:
    """The same request body a seller would POST, checked by the same schema."""
    years = PATENT_YEARS.get(item.ip_kind)
    asset: dict[str, Any] = {
        "kind": item.ip_kind,
        "number": patent_number(index) if years else f"DEMO-{item.ip_kind}-{index:03d}",
        "title": item.title,
    }
    if years:
        asset["expires_on"] = today.replace(year=today.year + years).isoformat()
    price = item.asking_yuan * 100
    deals = {
        "transfer": {"type": "transfer"},
        "license": {"type": "license", "scope": ("exclusive", "sole", "non_exclusive")[index % 3], "term_months": 60},
        "equity": {"type": "equity", "company_name": f"{item.title[:6]}产业化有限公司", "shares_bp": 1000 + index * 50},
    }
    pricing: dict[str, Any] = {"mode": item.mode, "asking_price": price}
    if item.deal_type == "equity" or index % 2 == 0:
        pricing["appraised_value"] = price * 9 // 10
        if KINDS[item.seller] in listing_service.PUBLIC_INSTITUTION_KINDS:  # state assets: the filed report
            pricing["appraisal_report"] = {
                "report_number": f"申城评报字({today.year})第{100 + index:04d}号",
                "appraiser": APPRAISER,
                "report_date": (today - timedelta(days=20)).isoformat(),
            }
    body = {
        "title": item.title,
        "summary": item.summary,
        "field": item.field,
        "keywords": list(item.keywords),
        "maturity": 4 + index % 5,
        "ip_assets": [asset],
        "inventors": [{"name": name} for name in item.inventors],
        "deal": deals[item.deal_type],
        "pricing": pricing,
        "confidential_details": f"{item.title}：关键工艺参数与实验数据见附件（演示数据）。",
    }
    if item.inventor_reward_bp is not None:
        body["inventor_reward_bp"] = item.inventor_reward_bp
    return msgspec.convert(body, ListingCreate)


async def create_and_submit(demo: Demo, index: int, *, submit: bool = True) -> uuid.UUID:
    """The seller's listing of catalogue ``index``, submitted for review; a draft the seller's
    transfer process already created (实施, ``demo/institution.py``) is submitted as it is."""
    item = CATALOGUE[index]
    if index in demo.listings:
        draft, seller = demo.listings[index], demo.actor(item.seller)
        await demo.tx(lambda s: listing_service.submit_listing(s, demo.modules.listings, seller, draft, demo.now))
        return draft
    request = listing_request(item, index, demo.now.date())
    actor = demo.actor(item.seller)

    async def work(session: AsyncSession) -> uuid.UUID:
        listing = await listing_service.create_listing(
            session, demo.modules.listings, actor, request.content(), request.confidential_details, demo.now
        )
        if submit:
            await listing_service.submit_listing(session, demo.modules.listings, actor, listing.id, demo.now)
        return listing.id

    demo.listings[index] = await demo.tx(work)
    return demo.listings[index]


async def review(demo: Demo, index: int, decision: ReviewDecision, note: str) -> Any:
    ops = demo.actor("ops")
    return await demo.tx(
        lambda s: listing_service.review_listing(
            s, demo.modules.listings, ops, demo.listings[index], decision, note, demo.now
        )
    )


async def _object(demo: Demo, index: int, objector: str, reason: str) -> uuid.UUID:
    async def work(session: AsyncSession) -> uuid.UUID:
        listing = await listing_service.load_listing(session, demo.listings[index], check=False)
        objection = await listing_notices.file_objection(
            session, demo.actor(objector), listing.notice_id, reason, demo.now, demo.modules.listings
        )
        return objection.id

    return await demo.tx(work)


async def _resolve(demo: Demo, objection_id: uuid.UUID, decision: ObjectionDecision, note: str) -> None:
    ops = demo.actor("ops")
    await demo.tx(
        lambda s: listing_notices.resolve_objection(
            s, demo.modules.listings, ops, objection_id, decision, note, demo.now
        )
    )


async def listing_status(demo: Demo, index: int) -> str:
    async with demo.db.read() as session:
        return (await listing_service.load_listing(session, demo.listings[index], check=False)).status


async def scene_past_listings(demo: Demo) -> str:
    """Ten weeks ago: announcements open, objections filed and resolved."""
    for index in PAST_FATES:
        await create_and_submit(demo, index)
        await review(demo, index, ReviewDecision.APPROVE, "材料齐全，同意挂牌")
    demo.advance_to(demo.now + timedelta(days=3))
    objectors = iter(["zhizao", "xinxun", "kangyuan", "qinghuan", "guneng"])
    objections = 0
    for index, fate in PAST_FATES.items():
        if fate in ("suspended", "dismissed", "upheld"):
            objection = await _object(demo, index, next(objectors), OBJECTIONS[index % len(OBJECTIONS)])
            objections += 1
            if fate == "dismissed":
                await _resolve(demo, objection, ObjectionDecision.DISMISSED, "经核查权属清晰，异议不成立")
            elif fate == "upheld":
                await _resolve(demo, objection, ObjectionDecision.UPHELD, "权属存在争议，撤销挂牌")
    return f"{len(PAST_FATES)} listings announced, {objections} objections filed"


async def _closes_at(demo: Demo, index: int) -> Any:
    async with demo.db.read() as session:
        return (await listing_service.load_listing(session, demo.listings[index], check=False)).closes_at


async def scene_period_ends(demo: Demo) -> str:
    """Six weeks ago: the announcement period runs out and the sweeper closes the notices."""
    latest_close = max([await _closes_at(demo, index) for index in PAST_FATES])
    demo.advance_to(latest_close + timedelta(hours=1))
    swept = await demo.sweep()
    # The pending objection suspends its listing; announcements without intent end unsold.
    statuses = Counter([await listing_status(demo, i) for i in PAST_FATES])
    shown = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    return f"{swept.get('notices', 0)} notices closed by the sweeper: {shown}"


async def scene_relistings(demo: Demo) -> str:
    """About ten days ago: some sellers relist for twenty working days, others withdraw."""
    demo.advance_to(morning(demo.present.date() - timedelta(days=10)))
    for index, fate in PAST_FATES.items():
        actor = demo.actor(CATALOGUE[index].seller)
        listing_id = demo.listings[index]
        if fate == "relisted":
            await demo.tx(
                lambda s, a=actor, i=listing_id: listing_service.relist_listing(
                    s, demo.modules.listings, a, i, demo.now, working_days=20
                )
            )
        elif fate == "withdrawn":
            await demo.tx(
                lambda s, a=actor, i=listing_id: listing_service.withdraw_listing(
                    s, demo.modules.listings, a, i, "已与意向方线下达成合作", demo.now
                )
            )
    fates = Counter(PAST_FATES.values())
    return f"{fates['relisted']} relisted for 20 working days, {fates['withdrawn']} withdrawn"


async def scene_recent_listings(demo: Demo) -> str:
    """Two days ago: drafts, listings under review, announcements open for objections."""
    demo.advance_to(morning(demo.present.date() - timedelta(days=2)))
    objectors = iter(["guneng", "lvhe", "zhizao"])
    for index, fate in RECENT_FATES.items():
        await create_and_submit(demo, index, submit=fate != "draft")
        if fate in ("announced", "objected", "withdrawn"):
            await review(demo, index, ReviewDecision.APPROVE, "材料齐全，同意挂牌")
        elif fate == "rejected":
            await review(demo, index, ReviewDecision.REJECT, "请补充资产评估报告及权属证明")
    demo.advance_to(demo.now + timedelta(hours=20))
    for index, fate in RECENT_FATES.items():
        if fate == "objected":
            await _object(demo, index, next(objectors), OBJECTIONS[index % len(OBJECTIONS)])
        elif fate == "withdrawn":
            actor = demo.actor(CATALOGUE[index].seller)
            await demo.tx(
                lambda s, a=actor, i=demo.listings[index]: listing_service.withdraw_listing(
                    s, demo.modules.listings, a, i, "技术方案需要调整，暂不挂牌", demo.now
                )
            )
    statuses = Counter([await listing_status(demo, i) for i in demo.listings])
    shown = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    return f"{len(demo.listings)} listings in all: {shown}"


# Interested enterprises and the announced listings whose confidential details they read.
NDAS = [("zhizao", 7), ("kangyuan", 6), ("kangyuan", 9), ("xinxun", 31), ("guneng", 11), ("qinghuan", 22)]


async def scene_due_diligence(demo: Demo) -> str:
    """Yesterday: enterprises accept NDAs and read confidential details of announced listings."""
    demo.advance_to(demo.now + timedelta(hours=4))
    for buyer, index in NDAS:
        actor = demo.actor(buyer)

        async def work(session: AsyncSession, a: Any = actor, i: uuid.UUID = demo.listings[index]) -> None:
            await listing_service.accept_nda(session, a, i, demo.now)
            await listing_service.read_confidential(session, demo.modules.listings, a, i, demo.now)

        await demo.tx(work)
    return f"{len(NDAS)} NDAs accepted and confidential details read (each read logged)"


EXPECTED_STATUSES = {
    ListingStatus.DRAFT,
    ListingStatus.UNDER_REVIEW,
    ListingStatus.REJECTED,
    ListingStatus.ANNOUNCED,
    ListingStatus.SUSPENDED,
    ListingStatus.UNSOLD,
    ListingStatus.WITHDRAWN,
    ListingStatus.NEGOTIATING,
    ListingStatus.AUCTIONING,
    ListingStatus.DEAL_FORMED,
    ListingStatus.SOLD,
}
