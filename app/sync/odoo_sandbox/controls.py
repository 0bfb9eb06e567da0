"""Test and demo controls: injected faults, latency, the RPC log and the automation webhook.

None of this exists in Odoo; it lets tests and benchmarks reproduce what a real deployment does
to a client: slow answers, a proxy in front answering 503, requests that hang, concurrency
errors that survived Odoo's own retries (reference §5), and the "Send Webhook Notification"
automation of reference §4.1.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from .errors import ValidationError
from .orm import Database, Env, Row

log = logging.getLogger(__name__)

FAULT_KINDS = ("serialization", "unavailable", "timeout", "lock")

UNAVAILABLE_PAGE = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
GATEWAY_TIMEOUT_PAGE = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class FaultInjector:
    """A queue of faults, each consumed by one object-service call."""

    def __init__(self) -> None:
        self._queue: deque[str] = deque()
        self._lock = threading.Lock()
        self.timeout_seconds = 30.0

    def fail_next(self, n: int, kind: str) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {FAULT_KINDS}")
        if n < 0:
            raise ValueError("n must be >= 0")
        with self._lock:
            self._queue.extend([kind] * n)

    def take(self) -> str | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def pending(self) -> list[str]:
        with self._lock:
            return list(self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


@dataclass(frozen=True)
class RpcLogEntry:
    protocol: str
    model: str
    method: str
    at: float


class RpcLog:
    """Counts RPCs per ``(model, method)``; ``common`` calls count as ``("common", name)``."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._counter: Counter[tuple[str, str]] = Counter()
        self._entries: deque[RpcLogEntry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def record(self, protocol: str, model: str, method: str) -> None:
        with self._lock:
            self._counter[(model, method)] += 1
            self._entries.append(RpcLogEntry(protocol, model, method, time.time()))

    def counter(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter(self._counter)

    def entries(self) -> list[RpcLogEntry]:
        with self._lock:
            return list(self._entries)

    def reset(self) -> None:
        with self._lock:
            self._counter.clear()
            self._entries.clear()


@dataclass
class WebhookDelivery:
    url: str
    body: str
    status: int | None = None
    error: str | None = None
    at: float = field(default_factory=time.time)

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


#: requests' default headers plus the one Odoo sets (reference §4.1: no auth, no signature).
WEBHOOK_HEADERS = {
    "User-Agent": "python-requests/2.31.0",
    "Accept-Encoding": "gzip, deflate",
    "Accept": "*/*",
    "Connection": "keep-alive",
    "Content-Type": "application/json",
}


class AutomationWebhook:
    """An automation rule on ``stock.picking`` running "Send Webhook Notification".

    It fires when one of ``trigger_fields`` changes (default: ``state``). In 17.0/18.0 the POST
    is started *before* the transaction commits, as ``base_automation`` does; in 19.0 only after
    a successful commit. ``duplicates`` sends each notification that many times, reproducing the
    repeats a retried transaction causes. One try, 1 s timeout, no retry, like Odoo.
    """

    model = "stock.picking"

    def __init__(self, db: Database) -> None:
        self.db = db
        self.url: str | None = None
        self.fields: list[str] = []
        self.duplicates = 1
        self.trigger_fields: tuple[str, ...] = ("state",)
        self.action_name = "Send Webhook Notification"
        self.action_id = 1
        self.timeout = 1.0
        self.deliveries: list[WebhookDelivery] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def configure(
        self,
        url: str | None,
        fields: Sequence[str],
        duplicates: int = 1,
        trigger_fields: Sequence[str] = ("state",),
    ) -> None:
        schema = self.db.model(self.model)
        for name in [*fields, *trigger_fields]:
            if name not in schema.fields:
                raise ValueError(f"Invalid field {name!r} on model {self.model!r}")
        restricted = [name for name in fields if schema.fields[name].groups]
        if restricted:
            raise ValidationError(
                "Group-restricted fields cannot be included in webhook payloads, as it could "
                "allow any user to accidentally leak sensitive information. You will have to "
                "remove the following fields from the webhook payload:\n"
                + "\n".join(f"- {name}" for name in restricted)
            )
        if duplicates < 1:
            raise ValueError("duplicates must be >= 1")
        self.url = url
        self.fields = list(fields)
        self.duplicates = duplicates
        self.trigger_fields = tuple(trigger_fields)

    def watcher(self, env: Env, model: str, rid: int, old: Row | None, new: Row) -> None:
        """Registered on the database: each triggering write produces one notification.

        The payload is read right after the write, inside the transaction, as the automation
        does. 17.0/18.0 send it at once (so a later rollback does not take it back); 19.0 sends
        it from a post-commit hook, so a rolled-back call sends nothing.
        """
        if model != self.model or not self.url:
            return
        if old is not None and all(old.get(f) == new.get(f) for f in self.trigger_fields):
            return
        url = self.url
        body = self.payload(env, rid)

        def send() -> None:
            for _ in range(self.duplicates):
                self._post_async(url, body)

        if self.db.version == "19.0":
            env.tx.postcommit.append(send)
        else:
            send()

    def payload(self, env: Env, rid: int) -> str:
        """``_run_action_webhook``: ``_action``, ``_id``, ``_model`` + ``read(load=None)``."""
        vals: dict[str, Any] = {
            "_model": self.model,
            "_id": rid,
            "_action": f"{self.action_name}(#{self.action_id})",
        }
        if self.fields:
            vals.update(env.read(self.model, [rid], self.fields, load=None)[0])
        return json.dumps(vals, sort_keys=True, default=str)

    def _post_async(self, url: str, body: str) -> None:
        thread = threading.Thread(target=self._post, args=(url, body), daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _post(self, url: str, body: str) -> None:
        delivery = WebhookDelivery(url=url, body=body)
        try:
            response = httpx.post(
                url, content=body.encode(), headers=WEBHOOK_HEADERS, timeout=self.timeout
            )
            delivery.status = response.status_code
            response.raise_for_status()
        except httpx.ReadTimeout:
            delivery.error = "timeout"
            log.warning(
                "Webhook call timed out after %ss - it may or may not have failed. "
                "If this happens often, it may be a sign that the system you're "
                "trying to reach is slow or non-functional.",
                self.timeout,
            )
        except httpx.HTTPError as exc:
            delivery.error = str(exc)
            log.warning("Webhook call failed: %s", exc)
        with self._lock:
            self.deliveries.append(delivery)

    def wait(self, timeout: float = 5.0) -> None:
        """Wait for the notifications already started (tests)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
