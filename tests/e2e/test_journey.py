"""The newcomer's journey over a real server process: what exists today, end to end.

Registration and verification → a listing of each deal type → review → announcement on the public
board → an objection → time passes (test clock) → notices close or suspend → the objection is
resolved → a relisting; a wallet funded through the ledger API; ``techx ledger seal`` and
``techx ledger verify`` as separate processes. Trading, vouchers and payments extend it later.
"""

from __future__ import annotations

import base64
import json
import re
import uuid

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.e2e.conftest import OPERATOR_EMAIL, OPERATOR_PASSWORD, Api, ServerProcess
from tests.helpers import PASSWORD, credit_code, listing_body


def register(api: Api, kind: str, name: str) -> dict[str, str]:
    email = f"{kind}-{uuid.uuid4().hex[:8]}@example.cn"
    body = api.ok(
        "POST",
        "/auth/register",
        status=201,
        json={
            "email": email,
            "password": PASSWORD,
            "display_name": name,
            "org": {"name": name, "credit_code": credit_code(), "kind": kind},
        },
    )
    return {"email": email, "token": body["access_token"], "org_id": body["org"]["id"]}


def relogin(api: Api, *parties: dict[str, str]) -> None:
    for party in parties:
        party["token"] = api.login(party["email"], PASSWORD)


def fund_wallet(api: Api, ops: str, org_id: str, amount: int, key: str) -> tuple[dict, httpx.Response]:
    """Today's way in for money: an operator records the bank transfer as a ledger entry."""
    accounts = {}
    for code, unit, type_, no_overdraft in (
        (f"org:{org_id}:cash", "CNY", "liability", True),
        ("bank:settlement", "CNY", "asset", False),
    ):
        created = api.request(
            "POST",
            "/ledger/accounts",
            ops,
            json={"code": code, "unit": unit, "type": type_, "no_overdraft": no_overdraft},
        )
        if created.status_code == 201:
            accounts[code] = created.json()["id"]
        else:  # created by an earlier top-up
            assert created.status_code == 409, created.text
            page = api.ok("GET", "/ledger/accounts", ops, params={"code_prefix": code})
            accounts[code] = next(a["id"] for a in page["items"] if a["code"] == code)
    entry = {
        "unit": "CNY",
        "kind": "top_up",
        "description": "银行转账入金",
        "external_ref": f"bank:{key}",
        "postings": [
            {"account_id": accounts["bank:settlement"], "side": "debit", "amount": amount},
            {"account_id": accounts[f"org:{org_id}:cash"], "side": "credit", "amount": amount},
        ],
    }
    return entry, api.request("POST", "/ledger/entries", ops, json=entry, headers={"Idempotency-Key": key})


