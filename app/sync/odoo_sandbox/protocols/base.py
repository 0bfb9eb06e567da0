"""What the protocol handlers share: the runtime they drive and the transport-level faults."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..controls import GATEWAY_TIMEOUT_PAGE, UNAVAILABLE_PAGE, FaultInjector, RpcLog
from ..dispatch import OdooService
from ..errors import remember_traceback
from ..orm import DATETIME_FORMAT

T = TypeVar("T")


@dataclass
class Runtime:
    """One running sandbox as the protocol handlers see it."""

    service: OdooService
    faults: FaultInjector
    rpc_log: RpcLog
    latency_seconds: Callable[[], float]
    shutdown: threading.Event

    @property
    def version(self) -> str:
        return self.service.version


def client_source(request: Request) -> str:
    """The remote address the login cooldown is counted for."""
    return request.client.host if request.client else "unknown"


def _capture(func: Callable[[], T]) -> tuple[bool, Any]:
    """Catch in the worker so tracebacks start at the service, as Odoo's do."""
    try:
        return True, func()
    except Exception as exc:
        remember_traceback(exc)
        return False, exc


async def run_sync(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ORM work in a worker thread: the lock is a threading lock and calls may block."""
    ok, value = await anyio.to_thread.run_sync(_capture, partial(func, *args, **kwargs))
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


async def delay(runtime: Runtime) -> None:
    seconds = runtime.latency_seconds()
    if seconds > 0:
        await anyio.sleep(seconds)


async def object_call_gate(
    runtime: Runtime, protocol: str, model: str, method: str
) -> tuple[str | None, Response | None]:
    """Count the call, apply latency, and take the next injected fault.

    Transport faults (``unavailable``, ``timeout``) answer here, as a proxy in front of Odoo
    would; concurrency faults (``serialization``, ``lock``) are returned so the call raises
    them inside its transaction.
    """
    runtime.rpc_log.record(protocol, model, method)
    fault = runtime.faults.take()
    await delay(runtime)
    if fault == "unavailable":
        return None, HTMLResponse(UNAVAILABLE_PAGE, status_code=503)
    if fault == "timeout":
        deadline = anyio.current_time() + runtime.faults.timeout_seconds
        while anyio.current_time() < deadline and not runtime.shutdown.is_set():
            await anyio.sleep(min(0.05, max(0.0, deadline - anyio.current_time())))
        return None, HTMLResponse(GATEWAY_TIMEOUT_PAGE, status_code=504)
    return fault, None


def json_default(value: Any) -> Any:
    """``odoo.tools.json_default``: datetimes as Odoo strings, bytes decoded, the rest ``str``."""
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, set | frozenset):
        return list(value)
    return str(value)
