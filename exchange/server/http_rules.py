"""HTTP rules the framework leaves open: unknown query parameters, text no database stores (NUL),
JSON nested deeper than any real document, strict decoding of JSON bodies, and ``OPTIONS`` answers."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Litestar, Request
from litestar.exceptions import SerializationException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute
from litestar.types import Empty

# How deep a JSON body may nest. The decoder recurses once per level, and a body of 400 KB (under
# the size cap) nests 200,000 deep, past the interpreter's recursion limit. The deepest request
# document of the API (a ledger entry's metadata aside) nests 5 levels; 64 leaves metadata room.
MAX_JSON_NESTING = 64

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # a quote to the next one not escaped
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_TOO_MANY_OPEN = b"[" * (MAX_JSON_NESTING + 1)


def _nested_too_deep(body: bytes) -> bool:
    """Whether the JSON text opens more than ``MAX_JSON_NESTING`` arrays or objects inside each
    other, brackets in strings not counted; brackets never closed count as nesting too (a
    decoder recurses into them before it finds the end missing)."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_NESTING:
        return False  # it cannot nest deeper than it has brackets: almost every request stops here
    brackets = _JSON_STRING.sub(b"", body).translate(_BRACKETS, _NOT_BRACKETS)
    if _TOO_MANY_OPEN in brackets:
        return True  # the plain attack, a long run of opening brackets, found by one search
    # Each pass drops the innermost pairs, one level of every branch; the loops and the search
    # run in C, so a body of a megabyte costs milliseconds at most.
    for _ in range(MAX_JSON_NESTING):
        inner_removed = brackets.replace(b"[]", b"")
        if inner_removed == brackets:
            break
        brackets = inner_removed
    # What stays: a pair yet, if a branch nests deeper than the passes; otherwise brackets
    # without partners, closing ones first, and an unclosed one nests all that follows it.
    return b"[]" in brackets or brackets.count(b"[") > MAX_JSON_NESTING


# Up to here every integer has an exact float; a larger whole-looking float may be another number.
_EXACT_FLOAT_INTEGERS = 2**53


def _json_number(literal: str) -> int | float:
    """A JSON number written with a fraction or an exponent: ``2.0`` and ``2e3`` are the integers 2
    and 2000, as JSON Schema and the OpenAPI document count integers (a client computing money
    in floating point writes them so); ``2.5`` stays a float, which no integer field takes."""
    value = float(literal)
    if value.is_integer() and abs(value) <= _EXACT_FLOAT_INTEGERS and Decimal(literal) == value:
        return int(value)
    return value


_JSON_VALUES = msgspec.json.Decoder(float_hook=_json_number)


class StrictJsonRequest(Request[Any, Any, Any]):
    """A request whose JSON body is decoded strictly, once, into the type its handler declares.

    Litestar decodes a body into plain values and then converts them, together with the query,
    path and header parameters, in lax mode (``msgspec.convert(..., strict=False)`` in its
    signature model): right for parameters, which are text, but it takes ``"amount": "100"`` as
    100 and ``"valid_from": 0`` as a time in 1970. JSON has numbers of its own and times are RFC
    3339 text, so the body is converted here in strict mode (``create_app`` makes this the request
    class of every route); the framework's conversion passes the decoded struct through unchanged.
    """

    async def json(self) -> Any:
        handler = self.route_handler
        data = handler.parsed_fn_signature.parameters.get("data") if isinstance(handler, HTTPRouteHandler) else None
        if data is None:
            return await super().json()
        if self._json is Empty:
            try:
                values = _JSON_VALUES.decode(await self.body() or b"null")
            except msgspec.DecodeError as exc:  # not JSON: 400 bad-request, as the framework answers
                raise SerializationException(str(exc)) from exc
            try:
                self._json = msgspec.convert(
                    values, data.annotation, strict=True, str_keys=True, dec_hook=handler.default_deserializer
                )
            except msgspec.ValidationError as exc:
                # The message names the field (``at `$.amount```); problems.py reads it from there.
                raise ValidationException(
                    detail=str(exc), extra=[{"key": "body", "source": "body", "message": str(exc)}]
                ) from exc
        return self._json


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


def _nul_paths(value: Any, path: str = "") -> Iterator[str]:
    """Where NUL characters stand in decoded JSON: ``ip_assets.1.title`` (a key with one: its object)."""
    if isinstance(value, str):
        if "\x00" in value:
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                yield path or "body"
            else:
                yield from _nul_paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}.{index}" if path else str(index))


def _refuse_nul(fields: list[str], source: str) -> None:
    if fields:
        message = "contains a NUL character, which is not text"
        problems = [{"key": f, "source": source, "message": message} for f in fields]
        detail = "; ".join(f"{p['key']}: {p['message']}" for p in problems)
        raise ValidationException(detail=detail, extra=problems, status_code=422)


# Set in a route's ``opt`` (the pages' router, the static files): unknown query parameters are ignored
# there, as a shared link's tracking parameters (``?from=singlemessage``) or an asset's ``?v=`` hash.
IGNORES_UNKNOWN_QUERY = "ignores_unknown_query"


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Before any handler: a JSON body nested deeper than ``MAX_JSON_NESTING`` is refused (400)
    before anything decodes it; text a database cannot store (NUL, which PostgreSQL refuses and SQLite
    would keep) is refused with 422 naming the field, in the query and in a JSON body alike; query
    parameters a handler does not declare are refused (400), as unknown body fields are, and so is
    a single-valued parameter given several times — except on routes marked ``IGNORES_UNKNOWN_QUERY``.

    A coroutine: the framework runs a plain function hook in a worker thread, which cost every
    request a thread hand-off and a wait for the interpreter lock.
    """
    multipart = request.headers.get("content-type", "").lower().startswith("multipart/form-data")
    if request.method in ("POST", "PUT", "PATCH") and not multipart:  # an uploaded file's bytes are not JSON
        body = await request.body()  # kept by the framework for the handler's own decoding
        if _nested_too_deep(body):
            message = f"nested deeper than {MAX_JSON_NESTING} levels"
            raise ValidationException(
                detail=f"body: {message}", extra=[{"key": "body", "source": "body", "message": message}]
            )
        if b"\\u0000" in body:  # JSON writes NUL only as this escape
            try:
                decoded = msgspec.json.decode(body)
            except msgspec.DecodeError:
                decoded = None  # malformed: the handler's decoding answers 400
            _refuse_nul(sorted(set(_nul_paths(decoded))), "body")
    raw = request.scope.get("query_string", b"")
    if not raw or request.method == "OPTIONS":
        return
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    _refuse_nul(sorted({key for key, value in pairs if "\x00" in key or "\x00" in value}), "query")
    handler = request.route_handler
    if not isinstance(handler, HTTPRouteHandler) or handler.opt.get(IGNORES_UNKNOWN_QUERY):
        return
    names, repeatable = _query_names(handler)
    given = Counter(key for key, _ in pairs)
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
