"""The documents of the workspace pages: an objection's evidence, an organisation's business licence
and a service delivery's reports, attached on the page of the side that attaches them and seen on
the pages of those who decide (the operators' queues, the enterprise, the program's administrators);
a stranger learns nothing of them (404). And the redemption's PDF, linked from the provider's orders
and the program's page."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.api.test_documents import PDF
from tests.helpers import announced_listing, operator, register, verified
from tests.page_helpers import browser_of, csrf_of, htmx_post, post_form
from tests.voucher_helpers import act, cast, create_program, fund, grant, order, service, top_up

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

API = "/api/v1"
HTMX = {"HX-Request": "true"}


async def upload(visitor: httpx.AsyncClient, panel: str, name: str, kind: str) -> httpx.Response:
    """The panel's upload form, sent by htmx (multipart, the CSRF token in its header)."""
    return await visitor.post(
        panel,
        data={"kind": kind},
        files={"file": (name, PDF, "application/pdf")},
        headers={**HTMX, "X-CSRFToken": csrf_of(visitor)},
    )


def document_ids(panel: str) -> list[str]:
    return re.findall(r'<tr data-document="([0-9a-f-]{36})">', panel)


async def panel_of(visitor: httpx.AsyncClient, path: str) -> str:
    answer = await visitor.get(path, headers=HTMX)
    assert answer.status_code == 200, answer.text
    return answer.text


async def test_an_objector_attaches_evidence_the_operator_reads_it_and_a_stranger_gets_404(client, app) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, "university", "华东理工大学")
    objector = await verified(client, ops, "enterprise", "上海启明新材料有限公司")
    stranger = await verified(client, ops, "enterprise")
    listing = await announced_listing(client, seller, ops, title="高强度碳纤维复合材料")
    notice_id = listing["announcement"]["notice_id"]

    async with browser_of(app, objector) as browser:
        await browser.get(f"/notices/{notice_id}")
        filed = await htmx_post(browser, f"/notices/{notice_id}/objections", reason="该专利的权利人与挂牌单位不一致。")
        assert filed.status_code == 200 and "异议已提交" in filed.text
        found = re.search(r'hx-get="/documents/of/objection/([0-9a-f-]{36})\?kind=evidence"', filed.text)
        assert found, "the answer offers the evidence's upload in place"
        objection_id = found.group(1)
        panel_path = f"/documents/of/objection/{objection_id}"

        # The panel offers the upload form with 证据材料 chosen; the file is attached in place.
        panel = await panel_of(browser, f"{panel_path}?kind=evidence")
        assert 'enctype="multipart/form-data"' in panel and '<option value="evidence" selected>证据材料' in panel
        attached = await upload(browser, panel_path, "权属证明.pdf", "evidence")
        assert attached.status_code == 200 and "已上传：权属证明.pdf" in attached.text
        (evidence_id,) = document_ids(attached.text)

        # Back on the notice, the objector finds its objection and its evidence again.
        notice = (await browser.get(f"/notices/{notice_id}")).text
        assert "您提出的异议" in notice and f"{panel_path}?kind=evidence" in notice

    async with browser_of(app, ops) as console:
        queue = (await console.get("/console/objections")).text
        assert "高强度碳纤维复合材料" in queue and f'hx-get="{panel_path}"' in queue
        seen = await panel_of(console, panel_path)
        assert "权属证明.pdf" in seen and "证据材料" in seen and f'href="/documents/{evidence_id}"' in seen
        assert 'type="file"' not in seen  # operators read the evidence; the objector attaches it
        downloaded = await console.get(f"/documents/{evidence_id}")
        assert downloaded.status_code == 200 and downloaded.content == PDF
        assert downloaded.headers["content-type"].startswith("application/pdf")

    # The seller may read it too (the rule of the objection); another organisation learns nothing.
    async with browser_of(app, seller) as owner:
        assert "权属证明.pdf" in await panel_of(owner, panel_path)
    async with browser_of(app, stranger) as other:
        assert (await other.get(panel_path, headers=HTMX)).status_code == 404
        assert (await other.get(f"/documents/{evidence_id}")).status_code == 404
        assert "您提出的异议" not in (await other.get(f"/notices/{notice_id}")).text


