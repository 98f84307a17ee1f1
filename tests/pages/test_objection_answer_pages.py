"""The seller answers an objection from its listing's page (异议答复): the reason shown, never the
objector; a too-short answer refused in Chinese in place, nothing written; the answer in place by
htmx, or back to the page without scripts; the operators' queue shows the answer beside the
objection."""

from __future__ import annotations

import pytest

from tests.helpers import announced_listing, operator, verified
from tests.page_helpers import browser_of, htmx_post, post_form

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

API = "/api/v1"
REASON = "该专利的权利人与挂牌单位不一致，请核实。"
ANSWER = "专利权人已于今年变更为本校，附变更登记通知书。"


async def _objected(client, app):
    ops = await operator(client, app)
    seller = await verified(client, ops, "university")
    listing = await announced_listing(client, seller, ops, title="抗体药物偶联技术")
    notice_id = listing["announcement"]["notice_id"]
    objector = await verified(client, ops, name="提出异议的公司")
    filed = await client.post(
        f"{API}/notices/{notice_id}/objections", json={"reason": REASON}, headers=objector.headers
    )
    assert filed.status_code == 201, filed.text
    return ops, seller, objector, listing, (filed.json()["id"],)


async def test_the_seller_answers_an_objection_in_place_and_the_console_shows_the_answer(client, app) -> None:
    ops, seller, objector, listing, (oid,) = await _objected(client, app)
    path = f"/workspace/listings/{listing['id']}"
    async with browser_of(app, seller) as browser:
        shown = await browser.get(path)
        assert shown.status_code == 200, shown.text
        assert REASON in shown.text and f'id="objection-{oid}"' in shown.text and "提交答复" in shown.text
        assert "提出异议的公司" not in shown.text and objector.email not in shown.text
        assert objector.org_id not in shown.text

        # Too short: the Chinese refusal in place, nothing written.
        refused = await htmx_post(browser, f"{path}/objections/{oid}/answer", answer="不成立")
        assert refused.status_code == 422
        assert "答复须为 10 至 2,000 个字" in refused.text
        assert (await client.get(f"{API}/objections/{oid}", headers=seller.headers)).json()["answer"] is None

        answered = await htmx_post(browser, f"{path}/objections/{oid}/answer", answer=ANSWER)
        assert answered.status_code == 200, answered.text
        assert answered.headers["HX-Retarget"] == f"#objection-{oid}"
        assert ANSWER in answered.text and "答复已提交" in answered.text and "<form" not in answered.text

        # Once answered the page shows the answer and no form; a second post is refused in Chinese.
        again = await browser.get(path)
        assert ANSWER in again.text and f"{path}/objections/{oid}/answer" not in again.text
        twice = await htmx_post(browser, f"{path}/objections/{oid}/answer", answer="补充：变更登记通知书编号见附件。")
        assert twice.status_code == 409 and "此异议已答复" in twice.text

    async with browser_of(app, ops) as console:
        queue = await console.get("/console/objections")
        assert queue.status_code == 200
        assert REASON in queue.text and ANSWER in queue.text and "被异议方答复" in queue.text


async def test_without_scripts_the_answer_returns_to_the_page_and_strangers_cannot_answer(client, app) -> None:
    ops, seller, objector, listing, (oid,) = await _objected(client, app)
    path = f"/workspace/listings/{listing['id']}"
    async with browser_of(app, objector) as theirs:
        await theirs.get("/workspace")
        refused = await post_form(theirs, f"{path}/objections/{oid}/answer", answer=ANSWER)
        assert refused.status_code == 403 and "只有公示所涉项目的转让方可以答复异议" in refused.text
    stranger = await verified(client, ops)
    async with browser_of(app, stranger) as other:
        await other.get("/workspace")
        assert (await post_form(other, f"{path}/objections/{oid}/answer", answer=ANSWER)).status_code == 404
    async with browser_of(app, seller) as browser:
        await browser.get(path)
        sent = await post_form(browser, f"{path}/objections/{oid}/answer", answer=ANSWER)
        assert sent.status_code == 303 and sent.headers["location"] == f"{path}?notice=objection-answered"
        back = await browser.get(sent.headers["location"])
        assert "答复已提交" in back.text and ANSWER in back.text
    assert (await client.get(f"{API}/objections/{oid}", headers=objector.headers)).json()["answer"] == ANSWER


async def test_a_resolved_objection_shows_its_outcome_and_no_form(client, app) -> None:
    ops, seller, _, listing, (oid,) = await _objected(client, app)
    resolved = await client.post(
        f"{API}/objections/{oid}/resolve", json={"decision": "dismissed", "note": "权属已核实"}, headers=ops.headers
    )
    assert resolved.status_code == 200
    async with browser_of(app, seller) as browser:
        shown = (await browser.get(f"/workspace/listings/{listing['id']}")).text
        assert REASON in shown and "异议不成立" in shown and "权属已核实" in shown
        assert f"/objections/{oid}/answer" not in shown
