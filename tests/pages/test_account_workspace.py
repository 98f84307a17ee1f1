"""The account pages of the workspace: the inbox (a notification about a service order reads in
Chinese and links to the order's page; marking read one by one or all at once, as the API does), the
members and invitations, the sessions and the password, the preferences of notifications."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from exchange.platform.outbox import Kind
from tests.helpers import PASSWORD, mailed_token, register, verified
from tests.page_helpers import browser_of, htmx_post, post_form
from tests.voucher_helpers import API, cast, order, service, top_up

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
NEW = "a-new-long-passphrase"


def address() -> str:
    return f"member-{uuid.uuid4().hex[:10]}@example.cn"


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


# -- members, sessions and the password, the preferences ------------------------------------------------


def members_of(response: httpx.Response) -> dict[str, str]:
    """The members' rows of the members page: their id and role."""
    return dict(re.findall(r'<tr id="member-([0-9a-f-]{36})" data-role="(\w+)"', response.text))


async def test_an_admin_invites_hands_over_and_steps_down_and_the_last_admin_stays(client, app) -> None:
    admin = await register(client, name="成员管理测试机构")
    newcomer, stranger_mail = address(), address()

    async with browser_of(app, admin) as boss:
        page = await boss.get("/workspace/members")
        assert page.status_code == 200 and admin.email in page.text and "invite-title" in page.text
        assert members_of(page) == {admin.user_id: "admin"}

        wrong = await htmx_post(boss, "/workspace/members/invitations", email="not-an-address", role="member")
        assert wrong.status_code == 400 and "请检查“邮箱”一栏" in wrong.text
        invited = await htmx_post(boss, "/workspace/members/invitations", email=newcomer, role="member")
        assert invited.status_code == 200, invited.text
        assert "邀请已发送到对方邮箱" in invited.text and newcomer in invited.text  # pending, in place
        token = await mailed_token(app.state.db, Kind.INVITATION, newcomer)

    async with browser_of(app) as joiner:
        assert (await joiner.get(f"/invitations/accept?token={token}")).status_code == 200
        joined = await post_form(
            joiner, "/invitations/accept", token=token, display_name="李四", password=PASSWORD, password_again=PASSWORD
        )
        assert joined.status_code == 303, joined.text

        # A member sees the members, without the admins' forms; posting one is the API's 403.
        page = await joiner.get("/workspace/members")
        assert "李四" in page.text and admin.email in page.text and "invite-title" not in page.text
        assert "/role" not in page.text and "撤销邀请" not in page.text
        newcomer_id = next(uid for uid, role in members_of(page).items() if uid != admin.user_id)
        refused = await htmx_post(joiner, "/workspace/members/invitations", email=stranger_mail, role="admin")
        assert refused.status_code == 403 and "只有机构管理员可以邀请成员" in refused.text
        refused = await post_form(joiner, f"/workspace/members/{admin.user_id}/remove")
        assert refused.status_code == 403 and "只有机构管理员可以" in refused.text
        with pytest.raises(AssertionError):
            await mailed_token(app.state.db, Kind.INVITATION, stranger_mail)  # nothing was sent

        async with browser_of(app, admin) as boss:
            page = await boss.get("/workspace/members")
            assert members_of(page) == {admin.user_id: "admin", newcomer_id: "member"}
            assert "没有待接受的邀请" in page.text
            # The hand-over: the newcomer is made admin, then the admin steps down.
            promoted = await post_form(boss, f"/workspace/members/{newcomer_id}/role", role="admin")
            assert promoted.status_code == 303
            assert promoted.headers["location"] == "/workspace/members?notice=role-changed"
            assert "成员角色已调整" in (await boss.get(promoted.headers["location"])).text
            down = await htmx_post(boss, f"/workspace/members/{admin.user_id}/role", role="member")
            assert down.status_code == 200 and "成员角色已调整" in down.text
            assert "invite-title" not in down.text  # drawn for a member now

        # The newcomer is the last admin: stepping down is refused in Chinese, nothing changes.
        last = await htmx_post(joiner, f"/workspace/members/{newcomer_id}/role", role="member")
        assert last.status_code == 409 and "机构至少要保留一位管理员" in last.text
        listed = await client.get(f"{API}/orgs/{admin.org_id}/members", headers=admin.headers)
        assert {m["id"]: m["role"] for m in listed.json()} == {admin.user_id: "member", newcomer_id: "admin"}

        # An invitation revoked is no link any more; a member removed can no longer sign in.
        await htmx_post(joiner, "/workspace/members/invitations", email=stranger_mail, role="member")
        link = await mailed_token(app.state.db, Kind.INVITATION, stranger_mail)
        pending = (await joiner.get("/workspace/members")).text
        invitation = re.search(r'action="/workspace/members/invitations/([0-9a-f-]{36})/revoke"', pending)
        assert invitation
        revoked = await htmx_post(joiner, f"/workspace/members/invitations/{invitation.group(1)}/revoke")
        assert revoked.status_code == 200 and "邀请已撤销" in revoked.text and stranger_mail not in revoked.text
        assert (await client.get(f"/invitations/accept?token={link}")).status_code == 422

        async with browser_of(app, admin) as former:
            removed = await post_form(joiner, f"/workspace/members/{admin.user_id}/remove")
            assert removed.status_code == 303 and removed.headers["location"].endswith("notice=member-removed")
            assert (await former.get("/workspace/members")).status_code == 401  # its session ended
        assert members_of(await joiner.get("/workspace/members")) == {newcomer_id: "admin"}


