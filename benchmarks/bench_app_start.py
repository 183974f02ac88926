"""Process start to first chart of the browser app, in headless Chromium.

    .venv/bin/python benchmarks/bench_app_start.py [--runs 3] [--scenario ecommerce] [--sequential]

Each run starts ``relsim app SCENARIO`` on a free port of 127.0.0.1 and, at the
same moment, launches Debian's chromium (Playwright, never a downloaded
browser; ``RELSIM_CHROMIUM`` overrides the path). The browser opens the page
as soon as the server listens on its port (polled every 50 ms) and waits
until the eight charts are on it. Times, from the moment the ``relsim app``
process is started:

* ``browser ready``: chromium launched (runs in parallel with the server; a
  user's browser is already running, so this is not the app's time);
* ``server answers``: the first HTTP 200 of the page's address;
* ``front end loaded``: Solara's main script (2 MB) received by the browser;
* ``page loaded``, ``websocket``: the page's DOMContentLoaded and the opening
  of Solara's websocket (the front end has loaded and asks for the app);
* ``first chart``: the eight chart SVGs and the headline on the page, no Step
  pressed — the figure of issue 16 (target ≤ 5 s on 2 cores);
* ``page open → chart``: from the browser's request of the page to the charts;
* ``server CPU``: CPU time the server process had used by then (user + system,
  all its threads): the part of the wall time that does not depend on the load.

relsim's bytecode is brought up to date before the runs (``compileall``), as a
user's second start finds it.

``--sequential`` measures it as the browser test did before: wait for the
server to answer, then launch the browser, then open the page (so the
browser's launch is counted in the first-chart time).

The first-chart measurement of ``tests/test_app.py::test_app_in_chromium_offline``
is the same (browser launched in parallel); this script repeats it without the
rest of the test.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
CHARTS_SHOWN = ("() => document.querySelectorAll('.relsim-chart > svg').length >= 8 "
                "&& !!document.querySelector('.relsim-headline')")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` so far (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(scenario: str, sequential: bool, limit_s: float = 180.0, log=subprocess.DEVNULL) -> dict[str, float]:
    """One start of ``relsim app``: seconds from the process start to each milestone."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("RELSIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    out: dict[str, float] = {}
    with sync_playwright() as playwright:
        started = time.monotonic()
        server = subprocess.Popen([sys.executable, "-m", "relsim.cli", "app", scenario, "--port", str(port)],
                                  cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            if sequential:
                while not _answers(url):
                    assert server.poll() is None and time.monotonic() - started < limit_s
                    time.sleep(0.5)
                out["server answers"] = time.monotonic() - started
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            out["browser ready"] = time.monotonic() - started
            try:
                page = browser.new_page(viewport={"width": 1500, "height": 1250})
                page.on("websocket", lambda _: out.setdefault("websocket", time.monotonic() - started))
                page.on("requestfinished", lambda r: out.setdefault("front end loaded", time.monotonic() - started)
                        if r.url.endswith("app8.min.js") else None)
                page.on("domcontentloaded", lambda _: out.setdefault("page loaded", time.monotonic() - started))
                while not _listens(port):          # polled cheaply: a page load per try would load the CPU
                    assert server.poll() is None, "relsim app exited"
                    assert time.monotonic() - started < limit_s, "the server did not answer"
                    time.sleep(0.05)
                opened = time.monotonic()
                response = page.goto(url, wait_until="commit", timeout=1000 * limit_s)
                assert response is not None and response.ok, response
                out.setdefault("server answers", time.monotonic() - started)
                page.wait_for_function(CHARTS_SHOWN, timeout=1000 * limit_s, polling=50)
                charted = time.monotonic()
                out["first chart"] = charted - started
                out["page open → chart"] = charted - opened
                out["server CPU"] = _cpu_seconds(server.pid)
            finally:
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenario", default="ecommerce")
    parser.add_argument("--sequential", action="store_true",
                        help="launch the browser only once the server answers (the old measurement)")
    parser.add_argument("--log", type=Path, default=None,
                        help="append the server's output here (with RELSIM_APP_TIMING=1: its milestones)")
    args = parser.parse_args()
    # a user's second start finds relsim's bytecode cached; where PYTHONDONTWRITEBYTECODE is set (as on
    # the machine of benchmarks/README.md) an edited module would be compiled again at every start
    compileall.compile_dir(str(ROOT / "relsim"), quiet=1)
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f} at start; "
          f"{'browser after the server' if args.sequential else 'browser launched in parallel'}")
    keys = ("browser ready", "server answers", "front end loaded", "page loaded", "websocket", "first chart",
            "page open → chart", "server CPU")
    print("| run | " + " | ".join(keys) + " | load (1 min) |")
    print("|---:|" + "---:|" * (len(keys) + 1))
    for run in range(1, args.runs + 1):
        if args.log is None:
            times = measure(args.scenario, args.sequential)
        else:
            with open(args.log, "a") as log:
                times = measure(args.scenario, args.sequential, log=log)
        print(f"| {run} | " + " | ".join(f"{times[k]:.2f} s" for k in keys)
              + f" | {os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
