"""HAProxy in front of backends on simulated hosts (Debian's haproxy package, `apt-get install -y haproxy`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence

from cluster.hosts import Network, Process

HAPROXY = "/usr/sbin/haproxy"


def config(backends: Sequence[tuple[str, str, int]], bind: str, port: int, check_path: str = "/") -> str:
    """A round-robin HTTP balancer on bind:port over (name, address, port) backends.

    Health checks every 300 ms, two failures mark a server down: a killed backend (its connections
    refused at once) leaves the rotation within a second, and a busy one, slow to answer a check
    (up to 2 s), stays in it. Until then `option redispatch` retries a refused connection on
    another server, so a client does not see the gap. The client's address goes to the backend in
    `X-Forwarded-For`; each answer names the server that gave it in `X-Served-By`.
    """
    servers = "\n".join(f"    server {name} {addr}:{p} check inter 300ms fall 2 rise 2" for name, addr, p in backends)
    return f"""global
    log stdout format raw local0 warning

defaults
    mode http
    log global
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    retries 2
    option redispatch

frontend api
    bind {bind}:{port}
    option forwardfor
    http-response set-header X-Served-By %s
    default_backend hosts

backend hosts
    balance roundrobin
    option httpchk GET {check_path}
{servers}
"""


def start(
    net: Network,
    host: str,
    workdir: str,
    backends: Sequence[tuple[str, str, int]],
    port: int = 8080,
    check_path: str = "/",
) -> Process:
    """Write the configuration under `workdir` and start HAProxy in the foreground on `host`."""
    if shutil.which(HAPROXY) is None:
        raise FileNotFoundError(f"{HAPROXY} missing: apt-get install -y haproxy")
    path = os.path.join(workdir, f"haproxy-{host}-{port}.cfg")
    with open(path, "w") as f:
        f.write(config(backends, net.address(host), port, check_path))
    os.chmod(path, 0o644)
    # -db: stay in the foreground, so the harness holds its pid and its log; no root needed above port 1024
    return net.start(
        host, [HAPROXY, "-db", "-f", path], user="nobody", log_path=os.path.join(workdir, f"haproxy-{host}-{port}.log")
    )
