"""Serve the browser app with Solara on 127.0.0.1, answering only requests addressed to it.

``relsim app`` calls :func:`main` in its own process with the app's module,
``relsim.app`` (``python -m relsim.util.serve APP PORT`` does the same; APP is
a module name or a file): Solara's own ``solara run`` (production mode, no
browser, no version check), with its Starlette application wrapped in
:class:`HostCheck`. It also asks the app to build the first page's market in
the background as soon as it is loaded (``relsim.app.WARM_UP_ENV``), so that
the first page does not wait for it. A request whose ``Host``
header is not ``127.0.0.1:PORT``, ``localhost:PORT`` or ``[::1]:PORT`` gets
``400`` (a WebSocket is closed before it opens): a web page elsewhere cannot
reach the app by pointing its own name at 127.0.0.1 (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import signal
import sys
import threading
import time

HOST = "127.0.0.1"
#: Request headers dropped before Solara sees them: the app answers only on the loopback, where
#: compressing costs the server CPU and saves no time (Solara gzips every response over 1 kB: its
#: 2 MB front end on every page load, ≈ 0.15 s of CPU while the first page's market is being built).
UNCOMPRESSED = frozenset({b"accept-encoding"})


#: Set while pages may be rendered. A served app clears it while another thread imports a library that the
#: renderer looks up in ``sys.modules`` without importing it (``relsim.app`` and pandas: reacton checks
#: ``isinstance(value, sys.modules["pandas"].DataFrame)`` and fails on a half-imported module); a page's
#: WebSocket waits for it, at most ``PAGE_GATE_WAIT_S`` seconds.
PAGE_GATE = threading.Event()
PAGE_GATE.set()
PAGE_GATE_WAIT_S = 30.0


def allowed_hosts(port: int) -> frozenset[str]:
    """The ``Host`` header values of requests addressed to the app on ``port``."""
    return frozenset(f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]"))


class HostCheck:
    """ASGI middleware: pass on only HTTP and WebSocket requests with one allowed ``Host``."""

    def __init__(self, app, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            values = [v.decode("latin-1").strip().lower() for k, v in scope.get("headers", ()) if k.lower() == b"host"]
            if len(values) != 1 or values[0] not in self.hosts:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = b"Invalid Host header: relsim's app answers only requests to 127.0.0.1 or localhost\n"
                await send({"type": "http.response.start", "status": 400,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers", ())
                                          if k.lower() not in UNCOMPRESSED]}
            if scope["type"] == "websocket" and not PAGE_GATE.is_set():
                deadline = time.monotonic() + PAGE_GATE_WAIT_S
                while not PAGE_GATE.is_set() and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
        await self.app(scope, receive, send)


def check_port(port: int) -> None:
    """Refuse, before the server starts, a ``port`` on 127.0.0.1 that another program listens on (another
    ``relsim app``): a :class:`relsim.util.errors.RelsimError` naming it (exit 2), not uvicorn's own error
    and exit status 3."""
    import socket

    from relsim.util.errors import RelsimError
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as uvicorn: a port in TIME_WAIT is free
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise RelsimError(f"--port {port}: {HOST}:{port} is in use ({error.strerror}); another relsim app? "
                              "Stop it, or choose a free port with --port (1024 to 65535)") from None


def main(argv: list[str] | None = None) -> None:
    """Run Solara's server for ``APP`` (a module name or a file) on 127.0.0.1:``PORT`` behind
    :class:`HostCheck`."""
    app, port = (argv if argv is not None else sys.argv[1:])[:2]
    port = int(port)
    # ``kill -USR1 PID`` prints every thread's stack to the server's output: a page that stops answering
    # can be diagnosed without a debugger (tests/test_app.py does it when a play does not start)
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    # solara reads its app when its server module is imported: name it first
    os.environ["SOLARA_APP"] = app
    # the app builds the first page's market in a background thread once solara has loaded it
    os.environ["RELSIM_APP_WARM_UP"] = "1"
    from solara.server import settings
    settings.main.mode = "production"
    import solara.server.starlette as server
    from solara.__main__ import cli

    # uvicorn looks the application up as "solara.server.starlette:app": it finds the wrapped one
    server.app = HostCheck(server.app, allowed_hosts(port))  # type: ignore[assignment]
    cli(["run", app, "--host", HOST, "--port", str(port), "--production", "--no-open",
         "--no-check-version"])


if __name__ == "__main__":
    main()
