"""The exchange survives losing any one of its parts, during a live auction, on simulated hosts.

Three API hosts behind HAProxy, a PostgreSQL primary with a synchronous standby, Redis and NATS on a
bus host, and a client host running 100 bidders, 100 subscribers of the auction's event stream and a
stream of ledger writes (cluster/load.py). Each test injects one fault while they run, then checks
what a user would: every write the exchange answered with success is in the database exactly once,
every write retried with its key is applied once, every subscriber's stream (resumed after a break)
holds every bid after its start in order with none twice, the auction's high bid is the highest
accepted bid, and the ledger verifies and balances.

Needs root and Debian's iproute2, postgresql-15, haproxy, redis-server and nats-server; run with
`make test-cluster`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from cluster import haproxy
from cluster.api import HTTP_PORT, NATS_PORT, ApiHosts, database_url, start_nats, start_redis
from cluster.hosts import Network, Process, pids_in
from cluster.postgres import ReplicatedPostgres
from cluster.world import TOKEN_LIFETIME_SECONDS, World, build

APP_HOSTS = ["app1", "app2", "app3"]
HOSTS = [*APP_HOSTS, "db1", "db2", "lb", "bus", "client"]
LB_PORT = 8080
BIDDERS = 100

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


@dataclass
class Cluster:
    net: Network
    pg: ReplicatedPostgres
    workdir: Path
    keys_dir: Path
    world: World = field(init=False)  # built once the database is migrated
    api: ApiHosts = field(init=False)  # started once the world is built
    nats: Process | None = None

    def socket_url(self) -> str:
        """The current primary through its Unix socket, for the suite's own reads and commands."""
        return f"postgresql+asyncpg://postgres@/techx?host={self.pg.primary.sockdir}"

    def techx(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DATABASE_URL": self.socket_url(), "TECHX_KEYS_DIR": str(self.keys_dir)}
        return subprocess.run(
            [sys.executable, "-m", "exchange.server.cli", *args], env=env, capture_output=True, text=True, timeout=300
        )

    async def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(host=self.pg.primary.sockdir, user="postgres", database="techx")
        try:
            return await connection.fetch(sql, *args)
        finally:
            await connection.close()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="tx23-run-"))
    os.chmod(workdir, 0o755)
    keys_dir = workdir / "keys"
    try:
        with Network(HOSTS) as net, ReplicatedPostgres(net, "db1", "db2") as pg:
            pg.primary.psql("CREATE DATABASE techx")
            c = Cluster(net, pg, workdir, keys_dir)
            migrated = c.techx("db", "upgrade")
            assert migrated.returncode == 0, migrated.stderr
            c.world = asyncio.run(build(c.socket_url(), keys_dir, BIDDERS))
            start_redis(net, "bus", str(workdir))
            c.nats = start_nats(net, "bus", str(workdir))
            env = {
                "DATABASE_URL": database_url(net, ["db1", "db2"]),
                "DATABASE_READ_URL": database_url(net, ["db2", "db1"], attrs="prefer-standby"),
                "TECHX_KEYS_DIR": str(keys_dir),
                "TECHX_ENVIRONMENT": "test",
                "TECHX_TEST_CLOCK": "true",
                "TECHX_TEST_CLOCK_OFFSET_SECONDS": str(c.world.offset_seconds),
                "TECHX_TOKEN_LIFETIME_SECONDS": str(TOKEN_LIFETIME_SECONDS),
                "TECHX_CHANNELS_BACKEND": "jetstream",
                "TECHX_NATS_URL": f"nats://{net.address('bus')}:4222",
                "TECHX_RATE_LIMIT_BACKEND": "redis",
                "TECHX_REDIS_URL": f"redis://{net.address('bus')}:6379/0",
                "TECHX_TRUSTED_PROXIES": f"{net.address('lb')}/32",
                "TECHX_NOTIFY_INTERVAL_SECONDS": "0",
                "TECHX_LOG_LEVEL": "WARNING",
                "TECHX_DB_POOL_SIZE": "8",
            }
            c.api = ApiHosts(net, APP_HOSTS, str(workdir), env)
            for host in APP_HOSTS:
                c.api.start(host)
            for host in APP_HOSTS:
                c.api.wait_ready(host, via="client")
            backends = [(h, net.address(h), HTTP_PORT) for h in APP_HOSTS]
            haproxy.start(net, "lb", str(workdir), backends, port=LB_PORT, check_path="/ready")
            net.wait_port("client", net.address("lb"), LB_PORT)
            print(f"\nset-up {time.monotonic() - started:.1f}s; postgres {pg.timings}")
            yield c
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# -- a run of the clients with one fault in it ----------------------------------------------------------


