"""HTTP caching of anonymous public reads: the portal's pages and the public JSON reads.

One middleware (``PublicCacheMiddleware``), put on the pages' router and on the API's router by
the composition root, which says which routes it covers. For a GET of such a route:

- **Signed in** (a session cookie or a bearer token): the response passes through untouched and
  is marked ``Cache-Control: private, no-store``: it is never stored here or in a browser, and
  never served from a page stored for somebody else.
- **Anonymous**: the response is kept in memory, keyed by the URL (its query parameters in a
  canonical order) and the version of public data (``exchange.platform.public_data``), for at
  most ``ttl`` seconds of the application's clock, since pages also depend on the time (open or
  closed, working days left, seconds remaining). A later request for the same URL under the same
  version within the time is answered from memory, without running the handler. Every response
  carries a weak ``ETag``; ``If-None-Match`` with it is answered ``304 Not Modified``.

An HTML page holds two things of its reader's own: the CSRF token of the reader's cookie (forms,
htmx's header) and the server's time (``data-server-time``, the countdowns' clock). The stored page
keeps a marker in their place, filled in for each reader; the ETag covers the page without them
and the reader's token, so a browser revalidating its copy gets a 304 only if its copy holds its
own token. HTML is ``private`` (a shared proxy must not hand one reader's token to another), JSON
``public``. Only complete 200 answers are stored, and not those that set a cookie or that their
handler marks ``no-store``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from litestar.datastructures import Headers, MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from exchange.web.formats import iso

NO_STORE = b"private, no-store"
HTML_CACHE = b"private, max-age=0, must-revalidate"
JSON_CACHE = b"public, max-age=0, must-revalidate"

# A browser keeps one copy per URL: these say which request headers its copy depends on (a
# signed-in reader's page and an htmx fragment are answers of their own).
VARY = b"Cookie, Authorization, HX-Request"

_TOKEN_MARK = b"\x00csrf\x00"
_TIME_MARK = b"\x00now\x00"
_SERVER_TIME = re.compile(rb'data-server-time="[^"]*"')
_DROPPED_HEADERS = {b"content-length", b"date", b"server", b"etag", b"cache-control", b"vary", b"age"}


@dataclass(frozen=True)
class Stored:
    version: int
    rendered_at: datetime
    headers: list[tuple[bytes, bytes]]
    body: bytes  # with markers in place of the reader's CSRF token and the server's time
    digest: str  # of ``body``
    html: bool


class PublicCache:
    """The stored answers of one process, least recently used dropped first."""

    def __init__(self, *, ttl: float = 2.0, max_entries: int = 2000, max_bytes: int = 64 * 2**20) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, Stored] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0
        self.rendering: dict[tuple[str, int], asyncio.Future[None]] = {}  # answers being made now

    def get(self, key: str, version: int, now: datetime) -> Stored | None:
        stored = self._entries.get(key)
        if stored is None:
            return None
        age = (now - stored.rendered_at).total_seconds()
        if stored.version != version or not 0 <= age < self.ttl:
            return None
        self._entries.move_to_end(key)
        return stored

    def put(self, key: str, stored: Stored) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._entries[key] = stored
        self._bytes += len(stored.body)
        while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped.body)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


def cache_key(scope: Scope) -> str:
    """The path and the query parameters, sorted by name (a parameter's repeated values keep their
    order): ``?b=1&a=2`` and ``?a=2&b=1`` are one page."""
    query = scope.get("query_string", b"").decode("latin-1")
    if not query:
        return scope["path"]
    pairs = sorted(parse_qsl(query, keep_blank_values=True), key=lambda pair: pair[0])
    return f"{scope['path']}?{urlencode(pairs)}"


def _etag(stored: Stored, token: str) -> bytes:
    mine = hashlib.blake2b(token.encode(), digest_size=4).hexdigest() if stored.html and token else ""
    return f'W/"{stored.digest}{mine}"'.encode()


def _matches(if_none_match: str | None, etag: bytes) -> bool:
    if not if_none_match:
        return False
    wanted = etag.decode().removeprefix("W/")
    return any(tag.strip() == "*" or tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


class PublicCacheMiddleware:
    """The ASGI middleware; ``covers(scope)`` says whether a route's GETs are public reads.

    The application's state holds ``public_cache`` (a ``PublicCache``), ``public_data`` (the
    version's reader) and ``clock``. ``session_cookie`` names the cookie of a signed-in reader.
    """

    def __init__(self, app: ASGIApp, *, covers: Callable[[Scope], bool], session_cookie: str) -> None:
        self.app = app
        self.covers = covers
        self.session_cookie = session_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not self.covers(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers.from_scope(scope)
        if not is_anonymous(headers, self.session_cookie):
            await self.app(scope, receive, _marked(send, NO_STORE))
            return
        if "hx-request" in headers:  # a fragment for htmx: its own answer, not the page's
            await self.app(scope, receive, _marked(send, b"no-cache"))
            return
        state = scope["litestar_app"].state
        cache: PublicCache = state.public_cache
        if cache.ttl <= 0:  # turned off (TECHX_PAGE_CACHE_SECONDS=0): every answer is made afresh
            await self.app(scope, receive, send)
            return
        version = await state.public_data.version()
        now = state.clock.now()
        key = cache_key(scope)
        token = ScopeState.from_scope(scope).csrf_token or ""
        stored = cache.get(key, version, now)
        if stored is None and (rendering := cache.rendering.get((key, version))) is not None:
            # Another request is making this answer under the same version, read after this one
            # arrived: whatever it read is at least as new as this request. Wait for it rather
            # than make it again (when a page expires, all its concurrent readers miss at once).
            await asyncio.shield(rendering)
            stored = cache.get(key, version, state.clock.now())
        if stored is not None and not (
            # Past half its time, one request makes the answer again while the others are still
            # answered from memory: a busy page is renewed before it expires, nobody waits for it.
            (now - stored.rendered_at).total_seconds() >= cache.ttl / 2 and (key, version) not in cache.rendering
        ):
            cache.hits += 1
            await _answer(send, stored, token, now, headers.get("if-none-match"), age=True)
            return
        cache.misses += 1
        done = cache.rendering[(key, version)] = asyncio.get_running_loop().create_future()
        try:
            captured = await _capture(self.app, scope, receive, send)
        finally:
            del cache.rendering[(key, version)]
            done.set_result(None)
        if captured is None:
            return  # not a storable answer: it went out as it was
        status_headers, body, html = captured
        if html:
            if token:
                body = body.replace(token.encode(), _TOKEN_MARK)
            body = _SERVER_TIME.sub(b'data-server-time="' + _TIME_MARK + b'"', body, count=1)
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        stored = Stored(version, now, status_headers, body, digest, html)
        cache.put(key, stored)
        await _answer(send, stored, token, now, headers.get("if-none-match"), age=False)


def is_anonymous(headers: Headers, session_cookie: str) -> bool:
    """A request without a bearer token or a session cookie: a reader signed in to nobody."""
    return "authorization" not in headers and session_cookie not in _cookie_names(headers)


def _cookie_names(headers: Headers) -> set[str]:
    cookie = headers.get("cookie")
    if not cookie:
        return set()
    return {part.split("=", 1)[0].strip() for part in cookie.split(";")}


def _marked(send: Send, cache_control: bytes) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            response_headers = MutableScopeHeaders.from_message(message)  # type: ignore[arg-type]
            response_headers["cache-control"] = cache_control.decode()
            response_headers.add("vary", VARY.decode())
        await send(message)

    return wrapped


async def _capture(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send
) -> tuple[list[tuple[bytes, bytes]], bytes, bool] | None:
    """Runs the handler; a complete 200 answer in HTML or JSON without cookies comes back to be
    stored; anything else (an error page, a redirect, a stream) is sent on as it comes."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []
    passing = False
    kind = b""

    async def keep(message: Message) -> None:
        nonlocal passing, kind
        if passing:
            await send(message)
            return
        if message["type"] == "http.response.start":
            raw = list(message.get("headers", []))
            content_type = next((v for k, v in raw if k.lower() == b"content-type"), b"")
            kind = content_type.split(b";")[0].strip()
            storable = (
                message["status"] == 200
                and kind in (b"text/html", b"application/json")
                and not any(k.lower() == b"set-cookie" for k, _ in raw)
                # a handler may say its answer is never to be kept (a page with a one-time value)
                and not any(k.lower() == b"cache-control" and b"no-store" in v for k, v in raw)
            )
            if not storable:
                passing = True
                await send(message)
                return
            start.update(message)
            start["headers"] = raw
            return
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    if passing or not start:
        return None
    kept = [(k, v) for k, v in start["headers"] if k.lower() not in _DROPPED_HEADERS]
    return kept, b"".join(chunks), kind == b"text/html"


async def _answer(
    send: Send, stored: Stored, token: str, now: datetime, if_none_match: str | None, *, age: bool
) -> None:
    etag = _etag(stored, token)
    headers = [
        (b"etag", etag),
        (b"cache-control", HTML_CACHE if stored.html else JSON_CACHE),
        (b"vary", VARY),
    ]
    if age:
        headers.append((b"age", str(int((now - stored.rendered_at).total_seconds())).encode()))
    if _matches(if_none_match, etag):
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    body = stored.body
    if stored.html:
        body = body.replace(_TOKEN_MARK, token.encode()).replace(_TIME_MARK, iso(now).encode())
    headers += stored.headers
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
