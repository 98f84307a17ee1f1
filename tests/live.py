"""A real HTTP server for tests that need one: uvicorn in a thread, on a free loopback port."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn

from exchange.platform.clock import Clock
from exchange.platform.db import create_engine
from exchange.platform.migrate import upgrade
from exchange.platform.settings import Settings
from exchange.server.app import create_app


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class LiveServer:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.socket = free_socket()
        self.base_url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self._server: uvicorn.Server | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        async def main() -> None:
            engine = create_engine(self.settings.database_url, pool_size=1)
            await upgrade(engine)
            await engine.dispose()
            app = create_app(self.settings, clock=self.clock)
            config = uvicorn.Config(app, log_level="warning", lifespan="on", proxy_headers=False)
            self._server = uvicorn.Server(config)
            await self._server.serve(sockets=[self.socket])

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by start()
            self._error = exc

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._error:
                raise RuntimeError("the test server did not start") from self._error
            if self._server is not None and self._server.started:
                return self
            time.sleep(0.02)
        raise TimeoutError("the test server did not start within 30 s")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(timeout=10)
        self.socket.close()
