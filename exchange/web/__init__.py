"""The web pages' shared parts: the layout and components, the formats of money and time, the
vendored static assets, the HTML error pages and the pages' router (session cookie, CSRF).

Each module keeps its own page handlers (``pages.py``) and templates (``templates/<module>/``);
the composition root hands their folders to ``template_config`` and their handlers to
``pages_router``. See docs/portal.md.
"""

from exchange.web.templating import STATIC_DIR, STATIC_PATH, TEMPLATES_DIR, asset, template_config

__all__ = ["STATIC_DIR", "STATIC_PATH", "TEMPLATES_DIR", "asset", "template_config"]
