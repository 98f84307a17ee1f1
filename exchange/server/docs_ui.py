"""The interactive API documentation at ``/schema``: Swagger UI, served from the exchange itself.

The UI's script, preset, stylesheet and icon are vendored under ``static/vendor/`` at a pinned
version (see the README there), so the page loads nothing from another host: it works offline and
where public CDNs are unreachable.
"""

from __future__ import annotations

from pathlib import Path

from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/static"
SWAGGER_UI = "vendor/swagger-ui-dist-5.35.0"


def static_files_router() -> Router:
    # The version is in every asset's path: a browser may keep them for good.
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(max_age=31_536_000, public=True),
        include_in_schema=False,
    )


def docs_ui_plugin() -> SwaggerRenderPlugin:
    base = f"{STATIC_PATH}/{SWAGGER_UI}"
    return SwaggerRenderPlugin(
        js_url=f"{base}/swagger-ui-bundle.js",
        css_url=f"{base}/swagger-ui.css",
        standalone_preset_js_url=f"{base}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{base}/favicon-32x32.png'>",
        path="/swagger",
    )
