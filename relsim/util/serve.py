"""Serve the browser app with Solara on 127.0.0.1, answering only requests addressed to it.

``python -m relsim.util.serve APP_FILE PORT`` is what ``relsim app`` runs: Solara's
own ``solara run`` (production mode, no browser, no version check), with its
Starlette application wrapped in :class:`HostCheck`. A request whose ``Host``
header is not ``127.0.0.1:PORT``, ``localhost:PORT`` or ``[::1]:PORT`` gets
``400`` (a WebSocket is closed before it opens): a web page elsewhere cannot
reach the app by pointing its own name at 127.0.0.1 (DNS rebinding).
"""

from __future__ import annotations

import os
import sys

HOST = "127.0.0.1"


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
        await self.app(scope, receive, send)


def main(argv: list[str] | None = None) -> None:
    """Run Solara's server for ``APP_FILE`` on 127.0.0.1:``PORT`` behind :class:`HostCheck`."""
    app_file, port = (argv if argv is not None else sys.argv[1:])[:2]
    port = int(port)
    # solara reads its app when its server module is imported: name it first
    os.environ["SOLARA_APP"] = app_file
    from solara.server import settings
    settings.main.mode = "production"
    import solara.server.starlette as server
    from solara.__main__ import cli

    # uvicorn looks the application up as "solara.server.starlette:app": it finds the wrapped one
    server.app = HostCheck(server.app, allowed_hosts(port))  # type: ignore[assignment]
    cli(["run", app_file, "--host", HOST, "--port", str(port), "--production", "--no-open",
         "--no-check-version"])


if __name__ == "__main__":
    main()
