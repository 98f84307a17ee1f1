"""The exchange on simulated hosts: `techx serve` on each API host, Redis and NATS on a bus host.

Every API host runs the same release with the same settings, as docs/scaling.md describes: the
database URL lists both PostgreSQL servers with `target_session_attrs=read-write` (a connection goes
to whichever is the primary, so a promoted standby takes over without a configuration change), one
keys directory, throttles counted in Redis, the balancer trusted for `X-Forwarded-For`, and the test
clock at the offset the world was built at (the hosts agree on the time, a restarted host too).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from cluster.hosts import Network, Process
from cluster.postgres import PORT as PG_PORT

HTTP_PORT = 8000
REDIS_PORT = 6379
NATS_PORT = 4222
VENV_BIN = os.path.dirname(sys.executable)  # the checkout's environment, which root may run anywhere
REDIS = "/usr/bin/redis-server"
NATS = "/usr/sbin/nats-server"


def database_url(net: Network, db_hosts: Sequence[str], database: str = "techx", attrs: str = "read-write") -> str:
    """Every server listed; a connection goes to the first whose role matches ``attrs``
    (``read-write``: the primary; ``prefer-standby``: a standby while there is one)."""
    hosts = "&".join(f"host={net.address(h)}:{PG_PORT}" for h in db_hosts)
    return f"postgresql+asyncpg://postgres@/{database}?{hosts}&target_session_attrs={attrs}"


@dataclass
class ApiHosts:
    """`techx serve` on each of `hosts`; `start(host)` again after a kill starts a fresh process."""

    net: Network
    hosts: Sequence[str]
    workdir: str
    env: dict[str, str]
    processes: dict[str, Process] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)

    def host_env(self, host: str) -> dict[str, str]:
        return {
            "PATH": f"{VENV_BIN}:/usr/bin:/bin",
            "HOME": self.workdir,
            "TECHX_DOCUMENTS_DIR": os.path.join(self.workdir, f"documents-{host}"),
            **self.env,
        }

    def start(self, host: str) -> Process:
        self.starts[host] = self.starts.get(host, 0) + 1
        process = self.net.start(
            host,
            [f"{VENV_BIN}/techx", "serve", "--host", self.net.address(host), "--port", str(HTTP_PORT)],
            env=self.host_env(host),
            log_path=os.path.join(self.workdir, f"{host}-{self.starts[host]}.log"),
        )
        self.processes[host] = process
        return process

    def wait_ready(self, host: str, via: str, timeout: float = 60) -> None:
        """Until `GET /ready` on the host answers 200, asked from the host `via`."""
        url = f"http://{self.net.address(host)}:{HTTP_PORT}/ready"
        probe = f"import httpx,sys; sys.exit(0 if httpx.get({url!r}, timeout=1).status_code == 200 else 1)"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes[host]
            if not process.alive():
                raise RuntimeError(f"{host} exited: {self.log(host)}")
            if self.net.run(via, [sys.executable, "-c", probe], check=False, timeout=10).returncode == 0:
                return
            time.sleep(0.2)
        raise TimeoutError(f"{host} not ready after {timeout}s: {self.log(host)}")

    def log(self, host: str, lines: int = 30) -> str:
        path = os.path.join(self.workdir, f"{host}-{self.starts.get(host, 0)}.log")
        try:
            with open(path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


def start_redis(net: Network, host: str, workdir: str) -> Process:
    """Redis with nothing on disk: the throttles' counters, and the channels' fallback."""
    return net.start(
        host,
        [
            REDIS,
            "--bind",
            net.address(host),
            "--port",
            str(REDIS_PORT),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no",
            "--dir",
            workdir,
        ],
        user="nobody",
        log_path=os.path.join(workdir, f"redis-{host}.log"),
    )


def start_nats(net: Network, host: str, workdir: str) -> Process:
    """NATS with JetStream, its store under the run's directory: a restart after SIGKILL keeps the stream."""
    store = os.path.join(workdir, "jetstream")
    os.makedirs(store, exist_ok=True)
    os.chmod(store, 0o777)
    return net.start(
        host,
        [NATS, "-a", net.address(host), "-p", str(NATS_PORT), "-js", "-sd", store],
        user="nobody",
        log_path=os.path.join(workdir, f"nats-{host}.log"),
    )
