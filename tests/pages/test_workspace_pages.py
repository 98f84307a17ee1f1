"""The workspace's home: the navigation of the reader's roles, and the public asked to sign in."""

from __future__ import annotations

import pytest

from tests.helpers import operator, register, verified
from tests.page_helpers import browser_of

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def test_each_role_sees_its_own_work_and_the_public_is_asked_to_sign_in(client, app) -> None:
    ops = await operator(client, app)
    university = await verified(client, ops, kind="university")
    government = await verified(client, ops, kind="government")
    newcomer = await register(client, kind="enterprise")

    async with browser_of(app) as public:
        refused = await public.get("/workspace")
        assert refused.status_code == 401
        assert "请先登录" in refused.text and 'href="/login?next=/workspace"' in refused.text

    async with browser_of(app, university) as seller:
        page = await seller.get("/workspace")
        assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
        assert 'href="/workspace/listings/new"' in page.text and 'href="/workspace/intents"' in page.text
        assert 'href="/console/reviews"' not in page.text and 'href="/workspace/programs"' not in page.text
        assert "尚未通过交易所认证" not in page.text
        home = await seller.get("/")
        assert 'href="/workspace"' in home.text

    async with browser_of(app, government) as program_admin:
        page = (await program_admin.get("/workspace")).text
        assert 'href="/workspace/programs"' in page and 'href="/workspace/listings/new"' not in page

    async with browser_of(app, ops) as console:
        page = (await console.get("/workspace")).text
        assert 'href="/console/reviews"' in page and 'href="/console/reconciliations"' in page

    async with browser_of(app, newcomer) as unverified:
        page = (await unverified.get("/workspace")).text
        assert "尚未通过交易所认证" in page
