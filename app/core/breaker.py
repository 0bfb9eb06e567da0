"""Circuit breakers shared by every worker (state in Redis), one per carrier account.

closed ──(N retryable failures within the window)──▶ open ──(cooldown)──▶ half-open
   ▲                                                  ▲                      │ one probe call
   └──────────────── probe succeeds ◀─────────────────┴──── probe fails ─────┘

While open, calls fail fast with a retryable error, so jobs back off instead of piling onto a
carrier that is down; on-call sees the state in a metric and a log line at each transition.
"""

from __future__ import annotations

import time
from typing import Literal

import redis
from prometheus_client import Gauge

from app.core.logging import get_logger

log = get_logger(__name__)

State = Literal["closed", "open", "half_open"]
BREAKER_STATE = Gauge(
    "waybill_circuit_state", "Circuit breaker state (0 closed, 1 half-open, 2 open).", ["name"]
)
_LEVEL = {"closed": 0, "half_open": 1, "open": 2}


class CircuitBreaker:
    def __init__(
        self,
        conn: redis.Redis,
        name: str,
        *,
        failure_threshold: int = 5,
        window_seconds: int = 60,
        cooldown_seconds: int = 30,
    ) -> None:
        self.conn = conn
        self.name = name
        self.threshold = failure_threshold
        self.window = window_seconds
        self.cooldown = cooldown_seconds
        prefix = f"waybill:cb:{name}"
        self._failures, self._open, self._probe = (
            f"{prefix}:failures",
            f"{prefix}:open",
            (f"{prefix}:probe"),
        )

    def state(self) -> State:
        opened = self.conn.get(self._open)
        if opened is None:
            return "closed"
        return "open" if time.time() < float(opened) + self.cooldown else "half_open"

    def allow(self) -> bool:
        """True if a call may go out now (in half-open, only for the one probe)."""
        state = self.state()
        if state == "closed":
            return True
        if state == "open":
            return False
        return bool(self.conn.set(self._probe, "1", nx=True, ex=self.cooldown))

    def record_success(self) -> None:
        if self.conn.exists(self._open):
            log.info("circuit_closed", name=self.name)
        self.conn.delete(self._failures, self._open, self._probe)
        BREAKER_STATE.labels(self.name).set(0)

    def record_failure(self) -> None:
        if self.state() == "half_open":  # the probe failed: open again
            self._trip()
            return
        failures = self.conn.incr(self._failures)
        if failures == 1:
            self.conn.expire(self._failures, self.window)
        if failures >= self.threshold and not self.conn.exists(self._open):
            self._trip()

    def _trip(self) -> None:
        self.conn.set(self._open, str(time.time()))
        self.conn.delete(self._probe, self._failures)
        BREAKER_STATE.labels(self.name).set(_LEVEL["open"])
        log.error("circuit_opened", name=self.name, cooldown_seconds=self.cooldown)
