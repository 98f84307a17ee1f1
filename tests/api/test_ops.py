"""Liveness, readiness, metrics, OpenAPI, request ids, body cap and public keys."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.platform.db import Database, create_engine
from exchange.server.app import create_app
from tests.conftest import make_settings, running
from tests.helpers import assert_problem

METRICS_TOKEN = "prometheus-scrape-token-0123456789"


async def test_health_ready_metrics(backend, keys_dir, clock):
    settings = make_settings(backend, keys_dir, metrics_token=METRICS_TOKEN)
    app = create_app(settings, clock=clock, run_background_tasks=False)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        assert (await client.get("/ready")).json() == {"status": "ok"}
        await client.get("/health")
        anonymous = await client.get("/metrics")
        assert_problem(anonymous, 401, "unauthorized")
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert_problem(wrong, 401, "unauthorized")
        metrics = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert metrics.status_code == 200
        assert 'litestar_requests_total{app_name="techx",method="GET",path="/health"' in metrics.text


async def test_metrics_are_not_served_without_a_token_configured(client, settings):
    assert settings.metrics_token == ""
    assert_problem(await client.get("/metrics"), 404, "not-found")
    assert_problem(await client.get("/metrics", headers={"Authorization": "Bearer "}), 404, "not-found")


async def test_ready_says_unavailable_when_the_database_is_gone(client, app):
    unreachable = {
        "sqlite": "sqlite+aiosqlite:////nonexistent/dir/techx.db",
        "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:1/techx",
    }[app.state.db.dialect]
    await app.state.db.dispose()
    app.state.db = Database(create_engine(unreachable))
    response = await client.get("/ready")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"
    assert (await client.get("/health")).status_code == 200


async def test_openapi_schema_and_docs_ui(client):
    schema = await client.get("/schema/openapi.json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/auth/register" in document["paths"]
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    ui = await client.get("/schema")
    assert ui.status_code == 200 and "<html" in ui.text.lower()


async def test_the_document_states_what_list_items_may_hold_as_the_decoder_checks_it(client):
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    assert schemas["DemandIn"]["properties"]["ipc_codes"]["items"]["maxLength"] == 50
    optional = schemas["AchievementIn"]["properties"]["keywords"]["oneOf"][0]
    assert optional["items"]["maxLength"] == 20


async def test_request_id_is_returned_and_reused_when_safe(client):
    response = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.get("/health", headers={"X-Request-ID": "bad id\nwith newline"})
    assert generated.headers["x-request-id"] != "bad id\nwith newline"
    assert len(generated.headers["x-request-id"]) == 32


async def test_oversized_body_is_refused(client, settings):
    body = b'{"email": "' + b"a" * settings.max_request_body_bytes + b'"}'
    response = await client.post("/api/v1/auth/login", content=body, headers={"content-type": "application/json"})
    assert_problem(response, 413, "request-too-large")


async def test_unknown_route_is_a_problem(client):
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "not-found")
    assert_problem(await client.delete("/health"), 405, "method-not-allowed")


async def test_cors_is_off_by_default(client):
    response = await client.options(
        "/api/v1/auth/login", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in response.headers


async def test_public_keys_verify_a_signature_made_by_the_exchange(client, app):
    keys = (await client.get("/api/v1/keys")).json()["keys"]
    assert keys[0]["algorithm"] == "Ed25519"
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[0]["key"]))
    signature = app.state.keyring.signer.sign(b"notice")
    public.verify(signature, b"notice")  # raises if the published key is not the signing key
    assert keys[0]["id"] == app.state.keyring.signer.key_id


class _AssetReferences(HTMLParser):
    """The addresses a page makes the browser fetch: scripts, stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        self.urls += [value for name, value in attrs if name == wanted and value]


async def test_the_docs_ui_is_served_by_the_exchange_itself(client):
    """/schema works offline and where public CDNs are unreachable: every script, stylesheet and
    icon it loads comes from the exchange, which serves each with its content type."""
    page = await client.get("/schema")
    assert page.status_code == 200
    references = _AssetReferences()
    references.feed(page.text)
    assert references.urls, page.text
    remote = [url for url in references.urls if urlsplit(url).netloc or url.startswith("//")]
    assert remote == [], remote
    expected = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for url in references.urls:
        asset = await client.get(urljoin(str(page.url), url))
        assert asset.status_code == 200, url
        assert expected[Path(urlsplit(url).path).suffix] in asset.headers["content-type"], url
        assert len(asset.content) > 0, url
