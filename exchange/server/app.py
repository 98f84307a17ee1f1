"""The composition root: ``create_app`` wires settings, database, keys, clock and every module's routes."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import structlog
from litestar import Litestar, Request, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.routes import HTTPRoute

from exchange.parties.auth import LoginThrottle, TokenIssuer
from exchange.parties.routes import AuthController, MeController, OrgController
from exchange.server.clock import Clock, SystemClock
from exchange.server.db import Database, create_engine
from exchange.server.dependencies import app_dependencies
from exchange.server.errors import EXCEPTION_HANDLERS, problem_details_plugin
from exchange.server.keys import load_or_create_keys
from exchange.server.logging import RequestIdMiddleware, configure_logging
from exchange.server.modules import build_modules
from exchange.server.openapi import document_problems
from exchange.server.ops import health, public_keys, ready
from exchange.server.settings import Settings
from exchange.stats.routes import StatsController
from exchange.wallet.routes import WalletController
from listings import ROUTE_HANDLERS as LISTING_ROUTES
from listings import warm_up as warm_up_search

log = structlog.get_logger("techx.app")

API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class PeriodicTask:
    """Background work the server runs every ``interval`` seconds (the sweeper, the sealer)."""

    name: str
    interval: float
    run: Callable[[State], Awaitable[Any]]


class MetricsController(PrometheusController):
    """Prometheus text format; outside the OpenAPI document, which describes the JSON API."""

    include_in_schema = False


async def _sweep(state: State) -> Any:
    return await state.sweeper.run_once(state.db, state.clock.now())


def periodic_tasks(settings: Settings) -> list[PeriodicTask]:
    return [PeriodicTask("sweep", settings.sweep_interval_seconds, _sweep)]


def _query_names(handler: HTTPRouteHandler) -> tuple[frozenset[str], frozenset[str]]:
    """The query parameters a handler declares, and those of them that take several values."""
    known = handler.opt.get("techx_query_names")
    if known is None:
        names: set[str] = set()
        repeatable: set[str] = set()
        for name, definition in handler.parsed_fn_signature.parameters.items():
            alias = getattr(definition.kwarg_definition, "query", None) or name
            names.update({name, alias})
            if definition.is_non_string_sequence:
                repeatable.add(alias)
        known = handler.opt["techx_query_names"] = (frozenset(names), frozenset(repeatable))
    return known


def reject_unknown_query_parameters(request: Request[Any, Any, Any]) -> None:
    """Query parameters a handler does not declare are refused (400), as unknown body fields are,
    and so is a single-valued parameter given several times."""
    raw = request.scope.get("query_string", b"")
    if not raw or request.method == "OPTIONS":
        return
    handler = request.route_handler
    if not isinstance(handler, HTTPRouteHandler):
        return
    names, repeatable = _query_names(handler)
    given = Counter(key for key, _ in parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
    problems = [
        {"key": key, "source": "query", "message": "not a parameter of this operation"}
        for key in sorted(set(given) - names)
    ]
    problems += [
        {"key": key, "source": "query", "message": "given more than once"}
        for key in sorted(names - repeatable)
        if given[key] > 1
    ]
    if problems:
        raise ValidationException(detail="; ".join(f"{p['key']}: {p['message']}" for p in problems), extra=problems)


def _fix_options_allow(app: Litestar) -> None:
    """Make ``OPTIONS`` list every method of a path.

    Litestar (2.25) builds a route per handler while registering a controller and keeps the
    automatic OPTIONS handler of the first one, whose ``Allow`` names only the first method.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.route_handler_map:
            continue
        handler = route.route_handler_map["OPTIONS"][0]
        for cell in getattr(handler.fn, "__closure__", None) or ():
            owner = cell.cell_contents
            if isinstance(owner, HTTPRoute) and owner is not route:
                owner.methods = route.methods


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
    clock = clock or SystemClock()
    configure_logging(settings.log_level, settings.log_json)
    keys = load_or_create_keys(settings)
    modules = build_modules(settings, keys)
    db = Database(
        create_engine(settings.database_url, pool_size=settings.db_pool_size), retry_attempts=settings.db_retry_attempts
    )
    state = State(
        {
            "settings": settings,
            "clock": clock,
            "db": db,
            "keyring": keys,
            "tokens": TokenIssuer(keys.jwt_secret, settings.token_lifetime_seconds, clock),
            "throttle": LoginThrottle(settings.login_attempts_per_minute, clock),
            "listings": modules.listings,
            "sweeper": modules.sweeper,
        }
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await asyncio.to_thread(warm_up_search)  # jieba's dictionary, before the first search
        tasks = []
        if run_background_tasks:
            tasks = [asyncio.create_task(_run_periodically(t, app.state)) for t in periodic_tasks(settings)]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await db.dispose()

    api = Router(
        path=API_PREFIX,
        route_handlers=[
            AuthController,
            MeController,
            OrgController,
            WalletController,
            StatsController,
            *LISTING_ROUTES,
        ],
    )
    prometheus = PrometheusConfig(app_name="techx", group_path=True, exclude=["/metrics"])

    app = Litestar(
        route_handlers=[api, health, ready, public_keys, MetricsController],
        dependencies=app_dependencies(),
        state=state,
        lifespan=[lifespan],
        middleware=[RequestIdMiddleware, prometheus.middleware],
        before_request=reject_unknown_query_parameters,
        plugins=[problem_details_plugin()],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_request_body_bytes,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins)) if settings.cors_origins else None,
        openapi_config=OpenAPIConfig(
            title="TechX technology-transfer exchange",
            version="1.0.0",
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                }
            ),
        ),
        debug=False,
    )
    document_problems(app)
    _fix_options_allow(app)
    return app
