"""Simulated hosts: one network namespace per host on a private bridge, for tests that cross a network.

Each host is a namespace `tx23-<name>` with its own loopback and one interface `eth0` on 10.231.0.0/24.
The bridge lives in a namespace of its own (`tx23-sw`), not in the root namespace, so the test network
is unreachable from the machine's own services and the machine's services (all bound to 127.0.0.1,
which inside a namespace is the namespace's own loopback) are unreachable from the hosts. Deleting
the namespaces deletes every veth with them, which is what makes clean-up complete.

Needs root and iproute2. Only one network of this prefix can exist at a time: `Network` takes an
exclusive lock so that two runs on the same machine queue instead of tearing down each other's hosts.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

PREFIX = "tx23-"
SWITCH = PREFIX + "sw"
BRIDGE = "br0"
SUBNET = "10.231.0"
LOCK_PATH = "/run/tx23-cluster.lock"
# the system interpreter: root's own may live under /root, which other users cannot enter
PYTHON = "/usr/bin/python3"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def namespaces() -> list[str]:
    out = _ip("netns", "list").stdout
    # `ip netns list` prints "name (id: N)" for namespaces that have a peer id
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def pids_in(netns: str) -> list[int]:
    res = _ip("netns", "pids", netns, check=False)
    return [int(p) for p in res.stdout.split()] if res.returncode == 0 else []


def kill_namespace_processes(netns: str, sig: int = signal.SIGKILL) -> None:
    """Signal every process whose network namespace is `netns`.

    Process groups are not enough: PostgreSQL's backends each call setsid(), so a host's processes
    are found by their namespace, which is also what "the host died" means.
    """
    for _ in range(50):
        pids = pids_in(netns)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        time.sleep(0.05)
    raise RuntimeError(f"processes survive in {netns}: {pids_in(netns)}")


def cleanup_leftovers() -> list[str]:
    """Remove every namespace of this prefix (and so its veths), killing what still runs in it.

    Safe to call at any time when no network of this prefix is in use; returns what it removed.
    """
    removed, errors = [], []
    for ns in namespaces():
        if ns.startswith(PREFIX):
            # one stubborn namespace must not leave the others behind: report it after removing the rest
            try:
                kill_namespace_processes(ns)
            except RuntimeError as e:
                errors.append(str(e))
            _ip("netns", "del", ns, check=False)
            removed.append(ns)
    # directories of a run whose driver was killed before it could remove them (see cluster/postgres.py)
    for path in glob.glob(os.path.join(tempfile.gettempdir(), PREFIX + "*")):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if errors:
        raise RuntimeError("; ".join(errors))
    return removed


@dataclass
class Process:
    host: str
    argv: Sequence[str]
    popen: subprocess.Popen[bytes]
    log_path: str | None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        # each process is started in a session of its own, so its group holds what it forked
        # (except children that left the group themselves, which Network.kill_host catches)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 5.0) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
        self.kill(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)


@dataclass
class Network:
    """A private network of hosts; use as a context manager (`with Network(["a", "b"]) as net:`)."""

    host_names: Sequence[str]
    processes: list[Process] = field(default_factory=list)
    addresses: dict[str, str] = field(default_factory=dict)
    _lock_fd: int | None = None

    def netns(self, host: str) -> str:
        return PREFIX + host

    def address(self, host: str) -> str:
        return self.addresses[host]

    def __enter__(self) -> Network:
        self._lock_fd = os.open(LOCK_PATH, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            cleanup_leftovers()
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _build(self) -> None:
        _ip("netns", "add", SWITCH)
        _ip("-n", SWITCH, "link", "add", BRIDGE, "type", "bridge")
        _ip("-n", SWITCH, "link", "set", BRIDGE, "up")
        for i, host in enumerate(self.host_names):
            if len(PREFIX + host) > 15:
                raise ValueError(f"host name {host!r} too long: interface names stop at 15 characters")
            ns = self.netns(host)
            addr = f"{SUBNET}.{10 + i}"
            _ip("netns", "add", ns)
            # a new namespace's loopback starts down: nothing would answer on 127.0.0.1 inside it
            _ip("-n", ns, "link", "set", "lo", "up")
            # the switch end is named after the host so that cutting it off names the host
            _ip("-n", SWITCH, "link", "add", ns, "type", "veth", "peer", "name", "eth0", "netns", ns)
            _ip("-n", SWITCH, "link", "set", ns, "master", BRIDGE)
            _ip("-n", SWITCH, "link", "set", ns, "up")
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")
            self.addresses[host] = addr

    def close(self) -> None:
        for proc in reversed(self.processes):
            proc.stop(timeout=2)
        self.processes.clear()
        cleanup_leftovers()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # processes

    def _prefix(self, host: str, user: str | None) -> list[str]:
        cmd = ["ip", "netns", "exec", self.netns(host)]
        if user:
            # setpriv execs in place (runuser forks and waits), so the pid we hold is the program's;
            # the group is given by number because a user's group may be named otherwise (nobody/nogroup)
            pw = pwd.getpwnam(user)
            cmd += ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", "--reset-env"]
        return cmd

    def start(
        self,
        host: str,
        argv: Sequence[str],
        *,
        user: str | None = None,
        log_path: str | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> Process:
        """Start `argv` inside the host's namespace, in a new session, output to `log_path`."""
        cmd = [*self._prefix(host, user), *argv]
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - kept open by the child
        try:
            popen = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
                cwd=cwd,
            )
        finally:
            if log_path:
                out.close()
        proc = Process(host, list(argv), popen, log_path)
        self.processes.append(proc)
        return proc

    def run(
        self, host: str, argv: Sequence[str], *, user: str | None = None, timeout: float = 30, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a short command inside the host's namespace and wait for it."""
        return subprocess.run(
            [*self._prefix(host, user), *argv], capture_output=True, text=True, timeout=timeout, check=check
        )

    # faults

    def cut(self, host: str) -> None:
        """Cut the host off: its switch port goes down, the host's own interface keeps its address."""
        _ip("-n", SWITCH, "link", "set", self.netns(host), "down")

    def restore(self, host: str) -> None:
        _ip("-n", SWITCH, "link", "set", self.netns(host), "up")

    def kill_host(self, host: str) -> None:
        """SIGKILL every process on the host, as a crash of the machine would."""
        kill_namespace_processes(self.netns(host))
        for proc in self.processes:
            if proc.host == host:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.popen.wait(5)

    def can_connect(self, host: str, address: str, port: int, timeout: float = 1.0) -> bool:
        """Whether a TCP connection from inside `host` to address:port is accepted."""
        probe = (
            "import socket,sys\n"
            f"s=socket.socket(); s.settimeout({timeout})\n"
            f"sys.exit(s.connect_ex(({address!r},{port})))\n"
        )
        return self.run(host, [PYTHON, "-c", probe], check=False, timeout=timeout + 10).returncode == 0

    def wait_port(self, host: str, address: str, port: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.can_connect(host, address, port, timeout=0.5):
                return
            time.sleep(0.1)
        raise TimeoutError(f"{address}:{port} not answering from {host} after {timeout}s")


@contextlib.contextmanager
def network(host_names: Sequence[str]) -> Iterator[Network]:
    with Network(host_names) as net:
        yield net


if __name__ == "__main__":
    # `python -m cluster.hosts cleanup`: remove what a killed run left behind
    if sys.argv[1:] != ["cleanup"]:
        sys.exit("usage: python -m cluster.hosts cleanup")
    fd = os.open(LOCK_PATH, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    for item in cleanup_leftovers():
        print("removed", item)
