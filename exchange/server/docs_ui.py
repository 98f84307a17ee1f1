"""The interactive API documentation at ``/schema``: Swagger UI, served from the exchange itself.

The UI's script, preset, stylesheet and icon are vendored with the pages' assets under
``exchange/web/static/vendor/`` at a pinned version (see the README there), so the page loads
nothing from another host: it works offline and where public CDNs are unreachable.
"""

from __future__ import annotations

from litestar.openapi.plugins import SwaggerRenderPlugin

from exchange.web import STATIC_PATH

SWAGGER_UI = "vendor/swagger-ui-dist-5.35.0"


def docs_ui_plugin() -> SwaggerRenderPlugin:
    base = f"{STATIC_PATH}/{SWAGGER_UI}"
    return SwaggerRenderPlugin(
        js_url=f"{base}/swagger-ui-bundle.js",
        css_url=f"{base}/swagger-ui.css",
        standalone_preset_js_url=f"{base}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{base}/favicon-32x32.png'>",
        path="/swagger",
    )
