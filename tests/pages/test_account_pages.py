"""The pages of the links in account mail, over HTTP: confirming the address, accepting an
invitation and resetting a forgotten password, each from the mailed token to being signed in; a
link used once is refused after, in Chinese, and a GET never spends a token."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.helpers import PASSWORD, Party, db_of, mailed_token, register, sign_up_body

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

API = "/api/v1"
NEW_PASSWORD = "a-new-staircase-lamp"


def csrf(client: httpx.AsyncClient) -> str:
    token = client.cookies.get("techx_csrf")
    assert token, "a page sets the CSRF cookie before its form is posted"
    return token


async def post_form(client: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    return await client.post(path, data={**fields, "_csrf_token": csrf(client)})


def address() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.cn"


async def test_confirming_the_address_by_its_button_signs_in_and_the_link_then_is_spent(
    client: httpx.AsyncClient,
) -> None:
    email = address()
    assert (await client.post(f"{API}/auth/register", json=sign_up_body(email))).status_code == 202
    token = await mailed_token(db_of(client), "account.email_confirmation", email)

    for _ in range(2):  # a mail scanner's GET does not spend the link
        page = await client.get(f"/confirm-email?token={token}")
        assert page.status_code == 200
        assert "确认邮箱" in page.text and 'method="post" action="/confirm-email"' in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "no-store" in page.headers["cache-control"]

    assert (await client.post("/confirm-email", data={"token": token})).status_code == 403  # no CSRF token
    confirmed = await post_form(client, "/confirm-email", token=token)
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/?notice=email-confirmed"
    assert "techx_session=" in confirmed.headers["set-cookie"]
    home = await client.get(confirmed.headers["location"])
    assert "邮箱已确认，您已登录。" in home.text
    assert "测试机构 enterprise" in home.text and "退出" in home.text

    again = await post_form(client, "/confirm-email", token=token)
    assert again.status_code == 422
    assert "链接无效或已过期" in again.text and 'href="/password-reset"' in again.text
    shown = await client.get(f"/confirm-email?token={token}")
    assert shown.status_code == 422 and "链接无效或已过期" in shown.text
    assert "确认邮箱</button>" not in shown.text


async def test_a_notice_is_only_one_of_the_sites_own_sentences(client: httpx.AsyncClient) -> None:
    page = await client.get("/?notice=<b>pay here</b>")
    assert page.status_code == 200
    assert "pay here" not in page.text


async def invite(client: httpx.AsyncClient, admin: Party, email: str) -> str:
    answer = await client.post(
        f"{API}/orgs/{admin.org_id}/invitations", json={"email": email, "role": "member"}, headers=admin.headers
    )
    assert answer.status_code == 201, answer.text
    return await mailed_token(db_of(client), "account.invitation", email)


async def test_accepting_an_invitation_on_its_page_joins_and_signs_in(client: httpx.AsyncClient) -> None:
    admin = await register(client, name="邀请方机构")
    email = address()
    token = await invite(client, admin, email)

    form = await client.get(f"/invitations/accept?token={token}")
    assert form.status_code == 200
    assert 'name="display_name"' in form.text and 'name="password_again"' in form.text

    weak = await post_form(
        client, "/invitations/accept", token=token, display_name="新成员", password="short", password_again="short"
    )
    assert weak.status_code == 422
    assert 'id="password-error"' in weak.text and "密码须为 10 至 200 个字符" in weak.text
    assert 'value="新成员"' in weak.text  # what was typed stays
    mismatch = await post_form(
        client, "/invitations/accept", token=token, display_name="", password=PASSWORD, password_again="other-one-x"
    )
    assert mismatch.status_code == 422
    assert "两次输入的密码不一致" in mismatch.text and "请填写 1 至 100 个字的姓名" in mismatch.text

    joined = await post_form(
        client, "/invitations/accept", token=token, display_name="新成员", password=PASSWORD, password_again=PASSWORD
    )
    assert joined.status_code == 303, joined.text
    assert joined.headers["location"] == "/?notice=invitation-accepted"
    home = await client.get(joined.headers["location"])
    assert "您已加入机构并已登录" in home.text and "邀请方机构" in home.text

    members = await client.get(f"{API}/orgs/{admin.org_id}/members", headers=admin.headers)
    assert email in {member["email"] for member in members.json()}

    used = await post_form(
        client, "/invitations/accept", token=token, display_name="新成员", password=PASSWORD, password_again=PASSWORD
    )
    assert used.status_code == 422 and "邀请链接无效或已过期" in used.text
    assert (await client.get(f"/invitations/accept?token={token}")).status_code == 422


async def test_an_invitation_to_an_address_with_an_account_elsewhere_says_so(client: httpx.AsyncClient) -> None:
    admin = await register(client, name="邀请方机构")
    elsewhere = await register(client, name="另一家机构")
    token = await invite(client, admin, elsewhere.email)
    await client.get(f"/invitations/accept?token={token}")
    taken = await post_form(
        client, "/invitations/accept", token=token, display_name="某人", password=PASSWORD, password_again=PASSWORD
    )
    assert taken.status_code == 409
    assert "该邮箱已在另一家机构注册" in taken.text
    assert "techx_session" not in taken.headers.get("set-cookie", "")


async def test_the_reset_form_answers_the_same_for_an_unknown_address(client: httpx.AsyncClient) -> None:
    party = await register(client)
    login = await client.get("/login")
    assert 'href="/password-reset"' in login.text and "忘记密码？" in login.text
    form = await client.get("/password-reset")
    assert form.status_code == 200 and 'name="email"' in form.text

    known = await post_form(client, "/password-reset", email=party.email)
    unknown = await post_form(client, "/password-reset", email=address())
    assert known.status_code == unknown.status_code == 200
    assert "如果该邮箱已注册，我们已发送重置链接" in known.text
    assert known.text == unknown.text
    assert await mailed_token(db_of(client), "account.password_reset", party.email)

    bad = await post_form(client, "/password-reset", email="not-an-address")
    assert bad.status_code == 422 and "请填写有效的邮箱地址" in bad.text


async def test_a_new_password_by_the_mailed_link_ends_every_session(client: httpx.AsyncClient) -> None:
    party = await register(client)
    await client.get("/login")
    signed_in = await post_form(client, "/login", email=party.email, password=PASSWORD)
    assert signed_in.status_code == 303
    await post_form(client, "/password-reset", email=party.email)
    token = await mailed_token(db_of(client), "account.password_reset", party.email)

    form = await client.get(f"/password-reset?token={token}")
    assert form.status_code == 200 and 'name="new_password"' in form.text
    assert form.headers["referrer-policy"] == "no-referrer"
    mismatch = await post_form(
        client, "/password-reset/confirm", token=token, new_password=NEW_PASSWORD, new_password_again="different-1"
    )
    assert mismatch.status_code == 422 and "两次输入的密码不一致" in mismatch.text
    common = await post_form(
        client, "/password-reset/confirm", token=token, new_password="password123", new_password_again="password123"
    )
    assert common.status_code == 422 and "常见密码" in common.text

    reset = await post_form(
        client, "/password-reset/confirm", token=token, new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD
    )
    assert reset.status_code == 303
    assert reset.headers["location"] == "/login?notice=password-reset"
    page = await client.get(reset.headers["location"])
    assert "所有设备上的登录均已退出" in page.text
    assert (await client.get(f"{API}/me", headers=party.headers)).status_code == 401

    old = await post_form(client, "/login", email=party.email, password=PASSWORD)
    assert old.status_code == 401
    new = await post_form(client, "/login", email=party.email, password=NEW_PASSWORD)
    assert new.status_code == 303

    used = await post_form(
        client, "/password-reset/confirm", token=token, new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD
    )
    assert used.status_code == 422 and "链接无效或已过期" in used.text and 'href="/password-reset"' in used.text
    assert (await client.get(f"/password-reset?token={token}")).status_code == 422
