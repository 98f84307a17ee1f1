"""The registry's files, on both databases: an xlsx workbook (written here with openpyxl) imported with
its bad rows refused by line, then the library paged by its keyset cursor over the imported rows;
``techx registry import`` (a dry run naming the bad lines, then the real run) and ``techx registry
export --since`` writing signed batches that verify, run as real processes."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from openpyxl import Workbook

from exchange.registry import feed, imports
from exchange.registry.domain import parse_number
from tests.helpers import assert_problem
from tests.integration.test_cli import techx

API = "/api/v1/registry"
HEADER = ["来源编号", "成果名称", "成果简介", "Category", "关键词", "成果水平", "所处阶段", "技术领域", "项目编号",
          "联系人", "联系电话", "完成单位", "备注"]  # fmt: skip


def cells(i: int, title: str | None = None) -> list[Any]:
    return [f"X-{i:03d}", f"成果{i:03d}" if title is None else title, f"简介{i}", "应用技术", f"材料{i}；涂层",
            "国内领先", "中期", "新材料", 2023000 + i, "王工", "021-5555 0000", "某材料研究所", "ignored"]  # fmt: skip


def workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_an_xlsx_import_is_checked_by_line_and_the_library_pages_by_cursor(app, client):
    db, registry, clock = app.state.db, app.state.registry, app.state.clock

    async def run(content: bytes, **kw: Any) -> imports.ImportResult:
        return await imports.import_file(db, registry, clock, filename="partner.xlsx", content=content,
                                         source="partner", by="test", **kw)  # fmt: skip

    good = [cells(i) for i in range(1, 26)]
    bad = [*good[:4], cells(5, title=""), *good[5:9], [*cells(10)[:5], "第一流", *cells(10)[6:]], *good[10:]]
    refused = await run(workbook(bad), dry_run=True)
    assert [(b.line, b.field) for b in refused.bad] == [(6, "title"), (11, "level")]  # header on line 1
    assert (await run(workbook(bad))).refused
    assert (await client.get(f"{API}/achievements")).json() == {"items": [], "next_cursor": None}

    done = await run(workbook(good))
    assert (done.created, done.corrected, done.unchanged) == (25, 0, 0)
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(4):
        params = {"limit": 10, "q": "涂层", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{API}/achievements", params=params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 25 and len({a["number"] for a in seen}) == 25  # every one once, in three pages
    first = seen[-1]  # the oldest registration is the last of the newest-first library
    assert (first["source_id"], first["keywords"], first["project_numbers"]) == (
        "X-001",
        ["材料1", "涂层"],
        ["2023001"],
    )
    assert parse_number(first["number"]).flag.value == "Y"
    bad_cursor = await client.get(f"{API}/achievements", params={"cursor": "not-a-cursor"})
    assert_problem(bad_cursor, 422, "invalid-cursor", "cursor")
    html = await client.get("/registry", params={"q": "涂层"})
    assert "共 25 项" in html.text and "下一页" in html.text


async def test_the_cli_imports_with_a_dry_run_and_exports_batches_that_verify(backend, keys_dir, tmp_path, client):
    env = {"DATABASE_URL": backend.url, "TECHX_KEYS_DIR": str(keys_dir)}
    rows = "".join(f"C-{i},成果{i},简介,Y,词{i},国内先进,成熟,先进制造,李工,021-12345678,某大学\n" for i in (1, 2, 3))
    header = "source_id,title,summary,category,keywords,level,stage,field,contact_name,contact_phone,org_name\n"
    broken = tmp_path / "batch.csv"
    broken.write_text(header + rows + "C-4,,简介,Y,词,国内先进,成熟,先进制造,李工,021-12345678,某大学\n")
    checked = techx("registry", "import", str(broken), "--dry-run", env=env)
    assert checked.returncode == 1 and "batch.csv:5: title:" in checked.stderr and "nothing written" in checked.stderr
    good = tmp_path / "batch-ok.csv"
    good.write_text(header + rows)
    imported = techx("registry", "import", str(good), "--source", "uni", env=env)
    assert imported.returncode == 0, imported.stderr
    assert "3 rows from source uni: 3 were registered, 0 corrected, 0 unchanged" in imported.stdout

    out = tmp_path / "feed"
    exported = techx("registry", "export", "--since", "1", "--batch", "1", "--out", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    assert "2 batch(es)" in exported.stderr and "next cursor 3" in exported.stderr
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [
        "registry-000000000002-000000000002.jsonl",
        "registry-000000000003-000000000003.jsonl",
    ]
    keys = (await client.get("/api/v1/keys")).json()["keys"]
    public = {k["kid"]: base64.b64decode(k["key"]) for k in keys}
    events = [feed.verify_batch(f.read_bytes(), public)[1][0] for f in files]
    assert [(e["seq"], e["kind"], e["achievement"]["source_id"]) for e in events] == [
        (2, "registered", "C-2"),
        (3, "registered", "C-3"),
    ]
    tampered = files[0].read_bytes().replace("成果2".encode(), "成果9".encode())
    with pytest.raises(feed.BatchRejected):
        feed.verify_batch(tampered, public)
    listed = (await client.get(f"{API}/achievements", params={"q": "某大学"})).json()["items"]
    assert sorted(a["source_id"] for a in listed) == ["C-1", "C-2", "C-3"]
