"""A listing's documents on its pages: the seller attaches a patent certificate from the IP step and
the listing's workspace page while it is a draft, the operator sees it in the review queue, and once
announced the public listing page lists its documents — a confidential one opened only under the NDA."""

from __future__ import annotations

import pytest

from tests.api.test_documents import PDF
from tests.helpers import create_listing, operator, register, verified
from tests.page_helpers import browser_of, htmx_post, post_form

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def panel_of(listing_id: str) -> str:
    return f'hx-get="/documents/of/listing/{listing_id}"'


async def test_a_seller_attaches_certificates_to_the_draft_that_the_operator_and_then_the_public_see(
    client, app
) -> None:
    ops = await operator(client, app)
    seller = await verified(client, ops, kind="university")
    buyer = await verified(client, ops, kind="enterprise")
    listing = await create_listing(client, seller)
    listing_id = listing["id"]
    panel_path = f"/documents/of/listing/{listing_id}"

    async with browser_of(app, seller) as page:
        # The IP step of the draft carries the panel after the step's form, never inside it.
        ip_step = await page.get(f"/workspace/listings/{listing_id}/edit?step=ip")
        assert ip_step.status_code == 200, ip_step.text
        form_end = ip_step.text.index("</form>", ip_step.text.index('class="listing-form"'))
        assert ip_step.text.index(panel_of(listing_id)) > form_end
        own = await page.get(f"/workspace/listings/{listing_id}")
        assert panel_of(listing_id) in own.text and "专利证书、评估报告等文件将在此处" not in own.text
        # A new listing has no draft to attach to yet: the step says when files are uploaded.
        new = await page.get("/workspace/listings/new?step=ip")
        assert "/documents/of/listing/" not in new.text

        panel = await page.get(panel_path, headers={"HX-Request": "true"})
        assert 'enctype="multipart/form-data"' in panel.text and "暂无附件材料" in panel.text
        answer = await htmx_post(
            page, panel_path, kind="patent_certificate", files={"file": ("专利证书.pdf", PDF, "application/pdf")}
        )
        assert answer.status_code == 200, answer.text
        assert "已上传：专利证书.pdf" in answer.text and "专利证书" in answer.text
        secret = await post_form(
            page,
            panel_path,
            kind="appraisal_report",
            confidential="true",
            files={"file": ("评估报告.pdf", PDF, "application/pdf")},
        )
        assert secret.status_code == 303, secret.text

        submitted = await post_form(page, f"/workspace/listings/{listing_id}/submit")
        assert submitted.status_code == 303, submitted.text
        # Submitted: what the exchange reviews stays as it was, so the form is gone.
        after = await page.get(panel_path, headers={"HX-Request": "true"})
        assert "专利证书.pdf" in after.text and 'enctype="multipart/form-data"' not in after.text
        late = await htmx_post(page, panel_path, kind="other", files={"file": ("迟到.pdf", PDF, "application/pdf")})
        assert late.status_code == 409 and "此事项已不能再上传或删除材料" in late.text

    documents = (await client.get(f"/api/v1/listings/{listing_id}/documents", headers=seller.headers)).json()["items"]
    certificate = next(d for d in documents if not d["confidential"])
    report = next(d for d in documents if d["confidential"])

    async with browser_of(app) as public:  # a draft under review: nothing of it to the public
        assert (await public.get(panel_path)).status_code == 404

    async with browser_of(app, ops) as console:
        queue = await console.get("/console/reviews")
        assert panel_of(listing_id) in queue.text
        seen = await console.get(panel_path, headers={"HX-Request": "true"})
        assert "专利证书.pdf" in seen.text and "评估报告.pdf" in seen.text
        assert 'enctype="multipart/form-data"' not in seen.text  # the seller's side attaches
        assert (await console.get(f"/documents/{report['id']}")).content == PDF
        approved = await htmx_post(console, f"/console/reviews/{listing_id}", decision="approve", note="")
        assert approved.status_code == 200, approved.text

    async with browser_of(app) as public:
        shown = await public.get(f"/listings/{listing_id}")
        assert shown.status_code == 200 and panel_of(listing_id) in shown.text
        listed = await public.get(panel_path, headers={"HX-Request": "true"})
        # The confidential report is listed (a buyer knows what the NDA opens), with its badge.
        assert "专利证书.pdf" in listed.text and "评估报告.pdf" in listed.text and "保密" in listed.text
        assert (await public.get(f"/documents/{certificate['id']}")).content == PDF
        refused = await public.get(f"/documents/{report['id']}")
        assert refused.status_code == 403 and "请先签署本项目的保密协议" in refused.text

    async with browser_of(app, buyer) as reader:
        assert (await reader.get(f"/documents/{report['id']}")).status_code == 403
        nda = await client.post(f"/api/v1/listings/{listing_id}/nda", headers=buyer.headers)
        assert nda.status_code == 201, nda.text
        assert (await reader.get(f"/documents/{report['id']}")).content == PDF

    stranger = await register(client, "enterprise")
    async with browser_of(app, stranger) as other:  # an unverified member reads the public page alike
        assert (await other.get(panel_path, headers={"HX-Request": "true"})).status_code == 200
