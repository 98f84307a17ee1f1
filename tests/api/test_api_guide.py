"""docs/api-guide.md runs as written: its `sh` blocks, in order, against a real server.

A trailing ``# value`` after a single-line command (a JSON scalar, or a word in capitals) is the
output that command must print; the script stops at the first command that fails or differs.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from exchange.platform.settings import PROJECT_ROOT, Settings
from tests.calendar_helpers import FIXTURE_2027
from tests.live import LiveServer

GUIDE = PROJECT_ROOT / "docs" / "api-guide.md"
EXPECTATION = re.compile(r"^(?P<command>[^#].*?)\s{2,}#\s+(?P<expected>\"[^\"]*\"|true|false|-?\d+|[A-Z]+)\s*$")


def guide_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)


def with_expectations(block: str) -> str:
    """Turn ``command   # "value"`` (the comment on a command's last line) into a check of its output."""
    out: list[str] = []
    command: list[str] = []
    for line in block.splitlines():
        command.append(line)
        if line.endswith("\\"):
            continue
        match = EXPECTATION.match(line) if not line.lstrip().startswith("#") else None
        if match:
            text = "\n".join([*command[:-1], match["command"]])
            expected = match["expected"]
            out.append(
                f'got=$({text}); if [ "$got" != {shlex.quote(expected)} ]; then '
                f'echo {shlex.quote("guide: " + text)} >&2; echo "expected {expected}, got $got" >&2; exit 1; fi'
            )
        else:
            out.extend(command)
        command = []
    out.extend(command)
    return "\n".join(out)


def expectation_count(blocks: list[str]) -> int:
    return sum(with_expectations(b).count("got=$(") for b in blocks)


def test_the_guide_has_checked_steps():
    blocks = guide_blocks(GUIDE.read_text())
    assert len(blocks) >= 25
    assert expectation_count(blocks) >= 40
    text = "\n".join(blocks)
    for route in ("/intents", "/bids", "/events", "/sign", "/certificate", "/pay", "/voucher-programs", "/grants",
                  "/service-orders", "/redemptions", "/bank-transfers", "/withdrawals", "/reconciliations",
                  "_test/clock/advance", "techx reconcile", "techx ledger verify"):  # fmt: skip
        assert route in text, route


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="the guide needs curl and jq")
def test_the_api_guide_runs_against_a_live_server(tmp_path: Path):
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'guide.db'}"
    settings = Settings.from_env(
        env={},
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        environment="test",
        test_clock=True,
        log_json=False,
        log_level="WARNING",
        mail_dir=str(tmp_path / "mail"),
        notify_interval_seconds=0.2,
    )
    server = LiveServer(settings).start()
    try:
        # The guide runs on the real date, and its announcement runs into 2027, a year without
        # official calendar data: the 2027 TEST FIXTURE (not the official schedule) is loaded first,
        # through `techx calendar import` as an operator would.
        loaded = subprocess.run(
            [sys.executable, "-m", "exchange.server.cli", "calendar", "import", str(FIXTURE_2027)],
            env={**os.environ, "DATABASE_URL": database_url, "TECHX_KEYS_DIR": str(tmp_path / "keys")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert loaded.returncode == 0 or "loaded already" in loaded.stderr, loaded.stderr
        (tmp_path / ".venv").symlink_to(PROJECT_ROOT / ".venv")  # the guide calls .venv/bin/techx
        script = "set -euo pipefail\n" + "\n".join(with_expectations(b) for b in guide_blocks(GUIDE.read_text()))
        script = script.replace("http://127.0.0.1:8000", server.base_url)
        env = {
            "PATH": f"{PROJECT_ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(tmp_path),
            "DATABASE_URL": database_url,
            "TECHX_KEYS_DIR": str(tmp_path / "keys"),
            "TECHX_LOG_LEVEL": "WARNING",
            "TECHX_MAIL_DIR": str(tmp_path / "mail"),
        }
        done = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
    finally:
        server.stop()
    assert done.returncode == 0, f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert "signature valid" in done.stdout and "certificate valid" in done.stdout
