"""The simulated-hosts harness proves itself: isolation, synchronous replication, failover, cuts, HAProxy.

Needs root (network namespaces) and Debian's iproute2, postgresql-15 and haproxy. Kept out of tests/
so that the main suite never collects it; run with `make test-cluster`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import pytest

from cluster import haproxy
from cluster.hosts import PYTHON, Network
from cluster.postgres import PG_BIN, PORT, ReplicatedPostgres

APP_HOSTS = ["app1", "app2", "app3"]
HOSTS = [*APP_HOSTS, "db1", "db2", "lb"]
HTTP_PORT = 8000
LB_PORT = 8080

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


@dataclass
class Cluster:
    net: Network
    pg: ReplicatedPostgres
    workdir: str
    setup_seconds: float


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="tx23-run-")
    os.chmod(workdir, 0o755)
    try:
        with Network(HOSTS) as net, ReplicatedPostgres(net, "db1", "db2") as pg:
            # two stand-in API hosts: each serves a file naming itself, so a response says who answered
            for host in ("app1", "app2"):
                root = os.path.join(workdir, host)
                os.makedirs(root)
                with open(os.path.join(root, "who"), "w") as f:
                    f.write(host)
                os.chmod(root, 0o755)
                net.start(
                    host,
                    [PYTHON, "-m", "http.server", "--bind", net.address(host), "--directory", root, str(HTTP_PORT)],
                    user="nobody",
                    log_path=os.path.join(workdir, f"{host}.log"),
                )
            for host in ("app1", "app2"):
                net.wait_port("app3", net.address(host), HTTP_PORT)
            c = Cluster(net, pg, workdir, round(time.monotonic() - started, 2))
            print(f"\nset-up {c.setup_seconds}s; postgres {pg.timings}")
            yield c
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_hosts_reach_each_other_and_nothing_of_the_machine(cluster: Cluster) -> None:
    net = cluster.net
    for client in ("app1", "app2", "app3", "db2", "lb"):
        assert net.can_connect(client, net.address("db1"), PORT), f"{client} cannot reach db1"
    for client in ("app3", "db1", "lb"):
        for server in ("app1", "app2"):
            assert net.can_connect(client, net.address(server), HTTP_PORT), f"{client} cannot reach {server}"

    # the machine's own PostgreSQL answers on its loopback, yet a host's 127.0.0.1 is the host's own
    with socket.create_connection(("127.0.0.1", 5432), timeout=2):
        pass
    assert not net.can_connect("app1", "127.0.0.1", 5432)
    # and nothing outside the test network is routed from a host
    routes = net.run("app1", ["ip", "-4", "route"]).stdout.strip().splitlines()
    assert routes == ["10.231.0.0/24 dev eth0 proto kernel scope link src 10.231.0.10"]
    assert net.run("app1", ["ip", "route", "get", "192.0.2.1"], check=False).returncode != 0


def test_a_commit_on_the_primary_is_on_the_standby_when_acknowledged(cluster: Cluster) -> None:
    pg = cluster.pg
    assert pg.primary.psql("SHOW synchronous_commit") == "remote_apply"
    assert pg.primary.psql("SELECT application_name || ' ' || sync_state FROM pg_stat_replication") == "db2 sync"
    # a client on the test network writes over TCP, as an API host would
    res = cluster.net.run(
        "app1",
        [
            f"{PG_BIN}/psql",
            "-XAtq",
            "-v",
            "ON_ERROR_STOP=1",
            pg.primary.dsn(),
            "-c",
            "CREATE TABLE marks (n int PRIMARY KEY)",
        ],
    )
    assert res.returncode == 0, res.stderr

    async def burst() -> list[int]:
        primary = await asyncpg.connect(host=pg.primary.sockdir, port=PORT, user="postgres")
        standby = await asyncpg.connect(host=pg.standby.sockdir, port=PORT, user="postgres")
        missing = []
        try:
            for n in range(200):
                await primary.execute("INSERT INTO marks VALUES ($1)", n)
                # read on the standby the moment the primary answers: remote_apply means it is there
                if await standby.fetchval("SELECT count(*) FROM marks WHERE n = $1", n) != 1:
                    missing.append(n)
        finally:
            await primary.close()
            await standby.close()
        return missing

    assert asyncio.run(burst()) == []
    assert pg.standby.psql("SELECT count(*) FROM marks") == "200"


def test_a_host_cut_off_cannot_reach_the_primary_until_restored(cluster: Cluster) -> None:
    net, db = cluster.net, cluster.net.address("db1")
    net.cut("app2")
    try:
        assert not net.can_connect("app2", db, PORT, timeout=0.5)
        assert net.can_connect("app1", db, PORT)
    finally:
        net.restore("app2")
    assert net.can_connect("app2", db, PORT)


def _get_many(net: Network, client: str, url: str, n: int) -> list[str]:
    """n GETs from inside `client`, one Python process for all: each answer's body, or the error."""
    script = (
        "import json,urllib.request\n"
        "out=[]\n"
        f"for _ in range({n}):\n"
        "    try:\n"
        f"        out.append(urllib.request.urlopen({url!r}, timeout=5).read().decode())\n"
        "    except Exception as e:\n"
        "        out.append('error: %s' % e)\n"
        "print(json.dumps(out))\n"
    )
    return json.loads(net.run(client, [PYTHON, "-c", script], timeout=60).stdout)


def test_haproxy_balances_and_drops_a_killed_backend(cluster: Cluster) -> None:
    net = cluster.net
    backends = [(h, net.address(h), HTTP_PORT) for h in ("app1", "app2")]
    lb = haproxy.start(net, "lb", cluster.workdir, backends, port=LB_PORT)
    net.wait_port("app3", net.address("lb"), LB_PORT)
    url = f"http://{net.address('lb')}:{LB_PORT}/who"
    # the first checks must have passed before round robin sees both servers
    time.sleep(0.5)

    answers = _get_many(net, "app3", url, 10)
    assert sorted(answers) == ["app1"] * 5 + ["app2"] * 5, answers

    net.kill_host("app1")
    # at once: a refused connection to app1 is redispatched to app2, so no client sees an error
    assert _get_many(net, "app3", url, 10) == ["app2"] * 10
    time.sleep(0.5)
    assert _get_many(net, "app3", url, 10) == ["app2"] * 10
    with open(lb.log_path) as f:
        assert "app1 is DOWN" in f.read()
    assert lb.alive()


def test_the_promoted_standby_holds_every_acknowledged_row_and_takes_writes(cluster: Cluster) -> None:
    pg, net = cluster.pg, cluster.net
    pg.primary.psql("INSERT INTO marks VALUES (1000)")
    pg.kill_primary()
    assert not net.can_connect("app1", net.address("db1"), PORT)

    took = pg.promote_standby()
    print(f"\npromotion {took}s")
    assert pg.primary.host == "db2"
    assert not pg.primary.in_recovery()
    assert pg.primary.psql("SELECT count(*), max(n) FROM marks") == "201|1000"
    res = net.run(
        "app1",
        [f"{PG_BIN}/psql", "-XAtq", "-v", "ON_ERROR_STOP=1", pg.primary.dsn(), "-c", "INSERT INTO marks VALUES (1001)"],
    )
    assert res.returncode == 0, res.stderr
    assert pg.primary.psql("SELECT count(*) FROM marks WHERE n = 1001") == "1"
