"""The app server's request filter (``relsim.util.serve.HostCheck``), called as an ASGI app.

It wraps a real Starlette application behind Starlette's ``GZipMiddleware``, as Solara's
server is: requests addressed elsewhere are refused (DNS rebinding), and responses on the
loopback are sent uncompressed (compressing Solara's 2 MB front end cost the server
≈ 0.15 s of CPU on every page load, benchmarks/README.md).
"""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from relsim.util.serve import HostCheck, allowed_hosts

PORT = 8765
BODY = "relsim " * 2000          # 14 kB: over GZipMiddleware's 1 kB threshold


def _page(request) -> PlainTextResponse:
    return PlainTextResponse(BODY)


APP = HostCheck(Starlette(routes=[Route("/", _page)], middleware=[Middleware(GZipMiddleware, minimum_size=1000)]),
                allowed_hosts(PORT))


def call(scope_type: str, headers: list[tuple[bytes, bytes]]) -> list[dict]:
    """Messages the app sends for one request of ``scope_type`` with ``headers``."""
    scope = {"type": scope_type, "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http" if scope_type == "http" else "ws", "path": "/", "raw_path": b"/",
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", PORT)}
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(APP(scope, receive, send))
    return sent


def response_headers(sent: list[dict]) -> dict[bytes, bytes]:
    return dict(sent[0]["headers"])


def test_a_request_addressed_to_the_app_is_answered_uncompressed() -> None:
    sent = call("http", [(b"host", f"127.0.0.1:{PORT}".encode()), (b"accept-encoding", b"gzip, deflate, br")])
    assert sent[0]["status"] == 200
    assert b"content-encoding" not in response_headers(sent)
    assert b"".join(m.get("body", b"") for m in sent[1:]).decode() == BODY


def test_without_the_filter_starlette_would_have_compressed_it() -> None:
    """The check above can fail: the same application unwrapped gzips the same request."""
    inner = APP.app
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
             "headers": [(b"host", f"localhost:{PORT}".encode()), (b"accept-encoding", b"gzip")],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", PORT)}
    asyncio.run(inner(scope, receive, send))
    assert dict(sent[0]["headers"]).get(b"content-encoding") == b"gzip"


def test_a_request_addressed_elsewhere_is_refused() -> None:
    for host in (b"evil.example:8765", b"127.0.0.1:9999", b""):
        sent = call("http", [(b"host", host)])
        assert sent[0]["status"] == 400, host
        assert b"relsim's app answers only" in sent[1]["body"]
    sent = call("http", [(b"host", f"127.0.0.1:{PORT}".encode()), (b"host", b"evil.example")])
    assert sent[0]["status"] == 400                         # two Host headers: refused


def test_a_websocket_addressed_elsewhere_is_closed_before_it_opens() -> None:
    sent = call("websocket", [(b"host", b"rebound.example:8765")])
    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_a_page_waits_at_the_gate_while_the_app_imports_pandas() -> None:
    """While ``PAGE_GATE`` is closed (the app's warm-up thread importing pandas, which Solara's renderer
    reads half-imported from ``sys.modules``) a WebSocket is not passed on; it is once the gate opens.
    Fails if the gate is ignored (the page of the crash then rendered during the import)."""
    import threading
    import time

    from relsim.util import serve

    reached: list[float] = []

    async def inner(scope, receive, send) -> None:
        reached.append(time.monotonic())

    gated = HostCheck(inner, allowed_hosts(PORT))
    scope = {"type": "websocket", "path": "/", "headers": [(b"host", f"127.0.0.1:{PORT}".encode())]}

    async def nothing(*_args):
        return {}

    serve.PAGE_GATE.clear()
    try:
        opened = time.monotonic() + 0.5
        threading.Timer(0.5, serve.PAGE_GATE.set).start()
        asyncio.run(gated(scope, nothing, nothing))
        assert reached and reached[0] >= opened - 0.01
    finally:
        serve.PAGE_GATE.set()
    reached.clear()
    started = time.monotonic()
    asyncio.run(gated(scope, nothing, nothing))       # open: at once
    assert reached and reached[0] - started < 0.2


def test_the_warm_up_opens_the_gate_only_once_pandas_is_whole() -> None:
    """In a fresh process: starting the app's warm-up closes the gate, and when it opens pandas is fully
    imported (its ``DataFrame`` there); fails if the gate opens before the import is done."""
    import subprocess
    import sys

    code = ("import sys; from relsim.util import serve; from relsim.app import WARM_UP; "
            "assert 'pandas' not in sys.modules; WARM_UP.start(); "
            "assert serve.PAGE_GATE.wait(120); "
            "print(hasattr(sys.modules.get('pandas'), 'DataFrame')); WARM_UP.wait_for_kernels()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "True", out.stdout + out.stderr


def test_relsim_app_on_a_port_in_use_exits_2_with_one_message() -> None:
    """A second ``relsim app`` on the same port said uvicorn's 'ERROR: [Errno 98] ...' and exited 3; now it
    exits 2 before the server starts, naming the port and what to do."""
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "relsim.cli", "app", "--port", str(port)], capture_output=True,
                              text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.startswith(f"relsim: error: --port {port}: 127.0.0.1:{port} is in use"), done.stderr
    assert "Traceback" not in done.stderr and "relsim app: http" not in done.stdout
