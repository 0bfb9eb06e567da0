"""The replayable event log: a Redis stream with consumer groups.

Every normalized tracking event is appended once; each subscriber (shipment-state projector and
Odoo milestones, triage, ETA, outbound webhooks) reads through its own consumer group, acks what
it handled, and can be rewound — ``replay`` re-feeds a handler from any point of the stream.
Handlers must be idempotent: a crash between handling and acking delivers the entry again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from app.core.logging import get_logger

log = get_logger(__name__)

TRACKING_STREAM = "waybill:events:tracking"
SHIPMENT_STREAM = "waybill:events:shipments"  # derived facts: status changes, ETA moves, ...
MAX_LEN = 5_000_000  # approximate trim: months of events at a large shipper's volume


@dataclass(frozen=True)
class Entry:
    id: str
    type: str
    data: dict[str, Any]


Handler = Callable[[Entry], None]


class EventLog:
    def __init__(self, conn: redis.Redis, stream: str = TRACKING_STREAM) -> None:
        self.conn = conn
        self.stream = stream

    def publish(self, event_type: str, data: dict[str, Any]) -> str:
        return self.publish_many(event_type, [data])[0]

    def publish_many(self, event_type: str, items: Sequence[dict[str, Any]]) -> list[str]:
        """Append ``items`` in order, in one round trip (a pipeline, not a transaction: an
        entry that made it stays; the caller's retry repeats the rest, and readers dedupe).

        A carrier's webhook body carries every event of the parcel so far; one ``XADD`` round
        trip each was a visible share of a webhook's acknowledgement time."""
        if not items:
            return []
        pipe = self.conn.pipeline(transaction=False)
        for data in items:
            pipe.xadd(
                self.stream,
                {"type": event_type, "data": json.dumps(data, default=str, sort_keys=True)},
                maxlen=MAX_LEN,
                approximate=True,
            )
        return [_text(entry_id) for entry_id in pipe.execute()]

    def ensure_group(self, group: str, *, start: str = "0") -> None:
        try:
            self.conn.xgroup_create(self.stream, group, id=start, mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def consume(
        self,
        group: str,
        consumer: str,
        handler: Handler,
        *,
        batch: int = 200,
        max_batches: int = 1000,
        orphan_after_ms: int = 60_000,
    ) -> int:
        """Handle what is pending for ``group`` (own unacked entries first), then return.

        Entries another consumer read and never acked for ``orphan_after_ms`` (its worker died:
        a new process has a new consumer name) are claimed first, so a crash can delay an
        event but never strand it.
        """
        self.ensure_group(group)
        self.claim_orphans(group, consumer, min_idle_ms=orphan_after_ms)
        handled = 0
        for start in ("0", ">"):  # "0": entries this consumer read but never acked (a crash)
            for _ in range(max_batches):
                try:
                    response = self.conn.xreadgroup(
                        group, consumer, {self.stream: start}, count=batch
                    )
                except redis.ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    self.ensure_group(group)  # the stream was trimmed away or reset
                    continue
                entries = list(_entries(response))
                if not entries:
                    break
                handled += self._handle_batch(group, handler, entries)
        return handled

    def _handle_batch(self, group: str, handler: Handler, entries: list[Entry]) -> int:
        """Handle a batch and acknowledge what was handled in one XACK — also when a handler
        raises part-way, so only the failed entry and those after it come back. A handler with
        a ``prepare(entries)`` method sees the batch first (to read in bulk what it needs)."""
        prepare = getattr(handler, "prepare", None)
        if prepare is not None:
            prepare(entries)
        done: list[str] = []
        try:
            for entry in entries:
                handler(entry)
                done.append(entry.id)
        finally:
            if done:
                self.conn.xack(self.stream, group, *done)
        return len(done)

    def claim_orphans(self, group: str, consumer: str, *, min_idle_ms: int) -> int:
        """Move entries idle in other consumers' pending lists to ``consumer`` (XAUTOCLAIM);
        they are then handled with its own unacked entries. Returns how many moved."""
        moved, cursor = 0, "0-0"
        for _ in range(1000):  # bounded: 100 entries a call
            try:
                # not JUSTID: redis-py then drops the cursor this loop needs
                result = self.conn.xautoclaim(
                    self.stream, group, consumer, min_idle_ms, start_id=cursor, count=100
                )
            except redis.ResponseError as exc:  # no group yet, or a server without XAUTOCLAIM
                log.warning("event_orphan_claim_failed", group=group, error=str(exc)[:200])
                return moved
            cursor = _text(result[0])
            moved += len(result[1])
            if cursor == "0-0":
                break
        if moved:
            log.warning("event_orphans_claimed", group=group, consumer=consumer, entries=moved)
        return moved

    def replay(
        self, handler: Handler, *, since: str = "-", until: str = "+", batch: int = 500
    ) -> int:
        """Feed every entry in ``[since, until]`` to ``handler``, outside any group."""
        count = 0
        cursor = since
        exclusive = False
        while True:
            start = f"({cursor}" if exclusive else cursor
            rows = self.conn.xrange(self.stream, min=start, max=until, count=batch)
            if not rows:
                return count
            for raw_id, fields in rows:
                handler(_entry(raw_id, fields))
                count += 1
            cursor, exclusive = _text(rows[-1][0]), True

    def lag(self, group: str) -> int | None:
        """Entries not yet delivered to ``group`` (for metrics and /ready)."""
        for info in self.conn.xinfo_groups(self.stream):
            if _text(info.get("name") or info.get(b"name")) == group:
                value = info.get("lag", info.get(b"lag"))
                return int(value) if value is not None else None
        return None


def stream_id(value: str) -> str:
    """Accept a stream id, ``-``/``+``, or an ISO time (turned into its millisecond id)."""
    if value in ("-", "+") or value.replace("-", "").isdigit():
        return value
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{int(moment.timestamp() * 1000)}-0"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entry(raw_id: Any, fields: dict[Any, Any]) -> Entry:
    decoded = {_text(k): _text(v) for k, v in fields.items()}
    return Entry(_text(raw_id), decoded.get("type", ""), json.loads(decoded.get("data", "{}")))


def _entries(response: Any) -> Iterator[Entry]:
    for _stream, rows in response or []:
        for raw_id, fields in rows:
            if fields:  # a pending entry trimmed from the stream comes back empty
                yield _entry(raw_id, fields)
