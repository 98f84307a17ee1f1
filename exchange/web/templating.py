"""The pages' template engine: Jinja2 over the shared layout and every module's ``templates/`` folder.

A module's page handler returns ``Template("<module>/<page>.html", context=...)``; its templates
extend ``layout.html`` of this package. The filters of ``formats`` write money and time; ``asset``
names a static file with its content hash, so a changed stylesheet is fetched again although static
files may be kept for a year.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from exchange.web.formats import FILTERS
from exchange.web.labels import badge, choices, zh
from exchange.web.messages import notice_for
from exchange.web.replica import replica_note
from exchange.web.workspace import workspace_nav

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
STATIC_PATH = "/static"


@cache
def asset(path: str) -> str:
    """``/static/portal/portal.css?v=1a2b3c4d``: the URL of a static file, changing when its content does."""
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]
    return f"{STATIC_PATH}/{path}?v={digest}"


def template_environment(module_template_dirs: Iterable[Path]) -> Environment:
    loader = ChoiceLoader(
        [FileSystemLoader(str(TEMPLATES_DIR)), *(FileSystemLoader(str(d)) for d in module_template_dirs)]
    )
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,  # a misspelt variable fails the page's test instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    env.globals["asset"] = asset
    env.filters.update({"zh": zh, "badge": badge})  # the Chinese words of codes (see labels)
    env.globals["choices"] = choices
    env.globals["notice_for"] = notice_for  # the sentence a redirect names by ``?notice=`` (see messages)
    env.globals["workspace_nav"] = workspace_nav  # the workspaces' navigation for the reader's roles
    env.globals["replica_note"] = replica_note  # a page read from the replica says how old its data may be
    return env


def template_config(module_template_dirs: Iterable[Path]) -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(template_environment(module_template_dirs)))
