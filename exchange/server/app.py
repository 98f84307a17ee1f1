"""The composition root: ``create_app`` wires settings, database, keys, clock and every module's routes."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from exchange.accounting.jobs import SHARDS_INTERVAL_SECONDS, seal_task, shards_task
from exchange.accounting.routes import LedgerController
from exchange.accounting.wallet import WalletController
from exchange.brokers import BROKER_ROUTES
from exchange.credit.routes import ROUTE_HANDLERS as CREDIT_ROUTES
from exchange.demands import DEMAND_ROUTES
from exchange.documents import ROUTE_HANDLERS as DOCUMENT_ROUTES
from exchange.institutions.routes import INSTITUTION_ROUTES
from exchange.matching.routes import ROUTE_HANDLERS as MATCHING_ROUTES
from exchange.notifications import ROUTE_HANDLERS as NOTIFICATION_ROUTES
from exchange.notifications import Notifier
from exchange.parties.auth import TokenIssuer
from exchange.parties.http import SESSION_COOKIE, caller_dependencies
from exchange.parties.routes import AuthController, MeController, OrgController
from exchange.payments import ROUTE_HANDLERS as PAYMENT_ROUTES
from exchange.platform.clock import Clock, OffsetClock, SystemClock
from exchange.platform.db import REPLICA_CONNECT_SECONDS, REPLICA_PROBE_SECONDS, Database, ReadReplica, create_engine
from exchange.platform.events import channels_plugin
from exchange.platform.http import state_dependencies
from exchange.platform.keys import load_or_create_keys
from exchange.platform.live_backends import events_of
from exchange.platform.logging import RequestIdMiddleware, configure_logging
from exchange.platform.problems import problem_details_plugin
from exchange.platform.public_data import PublicData
from exchange.platform.ratelimit import RateLimiter
from exchange.platform.settings import Settings
from exchange.registry import ROUTE_HANDLERS as REGISTRY_ROUTES
from exchange.server.clock_control import ClockControl
from exchange.server.docs_ui import docs_ui_plugin
from exchange.server.http_rules import StrictJsonRequest, check_request, fix_options_allow
from exchange.server.metrics import refresh_ops_metrics
from exchange.server.modules import build_modules
from exchange.server.openapi import document_problems
from exchange.server.ops import health, public_keys, ready
from exchange.server.pages import handle_error, page_templates, pages_router, static_files_router
from exchange.server.sweep_failures import SweepFailureController
from exchange.stats.routes import ROUTE_HANDLERS as STATS_ROUTES
from exchange.tracking import ROUTE_HANDLERS as TRACKING_ROUTES
from exchange.trading.routes import ROUTE_HANDLERS as TRADING_ROUTES
from exchange.vouchers import ROUTE_HANDLERS as VOUCHER_ROUTES
from exchange.web.caching import PublicCache, PublicCacheMiddleware
from exchange.web.replica import ReplicaReadMiddleware
from kernel.errors import NotFound, Unauthorized
from listings import ROUTE_HANDLERS as LISTING_ROUTES
from listings import warm_up as warm_up_search

log = structlog.get_logger("techx.app")

API_PREFIX = "/api/v1"

# The JSON reads anyone may make, answered from memory to anonymous callers while public data is
# unchanged (exchange/web/caching.py; the pages' router uses the same middleware). A route's
# template as the scope holds it names its parameters without their types.
PUBLIC_READS = frozenset(
    f"{API_PREFIX}{path}"
    for path in ("/listings", "/listings/{listing_id}", "/notices", "/notices/{notice_id}", "/stats", "/home")
)


def is_public_read(scope: Any) -> bool:
    return scope.get("path_template") in PUBLIC_READS


# The public reads that may be answered from the read replica (exchange/web/replica.py): search,
# the listings, the notice board, the notices and the open data.
REPLICA_READS = frozenset(
    f"{API_PREFIX}{path}"
    for path in ("/listings", "/listings/{listing_id}", "/notices", "/notices/{notice_id}", "/open-data/listings")
)


def may_read_replica(scope: Any) -> bool:
    return scope.get("path_template") in REPLICA_READS


@dataclass(frozen=True)
class PeriodicTask:
    """Background work the server runs every ``interval`` seconds (the sweeper, the sealer)."""

    name: str
    interval: float
    run: Callable[[State], Awaitable[Any]]


def metrics_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """``/metrics`` answers only the bearer of ``TECHX_METRICS_TOKEN`` (Prometheus); without the setting,
    it is not served at all."""
    token: str = connection.app.state.settings.metrics_token
    if not token:
        raise NotFound("not found")
    scheme, _, given = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        error = Unauthorized("the metrics need the bearer token configured as TECHX_METRICS_TOKEN")
        error.headers = {"WWW-Authenticate": 'Bearer realm="metrics"'}  # type: ignore[attr-defined]
        raise error


class MetricsController(PrometheusController):
    """Prometheus text format, for the scraper only; outside the OpenAPI document, which describes the JSON API."""

    include_in_schema = False
    guards = [metrics_guard]
    before_request = refresh_ops_metrics  # the operations gauges, read from the database at each scrape


async def _sweep(state: State) -> Any:
    return await state.sweeper.run_once(state.db, state.clock.now())


async def _notify(state: State) -> Any:
    return await state.notifier.run_once(state.db, state.clock)


async def _probe_replica(state: State) -> Any:
    return await state.db.probe_replica()


def periodic_tasks(settings: Settings) -> list[PeriodicTask]:
    tasks = [
        PeriodicTask("sweep", settings.sweep_interval_seconds, _sweep),
        PeriodicTask("ledger-seal", settings.seal_interval_seconds, seal_task),
        PeriodicTask("ledger-shards", SHARDS_INTERVAL_SECONDS, shards_task),  # first run at start-up
    ]
    if settings.notify_interval_seconds > 0:  # 0: another process (techx notifications deliver) delivers
        tasks.append(PeriodicTask("notifications", settings.notify_interval_seconds, _notify))
    if settings.database_read_url:  # how far the read replica is behind, measured every second
        tasks.append(PeriodicTask("replica-lag", REPLICA_PROBE_SECONDS, _probe_replica))
    return tasks


async def _run_periodically(task: PeriodicTask, state: State) -> None:
    while True:
        try:
            await task.run(state)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic task failed", task=task.name)
        await asyncio.sleep(task.interval)


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, run_background_tasks: bool = True
) -> Litestar:
    settings = settings or Settings.from_env()
    clock = clock or (
        OffsetClock(timedelta(seconds=settings.test_clock_offset_seconds)) if settings.test_clock else SystemClock()
    )
    configure_logging(settings.log_level, settings.log_json)
    keys = load_or_create_keys(settings, clock)
    channels = channels_plugin(settings)
    events = events_of(settings, channels)
    modules = build_modules(settings, keys, events=events)  # live events go out only after commit
    replica = None
    if settings.database_read_url:  # Settings.check allows it only beside a PostgreSQL DATABASE_URL
        replica_engine = create_engine(
            settings.database_read_url, pool_size=settings.db_pool_size, connect_timeout=REPLICA_CONNECT_SECONDS
        )
        replica = ReadReplica(replica_engine, max_lag=settings.read_max_lag_seconds, clock=clock)
    db = Database(
        create_engine(settings.database_url, pool_size=settings.db_pool_size),
        retry_attempts=settings.db_retry_attempts,
        replica=replica,
    )
    limiter = RateLimiter(settings.rate_limit_backend, settings.redis_url, settings.trusted_proxies)
    state = State(
        {
            "events": events,
            "settings": settings,
            "clock": clock,
            "db": db,
            "keyring": keys,
            "tokens": TokenIssuer(keys.jwt, settings.token_lifetime_seconds, clock),
            "limiter": limiter,
            "listings": modules.listings,
            "sweeper": modules.sweeper,
            "trading": modules.trading,
            "documents": modules.documents,
            "institutions": modules.institutions,
            "payers": modules.payers,
            "demands": modules.demands,
            "brokers": modules.brokers,
            "matching": modules.matching,
            "registry": modules.registry,
            "tracking": modules.tracking,
            "credit": modules.credit,
            "notifier": Notifier.of(settings, keys.data),
            "metrics_started_at": clock.now(),
            "public_data": PublicData(db),
            "public_cache": PublicCache(
                ttl=settings.page_cache_seconds
            ),  # the sweep lag of a step that has not run yet counts from here
        }
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await asyncio.to_thread(warm_up_search)  # jieba's dictionary, before the first search
        tasks = []
        if run_background_tasks:
            tasks = [asyncio.create_task(_run_periodically(t, app.state)) for t in periodic_tasks(settings)]
            tasks.append(app.state.matching.start_warm_up(db.read))  # the matching index, off the request path
        live = events.background(db)  # jetstream: the relay and the stream's consumer, part of the events
        if live is not None:
            tasks.append(asyncio.create_task(live))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await events.close()
            await db.dispose()
            await limiter.close()

    api = Router(
        path=API_PREFIX,
        route_handlers=[
            AuthController,
            MeController,
            OrgController,
            WalletController,
            *STATS_ROUTES,
            LedgerController,
            SweepFailureController,
            *LISTING_ROUTES,
            *PAYMENT_ROUTES,
            *VOUCHER_ROUTES,
            *TRADING_ROUTES,
            *NOTIFICATION_ROUTES,
            *INSTITUTION_ROUTES,
            *DEMAND_ROUTES,  # technical demands, campaigns and proposals
            *BROKER_ROUTES,
            *MATCHING_ROUTES,
            *REGISTRY_ROUTES,  # the achievement registry, its library and its signed feed
            *TRACKING_ROUTES,  # tracking after the deal: implementation reports
            *CREDIT_ROUTES,  # ratings, complaints, credit scores and demonstration institutions
            # Uploads take bodies up to the file limit plus the multipart envelope (docs/documents.md).
            Router(
                path="/",
                route_handlers=DOCUMENT_ROUTES,
                request_max_body_size=modules.documents.upload_body_limit,
            ),
        ],
        middleware=[
            DefineMiddleware(PublicCacheMiddleware, covers=is_public_read, session_cookie=SESSION_COOKIE),
            DefineMiddleware(ReplicaReadMiddleware, covers=may_read_replica, session_cookie=SESSION_COOKIE),
        ],
    )
    prometheus = PrometheusConfig(app_name="techx", group_path=True, exclude=["/metrics"])

    handlers: list[Any] = [
        api,
        pages_router(settings, keys, upload_body_limit=modules.documents.upload_body_limit),
        health,
        ready,
        public_keys,
        MetricsController,
        static_files_router(),
    ]
    if settings.test_clock:  # Settings.check allows it only with TECHX_ENVIRONMENT=test
        handlers.append(ClockControl)
    app = Litestar(
        route_handlers=handlers,
        dependencies={
            **state_dependencies(
                "db",
                "clock",
                "settings",
                "keyring",
                "tokens",
                "limiter",
                "events",
                "listings",
                "public_data",
                "notifier",
                "documents",
                "institutions",
                "payers",
                "demands",
                "brokers",
                "matching",
                "registry",
                "tracking",
                "credit",
            ),
            **caller_dependencies(),
        },
        state=state,
        lifespan=[lifespan],
        middleware=[RequestIdMiddleware, prometheus.middleware],
        before_request=check_request,
        request_class=StrictJsonRequest,  # JSON bodies decoded strictly: "100" is not a number
        plugins=[problem_details_plugin(), channels],
        exception_handlers={Exception: handle_error},  # problem+json, or a Chinese page for a browser
        template_config=page_templates(),
        request_max_body_size=settings.max_request_body_bytes,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins)) if settings.cors_origins else None,
        openapi_config=OpenAPIConfig(
            title="TechX technology-transfer exchange",
            version="1.0.0",
            path="/schema",
            render_plugins=[docs_ui_plugin()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                }
            ),
        ),
        debug=False,
    )
    document_problems(app)
    fix_options_allow(app)
    return app
