"""A PostgreSQL 15 primary and a synchronous hot standby, each on a simulated host.

Every commit on the primary waits until the standby has applied it (`synchronous_commit = remote_apply`
with the standby named in `synchronous_standby_names`), so a row the primary acknowledged is already
readable on the standby, and survives the primary's death once the standby is promoted.

The servers run as the `postgres` OS user (PostgreSQL refuses to run as root), each with a data
directory and a Unix-socket directory of its own under a temporary directory: the machine's own
cluster already owns /var/run/postgresql/.s.PGSQL.5432, and a second server with the same port in that
directory would be refused. Unix sockets do not belong to a network namespace, so the test driver in
the root namespace administers each server through its socket even while its host is cut off;
clients on the test network use TCP to the host's address. Authentication is `trust`, and only for
the socket and the test network 10.231.0.0/24.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from cluster.hosts import SUBNET, Network, Process

PG_BIN = "/usr/lib/postgresql/15/bin"
PORT = 5432
OS_USER = "postgres"
_PSQL = [f"{PG_BIN}/psql", "-XAtq", "-v", "ON_ERROR_STOP=1"]


@dataclass
class Node:
    host: str
    address: str
    root: str
    process: Process | None = None

    @property
    def datadir(self) -> str:
        return os.path.join(self.root, "data")

    @property
    def sockdir(self) -> str:
        return os.path.join(self.root, "sock")

    @property
    def log_path(self) -> str:
        return os.path.join(self.root, "server.log")

    def dsn(self, database: str = "postgres") -> str:
        """Where a client on the test network connects."""
        return f"postgresql://postgres@{self.address}:{PORT}/{database}"

    def psql(self, sql: str, database: str = "postgres", timeout: float = 30) -> str:
        """Run SQL through the node's Unix socket and return psql's unaligned output."""
        res = subprocess.run(
            [*_PSQL, "-h", self.sockdir, "-p", str(PORT), "-U", "postgres", "-d", database, "-c", sql],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if res.returncode != 0:
            raise RuntimeError(f"psql on {self.host} failed: {res.stderr.strip()}")
        return res.stdout.strip()

    def in_recovery(self) -> bool:
        return self.psql("SELECT pg_is_in_recovery()") == "t"


def _chown_tree(path: str, user: str) -> None:
    pw = pwd.getpwnam(user)
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), pw.pw_uid, pw.pw_gid)


@dataclass
class ReplicatedPostgres:
    """A primary on `primary_host` and a synchronous standby on `standby_host` of `net`.

    Use as a context manager: the servers are started on entry and stopped, and their directory
    removed, on exit. `timings` records how long each step of set-up took, in seconds.
    """

    net: Network
    primary_host: str
    standby_host: str
    workdir: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    primary: Node = field(init=False)
    standby: Node = field(init=False)

    def __post_init__(self) -> None:
        self._own_workdir = self.workdir is None
        # under /tmp rather than the checkout: the postgres user must be able to enter every parent
        self.workdir = self.workdir or tempfile.mkdtemp(prefix="tx23-pg-")
        os.chmod(self.workdir, 0o755)
        self.primary = self._node(self.primary_host)
        self.standby = self._node(self.standby_host)

    def _node(self, host: str) -> Node:
        node = Node(host, self.net.address(host), os.path.join(self.workdir, host))
        os.makedirs(node.sockdir, exist_ok=True)
        _chown_tree(node.root, OS_USER)
        return node

    def __enter__(self) -> ReplicatedPostgres:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _step(self, name: str, started: float) -> None:
        self.timings[name] = round(time.monotonic() - started, 2)

    def start(self) -> None:
        t = time.monotonic()
        self._initdb(self.primary)
        self._step("initdb", t)

        t = time.monotonic()
        self._start_server(self.primary)
        self._step("primary start", t)

        t = time.monotonic()
        self._basebackup(self.standby, self.primary)
        self._step("pg_basebackup", t)

        t = time.monotonic()
        self._start_server(self.standby)
        self._wait_sync()
        self._step("standby start and sync", t)
        self.timings["total"] = round(sum(self.timings.values()), 2)

    def _initdb(self, node: Node) -> None:
        self.net.run(
            node.host,
            # --no-sync: initdb's own fsync of every file costs seconds and protects nothing a test keeps
            [f"{PG_BIN}/initdb", "-D", node.datadir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            user=OS_USER,
            timeout=60,
        )
        names = ", ".join(f'"{h}"' for h in (self.primary_host, self.standby_host))
        self._append_conf(
            node,
            f"""
