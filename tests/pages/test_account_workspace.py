"""The inbox in the workspace: a notification about a service order reads in Chinese and links to
the order's page; marking read one by one or all at once, as the API does."""

from __future__ import annotations

import re

import pytest

from tests.helpers import verified
from tests.page_helpers import browser_of, htmx_post, post_form
from tests.voucher_helpers import API, cast, order, service, top_up

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def test_the_inbox_links_to_the_order_and_marks_read(client, app) -> None:
    c = await cast(client, app)
    await top_up(app, c.ent.org_id, 2_000_000)
    offered = await service(client, c.prov, price=2_000_000)
    placed = await order(client, c.ent, offered["id"], 0)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    confirmed = await client.post(f"{API}/service-orders/{order_id}/confirm", headers=c.prov.headers)
    assert confirmed.status_code == 200, confirmed.text  # the enterprise is told (after the order, the provider was)
    await app.state.notifier.run_once(app.state.db, app.state.clock)  # the outbox delivers to inboxes

    async with browser_of(app, c.prov) as provider:
        page = (await provider.get("/workspace/notifications")).text
        assert "服务订单进展：材料性能检测" in page and "待服务机构确认" in page
        assert f"/workspace/orders/{order_id}" in page
        assert (await provider.get(f"/workspace/orders/{order_id}")).status_code == 200  # the link's page exists
        item = re.search(r'action="/workspace/notifications/([0-9a-f-]{36})/read"', page)
        assert item
        read = await htmx_post(provider, f"/workspace/notifications/{item.group(1)}/read")
        assert read.status_code == 200 and "已标为已读" in read.text and "未读 0 条" in read.text

    async with browser_of(app, c.ent) as buyer:
        page = (await buyer.get("/workspace/notifications?unread=true")).text
        assert "服务机构已确认，服务中" in page and "未读 1 条" in page
        done = await post_form(buyer, "/workspace/notifications/read-all")
        assert done.status_code == 303 and done.headers["location"] == "/workspace/notifications"
        assert "没有未读通知" in (await buyer.get("/workspace/notifications?unread=true")).text
        unread = (await client.get(f"{API}/notifications/unread-count", headers=c.ent.headers)).json()
        assert unread["unread"] == 0

    stranger = await verified(client, c.ops, "enterprise")
    async with browser_of(app, stranger) as other:
        assert (await other.get("/workspace/notifications")).status_code == 200
        refused = await htmx_post(other, f"/workspace/notifications/{item.group(1)}/read")
        assert refused.status_code == 404  # another user's item, as the API answers

    async with browser_of(app) as public:
        assert (await public.get("/workspace/notifications")).status_code == 401
