"""A resource's documents on the pages: the panel, an upload through the form (htmx and without
scripts), a refusal in Chinese, the file with the pages' session."""

from __future__ import annotations

import pytest

from tests.api.test_documents import PDF, PNG
from tests.helpers import register
from tests.pages.test_auction_pages import browser_of

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def test_a_member_attaches_the_business_licence_through_the_page(client, app):
    member = await register(client, "enterprise")
    stranger = await register(client, "enterprise")
    panel_path = f"/documents/of/org/{member.org_id}"
    async with browser_of(app, member) as browser:
        panel = await browser.get(panel_path, headers={"HX-Request": "true"})
        assert panel.status_code == 200, panel.text
        assert "暂无附件材料" in panel.text and 'enctype="multipart/form-data"' in panel.text
        assert 'name="_csrf_token"' in panel.text

        token = browser.cookies["techx_csrf"]
        answer = await browser.post(
            panel_path,
            data={"kind": "business_licence", "_csrf_token": token},
            files={"file": ("营业执照.pdf", PDF, "application/pdf")},
            headers={"HX-Request": "true"},
        )
        assert answer.status_code == 200, answer.text
        assert (
            "已上传：营业执照.pdf" in answer.text and "营业执照" in answer.text and 'hx-swap-oob="true"' in answer.text
        )

        refused = await browser.post(
            panel_path,
            data={"kind": "business_licence", "_csrf_token": token},
            files={"file": ("营业执照.pdf", PNG, "application/pdf")},
            headers={"HX-Request": "true"},
        )
        assert refused.status_code == 422
        assert "文件内容是 PNG 格式，与文件扩展名不符" in refused.text

        plain = await browser.post(
            panel_path, data={"kind": "other", "_csrf_token": token}, files={"file": ("b.png", PNG, "image/png")}
        )
        assert plain.status_code == 303 and plain.headers["location"].endswith("?notice=document-uploaded")

        listed = await client.get(f"/api/v1/orgs/{member.org_id}/documents", headers=member.headers)
        first = listed.json()["items"][0]
        downloaded = await browser.get(f"/documents/{first['id']}")
        assert downloaded.status_code == 200 and downloaded.content == PDF

        no_token = await browser.post(panel_path, data={"kind": "other"}, files={"file": ("c.pdf", PDF, "x/y")})
        assert no_token.status_code == 403

    async with browser_of(app, stranger) as other:
        assert (await other.get(f"/documents/{first['id']}")).status_code == 404
        assert (await other.get(panel_path)).status_code == 404