@dataclass
class Run:
    control: Path
    process: Process

    def progress(self) -> dict[str, int]:
        try:
            return json.loads((self.control / "progress").read_text())
        except (OSError, ValueError):
            return {}

    def wait_for(self, what: str, at_least: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.progress().get(what, 0) < at_least:
            if not self.process.alive():
                raise AssertionError(f"the clients exited: {self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} stayed under {at_least}: {self.progress()}")
            time.sleep(0.2)

    def log(self) -> str:
        path = self.process.log_path or ""
        return Path(path).read_text(errors="replace")[-3000:] if os.path.exists(path) else ""


def clients(c: Cluster, name: str) -> Run:
    control = c.workdir / f"run-{name}"
    control.mkdir()
    world_path = control / "world.json"
    c.world.save(world_path)
    process = c.net.start(
        "client",
        [
            sys.executable,
            "-m",
            "cluster.load",
            str(world_path),
            f"http://{c.net.address('lb')}:{LB_PORT}",
            str(control),
        ],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        log_path=str(control / "clients.log"),
    )
    return Run(control, process)


def with_fault(
    c: Cluster, name: str, fault: Callable[[], None], *, before: int = 30, after: int = 30
) -> dict[str, Any]:
    """Run the clients, inject ``fault`` once ``before`` bids were accepted, stop once ``after`` more
    were; let every unanswered write be retried to its answer and every subscriber catch up."""
    bids_before = asyncio.run(
        c.query("SELECT bid_count FROM trading_auctions WHERE id = $1", _uuid(c.world.auction_id))
    )
    start_count = bids_before[0]["bid_count"]
    entries_before = asyncio.run(_source_entries(c))
    run = clients(c, name)
    run.wait_for("bids_accepted", before)
    fault()
    run.wait_for("bids_accepted", before + after, timeout=120)
    (run.control / "stop").write_text("")
    deadline = time.monotonic() + 120
    while not (run.control / "written").exists():
        assert time.monotonic() < deadline, f"writes still unanswered: {run.progress()}"
        assert run.process.alive(), run.log()
        time.sleep(0.2)
    final = asyncio.run(c.query("SELECT bid_count FROM trading_auctions WHERE id = $1", _uuid(c.world.auction_id)))
    # written whole, then renamed: a subscriber polling for it never reads a half-written file
    (run.control / "final.tmp").write_text(str(final[0]["bid_count"]))
    os.replace(run.control / "final.tmp", run.control / "final")
    run.process.popen.wait(120)
    assert run.process.popen.returncode == 0, run.log()
    result = json.loads((run.control / "result.json").read_text())
    result["start_count"] = start_count
    result["entries_before"] = entries_before
    return result


async def _source_entries(c: Cluster) -> set[str]:
    rows = await c.query("SELECT DISTINCT entry_id FROM ledger_postings WHERE account_id = $1", _uuid(c.world.source))
    return {str(r["entry_id"]) for r in rows}


def _uuid(text: str) -> uuid.UUID:
    return uuid.UUID(text)


# -- what every fault must leave true ---------------------------------------------------------------


def assert_nothing_lost_or_doubled(c: Cluster, result: dict[str, Any]) -> None:
    writes = result["writes"]
    unanswered = [w for w in writes if w["status"] is None]
    assert not unanswered, f"{len(unanswered)} writes never answered, e.g. {unanswered[:3]}"
    errors = [w for w in writes if w["status"] >= 500]
    assert not errors, errors[:3]

    # bids: the accepted ones are the auction's bids since the run began, each once
    accepted = {w["answer"]["id"]: w for w in writes if w["kind"] == "bid" and w["status"] == 201}
    rows = asyncio.run(
        c.query(
            "SELECT id, seq, amount FROM trading_bids WHERE auction_id = $1 AND seq > $2 ORDER BY seq",
            _uuid(c.world.auction_id),
            result["start_count"],
        )
    )
    stored = {str(r["id"]): (r["seq"], r["amount"]) for r in rows}
    assert set(stored) == set(accepted), "the accepted bids and the stored bids differ"
    for bid_id, write in accepted.items():
        assert stored[bid_id] == (write["answer"]["seq"], write["body"]["amount"])
    seqs = [r["seq"] for r in rows]
    assert seqs == list(range(result["start_count"] + 1, result["start_count"] + 1 + len(rows)))
    amounts = [r["amount"] for r in rows]
    assert amounts == sorted(amounts) and len(set(amounts)) == len(amounts), "each accepted bid beats the last"
    # the bids came in through every host, whose turns order only their own: the database's order held
    assert {w["served_by"] for w in accepted.values()} >= {"app1", "app3"}

    # the winner so far: the highest accepted bid
    auction = asyncio.run(
        c.query(
            "SELECT high_amount, high_bid_id, bid_count FROM trading_auctions WHERE id = $1", _uuid(c.world.auction_id)
        )
    )[0]
    top = max(rows, key=lambda r: r["amount"])
    assert (auction["high_amount"], str(auction["high_bid_id"])) == (top["amount"], str(top["id"]))
    final = auction["bid_count"]

    # ledger writes: each acknowledged entry stored once, nothing stored that was not acknowledged
    written = {w["answer"]["id"] for w in writes if w["kind"] == "ledger" and w["status"] == 201}
    new_entries = asyncio.run(_source_entries(c)) - result["entries_before"]
    assert new_entries == written, f"{len(new_entries)} entries stored, {len(written)} acknowledged"
    verified = c.techx("ledger", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # every subscriber: every bid after its start, in order, none twice, up to the last
    for sub in result["subscriptions"]:
        assert sub["bids"], f"a subscriber saw no bid: {sub}"
        begin = sub["started_after"]
        assert begin is not None, sub
        assert sub["bids"] == list(range(begin + 1, final + 1)), (
            f"subscriber {sub['viewer']} after {begin}: {_gaps(sub['bids'])}; reconnects {sub['reconnects']}"
        )


def _gaps(seqs: list[int]) -> str:
    dup = sorted({s for s in seqs if seqs.count(s) > 1})
    return f"{len(seqs)} bids, first {seqs[:3]}, last {seqs[-3:]}, duplicates {dup[:5]}"


def test_login_throttles_are_counted_once_across_every_host(cluster: Cluster) -> None:
    c = cluster
    probe = f"""
import httpx, json
answers = []
with httpx.Client(base_url="http://{c.net.address("lb")}:{LB_PORT}") as client:
    for _ in range(13):
        r = client.post("/api/v1/auth/login", json={{"email": "nobody@example.cn", "password": "wrong-password-1"}})
        answers.append([r.status_code, r.headers.get("x-served-by")])
print(json.dumps(answers))
"""
    done = c.net.run("client", [sys.executable, "-c", probe], timeout=60)
    answers = json.loads(done.stdout)
    limit = 10  # TECHX_LOGIN_ATTEMPTS_PER_MINUTE's default
    assert {host for _, host in answers[:limit]} == set(APP_HOSTS)  # round robin: every host counted some
    assert [status for status, _ in answers[:limit]] == [401] * limit
    assert [status for status, _ in answers[limit:]] == [429] * (len(answers) - limit)


def test_public_reads_come_from_the_standby_and_say_so(cluster: Cluster) -> None:
    c = cluster

    probe = f"""
import httpx, json
with httpx.Client(base_url="http://{c.net.address("lb")}:{LB_PORT}") as client:
    search = [client.get("/api/v1/listings", params={{"q": "电池"}}) for _ in range(12)]
    page = client.get("/listings")
print(json.dumps({{"staleness": [r.headers.get("x-data-staleness-seconds") for r in search],
                  "statuses": [r.status_code for r in search], "page": page.text}}))
"""
    time.sleep(1.5)  # each host's probe has measured the standby once
    answers = json.loads(c.net.run("client", [sys.executable, "-c", probe], timeout=60).stdout)
    assert answers["statuses"] == [200] * 12
    # with remote_apply the standby holds what the primary acknowledged: within the 5 s bound
    assert all(s is not None and int(s) <= 5 for s in answers["staleness"]), answers["staleness"]
    assert "数据来自只读副本" in answers["page"]
    # the standby itself answered them: the API hosts hold connections to it
    clients = c.pg.standby.psql(
        "SELECT DISTINCT host(client_addr) FROM pg_stat_activity"
        " WHERE datname = 'techx' AND backend_type = 'client backend'"
    ).split()
    assert set(clients) & {c.net.address(h) for h in APP_HOSTS}, clients


# -- the faults -------------------------------------------------------------------------------------


def test_an_api_host_killed_and_restarted_loses_nothing(cluster: Cluster) -> None:
    c = cluster

    def kill_app2() -> None:
        c.net.kill_host("app2")
        time.sleep(2)
        c.api.start("app2")
        c.api.wait_ready("app2", via="client")

    result = with_fault(c, "kill-app2", kill_app2)
    assert_nothing_lost_or_doubled(c, result)


def test_a_host_cut_off_the_network_and_restored_loses_nothing(cluster: Cluster) -> None:
    c = cluster

    def cut_app3() -> None:
        c.net.cut("app3")
        time.sleep(3)
        c.net.restore("app3")

    assert_nothing_lost_or_doubled(c, with_fault(c, "cut-app3", cut_app3))


def test_nats_killed_and_restarted_loses_no_event(cluster: Cluster) -> None:
    c = cluster

    def restart_nats() -> None:
        assert c.nats is not None
        c.nats.kill()  # SIGKILL: no flush, no goodbye to the clients
        c.nats.popen.wait(5)
        time.sleep(2)  # bids go on meanwhile; their events wait in the outbox
        c.nats = start_nats(c.net, "bus", str(c.workdir))
        c.net.wait_port("client", c.net.address("bus"), NATS_PORT)

    assert_nothing_lost_or_doubled(c, with_fault(c, "kill-nats", restart_nats))


# -- throughput with 1, 2 and 3 API hosts -----------------------------------------------------------

MEASURE_SECONDS = 8
MEASURE_WORKERS = 24


def test_throughput_with_one_two_and_three_api_hosts(cluster: Cluster) -> None:
    """Reported, not asserted beyond every configuration working: two CPUs cap the absolute figures."""
    c = cluster
    world_path = c.workdir / "world-throughput.json"
    c.world.save(world_path)
    rates = {}
    cpu_ms: dict[int, float] = {}
    idle = _api_cpu_seconds(c)
    time.sleep(4)
    idle_share = (_api_cpu_seconds(c) - idle) / 4 / len(APP_HOSTS)  # of one CPU, per idle host
    for n in (1, 2, 3):
        port = LB_PORT + n
        backends = [(h, c.net.address(h), HTTP_PORT) for h in APP_HOSTS[:n]]
        haproxy.start(c.net, "lb", str(c.workdir), backends, port=port, check_path="/ready")
        c.net.wait_port("client", c.net.address("lb"), port)
        time.sleep(0.8)  # the balancer's health checks mark its servers up (rise 2 at 300 ms)
        argv = [sys.executable, "-m", "cluster.throughput", str(world_path), f"http://{c.net.address('lb')}:{port}"]
        spent = _api_cpu_seconds(c)
        done = c.net.run("client", [*argv, str(MEASURE_SECONDS), str(MEASURE_WORKERS)], timeout=120)
        spent = _api_cpu_seconds(c) - spent
        rates[n] = json.loads(done.stdout.strip().splitlines()[-1])
        answered = (rates[n]["ledger_per_second"] + rates[n]["bids_per_second"]) * MEASURE_SECONDS
        cpu_ms[n] = 1000 * spent / answered
        assert rates[n]["errors"] == 0 and rates[n]["ledger_per_second"] > 0 and rates[n]["bids_per_second"] > 0
    lines = [
        f"{'hosts':>5} {'ledger/s':>9} {'ratio':>6} {'bids/s':>7} {'ratio':>6} {'accepted/s':>10} {'CPU ms/req':>11}"
    ]
    for n, r in rates.items():
        lines.append(
            f"{n:>5} {r['ledger_per_second']:>9} {r['ledger_per_second'] / rates[1]['ledger_per_second']:>6.2f}"
            f" {r['bids_per_second']:>7} {r['bids_per_second'] / rates[1]['bids_per_second']:>6.2f}"
            f" {r['accepted_per_second']:>10} {cpu_ms[n]:>11.2f}"
        )
    lines.append(f"an idle API host uses {100 * idle_share:.1f} % of a CPU (periodic tasks, probes, the consumer)")
    print("\n" + "\n".join(lines))
    verified = c.techx("ledger", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def _api_cpu_seconds(c: Cluster) -> float:
    """CPU time used so far by every process on the API hosts (user and system, from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for host in APP_HOSTS:
        for pid in pids_in(c.net.netns(host)):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


# -- last, since it leaves one PostgreSQL server -----------------------------------------------------


def test_the_primary_killed_and_the_standby_promoted_keeps_every_acknowledged_write(cluster: Cluster) -> None:
    c = cluster
    timings: dict[str, float] = {}

    def fail_over() -> None:
        c.pg.kill_primary()
        timings["promotion"] = c.pg.promote_standby()

    result = with_fault(c, "failover", fail_over)
    assert c.pg.primary.host == "db2" and not c.pg.primary.in_recovery()
    assert_nothing_lost_or_doubled(c, result)
    retried = [w for w in result["writes"] if w["failures"]]

    # the old primary's host comes back as the synchronous standby: the pair is whole again
    timings["rejoin"] = c.pg.rejoin()
    assert c.pg.standby.host == "db1" and c.pg.standby.in_recovery()
    stored = asyncio.run(c.query("SELECT count(*) AS n FROM trading_bids"))[0]["n"]
    assert c.pg.standby.psql("SELECT count(*) FROM trading_bids", database="techx") == str(stored)
    print(f"\npromotion {timings['promotion']}s, rejoin {timings['rejoin']}s; {len(retried)} writes retried")