def session_of(visitor: httpx.AsyncClient) -> str:
    """The id of the pages' session a browser holds (its cookie is ``<session id>.<secret>``)."""
    return str(visitor.cookies.get("techx_session")).partition(".")[0]


async def test_a_session_ended_from_the_page_signs_that_browser_out(client, app) -> None:
    me = await register(client)
    other = await register(client)
    async with browser_of(app, me) as laptop, browser_of(app, me) as phone:
        page = await laptop.get("/workspace/sessions")
        assert page.status_code == 200
        assert page.text.count('<tr id="session-') == 3  # two browsers and the API's session of the sign-up
        assert f'<tr id="session-{session_of(laptop)}" data-current="true">' in page.text and "当前设备" in page.text

        ended = await htmx_post(laptop, f"/workspace/sessions/{session_of(phone)}/revoke")
        assert ended.status_code == 200 and "已退出该设备上的登录" in ended.text
        assert ended.text.count('<tr id="session-') == 2
        assert (await phone.get("/workspace/sessions")).status_code == 401  # the phone's cookie opens nothing

        async with browser_of(app, other) as stranger:
            assert (await htmx_post(stranger, f"/workspace/sessions/{session_of(laptop)}/revoke")).status_code == 404

        cookie = laptop.cookies.get("techx_session")
        mine = await post_form(laptop, f"/workspace/sessions/{session_of(laptop)}/revoke")
        assert mine.status_code == 303 and mine.headers["location"] == "/login?notice=session-ended"
        assert (await laptop.get("/workspace/sessions")).status_code == 401
        async with browser_of(app) as copy:  # a copy of the cookie is no key either
            copy.cookies.set("techx_session", str(cookie))
            assert (await copy.get("/workspace/sessions")).status_code == 401
    assert (await client.get(f"{API}/me", headers=me.headers)).status_code == 200  # the API's session stays


async def test_a_password_changed_on_the_page_ends_the_other_sessions(client, app) -> None:
    me = await register(client)
    async with browser_of(app, me) as laptop, browser_of(app, me) as phone:
        assert (await laptop.get("/workspace/sessions")).status_code == 200
        path = "/workspace/sessions/password"
        weak = await htmx_post(
            laptop, path, current_password=PASSWORD, new_password="short", new_password_again="short"
        )
        assert weak.status_code == 422 and "密码须为 10 至 200 个字符" in weak.text
        common = await htmx_post(
            laptop, path, current_password=PASSWORD, new_password="1234567890", new_password_again="1234567890"
        )
        assert common.status_code == 422 and "不能是常见密码" in common.text
        wrong = await htmx_post(
            laptop, path, current_password="not-my-password", new_password=NEW, new_password_again=NEW
        )
        assert wrong.status_code == 403 and "当前密码不正确" in wrong.text
        differ = await htmx_post(
            laptop, path, current_password=PASSWORD, new_password=NEW, new_password_again=NEW + "x"
        )
        assert differ.status_code == 400 and "两次输入的新密码不一致" in differ.text
        assert (await phone.get("/workspace/sessions")).status_code == 200  # nothing changed yet

        changed = await post_form(laptop, path, current_password=PASSWORD, new_password=NEW, new_password_again=NEW)
        assert (
            changed.status_code == 303 and changed.headers["location"] == "/workspace/sessions?notice=password-changed"
        )
        page = await laptop.get(changed.headers["location"])
        assert page.status_code == 200 and "密码已修改，其他设备上的登录均已退出" in page.text
        assert page.text.count('<tr id="session-') == 1  # this browser only
        assert (await phone.get("/workspace/sessions")).status_code == 401
    assert (await client.get(f"{API}/me", headers=me.headers)).status_code == 401
    signed = await client.post(f"{API}/auth/login", json={"email": me.email, "password": NEW})
    assert signed.status_code == 200


async def test_notification_preferences_are_saved_from_the_page(client, app) -> None:
    me = await register(client)
    async with browser_of(app, me) as visitor:
        page = await visitor.get("/workspace/notifications/preferences")
        assert page.status_code == 200 and "出价被超过" in page.text
        assert 'name="inbox" value="auction.outbid" checked' in page.text
        assert "待认证机构" not in page.text  # the operators' kinds are theirs
        assert 'value="deposit.held"' not in page.text and "保证金冻结" in page.text  # always sent, no box

        wrong = await htmx_post(visitor, "/workspace/notifications/preferences", language="fr")
        assert wrong.status_code == 400 and "请检查“语言”一栏" in wrong.text

        saved = await htmx_post(
            visitor,
            "/workspace/notifications/preferences",
            language="en",
            inbox=["auction.outbid", "listing.approved"],
            email=["listing.approved"],
        )
        assert saved.status_code == 200 and "通知偏好已保存" in saved.text
        assert 'name="email" value="auction.outbid">' in saved.text  # unticked, as saved

    kinds = (await client.get(f"{API}/notifications/preferences", headers=me.headers)).json()
    assert kinds["language"] == "en"
    by_kind = {k["kind"]: (k["inbox"], k["email"]) for k in kinds["kinds"]}
    assert by_kind["auction.outbid"] == (True, False)
    assert by_kind["listing.approved"] == (True, True)
    assert by_kind["auction.won"] == (False, False)
    assert by_kind["deposit.held"] == (True, True)
