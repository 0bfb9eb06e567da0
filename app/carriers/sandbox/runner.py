"""Serve an ASGI app (the sandbox, or a test receiver) on loopback from a daemon thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from app.carriers.karrio_support.runtime import is_loopback_host


@contextmanager
def serve_asgi(app: Any, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` with uvicorn until the block exits; yields its base URL. Loopback only."""
    if not is_loopback_host(host):
        raise ValueError(f"refusing to serve on non-loopback host {host!r}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the loopback server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


@contextmanager
def run_carrier_sandbox(sandbox: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Start ``sandbox`` (a ``CarrierSandbox``) and point its label/tracker URLs at itself."""
    with serve_asgi(sandbox.asgi_app, host=host, port=port) as base_url:
        sandbox.base_url = base_url
        try:
            yield base_url
        finally:
            sandbox.base_url = None
