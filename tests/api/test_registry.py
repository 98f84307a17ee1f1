"""The achievement registry over HTTP and through its services, on both databases: a registration
prefilled from a listing goes through the operator's check (returned with a reason, corrected,
registered with a well-formed number) and shows in the public library; a bulk import with bad rows
is refused line by line, resumes after an interruption and changes nothing the second time; the
signed feed, consumed twice by a receiving client, ends in the same state and a tampered batch fails."""

from __future__ import annotations

import base64
import json

import pytest

from exchange.registry import feed, imports, service
from exchange.registry.domain import parse_number
from tests.helpers import assert_problem, create_listing, operator, verified
from tests.page_helpers import browser_of, htmx_post, post_form

API = "/api/v1/registry"

CONTACT = {"contact_name": "陈老师", "contact_phone": "021-6598 0000", "contact_email": "tto@tongji.example.cn"}


async def registered(client, owner, ops, **body) -> dict:
    made = await client.post(f"{API}/achievements", json={**CONTACT, "level": "domestic_leading", **body},
                             headers=owner.headers)  # fmt: skip
    assert made.status_code == 201, made.text
    sent = await client.post(f"{API}/achievements/{made.json()['id']}/submit", headers=owner.headers)
    assert sent.status_code == 200, sent.text
    done = await client.post(f"{API}/achievements/{made.json()['id']}/register", headers=ops.headers)
    assert done.status_code == 200, done.text
    return done.json()


async def test_a_listing_registered_after_a_return_shows_in_the_library_with_its_number(client, app):
    ops = await operator(client, app)
    uni = await verified(client, ops, "university", "同济大学")
    listing = await create_listing(client, uni)
    made = await client.post(f"{API}/achievements", json={"listing_id": listing["id"]}, headers=uni.headers)
    assert made.status_code == 201, made.text
    draft = made.json()
    # Prefilled from the listing: title, field, keywords, stage (readiness 6 → middle), the organisation.
    assert (draft["title"], draft["field"], draft["stage"]) == ("固态锂电池制备方法", "new_energy", "middle")
    assert draft["keywords"] == ["固态电池", "储能"] and draft["org_name"] == "同济大学"
    assert draft["origin"] == "listing" and draft["number"] is None
    # The national form needs a level and a contact before it is submitted.
    refused = await client.post(f"{API}/achievements/{draft['id']}/submit", headers=uni.headers)
    assert_problem(refused, 422, "registry-rule-broken", "level")
    four = await client.put(f"{API}/achievements/{draft['id']}", json={"keywords": ["a", "b", "c", "d"]},
                            headers=uni.headers)  # fmt: skip
    assert four.status_code == 400, four.text  # the schema: at most three keywords
    edited = await client.put(f"{API}/achievements/{draft['id']}", json={**CONTACT, "level": "international_advanced"},
                              headers=uni.headers)  # fmt: skip
    assert edited.status_code == 200, edited.text
    assert (await client.post(f"{API}/achievements/{draft['id']}/submit", headers=uni.headers)).status_code == 200
    # Not public while it waits; only operators decide.
    assert (await client.get(f"{API}/achievements/{draft['id']}")).status_code == 404
    by_owner = await client.post(f"{API}/achievements/{draft['id']}/register", headers=uni.headers)
    assert by_owner.status_code == 403
    no_reason = await client.post(f"{API}/achievements/{draft['id']}/return", json={}, headers=ops.headers)
    assert_problem(no_reason, 422, "registry-rule-broken", "reason")
    back = await client.post(f"{API}/achievements/{draft['id']}/return", json={"reason": "请补充项目编号"},
                             headers=ops.headers)  # fmt: skip
    assert back.json()["status"] == "returned" and back.json()["reason"] == "请补充项目编号"
    fixed = await client.put(f"{API}/achievements/{draft['id']}",
                             json={"funding_source": "国家重点研发计划", "project_numbers": ["2023YFB2400000"]},
                             headers=uni.headers)  # fmt: skip
    assert fixed.status_code == 200
    assert (await client.post(f"{API}/achievements/{draft['id']}/submit", headers=uni.headers)).status_code == 200
    done = await client.post(f"{API}/achievements/{draft['id']}/register", headers=ops.headers)
    assert done.status_code == 200, done.text
    number = parse_number(done.json()["number"])
    assert (number.code, number.year, number.flag.value, number.serial) == ("310", 2026, "Y", 1)
    assert done.json()["number"] == "3102026Y0001"
    again = await client.post(f"{API}/achievements/{draft['id']}/register", headers=ops.headers)
    assert again.status_code == 409  # registered once

    other = await registered(client, uni, ops, title="一种抗体表达细胞株", summary="高表达细胞株。", category="Y",
                             keywords=["抗体"], stage="early", field="biomedicine")  # fmt: skip
    assert other["number"] == "3102026Y0002"
    soft = (await client.post(f"{API}/achievements", headers=uni.headers, json={
        **CONTACT, "level": "other", "title": "技术转移政策研究", "summary": "研究报告。", "category": "R",
        "keywords": ["政策"], "stage": "mature", "field": "other"})).json()  # fmt: skip
    assert (await client.post(f"{API}/achievements/{soft['id']}/submit", headers=uni.headers)).status_code == 200
    async with browser_of(app, ops) as desk:  # the operators' console registers it
        console = await desk.get("/console/registry")
        assert console.status_code == 200 and "技术转移政策研究" in console.text
        answer = await htmx_post(desk, f"/console/registry/{soft['id']}/register")
        assert answer.status_code == 200 and "成果已登记" in answer.text
    shown = (await client.get(f"{API}/achievements/{soft['id']}")).json()
    assert shown["number"] == "3102026R0001"  # serials count per (code, year, flag)

    found = (await client.get(f"{API}/achievements", params={"q": "储能", "field": "new_energy"})).json()
    assert [a["number"] for a in found["items"]] == ["3102026Y0001"] and found["next_cursor"] is None
    page = await client.get("/registry", params={"q": "固态"})
    assert page.status_code == 200 and "3102026Y0001" in page.text and "固态锂电池制备方法" in page.text
    assert "一种抗体表达细胞株" not in page.text
    detail = await client.get(f"/registry/{draft['id']}")
    assert "国际先进" in detail.text and "2023YFB2400000" in detail.text and "中期" in detail.text


