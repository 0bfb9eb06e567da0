"""Both sandboxes in their own process, as Odoo and the carrier are in production.

In the service's process they would share its interpreter lock, and on two cores the
sandboxes' own work (Odoo's ORM, label rendering) would be billed to the service. The parent
gets a proxy with the few sandbox calls the benchmarks use; each is one message on a pipe.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any


@dataclass
class SandboxConfig:
    odoo_version: str = "17.0"
    seed: int = 7
    carriers: int = 1
    carrier_latency_ms: float = 80.0


def _serve(conn: Connection, config: SandboxConfig) -> None:
    """The child: start both sandboxes on loopback, then answer the parent's calls."""
    from app.carriers.sandbox import CarrierSandbox, run_carrier_sandbox
    from app.sync.odoo_sandbox import OdooSandbox, run_sandbox_server

    odoo = OdooSandbox(version=config.odoo_version, seed=config.seed, demo_data=True)
    boxes = [
        CarrierSandbox(seed=config.seed + i, latency_ms=config.carrier_latency_ms)
        for i in range(config.carriers)
    ]
    with ExitStack() as stack:
        odoo_url = stack.enter_context(run_sandbox_server(odoo, host="127.0.0.1", port=0))
        for box in boxes:
            stack.enter_context(run_carrier_sandbox(box))
        conn.send(
            {
                "odoo_url": odoo_url,
                "db": odoo.db,
                "login": odoo.login,
                "api_key": odoo.api_key,
                "carriers": [(b.base_url, b.api_key, b.webhook_secret) for b in boxes],
            }
        )
        while True:
            name, args = conn.recv()
            if name == "stop":
                conn.send(None)
                return
            try:
                conn.send(("ok", _call(odoo, boxes, name, args)))
            except Exception as exc:  # the parent re-raises it
                conn.send(("error", repr(exc)))


def _call(odoo: Any, boxes: list[Any], name: str, args: tuple[Any, ...]) -> Any:
    if name == "latency":
        odoo.latency_ms = args[0]
        return None
    if name == "purchases":
        bought: Counter[str] = Counter()
        for box in boxes:
            for shipment in box.shipments.values():
                if shipment.get("selected_rate"):
                    bought[str(shipment.get("reference"))] += 1
        return bought
    if name == "rpc_calls":
        return odoo.rpc_calls
    if name in ("records", "release_pickings", "reset_rpc_calls"):
        return getattr(odoo, name)(*args)
    raise ValueError(f"unknown sandbox call {name!r}")


class RemoteSandboxes:
    """The parent's handle: the calls the benchmarks make on the Odoo and carrier sandboxes."""

    def __init__(self, conn: Connection, info: dict[str, Any]) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self.odoo_url: str = info["odoo_url"]
        self.db: str = info["db"]
        self.login: str = info["login"]
        self.api_key: str = info["api_key"]
        self.carriers: list[tuple[str, str, str]] = info["carriers"]
        self._latency = 0.0

    def _ask(self, name: str, *args: Any) -> Any:
        with self._lock:
            self._conn.send((name, args))
            status, value = self._conn.recv()
        if status == "error":
            raise RuntimeError(f"sandbox call {name} failed: {value}")
        return value

    @property
    def latency_ms(self) -> float:
        return self._latency

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        self._ask("latency", float(value))
        self._latency = float(value)

    def records(self, model: str) -> list[dict[str, Any]]:
        return self._ask("records", model)  # type: ignore[no-any-return]

    def release_pickings(self, n: int) -> list[int]:
        return self._ask("release_pickings", n)  # type: ignore[no-any-return]

    def reset_rpc_calls(self) -> None:
        self._ask("reset_rpc_calls")

    @property
    def rpc_calls(self) -> Counter[tuple[str, str]]:
        return self._ask("rpc_calls")  # type: ignore[no-any-return]

    def purchases(self) -> Counter[str]:
        return self._ask("purchases")  # type: ignore[no-any-return]


@contextmanager
def remote_sandboxes(config: SandboxConfig) -> Iterator[RemoteSandboxes]:
    """Start the sandbox process; stop it (and wait for it) when the block exits."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(child, config), name="sandboxes", daemon=True)
    process.start()
    try:
        deadline = time.monotonic() + 120
        while not parent.poll(0.2):
            if not process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox process did not start")
        yield RemoteSandboxes(parent, parent.recv())
        parent.send(("stop", ()))
        parent.poll(10)
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)
