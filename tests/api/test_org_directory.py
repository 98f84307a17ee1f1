"""The operators' directory of organisations: search, the verification queue, an organisation's page
with its members and history, and the bank accounts it pays from — over HTTP on both databases."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import assert_problem, confirm, credit_code, operator, register, verified

API = "/api/v1"


async def register_org(client, name: str, code: str, kind: str = "university") -> dict:
    response = await client.post(
        f"{API}/auth/register",
        json={
            "email": f"{code.lower()}@example.cn",
            "password": "correct-horse-battery",
            "display_name": "李娜",
            "org": {"name": name, "credit_code": code, "kind": kind},
        },
    )
    assert response.status_code == 202, response.text
    return await confirm(client, f"{code.lower()}@example.cn")


def names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [o["name"] for o in response.json()["items"]]


async def test_operators_search_by_name_credit_code_status_and_kind(client, app, clock):
    ops = await operator(client, app)
    sjtu_code, fudan_code, firm_code = credit_code(1), credit_code(2), credit_code(3)
    sjtu = await register_org(client, "上海交通大学技术转移中心", sjtu_code)
    clock.advance(timedelta(minutes=1))
    await register_org(client, "复旦大学科技成果转化办公室", fudan_code)
    clock.advance(timedelta(minutes=1))
    firm = await register_org(client, "Shanghai Robotics Ltd", firm_code, kind="enterprise")
    suspend = await client.post(f"{API}/orgs/{firm['org']['id']}/suspend", headers=ops.headers, json={"note": "x"})
    assert suspend.status_code == 200, suspend.text

    everyone = names(await client.get(f"{API}/orgs", headers=ops.headers))
    assert everyone[:3] == [
        "Shanghai Robotics Ltd",
        "复旦大学科技成果转化办公室",
        "上海交通大学技术转移中心",
    ]  # newest first

    assert names(await client.get(f"{API}/orgs", params={"q": "交通大学"}, headers=ops.headers)) == [
        "上海交通大学技术转移中心"
    ]
    assert names(await client.get(f"{API}/orgs", params={"q": "大学"}, headers=ops.headers)) == [
        "复旦大学科技成果转化办公室",
        "上海交通大学技术转移中心",
    ]
    assert names(await client.get(f"{API}/orgs", params={"q": "robotics"}, headers=ops.headers)) == [
        "Shanghai Robotics Ltd"
    ]
    assert names(await client.get(f"{API}/orgs", params={"q": "50%_"}, headers=ops.headers)) == []

    by_code = await client.get(f"{API}/orgs", params={"credit_code": sjtu_code}, headers=ops.headers)
    assert [o["id"] for o in by_code.json()["items"]] == [sjtu["org"]["id"]]
    prefix = await client.get(f"{API}/orgs", params={"credit_code": fudan_code[:12].lower()}, headers=ops.headers)
    assert names(prefix) == ["复旦大学科技成果转化办公室"]

    assert names(await client.get(f"{API}/orgs", params={"status": "suspended"}, headers=ops.headers)) == [
        "Shanghai Robotics Ltd"
    ]
    unverified = names(await client.get(f"{API}/orgs", params={"verified": "false"}, headers=ops.headers))
    assert unverified == ["Shanghai Robotics Ltd", "复旦大学科技成果转化办公室", "上海交通大学技术转移中心"]
    assert names(
        await client.get(f"{API}/orgs", params={"kind": "university", "status": "active"}, headers=ops.headers)
    ) == ["复旦大学科技成果转化办公室", "上海交通大学技术转移中心"]

    # Pages of one follow each other without repeating or skipping.
    seen, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(f"{API}/orgs", params=params, headers=ops.headers)).json()
        seen += [o["name"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everyone


async def test_the_verification_queue_is_the_unverified_oldest_first(client, app, clock):
    ops = await operator(client, app)
    first = await register(client, "university", "第一所大学")
    clock.advance(timedelta(minutes=5))
    second = await register(client, "enterprise", "第二家企业")
    clock.advance(timedelta(minutes=5))
    third = await register(client, "research_institute", "第三个研究所")
    await verified(client, ops, name="已核验的企业")

    queue = await client.get(f"{API}/orgs/verification-queue", headers=ops.headers)
    assert names(queue) == ["第一所大学", "第二家企业", "第三个研究所"]

    page = await client.get(f"{API}/orgs/verification-queue", params={"limit": 2}, headers=ops.headers)
    assert names(page) == ["第一所大学", "第二家企业"]
    rest = await client.get(
        f"{API}/orgs/verification-queue", params={"cursor": page.json()["next_cursor"]}, headers=ops.headers
    )
    assert names(rest) == ["第三个研究所"] and rest.json()["next_cursor"] is None

    assert (await client.post(f"{API}/orgs/{first.org_id}/verify", headers=ops.headers)).status_code == 200
    assert (await client.post(f"{API}/orgs/{third.org_id}/suspend", headers=ops.headers)).status_code == 200
    assert names(await client.get(f"{API}/orgs/verification-queue", headers=ops.headers)) == ["第二家企业"]
    assert second.org_id


async def test_only_operators_see_the_directory(client, app):
    await operator(client, app)
    member = await register(client)
    for path in ("/orgs", "/orgs/verification-queue"):
        assert_problem(await client.get(f"{API}{path}", headers=member.headers), 403, "forbidden")
        assert (await client.get(f"{API}{path}")).status_code == 401
    assert_problem(
        await client.get(f"{API}/orgs/{member.org_id}/bank-accounts", headers=member.headers), 403, "forbidden"
    )


async def test_unknown_query_parameters_are_refused(client, app):
    ops = await operator(client, app)
    for path in ("/orgs", "/orgs/verification-queue", f"/orgs/{ops.org_id}/bank-accounts"):
        response = await client.get(f"{API}{path}", params={"name": "x"}, headers=ops.headers)
        assert response.status_code == 400, (path, response.text)
    assert (await client.get(f"{API}/orgs", params={"status": "closed"}, headers=ops.headers)).status_code == 400


async def test_the_org_page_shows_operators_members_history_and_bank_accounts(client, app, clock):
    ops = await operator(client, app)
    party = await register(client, "university", "浙江大学技术转移中心")
    clock.advance(timedelta(minutes=5))
    verify = await client.post(f"{API}/orgs/{party.org_id}/verify", headers=ops.headers, json={"note": "营业执照已核"})
    assert verify.status_code == 200
    clock.advance(timedelta(minutes=5))
    await client.post(f"{API}/orgs/{party.org_id}/suspend", headers=ops.headers, json={"note": "资料待补"})
    clock.advance(timedelta(minutes=5))
    await client.post(f"{API}/orgs/{party.org_id}/reinstate", headers=ops.headers, json={"note": "已补"})

    for reference, account in (("CMB-1", "6225 8801 2345 6789"), ("CMB-2", "6225-8801-2345-6789"), ("ICBC-1", "")):
        transfer = await client.post(
            f"{API}/bank-transfers",
            json={
                "org_id": party.org_id,
                "amount": 100_000,
                "reference": reference,
                "received_on": "2026-03-0" + reference[-1],
                "payer_account": account,
                "payer_name": "浙江大学" if account else "",
            },
            headers=ops.headers,
        )
        assert transfer.status_code == 201, transfer.text
    assert transfer.json()["payer_account"] == ""

    page = await client.get(f"{API}/orgs/{party.org_id}", headers=ops.headers)
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["name"] == "浙江大学技术转移中心" and body["verified"] is True
    assert [(m["email"], m["role"], m["display_name"]) for m in body["members"]] == [(party.email, "admin", "测试用户")]
    history = [(e["action"], e.get("actor_user_id"), e["note"]) for e in body["history"]]
    assert history == [
        ("registered", None, ""),
        ("verified", ops.user_id, "营业执照已核"),
        ("suspended", ops.user_id, "资料待补"),
        ("reinstated", ops.user_id, "已补"),
    ]
    assert body["history"][1]["actor_name"] == "Operator"
    assert body["history"][0]["at"] < body["history"][1]["at"] < body["history"][3]["at"]

    accounts = await client.get(f"{API}/orgs/{party.org_id}/bank-accounts", headers=ops.headers)
    assert accounts.status_code == 200, accounts.text
    assert accounts.json() == {
        "items": [
            {
                "payer_account": "6225880123456789",
                "payer_name": "浙江大学",
                "transfers": 2,
                "first_received_on": "2026-03-01",
                "last_received_on": "2026-03-02",
            }
        ],
        "next_cursor": None,
    }
    nobody = "01900000-0000-7000-8000-000000000000"
    assert_problem(await client.get(f"{API}/orgs/{nobody}/bank-accounts", headers=ops.headers), 404, "not-found")

    # The organisation's own members see what they always saw, nothing about members or history.
    own = await client.get(f"{API}/orgs/{party.org_id}", headers=party.headers)
    assert own.status_code == 200
    assert set(own.json()) == {"id", "name", "credit_code", "kind", "verified", "status", "created_at"}
    other = await register(client)
    assert (await client.get(f"{API}/orgs/{party.org_id}", headers=other.headers)).status_code == 403


async def test_a_payer_account_is_matched_to_the_organisations_that_paid_from_it(client, app):
    ops = await operator(client, app)
    first = await verified(client, ops, name="甲大学")
    second = await verified(client, ops, name="乙研究院")
    for party, reference, account, name in (
        (first, "B-1", "6222 0000 1111", "甲大学"),
        (first, "B-2", "62220000-1111", "甲大学"),
        (second, "B-3", "6222 0000 1111", "乙研究院财务处"),
        (second, "B-4", "9999", "乙研究院"),
    ):
        body = {"org_id": party.org_id, "amount": 500, "reference": reference}
        body |= {"payer_account": account, "payer_name": name, "received_on": "2026-04-0" + reference[-1]}
        assert (await client.post(f"{API}/bank-transfers", json=body, headers=ops.headers)).status_code == 201

    response = await client.get(f"{API}/bank-accounts", params={"account": "6222-0000-1111"}, headers=ops.headers)
    assert response.status_code == 200, response.text
    found = sorted((i["org_name"], i["payer_name"], i["transfers"]) for i in response.json()["items"])
    assert found == [("乙研究院", "乙研究院财务处", 1), ("甲大学", "甲大学", 2)]

    paged = await client.get(
        f"{API}/bank-accounts", params={"account": "622200001111", "limit": 1}, headers=ops.headers
    )
    rest = await client.get(
        f"{API}/bank-accounts",
        params={"account": "622200001111", "cursor": paged.json()["next_cursor"]},
        headers=ops.headers,
    )
    assert len(paged.json()["items"]) == len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None
    assert paged.json()["items"][0]["org_id"] != rest.json()["items"][0]["org_id"]

    assert (await client.get(f"{API}/bank-accounts", params={"account": "0000"}, headers=ops.headers)).json() == {
        "items": [],
        "next_cursor": None,
    }
    assert (await client.get(f"{API}/bank-accounts", headers=ops.headers)).status_code == 400
    assert_problem(
        await client.get(f"{API}/bank-accounts", params={"account": "9999"}, headers=first.headers), 403, "forbidden"
    )