CSV_HEADER = "来源编号,成果名称,成果简介,成果类别,关键词,成果水平,成果阶段,所属领域,联系人,联系电话,完成单位\n"


def csv_file(rows: list[str]) -> bytes:
    return (CSV_HEADER + "".join(r + "\n" for r in rows)).encode("utf-8-sig")


def row(i: int, title: str | None = None) -> str:
    return f"P-{i},{title or f'成果{i}'},简介{i},应用技术,关键词{i},国内先进,成熟,先进制造,联系人,021-12345678,某研究院"


class Interrupted(Exception):
    pass


async def test_an_import_is_checked_line_by_line_resumes_and_is_idempotent(app, client):
    db, registry, clock = app.state.db, app.state.registry, app.state.clock
    rows = [row(i) for i in range(1, 8)]
    no_title = "P-3,,简介,应用技术,词,国内先进,成熟,先进制造,联系人,021-12345678,某研究院"
    bad_level = "P-6,成果6,简介,应用技术,词,第一,成熟,先进制造,联系人,021-12345678,某研究院"
    broken = [*rows[:2], no_title, *rows[3:5], bad_level, rows[1]]

    async def run(content: bytes, **kw) -> imports.ImportResult:
        return await imports.import_file(db, registry, clock, filename="batch.csv", content=content, source="pj",
                                         by="test", **kw)  # fmt: skip

    async def stored() -> list[tuple[str, str, int]]:
        async with db.read() as session:
            listed, _ = await service.library(session, limit=100)
        return sorted((a.source_id or "", a.title, a.version) for a in listed)

    dry = await run(csv_file(broken), dry_run=True)
    assert [(b.line, b.field) for b in dry.bad] == [(4, "title"), (7, "level"), (8, "source_id")]
    refused = await run(csv_file(broken))
    assert refused.refused and await stored() == []  # nothing written

    fixed = csv_file(rows)
    checked = await run(fixed, dry_run=True)
    assert not checked.bad and checked.created == 7 and await stored() == []
    seen: list[tuple[int, int]] = []

    def stop_after_first_chunk(done: int, total: int) -> None:
        seen.append((done, total))
        if done == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        await run(fixed, chunk=3, progress=stop_after_first_chunk)
    assert len(await stored()) == 3  # the first chunk committed
    resumed = await run(fixed, chunk=3, progress=lambda d, t: seen.append((d, t)))
    assert resumed.resumed_from == 4 and resumed.created == 7  # lines 2-4 were the first chunk
    assert seen == [(0, 7), (3, 7), (3, 7), (6, 7), (7, 7)]
    first = await stored()
    assert [s for s, _, _ in first] == [f"P-{i}" for i in range(1, 8)]

    twice = await run(fixed)
    assert (twice.created, twice.corrected, twice.unchanged) == (0, 0, 7)
    assert await stored() == first
    changed = await run(csv_file([*rows[:6], row(7, "成果7（修订）")]))
    assert (changed.created, changed.corrected, changed.unchanged) == (0, 1, 6)
    assert ("P-7", "成果7（修订）", 2) in await stored()
    async with db.read() as session:
        events = await feed.events_since(session, 0, 100)
    assert [e.kind for e in events].count("registered") == 7 and events[-1].kind == "corrected"
    async with browser_of(app, await operator(client, app)) as desk:  # the console's upload, a dry run
        page = await desk.get("/console/registry/imports")
        assert page.status_code == 200 and "batch.csv" in page.text and "已完成" in page.text
        files = {"file": ("other.csv", csv_file(broken), "text/csv")}
        checked = await post_form(desk, "/console/registry/imports", files=files, source="pj", dry_run="true")
        assert checked.status_code == 422 and "第 4 行" in checked.text and "第 8 行" in checked.text
    assert len(await stored()) == 7