async def test_a_business_licence_uploaded_on_the_org_page_is_in_the_verification_queue(client, app) -> None:
    ops = await operator(client, app)
    newcomer = await register(client, "enterprise", "苏州新注册科技有限公司")
    stranger = await register(client, "enterprise")
    panel_path = f"/documents/of/org/{newcomer.org_id}"

    async with browser_of(app, newcomer) as member:
        page = await member.get("/workspace/org")
        assert page.status_code == 200, page.text
        text = page.text
        assert "苏州新注册科技有限公司" in text and "待认证" in text and "请上传营业执照" in text
        assert 'href="/workspace/org"' in text and "机构资料" in text  # its item in the 账户 group
        assert f'hx-get="{panel_path}?kind=business_licence"' in text
        # Without scripts: the panel's own page, the form, and back to it with the notice.
        assert (
            '<option value="business_licence" selected>营业执照'
            in (await member.get(f"{panel_path}?kind=business_licence")).text
        )
        sent = await post_form(
            member, panel_path, files={"file": ("营业执照.pdf", PDF, "application/pdf")}, kind="business_licence"
        )
        assert sent.status_code == 303 and sent.headers["location"] == f"{panel_path}?notice=document-uploaded"
        (licence_id,) = document_ids(await panel_of(member, panel_path))

    async with browser_of(app, ops) as console:
        queue = (await console.get("/console/verifications")).text
        assert f'data-org-id="{newcomer.org_id}"' in queue and f'hx-get="{panel_path}"' in queue
        seen = await panel_of(console, panel_path)
        assert "营业执照.pdf" in seen and "营业执照" in seen and 'type="file"' not in seen
        downloaded = await console.get(f"/documents/{licence_id}")
        assert downloaded.status_code == 200 and downloaded.content == PDF
        verified_now = await htmx_post(console, f"/console/verifications/{newcomer.org_id}/verify", note="执照已核对")
        assert verified_now.status_code == 200

    async with browser_of(app, newcomer) as member:
        assert "已认证" in (await member.get("/workspace/org")).text
    async with browser_of(app, stranger) as other:
        assert (await other.get(panel_path, headers=HTMX)).status_code == 404
        assert (await other.get(f"/documents/{licence_id}")).status_code == 404
    async with browser_of(app) as public:
        assert (await public.get("/workspace/org")).status_code == 401


async def accepted_voucher_order(client: Any, app: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """A program, a grant, a service ordered half with vouchers and confirmed by the provider."""
    c = await cast(client, app)
    program = await create_program(client, app, c.gov)
    await fund(client, c.ops, program["id"], 50_000_000)
    await grant(client, c.gov, program["id"], c.ent.org_id, 20_000_000)
    testing = await service(client, c.prov, "testing", 10_000_000)
    await top_up(app, c.ent.org_id, 8_000_000)
    placed = (await order(client, c.ent, testing["id"], 5_000_000)).json()
    assert (await act(client, c.prov, placed["id"], "confirm")).status_code == 200
    return c, program, placed


async def test_a_delivery_report_is_seen_by_the_enterprise_and_the_program_and_its_claim_prints(client, app) -> None:
    c, program, placed = await accepted_voucher_order(client, app)
    stranger = await verified(client, c.ops, "enterprise")
    order_path = f"/workspace/orders/{placed['id']}"
    panel_path = f"/documents/of/service_order/{placed['id']}"

    async with browser_of(app, c.prov) as provider:
        page = (await provider.get(order_path)).text
        assert "{# documents" not in page and f'hx-get="{panel_path}?kind=delivery_report"' in page
        attached = await upload(provider, panel_path, "检测报告.pdf", "delivery_report")
        assert attached.status_code == 200 and "已上传：检测报告.pdf" in attached.text
        (report_id,) = document_ids(attached.text)
    await act(client, c.prov, placed["id"], "deliver", {"results_summary": "检测报告 No. 2026-031"})

    async with browser_of(app, c.ent) as buyer:
        page = (await buyer.get(order_path)).text
        assert f'hx-get="{panel_path}?kind=delivery_report"' in page and "验收交付" in page
        seen = await panel_of(buyer, panel_path)
        assert "检测报告.pdf" in seen and "交付报告" in seen and 'type="file"' not in seen
        downloaded = await buyer.get(f"/documents/{report_id}")
        assert downloaded.status_code == 200 and downloaded.content == PDF
    await act(client, c.ent, placed["id"], "accept")

    # Once accepted, the delivery is what it is: the provider no longer attaches nor removes.
    async with browser_of(app, c.prov) as provider:
        closed = await panel_of(provider, panel_path)
        assert "检测报告.pdf" in closed and 'type="file"' not in closed and "删除" not in closed
        refused = await upload(provider, panel_path, "补充.pdf", "delivery_report")
        assert refused.status_code == 409

    claimed = await client.post(f"{API}/redemptions", json={"order_ids": [placed["id"]]}, headers=c.prov.headers)
    assert claimed.status_code == 201, claimed.text
    claim_pdf = f"/redemptions/{claimed.json()['id']}/pdf"

    # The provider's orders page and the program's page link to the claim's PDF, which prints.
    async with browser_of(app, c.prov) as provider:
        orders_page = (await provider.get("/workspace/orders")).text
        assert f'href="{claim_pdf}"' in orders_page
        assert f'href="{claim_pdf}"' in (await provider.get(order_path)).text
        printed = await provider.get(claim_pdf)
        assert printed.status_code == 200 and printed.content.startswith(b"%PDF-")
        assert printed.headers["content-type"] == "application/pdf"
    async with browser_of(app, c.gov) as admin:
        page = (await admin.get(f"/workspace/programs/{program['id']}")).text
        assert f'href="{claim_pdf}"' in page and f'href="{panel_path}"' in page
        assert "检测报告.pdf" in await panel_of(admin, panel_path)  # the program paying for it reads the delivery
        assert (await admin.get(f"/documents/{report_id}")).content == PDF
        assert (await admin.get(claim_pdf)).status_code == 200
    async with browser_of(app, c.ent) as buyer:
        assert claim_pdf not in (await buyer.get(order_path)).text  # not a reader of the claim
        assert (await buyer.get(claim_pdf)).status_code == 403
    async with browser_of(app, stranger) as other:
        assert (await other.get(panel_path, headers=HTMX)).status_code == 404
        assert (await other.get(f"/documents/{report_id}")).status_code == 404
