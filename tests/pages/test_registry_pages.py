"""An organisation's registration pages (成果登记): a university opens a draft from its listing in its
workspace, a bad phone is shown again next to its input with what was typed (nothing written),
submits, operators are told; the operator returns it with a reason and the university is told the
reason and sees it in its list; submitted again and registered, the university is told the number,
then corrects it and withdraws it with a reason from the same page."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.notifications.domain import link_path
from exchange.notifications.texts import Texts
from exchange.platform.outbox import Kind
from tests.helpers import create_listing, operator, verified
from tests.notification_helpers import only, outbox_rows, to_operators
from tests.page_helpers import browser_of, htmx_post, post_form

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

API = "/api/v1/registry/achievements"
FORM = {
    "title": "固态锂电池制备方法", "summary": "一种固态电解质的制备方法。", "category": "Y",
    "keywords": "固态电池 储能", "level": "domestic_leading", "stage": "middle", "field": "new_energy",
    "funding_source": "国家重点研发计划", "project_numbers": "2023YFB2400000", "org_name": "同济大学",
    "contact_name": "陈老师", "contact_phone": "021-6598 0000", "contact_email": "tto@tongji.example.cn",
}  # fmt: skip
FUNDER = "国家重点研发计划（科技部）"


def error_next_to(page: str, input_id: str) -> str:
    assert f'id="{input_id}-error"' in page, page
    return page.split(f'id="{input_id}-error">', 1)[1].split("</span>", 1)[0]


async def stored(client: Any, party: Any, achievement_id: str) -> dict[str, Any]:
    shown = await client.get(f"{API}/{achievement_id}", headers=party.headers)
    assert shown.status_code == 200, shown.text
    return shown.json()


async def test_a_registration_from_the_workspace_to_the_library_and_back(client, app) -> None:
    ops = await operator(client, app)
    uni = await verified(client, ops, "university", "同济大学")
    listing = await create_listing(client, uni)
    async with browser_of(app, uni) as office:
        mine = await office.get("/workspace/registry")
        assert mine.status_code == 200 and 'href="/workspace/registry"' in mine.text  # in the workspace's nav
        assert "本单位还没有成果登记" in mine.text and "固态锂电池制备方法" in mine.text  # the listing to start from
        opened = await post_form(office, "/workspace/registry", listing_id=listing["id"])
        assert opened.status_code == 303, opened.text
        page_path = opened.headers["location"].split("?")[0]
        achievement_id = page_path.rsplit("/", 1)[1]
        draft = await office.get(page_path)
        assert 'value="固态锂电池制备方法"' in draft.text and "草稿" in draft.text  # prefilled from the listing

        bad = await post_form(office, page_path, **{**FORM, "contact_phone": "电话", "act": "submit"})
        assert bad.status_code == 422, bad.text
        assert "联系电话" in error_next_to(bad.text, "registration-contact_phone")
        assert 'value="陈老师"' in bad.text and 'value="电话"' in bad.text  # nothing typed lost
        assert (await stored(client, uni, achievement_id))["contact_name"] == ""  # nothing written
        sent = await post_form(office, page_path, **{**FORM, "act": "submit"})
        assert sent.status_code == 303 and sent.headers["location"].endswith("notice=registry-submitted")
    check = await only(app.state.db, Kind.REGISTRY_TO_CHECK, achievement_id=achievement_id)
    assert to_operators(check) and check.data["title"] == "固态锂电池制备方法"

    async with browser_of(app, ops) as desk:
        assert f'id="achievement-{achievement_id}"' in (await desk.get("/console/registry")).text
        back = await htmx_post(desk, f"/console/registry/{achievement_id}/return", reason="请补充项目编号的来源")
        assert back.status_code == 200, back.text
    returned = await only(app.state.db, Kind.REGISTRY_RETURNED, achievement_id=achievement_id)
    assert returned.audience["orgs"] == [uni.org_id] and returned.data["reason"] == "请补充项目编号的来源"
    async with browser_of(app, uni) as office:
        listed = (await office.get("/workspace/registry")).text
        assert "已退回" in listed and "请补充项目编号的来源" in listed
        again = await post_form(office, page_path, **{**FORM, "funding_source": FUNDER, "act": "submit"})
        assert again.status_code == 303, again.text
    async with browser_of(app, ops) as desk:
        assert (await htmx_post(desk, f"/console/registry/{achievement_id}/register")).status_code == 200
    told = await only(app.state.db, Kind.REGISTRY_REGISTERED, achievement_id=achievement_id)
    assert told.audience["orgs"] == [uni.org_id] and told.data["number"] == "3102026Y0001"
    mail = Texts("https://techx.example").render(told.kind, "zh", told.data)
    assert "3102026Y0001" in mail.body
    assert link_path(told.subject_type, told.subject_id) == f"/workspace/registry/{achievement_id}"
    assert len(await outbox_rows(app.state.db, Kind.REGISTRY_TO_CHECK)) == 2  # each submission

    async with browser_of(app, uni) as office:
        listed = (await office.get("/workspace/registry")).text
        assert "3102026Y0001" in listed and "已登记" in listed
        same = await post_form(office, f"{page_path}/correct", **{**FORM, "funding_source": FUNDER}, reason="无")
        assert same.status_code == 422 and "与已登记的信息相同" in error_next_to(same.text, "correction-title")
        fixed = await post_form(office, f"{page_path}/correct", **{**FORM, "funding_source": FUNDER,
                                "title": "固态锂电池的制备方法"}, reason="名称笔误")  # fmt: skip
        assert fixed.status_code == 303, fixed.text
        no_reason = await post_form(office, f"{page_path}/withdraw", reason="")
        assert no_reason.status_code == 422 and error_next_to(no_reason.text, "withdraw-reason")
        gone = await post_form(office, f"{page_path}/withdraw", reason="与另一登记重复")
        assert gone.status_code == 303, gone.text
    final = await stored(client, uni, achievement_id)
    assert (final["status"], final["number"], final["version"]) == ("withdrawn", "3102026Y0001", 2)
    assert final["title"] == "固态锂电池的制备方法" and final["reason"] == "与另一登记重复"
    assert "3102026Y0001" not in (await client.get("/registry")).text  # out of the library
