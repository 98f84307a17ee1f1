"""The pages' error handler on its own: a Chinese page for a failure, only the message for htmx."""

from __future__ import annotations


async def test_a_failure_is_a_chinese_500_page_and_a_refused_htmx_action_only_its_message() -> None:
    from litestar import Litestar, get, post
    from litestar.datastructures import State
    from litestar.testing import AsyncTestClient

    from exchange.platform.clock import SystemClock
    from exchange.server.pages import page_templates
    from exchange.web.errors import PAGE_EXCEPTION_HANDLERS
    from kernel.errors import Forbidden

    @get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    @post("/refused")
    async def refused() -> None:
        raise Forbidden("no")

    app = Litestar(
        [broken, refused],
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        template_config=page_templates(),
        state=State({"clock": SystemClock()}),  # the layout shows the server's time to the countdowns
        debug=False,
    )
    async with AsyncTestClient(app) as test_client:
        page = await test_client.get("/broken")
        assert page.status_code == 500
        assert "系统错误" in page.text and "a bug" not in page.text
        assert page.headers["cache-control"] == "no-store"
        fragment = await test_client.post("/refused", headers={"HX-Request": "true"})
        assert fragment.status_code == 403
        assert fragment.text.strip().startswith('<div class="answer refused" role="alert"')
        assert "您没有权限进行此操作" in fragment.text
