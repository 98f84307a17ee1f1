"""Take the README's screenshots of the portal from the demo exchange.

Builds the demo on a throw-away SQLite database (what ``make run`` serves), starts ``techx serve``
on a free port, and photographs in Debian's Chromium (``scripts/ensure-browser``): the home page,
an open notice with its signature verified in the browser, and the live auction.

    .venv/bin/python scripts/screenshots.py            # writes docs/images/portal-*.png
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images"
SIZE = {"width": 1280, "height": 900}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    chromium = shutil.which("chromium")
    if chromium is None:
        print("chromium is not installed: run scripts/ensure-browser as root", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="techx-shots-") as scratch:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{scratch}/techx.db",
            "TECHX_KEYS_DIR": f"{scratch}/keys",
            "TECHX_LOG_LEVEL": "WARNING",
        }
        techx = [sys.executable, "-m", "exchange.server.cli"]
        subprocess.run([*techx, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([*techx, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env)
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            shoot(chromium, base)
        finally:
            server.terminate()
            server.wait(timeout=20)
    return 0


def shoot(chromium: str, base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        page = browser.new_context(viewport=SIZE, locale="zh-CN", device_scale_factor=1).new_page()
        page.goto(f"{base}/")
        page.wait_for_timeout(1200)  # a countdown has ticked
        page.screenshot(path=str(OUT / "portal-home.png"))
        auction = page.locator("a[href^='/auctions/']").first.get_attribute("href")
        page.goto(f"{base}/notices")
        notice = page.locator("main a[href^='/notices/']").first.get_attribute("href")
        page.goto(f"{base}{notice}")
        page.wait_for_selector("[data-verified='yes']", timeout=10_000)
        page.screenshot(path=str(OUT / "portal-notice.png"))
        page.goto(f"{base}{auction}")
        page.wait_for_timeout(1200)
        page.screenshot(path=str(OUT / "portal-auction.png"))
        browser.close()
    for name in ("portal-home.png", "portal-notice.png", "portal-auction.png"):
        print(OUT / name)


if __name__ == "__main__":
    sys.exit(main())