# test-network cluster: see cluster/postgres.py
wal_level = replica
max_wal_senders = 10
hot_standby = on
# a commit returns only once the standby has applied it: what the primary acknowledged, the standby has
synchronous_commit = remote_apply
# both hosts are named so the same setting holds whichever of them is the primary
synchronous_standby_names = 'FIRST 1 ({names})'
wal_sender_timeout = 5s
wal_receiver_timeout = 5s
wal_retrieve_retry_interval = 1s
max_connections = 200
logging_collector = off
# after a crash or a copy taken with --no-sync, start-up fsyncs the data directory; one syncfs() is faster
recovery_init_sync_method = syncfs
""",
        )
        with open(os.path.join(node.datadir, "pg_hba.conf"), "w") as f:
            f.write(
                "# trust only on the socket and the private test network\n"
                "local all all trust\n"
                f"host all all {SUBNET}.0/24 trust\n"
                f"host replication all {SUBNET}.0/24 trust\n"
            )

    def _append_conf(self, node: Node, text: str) -> None:
        # later lines win: the standby's copy of the primary's file is overridden the same way
        with open(os.path.join(node.datadir, "postgresql.conf"), "a") as f:
            f.write(text)
        # each node listens on its own host's address and keeps its socket in its own directory
        with open(os.path.join(node.datadir, "postgresql.conf"), "a") as f:
            f.write(
                f"listen_addresses = '{node.address}'\nport = {PORT}\nunix_socket_directories = '{node.sockdir}'\n"
                f"log_line_prefix = '%m [%p] {node.host} '\n"
            )

    def _start_server(self, node: Node, timeout: float = 30) -> None:
        node.process = self.net.start(
            node.host, [f"{PG_BIN}/postgres", "-D", node.datadir], user=OS_USER, log_path=node.log_path
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            res = subprocess.run(
                [f"{PG_BIN}/pg_isready", "-q", "-h", node.sockdir, "-p", str(PORT), "-U", "postgres"],
                capture_output=True,
                timeout=10,
            )
            if res.returncode == 0:
                return
            if not node.process.alive():
                raise RuntimeError(f"postgres on {node.host} exited: {self.log_tail(node)}")
            time.sleep(0.1)
        raise TimeoutError(f"postgres on {node.host} not ready after {timeout}s: {self.log_tail(node)}")

    def _basebackup(self, node: Node, source: Node) -> None:
        # run from the standby's host, so the copy really crosses the test network; -R writes
        # standby.signal and primary_conninfo, whose application_name is what synchronous_standby_names names
        self.net.run(
            node.host,
            [
                f"{PG_BIN}/pg_basebackup",
                "-d",
                f"host={source.address} port={PORT} user=postgres application_name={node.host}",
                *["-D", node.datadir, "-R", "-X", "stream", "-c", "fast", "--no-sync"],
            ],
            user=OS_USER,
            timeout=120,
        )
        self._append_conf(node, "\n# standby copy\n")

    def _wait_sync(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.primary.psql(
                f"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{self.standby.host}'"
            )
            if state == "sync":
                return
            time.sleep(0.1)
        raise TimeoutError(f"standby {self.standby.host} not synchronous after {timeout}s")

    def log_tail(self, node: Node, lines: int = 20) -> str:
        try:
            with open(node.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    # faults

    def kill_primary(self) -> None:
        """SIGKILL the primary's host: the postmaster and every backend, with no shutdown checkpoint."""
        self.net.kill_host(self.primary.host)

    def promote_standby(self, alone: bool = True, timeout: float = 30) -> float:
        """Promote the standby and make it the primary; returns the seconds promotion took.

        With `alone` the new primary stops waiting for a synchronous standby, since it has none: it
        accepts writes that exist on one server only until a new standby joins. Without it, every
        commit on the new primary waits (a safe stop) until one does.
        """
        t = time.monotonic()
        if self.standby.psql(f"SELECT pg_promote(true, {int(timeout)})") != "t":
            raise RuntimeError(f"promotion of {self.standby.host} did not finish: {self.log_tail(self.standby)}")
        if alone:
            self.standby.psql("ALTER SYSTEM SET synchronous_standby_names = ''")
            self.standby.psql("SELECT pg_reload_conf()")
        self.primary, self.standby = self.standby, self.primary
        return round(time.monotonic() - t, 2)

    def rejoin(self, timeout: float = 60) -> float:
        """Bring the old primary back as the new primary's synchronous standby; returns the seconds it took.

        Its data directory is replaced by a fresh copy of the new primary (pg_rewind would copy only
        what changed, at the price of wal_log_hints or data checksums; a test database is small), and
        the new primary again waits for a standby on every commit.
        """
        t = time.monotonic()
        node = self.standby
        shutil.rmtree(node.datadir, ignore_errors=True)
        self._basebackup(node, self.primary)
        self._start_server(node, timeout)
        self.primary.psql("ALTER SYSTEM RESET synchronous_standby_names")
        self.primary.psql("SELECT pg_reload_conf()")
        self._wait_sync(timeout)
        return round(time.monotonic() - t, 2)

    def close(self) -> None:
        for node in (self.primary, self.standby):
            if node.process is not None:
                # a fast shutdown (SIGINT) rather than SIGTERM's smart one, which waits for clients
                node.process.kill(2)
                try:
                    node.process.popen.wait(10)
                except subprocess.TimeoutExpired:
                    self.net.kill_host(node.host)
                node.process = None
        if self._own_workdir and self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
