"""The web pages' wiring: every module's page handlers under one router, with the pages' session
cookie, CSRF protection and Chinese error pages; the templates of every module; the static assets.

A module adds a page by writing a handler in its ``pages.py`` (listed in its ``PAGE_HANDLERS``) and
a template in its ``templates/<module>/`` folder, then naming both here. See docs/portal.md.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

import exchange.brokers
import exchange.credit
import exchange.demands
import exchange.documents
import exchange.institutions
import exchange.notifications
import exchange.parties
import exchange.payments
import exchange.registry
import exchange.server
import exchange.stats
import exchange.tracking
import exchange.trading
import exchange.vouchers
import listings
from exchange.brokers.pages import PAGE_HANDLERS as BROKER_PAGES
from exchange.credit.pages import PAGE_HANDLERS as CREDIT_PAGES
from exchange.demands.match_pages import MATCH_PAGES
from exchange.demands.pages import PAGE_HANDLERS as DEMAND_PAGES
from exchange.documents import PAGE_HANDLERS as DOCUMENT_PAGES
from exchange.institutions.income_pages import PAGE_HANDLERS as INSTITUTION_INCOME_PAGES
from exchange.institutions.inventor_pages import PAGE_HANDLERS as INVENTOR_PAGES
from exchange.institutions.notice_pages import PAGE_HANDLERS as INSTITUTION_NOTICE_PAGES
from exchange.institutions.pages import PAGE_HANDLERS as INSTITUTION_PAGES
from exchange.institutions.report_pages import PAGE_HANDLERS as INSTITUTION_REPORT_PAGES
from exchange.notifications.pages import PAGE_HANDLERS as NOTIFICATION_PAGES
from exchange.parties.account_pages import PAGE_HANDLERS as ACCOUNT_PAGES
from exchange.parties.http import SESSION_COOKIE, page_caller_dependencies, resolve_page_principal
from exchange.parties.pages import PAGE_HANDLERS as PARTY_PAGES
from exchange.payments.pages import PAGE_HANDLERS as PAYMENT_PAGES
from exchange.payments.wallet_pages import PAGE_HANDLERS as WALLET_PAGES
from exchange.platform.keys import Keys
from exchange.platform.problems import handle_any
from exchange.platform.settings import Settings
from exchange.registry.pages import PAGE_HANDLERS as REGISTRY_PAGES
from exchange.server.console_pages import PAGE_HANDLERS as CONSOLE_PAGES
from exchange.server.http_rules import IGNORES_UNKNOWN_QUERY, check_request
from exchange.stats.pages import PAGE_HANDLERS as STATS_PAGES
from exchange.stats.white_paper.pages import PAGE_HANDLERS as WHITE_PAPER_PAGES
from exchange.tracking.pages import PAGE_HANDLERS as TRACKING_PAGES
from exchange.trading.pages import PAGE_HANDLERS as TRADING_PAGES
from exchange.trading.seller_pages import PAGE_HANDLERS as SELLER_PAGES
from exchange.trading.workspace_pages import PAGE_HANDLERS as TRADING_WORKSPACE_PAGES
from exchange.vouchers.pages import PAGE_HANDLERS as VOUCHER_PAGES
from exchange.web import STATIC_DIR, STATIC_PATH, template_config
from exchange.web.caching import PublicCacheMiddleware
from exchange.web.errors import PAGE_EXCEPTION_HANDLERS, page_problem
from exchange.web.replica import ReplicaReadMiddleware
from listings.pages import PAGE_HANDLERS as LISTING_PAGES

API_PATHS = ("/api/", "/schema", "/metrics", "/health", "/ready")
CSRF_COOKIE = "techx_csrf"

# The packages whose ``templates/`` folders hold pages, beside the shared layout of exchange/web.
PAGE_PACKAGES = [exchange.documents, exchange.parties, exchange.stats, exchange.trading, exchange.vouchers, listings]
PAGE_PACKAGES.append(exchange.notifications)  # the inbox page (its mail texts sit beside, under en/ and zh/)
# The operators' console: the money pages, and those of the whole exchange (ledger, sweeps).
PAGE_PACKAGES += [exchange.payments, exchange.server]
PAGE_PACKAGES.append(exchange.institutions)  # a university's own transfer process (成果转化)
PAGE_PACKAGES.append(exchange.demands)  # technical demands, campaigns and proposals
PAGE_PACKAGES.append(exchange.brokers)  # technology brokers: the public list and pages, console, workspaces
PAGE_PACKAGES.append(exchange.registry)  # the achievement registry: the library, the console's check and imports
PAGE_PACKAGES.append(exchange.tracking)  # tracking after the deal: the buyer's, the seller's and the console's pages
PAGE_PACKAGES.append(exchange.credit)  # ratings, complaints, credit scores, demonstration institutions
# The buyer's workspace, the deal and negotiation pages both parties share, and the wallet.
BUYER_PAGES = [*TRADING_WORKSPACE_PAGES, *WALLET_PAGES]


def page_templates() -> TemplateConfig[Any]:
    folders = [Path(package.__file__).parent / "templates" for package in PAGE_PACKAGES]  # type: ignore[arg-type]
    return template_config(folder for folder in folders if folder.is_dir())


# The operators' console (/console/…): the money pages and those of the whole exchange.
CONSOLE_HANDLERS = [*PAYMENT_PAGES, *CONSOLE_PAGES]


async def before_page(request: Request[Any, Any, Any]) -> None:
    await check_request(request)  # the API's rules for every request (a router's hook replaces the app's)
    await resolve_page_principal(request)


def page_is_public(scope: Any) -> bool:
    """Every page may be kept for anonymous readers, unless its handler says ``opt={"public_cache": False}``
    (a page showing something beyond public data and the time)."""
    return bool(scope["route_handler"].opt.get("public_cache", True))


def pages_router(settings: Settings, keys: Keys, *, upload_body_limit: int) -> Router:
    csrf = CSRFConfig(
        # Derived from the token secret: a restart keeps forms valid, a key rotation renews it.
        secret=hashlib.sha256(b"techx-csrf:" + keys.jwt.current.encode()).hexdigest(),
        cookie_name=CSRF_COOKIE,
        cookie_httponly=False,  # the double-submit token: htmx sends it back in X-CSRFToken
        cookie_samesite="lax",
        cookie_secure=settings.environment == "production",  # as the session cookie
    )
    return Router(
        path="/",
        route_handlers=[
            *PARTY_PAGES,
            *STATS_PAGES,
            *LISTING_PAGES,
            *TRADING_PAGES,
            *VOUCHER_PAGES,
            *SELLER_PAGES,
            *BUYER_PAGES,
            *CONSOLE_HANDLERS,
            # The documents' pages take uploads: bodies up to the file limit plus the multipart envelope.
            Router(
                path="/",
                route_handlers=DOCUMENT_PAGES,
                request_max_body_size=upload_body_limit,
            ),
            *NOTIFICATION_PAGES,
            *ACCOUNT_PAGES,  # the workspace's members and sessions
            *INSTITUTION_PAGES,  # a university's own transfer process (成果转化)
            *INSTITUTION_REPORT_PAGES,  # the annual report and the operators' summary
            *INVENTOR_PAGES,  # the inventor's own account: payouts and withdrawals
            *INSTITUTION_NOTICE_PAGES,  # 公示 and 实施 on the process page, contract registration
            *INSTITUTION_INCOME_PAGES,  # income, distribution plans, inventors' accounts; the report's inputs
            *DEMAND_PAGES,  # the demand board, campaigns, the enterprise's and the institution's demand pages
            *MATCH_PAGES,  # the organisation's matches, both ways, with why
            *BROKER_PAGES,  # technology brokers: /brokers, the console's verification, the workspaces' engagements
            *REGISTRY_PAGES,  # the achievement registry: /registry, the console's check and bulk imports
            *TRACKING_PAGES,  # tracking after the deal: reports filed by buyers, followed by sellers and operators
            *CREDIT_PAGES,  # credit: the provider's public credit, ratings and complaints, the console's decisions
            *WHITE_PAPER_PAGES,  # the annual white paper (年度白皮书) for operators, with its PDF
        ],
        dependencies=page_caller_dependencies(),
        before_request=before_page,
        middleware=[
            DefineMiddleware(CSRFMiddleware, config=csrf),  # outside the cache: each reader gets its own token
            DefineMiddleware(PublicCacheMiddleware, covers=page_is_public, session_cookie=SESSION_COOKIE),
            # inside the cache: an anonymous public page may read the replica, and says so when it did
            DefineMiddleware(ReplicaReadMiddleware, covers=page_is_public, session_cookie=SESSION_COOKIE),
        ],
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        include_in_schema=False,
        opt={IGNORES_UNKNOWN_QUERY: True},  # a shared link's tracking parameters must not break it
    )


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """A browser asking for a path outside the API gets an error page, everyone else problem details."""
    path = request.url.path
    if path.startswith(API_PATHS):
        return False
    return "text/html" in request.headers.get("accept", "")


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return page_problem(request, exc) if wants_page(request) else handle_any(request, exc)


def static_files_router() -> Router:
    # The version is in every asset's path (or its ``?v=`` hash): a browser may keep them for good.
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(max_age=31_536_000, public=True),
        include_in_schema=False,
        opt={IGNORES_UNKNOWN_QUERY: True},  # the ``?v=`` content hash of ``asset()``
    )
