"""The pages' shared parts: layout, session cookie, CSRF, Chinese error pages, static assets."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import PASSWORD, register

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def test_home_is_chinese_html(client: httpx.AsyncClient) -> None:
    page = await client.get("/", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in page.text
    assert "公示公告" in page.text


async def test_unknown_page_is_chinese_404_for_a_browser_and_problem_json_for_the_api(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/no-such-page", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "页面不存在" in page.text
    api = await client.get("/api/v1/no-such", headers={"accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")


async def test_sign_in_sets_a_protected_cookie_and_a_form_needs_its_csrf_token(client: httpx.AsyncClient) -> None:
    party = await register(client)
    form = await client.get("/login?next=/notices")
    assert form.status_code == 200
    token = client.cookies.get("techx_csrf")
    assert token
    refused = await client.post("/login", data={"email": party.email, "password": PASSWORD})
    assert refused.status_code == 403
    assert "页面已过期" in refused.text
    signed_in = await client.post(
        "/login", data={"email": party.email, "password": PASSWORD, "next": "/notices", "_csrf_token": token}
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/notices"
    cookie = signed_in.headers["set-cookie"]
    assert "techx_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    home = await client.get("/")
    assert "测试机构 enterprise" in home.text
    assert "退出" in home.text


async def test_wrong_password_stays_on_the_form_in_chinese(client: httpx.AsyncClient) -> None:
    party = await register(client)
    await client.get("/login")
    token = client.cookies.get("techx_csrf")
    answer = await client.post("/login", data={"email": party.email, "password": "wrong", "_csrf_token": token})
    assert answer.status_code == 401
    assert "邮箱或密码不正确" in answer.text
    assert "techx_session" not in answer.headers.get("set-cookie", "")


async def test_sign_in_never_redirects_to_another_host(client: httpx.AsyncClient) -> None:
    party = await register(client)
    await client.get("/login")
    token = client.cookies.get("techx_csrf")
    answer = await client.post(
        "/login", data={"email": party.email, "password": PASSWORD, "next": "//evil.example/", "_csrf_token": token}
    )
    assert answer.headers["location"] == "/"


async def test_assets_are_served_with_their_hash(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert "/static/vendor/htmx-2.0.8/htmx.min.js?v=" in page.text
    script = await client.get("/static/vendor/htmx-2.0.8/htmx.min.js")
    assert script.status_code == 200
    assert "max-age=31536000" in script.headers["cache-control"]


async def test_assets_with_their_hash_and_pages_with_tracking_parameters_are_served(client: httpx.AsyncClient) -> None:
    page = await client.get("/?from=singlemessage&isappinstalled=0")
    assert page.status_code == 200
    stylesheet = page.text.split('rel="stylesheet" href="')[1].split('"')[0]
    assert "?v=" in stylesheet
    css = await client.get(stylesheet)
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    # The API keeps refusing what it does not know.
    api = await client.get("/api/v1/notices?from=singlemessage")
    assert api.status_code == 400
