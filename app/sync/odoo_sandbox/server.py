"""The ASGI application and a loopback server for it.

Routes (reference §1): ``POST /xmlrpc/2/<service>``, legacy ``POST /xmlrpc/<service>``,
``POST /jsonrpc``, ``POST /json/2/<model>/<method>`` (19.0; 404 on 17.0/18.0), 19.0's
``/web/version`` and ``/json/version``, plus the ``/sandbox/...`` control namespace.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .control_routes import control_routes
from .protocols import json2, jsonrpc, xmlrpc
from .protocols.base import Runtime

if TYPE_CHECKING:
    from .sandbox import OdooSandbox


def build_app(sandbox: OdooSandbox, runtime: Runtime) -> Starlette:
    version = runtime.version

    async def xmlrpc_2(request: Request) -> Response:
        return await xmlrpc.handle(request, runtime, request.path_params["service"], legacy=False)

    async def xmlrpc_1(request: Request) -> Response:
        return await xmlrpc.handle(request, runtime, request.path_params["service"], legacy=True)

    async def jsonrpc_route(request: Request) -> Response:
        return await jsonrpc.handle(request, runtime)

    async def json2_route(request: Request) -> Response:
        if version != "19.0":
            return Response("Not Found", status_code=404, media_type="text/plain")
        params = request.path_params
        return await json2.handle(request, runtime, params["model"], params["method"])

    async def json2_fallback(request: Request) -> Response:
        if version != "19.0":
            return Response("Not Found", status_code=404, media_type="text/plain")
        return await json2.not_found(request, runtime)

    async def web_version(request: Request) -> Response:
        """19.0 ``/web/version`` and ``/json/version`` (``type='http'``)."""
        if version != "19.0":
            return Response("Not Found", status_code=404, media_type="text/plain")
        info = runtime.service.version_info()
        return JSONResponse({"version_info": info["server_version_info"], "version": version})

    routes = [
        Route("/xmlrpc/2/{service}", xmlrpc_2, methods=["POST"]),
        Route("/xmlrpc/{service}", xmlrpc_1, methods=["POST"]),
        Route("/jsonrpc", jsonrpc_route, methods=["POST"]),
        Route("/json/2/{model}/{method}", json2_route, methods=["POST"]),
        Route("/json/2{rest:path}", json2_fallback, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/web/version", web_version, methods=["GET"]),
        Route("/json/version", web_version, methods=["GET"]),
        *control_routes(sandbox),
    ]
    return Starlette(routes=routes)


@contextmanager
def run_sandbox_server(
    sandbox: OdooSandbox, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Serve ``sandbox`` with uvicorn in a daemon thread; yields ``"http://<host>:<port>"``.

    ``port=0`` picks a free port. Leaving the block stops the server and waits for it.
    """
    config = uvicorn.Config(
        sandbox.asgi_app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="odoo-sandbox", daemon=True)
    sandbox.shutdown_event.clear()
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the Odoo sandbox server did not start")
        time.sleep(0.01)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        sandbox.shutdown_event.set()
        server.should_exit = True
        thread.join(timeout=10)
