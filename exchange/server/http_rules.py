"""HTTP rules the framework leaves open: unknown query parameters, and ``OPTIONS`` answers."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

from litestar import Litestar, Request
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute


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


async def reject_unknown_query_parameters(request: Request[Any, Any, Any]) -> None:
    """Query parameters a handler does not declare are refused (400), as unknown body fields are,
    and so is a single-valued parameter given several times.

    A coroutine although it never awaits: the framework runs a plain function hook in a worker
    thread, which cost every request a thread hand-off and a wait for the interpreter lock.
    """
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


def fix_options_allow(app: Litestar) -> None:
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
