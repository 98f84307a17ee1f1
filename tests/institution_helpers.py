"""A university with the people of its transfer process, and the bodies of each step's record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from exchange.institutions.models import TransferProcess
from tests.helpers import Party, assert_problem, join, operator, relogin, verified
from tests.trading_helpers import announced, fund, intent, key, past_notice, to_end_of_announcement

API = "/api/v1"
FUNDS = 200_000_000
REASON = "该成果的完成人名单遗漏了一位主要完成人，请核实后再行公示。"  # an objection to a transfer notice


@dataclass
class University:
    ops: Party
    office: Party  # the university's admin: its technology-transfer office
    inventor: Party  # a member who discloses
    evaluator: Party
    panel: Party  # the expert panel's secretary, who records the opinions
    board: Party  # the decision body's secretary, who records the decision


async def grant(client: Any, office: Party, member: Party, role: str) -> None:
    response = await client.post(
        f"{API}/institutions/{office.org_id}/roles", json={"user_id": member.user_id, "role": role},
        headers=office.headers,
    )  # fmt: skip
    assert response.status_code == 200, response.text


async def university(client: Any, app: Any, kind: str = "university") -> University:
    ops = await operator(client, app)
    office = await verified(client, ops, kind, "华东理工示范大学")
    inventor = await join(client, office, name="张发明")
    evaluator = await join(client, office, name="评估员")
    panel = await join(client, office, name="论证秘书")
    board = await join(client, office, name="决策秘书")
    await grant(client, office, evaluator, "evaluator")
    await grant(client, office, panel, "expert_panel")
    await grant(client, office, board, "decision_body")
    return University(ops, office, inventor, evaluator, panel, board)


def disclosure_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "一种高容量储氢合金及其制备方法",
        "summary": "镁基储氢合金，室温吸放氢。",
        "field": "new_materials",
        "keywords": ["储氢", "合金"],
        "maturity": 5,
        "ip_assets": [{"kind": "invention_patent", "number": "ZL202110000001.X", "title": "储氢合金"}],
        "inventors": [
            {"name": "张发明", "affiliation": "材料学院", "share_bp": 6000},
            {"name": "李创新", "affiliation": "材料学院", "share_bp": 4000},
        ],
        "funding": [{"kind": "government", "funder": "国家自然科学基金委员会", "project_number": "52071234"}],
        "intended_form": "transfer",
    }
    body.update(changes)
    return body


def first_review_body(**changes: Any) -> dict[str, Any]:
    return {"complete": True, "institution_owns": True, "conflicts": "", **changes}


def evaluation_body(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "external",
        "appraised_value": 100_000_000,
        "appraiser": "上海东洲资产评估有限公司",
        "report_number": "东洲评报字[2026]第0101号",
        "report_date": "2026-02-20",
        **changes,
    }


def expert_review_body(votes: tuple[str, ...] = ("approve", "approve", "approve")) -> dict[str, Any]:
    names = ["王专家", "赵专家", "钱专家", "孙专家", "周专家"]
    return {
        "experts": [
            {
                "name": names[i],
                "affiliation": "外校",
                "external": True,
                "opinion": "技术先进，转化前景良好。",
                "vote": v,
            }
            for i, v in enumerate(votes)
        ]
    }


def decision_body(**changes: Any) -> dict[str, Any]:
    return {
        "minutes": "成果转化工作领导小组2026年第5次会议纪要",
        "decision_makers": [
            {"name": "陈校长", "vote": "approve"},
            {"name": "刘处长", "vote": "approve"},
            {"name": "黄主任", "vote": "abstain"},
        ],
        "pricing": "auction",
        "floor_price": 120_000_000,
        **changes,
    }


async def post(client: Any, party: Party, path: str, body: dict[str, Any]) -> Any:
    return await client.post(f"{API}{path}", json=body, headers=party.headers)


async def act(client: Any, party: Party, process_id: str, step: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await post(client, party, f"/transfer-processes/{process_id}/{step}", body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def disclose(client: Any, party: Party, **changes: Any) -> dict[str, Any]:
    response = await post(client, party, "/transfer-processes", disclosure_body(**changes))
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def to_decision(client: Any, uni: University, **decision: Any) -> dict[str, Any]:
    """A disclosure taken through 初审, 评估 and 论证 to an approved 决策."""
    process = await disclose(client, uni.inventor)
    pid = process["id"]
    await act(client, uni.office, pid, "first-review", first_review_body())
    await act(client, uni.evaluator, pid, "evaluation", evaluation_body())
    await act(client, uni.panel, pid, "expert-review", expert_review_body())
    return await act(client, uni.board, pid, "decision", decision_body(**decision))


# -- 公示: the notice's period and its objections ------------------------------------------------------


async def everyone_again(client: Any, uni: University, *others: Party) -> None:
    await relogin(client, uni.ops, uni.office, uni.inventor, uni.evaluator, uni.panel, uni.board, *others)


async def past_period(client: Any, app: Any, uni: University, *others: Party, days: int = 16) -> dict[str, int]:
    app.state.clock.advance(timedelta(days=days))
    counts = await app.state.sweeper.run_once(app.state.db, app.state.clock.now())
    await everyone_again(client, uni, *others)
    return counts  # type: ignore[no-any-return]


async def object_to(client: Any, notice_id: str, objector: Party) -> str:
    filed = await client.post(
        f"{API}/notices/{notice_id}/objections", json={"reason": REASON}, headers=objector.headers
    )
    assert filed.status_code == 201, filed.text
    return str(filed.json()["id"])


# -- income: a deal of the process's listing, sold and paid ------------------------------------------


async def settled_deal(
    client: Any, app: Any, uni: University, process_id: str, **listing: Any
) -> tuple[dict[str, Any], Party]:
    """A listing of the university, linked to its process as 实施 links it, sold and paid."""
    ops = uni.ops
    buyer = await verified(client, ops, "enterprise", "宁德新能")
    await fund(app, buyer, FUNDS)
    listing = await announced(client, uni.office, ops, mode="listed", **listing)

    async def link(session: Any) -> None:
        await session.execute(
            update(TransferProcess)
            .where(TransferProcess.id == uuid.UUID(process_id))
            .values(listing_id=uuid.UUID(listing["id"]))
        )

    await app.state.db.transaction(link)
    await intent(client, buyer, listing["id"])
    parties = (ops, uni.office, uni.inventor, buyer)
    await to_end_of_announcement(app, client, listing, *parties)
    (thread,) = (await client.get(f"{API}/listings/{listing['id']}/negotiations", headers=buyer.headers)).json()[
        "items"
    ]
    opening = thread["offers"][0]["id"]
    deal = (
        await client.post(f"{API}/negotiations/{thread['id']}/offers/{opening}/accept", headers=buyer.headers)
    ).json()
    await past_notice(app, client, deal["notice_id"], *parties)
    for party in (uni.office, buyer):
        assert (await client.post(f"{API}/deals/{deal['id']}/sign", headers=party.headers)).status_code == 200
    paid = await client.post(f"{API}/deals/{deal['id']}/pay", headers={**buyer.headers, **key()})
    assert paid.json()["state"] == "settled", paid.text
    return paid.json(), buyer


async def receipts(client: Any, uni: University) -> list[dict[str, Any]]:
    page = await client.get(f"{API}/institutions/{uni.office.org_id}/income-receipts", headers=uni.office.headers)
    assert page.status_code == 200, page.text
    return page.json()["items"]  # type: ignore[no-any-return]


async def propose(client: Any, party: Party, receipt_id: str, body: dict[str, Any] | None = None) -> Any:
    return await client.post(f"{API}/income-receipts/{receipt_id}/plans", json=body or {}, headers=party.headers)


async def plan_of(client: Any, party: Party, plan_id: str) -> dict[str, Any]:
    shown = await client.get(f"{API}/distribution-plans/{plan_id}", headers=party.headers)
    assert shown.status_code == 200, shown.text
    return shown.json()  # type: ignore[no-any-return]


async def pay(client: Any, party: Party, plan_id: str, headers: dict[str, str] | None = None) -> Any:
    return await client.post(f"{API}/distribution-plans/{plan_id}/pay", headers={**party.headers, **(headers or key())})


# -- inventors paid by a plan, and their withdrawals ----------------------------------------------------

PAYEE = "中国银行 上海徐汇支行 6217 0000 1111 2222 张发明"


async def withdraw(client: Any, party: Party, account_id: str, amount: int, **body: Any) -> Any:
    return await client.post(
        f"{API}/withdrawals",
        json={"amount": amount, "payer": f"inventor:{account_id}", **body},
        headers={**party.headers, **key()},
    )


async def account(client: Any, party: Party, account_id: str) -> dict[str, Any]:
    shown = await client.get(f"{API}/inventor-accounts/{account_id}", headers=party.headers)
    assert shown.status_code == 200, shown.text
    return shown.json()  # type: ignore[no-any-return]


async def paid_inventors(client: Any, app: Any, uni: University) -> tuple[dict[str, str], Party, dict[str, Any]]:
    """A plan of a settled deal's receipt paid to 张发明 (linked to the member ``uni.inventor``, bank
    account on record) and 李创新 (checked, no bank account); before the payout, the office's
    withdrawal for the unchecked 李创新 is refused naming the rule."""
    office = uni.office
    settings = await client.put(
        f"{API}/institutions/{office.org_id}/settings",
        json={"plan_notice_days": 1, "plan_notice_unit": "calendar_days"},
        headers=office.headers,
    )
    assert settings.status_code == 200, settings.text
    process = await to_decision(client, uni)
    _, buyer = await settled_deal(client, app, uni, process["id"])
    (receipt,) = await receipts(client, uni)
    plan = (await propose(client, office, receipt["id"])).json()
    await past_notice(app, client, plan["notice_id"], uni.ops, office, buyer, uni.inventor)
    listed = await client.get(f"{API}/institutions/{office.org_id}/inventor-accounts", headers=office.headers)
    ids = {a["name"]: a["id"] for a in listed.json()["items"]}

    refused = assert_problem(await withdraw(client, office, ids["李创新"], 100), 409, "invalid-state")
    assert refused["rule"] == "identity-checked" and refused["inventor"] == "李创新"

    checked = await client.post(
        f"{API}/inventor-accounts/{ids['张发明']}/identity-check",
        json={"user_id": uni.inventor.user_id, "note": "身份证与银行卡已核验", "payee": PAYEE},
        headers=office.headers,
    )
    assert checked.status_code == 200 and checked.json()["payee"] == PAYEE, checked.text
    await client.post(f"{API}/inventor-accounts/{ids['李创新']}/identity-check", json={}, headers=office.headers)
    paid = await pay(client, office, plan["id"])
    assert paid.status_code == 200, paid.text
    return ids, buyer, paid.json()
