"""A university with the people of its transfer process, and the bodies of each step's record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.helpers import Party, join, operator, verified

API = "/api/v1"


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
        "decision_makers": [{"name": "陈校长"}, {"name": "刘处长"}, {"name": "黄主任"}],
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
