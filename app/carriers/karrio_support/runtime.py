"""Process-level setup of the karrio SDK and the one HTTP choke point every carrier call passes.

Installed once (idempotent) before the first gateway is built:

* ``KARRIO_LOG_LEVEL=WARNING`` unless already set: karrio logs full payloads (addresses) at DEBUG
  and chatters at INFO.
* A replacement for ``karrio.core.utils.helpers.urlopen`` (the SDK's only transport) that
  - applies a timeout, because karrio passes ``timeout=None`` explicitly and so ignores
    ``socket.setdefaulttimeout``;
  - refuses non-loopback hosts when loopback-only mode is on (test runs), and refuses any host
    other than the account's ``server_url`` host while an overridden account is calling, so a
    sandboxed account can never reach a real carrier (or karrio's hidden label converter);
  - records every exchange (status, headers, body, transport error) for the operation in
    progress: karrio returns messages but drops HTTP status and ``Retry-After``, which decide
    whether an error is retryable;
  - adds per-operation headers (``Idempotency-Key`` on bookings).
* ``karrio.lib.run_concurently`` copies the caller's context into its worker threads, so the
  recording above also sees multi-number tracking calls made from a thread pool.
* karrio's optional tracer import is short-circuited when the tracer is not installed.
* ``DICTPARSE.to_dict`` serialises objects with the C JSON encoder (see ``fastdict``): same
  dicts, a fraction of the CPU per request.
* The gateway registry is warmed (plugin discovery costs about a second on first use).

Everything here is a runtime wrapper in our code; karrio itself stays unmodified.
"""

from __future__ import annotations

import contextvars
import importlib.util
import io
import ipaddress
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

import structlog

from app.carriers.karrio_support import fastdict

log = structlog.get_logger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_RECORDED_BODY = 2 * 1024 * 1024


class ForbiddenHostError(ConnectionRefusedError):
    """A carrier call aimed at a host this process may not reach. Subclasses an OS error so the
    SDK's own error path reports it; our message mapping turns it into ``CarrierConfigError``."""


