"""Regenerate the README's picture of the browser app, docs/img/app.png.

    .venv/bin/python scripts/app_screenshot.py [--week 104] [--out docs/img/app.png]

Starts ``relsim app ecommerce`` on a free port of 127.0.0.1, opens it in
headless Debian chromium (Playwright; never a downloaded browser,
``RELSIM_CHROMIUM`` overrides the path), runs the default page — transactional
against relationship side by side, 1,500 customers, seed 0 — to week
``--week`` with *Run to week* and saves the window (1500 × 1450 pixels) as a
PNG. The server is always stopped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
WEEK_SHOWN = """w => {
    const h = document.querySelector('.relsim-headline');
    const m = h && h.innerText.match(/Week (\\d+)/);
    return m && Number(m[1]) >= w;
}"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--week", type=int, default=104)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "app.png")
    parser.add_argument("--width", type=int, default=1500)
    parser.add_argument("--height", type=int, default=1450)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("RELSIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    server = subprocess.Popen([sys.executable, "-m", "relsim.cli", "app", "ecommerce", "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        started = time.monotonic()
        while True:
            if server.poll() is not None:
                sys.exit(f"relsim app exited with {server.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() - started > 180:
                    sys.exit("relsim app did not start within 180 s")
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport={"width": args.width, "height": args.height})
                page.set_default_timeout(600_000)
                page.goto(url, wait_until="domcontentloaded")
                page.locator(".relsim-chart > svg").nth(7).wait_for()
                page.locator(".relsim-run-to input").fill(str(args.week))
                page.locator(".relsim-run-to input").press("Tab")
                page.get_by_role("button", name="Go").click()
                page.wait_for_function(WEEK_SHOWN, arg=args.week, timeout=600_000)
                page.get_by_role("button", name="Step").wait_for()      # the play has stopped
                page.wait_for_timeout(1500)                            # the last picture drawn
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out))
            finally:
                browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(f"wrote {args.out} (week {args.week})")


if __name__ == "__main__":
    main()