def test_the_first_hour_over_a_real_server(server: ServerProcess, api: Api):
    ops = api.login(OPERATOR_EMAIL, OPERATOR_PASSWORD)

    # Registrations: unverified organisations may not list until an operator verifies them.
    university = register(api, "university", "华东理工大学技术转移中心")
    institute = register(api, "research_institute", "上海微系统研究所")
    maker = register(api, "enterprise", "上海固能新材料有限公司")
    buyer = register(api, "enterprise", "苏州智造装备有限公司")
    refused = api.request("POST", "/listings", university["token"], json=listing_body())
    assert refused.status_code == 403 and refused.json()["type"] == "org-not-verified"
    for party in (university, institute, maker, buyer):
        assert api.ok("POST", f"/orgs/{party['org_id']}/verify", ops, json={"note": "营业执照已核验"})["verified"]

    # A listing of each deal type, each in another pricing mode.
    plans = [
        (university, "transfer", "listed", "一种高强度可降解镁合金骨钉"),
        (institute, "license", "auction", "MEMS 惯性传感器晶圆级封装工艺"),
        (maker, "equity", "negotiated", "固态锂电池电解质膜连续制备技术"),
    ]
    listings = []
    for seller, deal_type, mode, title in plans:
        body = listing_body(deal_type, mode, title=title)
        if deal_type == "equity":
            body["pricing"]["appraised_value"] = 50_000_000
        created = api.ok("POST", "/listings", seller["token"], status=201, json=body)
        assert created["status"] == "draft"
        assert api.ok("POST", f"/listings/{created['id']}/submit", seller["token"])["status"] == "under_review"
        listings.append((seller, created))

    # Review: two approved at once, one rejected, revised and approved.
    rejected_seller, rejected = listings[2]
    review = api.ok(
        "POST", f"/listings/{rejected['id']}/review", ops, json={"decision": "reject", "note": "请补充评估报告"}
    )
    assert review["status"] == "rejected"
    api.ok("POST", f"/listings/{rejected['id']}/revise", rejected_seller["token"])
    api.ok("POST", f"/listings/{rejected['id']}/submit", rejected_seller["token"])
    announced = []
    for _, listing in listings:
        approved = api.ok(
            "POST", f"/listings/{listing['id']}/review", ops, json={"decision": "approve", "note": "材料齐全"}
        )
        assert approved["status"] == "announced"
        assert approved["announcement"]["working_days"] == 20
        announced.append(approved)

    # The public board, searchable listings, and a notice anyone verifies with GET /keys only.
    board = api.ok("GET", "/notices")
    assert {n["subject_id"] for n in board["items"]} == {a["id"] for a in announced}
    found = api.ok("GET", "/listings", params={"q": "传感器"})
    assert [item["title"] for item in found["items"]] == ["MEMS 惯性传感器晶圆级封装工艺"]
    notice = api.ok("GET", f"/notices/{announced[0]['announcement']['notice_id']}")
    key = next(k for k in api.ok("GET", "/keys")["keys"] if k["id"] == notice["key_id"])
    text = json.dumps(notice["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert text == notice["signed_content"]
    Ed25519PublicKey.from_public_bytes(base64.b64decode(key["key"])).verify(
        base64.b64decode(notice["signature"]), text.encode()
    )

    # An objection to the first announcement, counted on the board without the objector's identity.
    objection = api.ok(
        "POST",
        f"/notices/{notice['id']}/objections",
        buyer["token"],
        status=201,
        json={"reason": "该专利的发明人之一已调离，权属存在争议，请核查。"},
    )
    shown = next(n for n in api.ok("GET", "/notices")["items"] if n["id"] == notice["id"])
    assert (shown["objection_count"], shown["pending_objection_count"]) == (1, 1)
    assert buyer["org_id"] not in json.dumps(shown) and buyer["email"] not in json.dumps(shown)

    # Money: the buyer's wallet is funded by a recorded bank transfer; a retry does not double it.
    entry, first = fund_wallet(api, ops, buyer["org_id"], 20_000_000, "e2e-topup-1")
    assert first.status_code == 201, first.text
    again = api.request("POST", "/ledger/entries", ops, headers={"Idempotency-Key": "e2e-topup-1"}, json=entry)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    wallet = api.ok("GET", "/wallet", buyer["token"])
    assert wallet["balances"][0] == {"unit": "CNY", "posted": 20_000_000, "held": 0, "available": 20_000_000}

    # Twenty working days pass: the notices close; the one with a pending objection suspends.
    # (The server's own sweeper may get there first; the advance's pass then finds nothing left.)
    api.advance(ops, days=35)
    ops = api.login(OPERATOR_EMAIL, OPERATOR_PASSWORD)
    relogin(api, university, institute, maker, buyer)
    statuses = {a["id"]: api.ok("GET", f"/listings/{a['id']}", ops)["status"] for a in announced}
    assert statuses == {announced[0]["id"]: "suspended", announced[1]["id"]: "unsold", announced[2]["id"]: "unsold"}
    assert api.ok("GET", f"/notices/{notice['id']}")["status"] == "suspended"

    # The operator dismisses the objection: the notice closes and the listing proceeds.
    resolved = api.ok(
        "POST", f"/objections/{objection['id']}/resolve", ops, json={"decision": "dismissed", "note": "权属清晰"}
    )
    assert resolved["status"] == "dismissed"
    assert api.ok("GET", f"/notices/{notice['id']}")["status"] == "closed"
    assert api.ok("GET", f"/listings/{announced[0]['id']}", ops)["status"] == "unsold"

    # The unsold licence is relisted for ten working days; the equity offer is withdrawn.
    relisted = api.ok("POST", f"/listings/{announced[1]['id']}/relist", institute["token"], json={"working_days": 10})
    assert relisted["status"] == "announced" and relisted["announcement"]["round"] == 2
    withdrawn = api.ok(
        "POST", f"/listings/{announced[2]['id']}/withdraw", maker["token"], json={"reason": "转为内部产业化"}
    )
    assert withdrawn["status"] == "withdrawn"
    history = api.ok("GET", f"/listings/{announced[1]['id']}/transitions", institute["token"])["items"]
    assert [t["to_status"] for t in history][-2:] == ["unsold", "announced"]
    assert [n["subject_id"] for n in api.ok("GET", "/notices")["items"]] == [announced[1]["id"]]

    # The ledger: sealed and verified by the command line, against the same database.
    sealed = server.techx("ledger", "seal")  # the server's sealer may have sealed the entry already
    assert re.search(r"^sealed [01] entries", sealed.stdout, re.M), sealed.stdout
    verified = server.techx("ledger", "verify")
    assert verified.stdout.startswith("OK"), verified.stdout