async def test_the_signed_feed_consumed_twice_ends_in_the_same_state(client, app):
    ops = await operator(client, app)
    uni = await verified(client, ops, "university", "复旦大学")
    made = []
    for i in range(5):
        made.append(await registered(client, uni, ops, title=f"成果{i}", summary="简介", category="Y",
                                     keywords=[f"词{i}"], stage="middle", field="new_materials"))  # fmt: skip
    fix = await client.post(f"{API}/achievements/{made[1]['id']}/correct",
                            json={"title": "成果1（更正）", "reason": "名称笔误"}, headers=uni.headers)  # fmt: skip
    assert fix.status_code == 200 and fix.json()["version"] == 2
    nothing = await client.post(f"{API}/achievements/{made[2]['id']}/correct", json={"reason": "无"},
                                headers=uni.headers)  # fmt: skip
    assert_problem(nothing, 422, "registry-rule-broken", "title")
    gone = await client.post(f"{API}/achievements/{made[3]['id']}/withdraw", json={"reason": "重复登记"},
                             headers=ops.headers)  # fmt: skip
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    keys = (await client.get("/api/v1/keys")).json()["keys"]
    public = {k["kid"]: base64.b64decode(k["key"]) for k in keys}

    async def consume() -> tuple[dict[str, dict], int]:
        state: dict[str, dict] = {}
        cursor, batches = 0, 0
        while True:
            response = await client.get(f"{API}/feed", params={"since": cursor, "limit": 3})
            assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
            header, events = feed.verify_batch(response.content, public)
            assert header["schema"] == "techx.registry.feed/1" and header["since"] == cursor
            if not events:
                return state, batches
            batches += 1
            for event in events:
                if event["kind"] == "withdrawn":
                    state.pop(event["number"], None)
                else:
                    state[event["number"]] = event["achievement"]
            cursor = header["last"]
            assert int(response.headers["X-Next-Cursor"]) == cursor == events[-1]["seq"]

    first, batches = await consume()
    second, _ = await consume()
    assert first == second and batches == 3  # 7 events in batches of 3
    assert sorted(first) == sorted(a["number"] for i, a in enumerate(made) if i != 3)
    assert first[made[1]["number"]]["title"] == "成果1（更正）"

    body = (await client.get(f"{API}/feed", params={"since": 0, "limit": 3})).content
    head, _, lines = body.partition(b"\n")
    with pytest.raises(feed.BatchRejected):
        feed.verify_batch(head + b"\n" + lines.replace("成果0".encode(), "成果X".encode()), public)
    forged = json.loads(head)
    forged["last"] = 99
    with pytest.raises(feed.BatchRejected):
        feed.verify_batch(json.dumps(forged).encode() + b"\n" + lines, public)