@dataclass
class Exchange:
    """One HTTP request/response as the transport saw it."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None  # "timeout" | "connection" | "forbidden_host"
    error_detail: str | None = None
    seconds: float = 0.0

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


@dataclass
class CallContext:
    """What the transport needs to know about the carrier operation in progress."""

    exchanges: list[Exchange] = field(default_factory=list)
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    pinned_host: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_CALL: contextvars.ContextVar[CallContext | None] = contextvars.ContextVar(
    "waybill_carrier_call", default=None
)
_STATE: dict[str, Any] = {"installed": False, "loopback_only": False, "original_urlopen": None}
_INSTALL_LOCK = threading.Lock()


def set_loopback_only(enabled: bool) -> None:
    """In loopback-only mode any carrier call to a non-loopback host fails before connecting."""
    _STATE["loopback_only"] = bool(enabled)


def loopback_only() -> bool:
    return bool(_STATE["loopback_only"])


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def install(*, loopback_only: bool | None = None) -> None:
    """Install the SDK patches once per process; later calls only update loopback-only mode."""
    if loopback_only is not None:
        set_loopback_only(loopback_only)
    if _STATE["installed"]:
        return
    with _INSTALL_LOCK:
        if _STATE["installed"]:
            return
        os.environ.setdefault("KARRIO_LOG_LEVEL", "WARNING")
        # jstruct logs every unexpected response field, values included (addresses), at WARNING.
        logging.getLogger("jstruct").setLevel(logging.ERROR)
        import karrio.core.utils.helpers as helpers
        import karrio.lib as klib
        import karrio.sdk as karrio_sdk

        _STATE["original_urlopen"] = helpers.urlopen
        helpers.urlopen = _transport
        original_concurrently = klib.run_concurently
        klib.run_concurently = _with_context(original_concurrently)
        fastdict.install()
        _skip_missing_tracer()
        karrio_sdk.gateway.providers  # noqa: B018 - warm the plugin registry now, not mid-request
        _STATE["installed"] = True


def _skip_missing_tracer() -> None:
    """karrio tries ``import sentry_sdk`` on every HTTP call and every rating fan-out. Without
    the package each try searches the whole import path again (about as much CPU as the rest of
    the transport); a ``None`` entry in ``sys.modules`` makes the same import fail at once, with
    the same ``ModuleNotFoundError``. Installed, the package is left alone."""
    if "sentry_sdk" not in sys.modules and importlib.util.find_spec("sentry_sdk") is None:
        sys.modules["sentry_sdk"] = None  # type: ignore[assignment]


def _with_context(run: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
    def run_concurently(
        predicate: Callable[[Any], Any], sequence: Sequence[Any], max_workers: int | None = None
    ) -> list[Any]:
        # Context objects cannot be entered by two threads at once: one copy per item.
        items = [(contextvars.copy_context(), item) for item in sequence]
        return run(lambda pair: pair[0].run(predicate, pair[1]), items, max_workers=max_workers)

    return run_concurently


@contextmanager
def carrier_call(
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    pinned_url: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> Iterator[CallContext]:
    """Scope one carrier operation: its timeout, allowed host, extra headers and exchange log."""
    install()
    ctx = CallContext(
        timeout=timeout,
        pinned_host=urlsplit(pinned_url).hostname if pinned_url else None,
        extra_headers=dict(extra_headers or {}),
    )
    token = _CALL.set(ctx)
    try:
        yield ctx
    finally:
        _CALL.reset(token)


def _guard(url: str, ctx: CallContext | None) -> None:
    host = urlsplit(url).hostname
    if loopback_only() and not is_loopback_host(host):
        log.error("carrier_call_blocked", reason="loopback_only", host=host)
        raise ForbiddenHostError(
            f"refusing to call {host!r}: carrier calls are restricted to loopback in this process"
        )
    if ctx is not None and ctx.pinned_host and host != ctx.pinned_host:
        log.error("carrier_call_blocked", reason="pinned_host", host=host, pinned=ctx.pinned_host)
        raise ForbiddenHostError(
            f"refusing to call {host!r}: this account is pinned to {ctx.pinned_host!r}"
        )


def _transport(req: Any, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
    """Drop-in for ``urllib.request.urlopen`` as karrio calls it."""
    ctx = _CALL.get()
    url = req.full_url
    method = req.get_method()
    if ctx is not None:
        for name, value in ctx.extra_headers.items():
            if method in ("POST", "PUT", "PATCH") and not req.has_header(name.capitalize()):
                req.add_header(name, value)
    exchange = Exchange(
        method=method,
        url=url,
        request_headers=dict(req.header_items()),
        request_body=req.data if isinstance(req.data, bytes) else None,
    )
    _record(ctx, exchange)
    started = time.monotonic()
    try:
        _guard(url, ctx)
        effective = timeout or (ctx.timeout if ctx else DEFAULT_TIMEOUT_SECONDS)
        opener = _STATE["original_urlopen"]
        with opener(req, *args, timeout=effective, **kwargs) as response:
            body = response.read()
            exchange.status = response.status
            exchange.headers = dict(response.headers.items())
            exchange.body = body[:MAX_RECORDED_BODY]
            return _Buffered(body, response.status, response.headers, response.url)
    except HTTPError as exc:
        body = exc.read() if exc.fp is not None else b""
        exchange.status = exc.code
        exchange.headers = dict(exc.headers.items()) if exc.headers else {}
        exchange.body = body[:MAX_RECORDED_BODY]
        raise HTTPError(
            exc.url, exc.code, exc.msg, exc.headers or Message(), io.BytesIO(body)
        ) from None
    except ForbiddenHostError as exc:
        exchange.error, exchange.error_detail = "forbidden_host", str(exc)
        raise
    except TimeoutError as exc:
        exchange.error, exchange.error_detail = "timeout", str(exc) or "timed out"
        raise
    except URLError as exc:
        is_timeout = isinstance(exc.reason, TimeoutError | socket.timeout)
        exchange.error = "timeout" if is_timeout else "connection"
        exchange.error_detail = str(exc.reason)
        raise
    except OSError as exc:
        exchange.error, exchange.error_detail = "connection", str(exc)
        raise
    finally:
        exchange.seconds = time.monotonic() - started


def _record(ctx: CallContext | None, exchange: Exchange) -> None:
    if ctx is None:
        return
    with ctx.lock:
        ctx.exchanges.append(exchange)


class _Buffered:
    """A read-once HTTP response, already read: what karrio's callers expect from urlopen."""

    def __init__(self, body: bytes, status: int, headers: Any, url: str) -> None:
        self._fp = io.BytesIO(body)
        self.status = status
        self.code = status
        self.headers = headers
        self.url = url

    def read(self, *args: Any) -> bytes:
        return self._fp.read(*args)

    def getcode(self) -> int:
        return self.status

    def info(self) -> Any:
        return self.headers

    def geturl(self) -> str:
        return self.url

    def close(self) -> None:
        self._fp.close()

    def __enter__(self) -> _Buffered:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
