"""The event log on the real Redis: a dead consumer's unacked entries are claimed, not stranded."""

from __future__ import annotations

import pytest
import redis as redis_lib

from app.core.events import Entry, EventLog

pytestmark = pytest.mark.redis


def test_entries_a_dead_worker_read_are_handled_by_the_next_one(
    redis_conn: redis_lib.Redis,
) -> None:
    log = EventLog(redis_conn, stream="waybill:test:orphans")
    for n in range(5):
        log.publish("tracking.event", {"n": n})
    log.ensure_group("projector")
    # a worker reads three entries and dies before acking them (a new process = a new name)
    redis_conn.xreadgroup("projector", "host-111", {log.stream: ">"}, count=3)

    seen: list[int] = []

    def handle(entry: Entry) -> None:
        seen.append(entry.data["n"])

    # a fresh claim window leaves them with their reader: it may still be working on them
    assert log.consume("projector", "host-222", handle, orphan_after_ms=60_000) == 2
    assert sorted(seen) == [3, 4]
    assert redis_conn.xpending(log.stream, "projector")["pending"] == 3

    # once idle past the window they are the next worker's: handled once, acked
    assert log.consume("projector", "host-222", handle, orphan_after_ms=0) == 3
    assert sorted(seen) == [0, 1, 2, 3, 4]
    assert redis_conn.xpending(log.stream, "projector")["pending"] == 0
    assert log.consume("projector", "host-333", handle, orphan_after_ms=0) == 0


def test_a_batch_is_appended_in_order_with_one_id_per_entry(
    redis_conn: redis_lib.Redis,
) -> None:
    log = EventLog(redis_conn, stream="waybill:test:batch")
    redis_conn.delete(log.stream)
    ids = log.publish_many("tracking.event", [{"n": n} for n in range(4)])
    assert log.publish_many("tracking.event", []) == []
    entries = redis_conn.xrange(log.stream)
    assert [(e[0].decode() if isinstance(e[0], bytes) else e[0]) for e in entries] == ids
    assert len(set(ids)) == 4
    log.ensure_group("reader")
    seen: list[int] = []
    log.consume("reader", "host-1", lambda entry: seen.append(entry.data["n"]))
    assert seen == [0, 1, 2, 3]
    redis_conn.delete(log.stream)


def test_a_handler_failing_mid_batch_leaves_only_the_rest_unacked(
    redis_conn: redis_lib.Redis,
) -> None:
    """One XACK per batch, but never for an entry that was not handled."""
    log = EventLog(redis_conn, stream="waybill:test:midbatch")
    for n in range(6):
        log.publish("tracking.event", {"n": n})

    class Handler:
        def __init__(self, fail_on: int | None) -> None:
            self.fail_on = fail_on
            self.batches: list[list[int]] = []
            self.seen: list[int] = []

        def prepare(self, entries: list[Entry]) -> None:
            self.batches.append([e.data["n"] for e in entries])

        def __call__(self, entry: Entry) -> None:
            if entry.data["n"] == self.fail_on:
                raise RuntimeError("database down")
            self.seen.append(entry.data["n"])

    failing = Handler(fail_on=3)
    with pytest.raises(RuntimeError):
        log.consume("projector", "host-1", failing)
    assert failing.batches == [[0, 1, 2, 3, 4, 5]] and failing.seen == [0, 1, 2]
    assert redis_conn.xpending(log.stream, "projector")["pending"] == 3

    healed = Handler(fail_on=None)
    assert log.consume("projector", "host-1", healed) == 3  # its own unacked entries first
    assert healed.seen == [3, 4, 5]
    assert redis_conn.xpending(log.stream, "projector")["pending"] == 0
