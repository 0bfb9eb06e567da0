"""Group commit: requests that arrive together share one durable write.

A webhook must be stored before it is acknowledged, and on a busy API most of that cost is not
the row itself but the transaction around it: a pooled connection, a commit, a round trip to the
event log. Requests arriving while a write is in flight wait for the next one and go in together,
so the batch grows with the load and an idle API still writes each request at once (no timer,
no added latency). Each caller gets its own result, or the exception that failed its batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommitFull(Exception):
    """More is waiting for the next write than the instance holds: the caller should be told
    to come back later (a webhook sender retries a 503) rather than held in memory."""


class GroupCommit(Generic[Item, Result]):
    """Feed items from coroutines to ``write`` (blocking; run in a worker thread) in batches.

    ``write`` takes a list and returns one result per item, in order. One batch is in flight at
    a time per instance — an instance belongs to one event loop (one API process). A batch holds
    at most ``max_batch`` items and, when ``size`` is given, at most ``max_bytes`` of them (but
    always at least one item), so a burst of large bodies does not become one huge statement.
    What waits for the next write is bounded by ``max_waiting_bytes`` (never refusing an item
    when nothing waits): past it ``submit`` raises :class:`GroupCommitFull`.
    """

    def __init__(
        self,
        write: Callable[[list[Item]], list[Result]],
        *,
        max_batch: int = 256,
        max_bytes: int = 8 * 1024 * 1024,
        max_waiting_bytes: int = 64 * 1024 * 1024,
        size: Callable[[Item], int] | None = None,
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._max_bytes = max_bytes
        self._max_waiting_bytes = max_waiting_bytes
        self._size = size
        self._waiting_bytes = 0
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a test client may run each request on a new loop
            self._loop, self._waiting, self._flusher, self._waiting_bytes = loop, [], None, 0
        weight = self._weight(item)
        if self._waiting and self._waiting_bytes + weight > self._max_waiting_bytes:
            raise GroupCommitFull(f"{self._waiting_bytes} bytes already wait for a write")
        future: asyncio.Future[Result] = loop.create_future()
        self._waiting.append((item, future))
        self._waiting_bytes += weight
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        # A caller that goes away (client disconnect) must not cancel its neighbours' write.
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._waiting:
            batch = self._next_batch()
            try:
                results = await run_in_threadpool(self._write, [item for item, _ in batch])
            except Exception as exc:  # every caller of the batch hears why it was not stored
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    def _weight(self, item: Item) -> int:
        return self._size(item) if self._size is not None else 0

    def _next_batch(self) -> list[tuple[Item, asyncio.Future[Result]]]:
        count, total = 0, 0
        for item, _ in self._waiting[: self._max_batch]:
            weight = self._weight(item)
            if count and total + weight > self._max_bytes:
                break
            count, total = count + 1, total + weight
        batch = self._waiting[:count]
        del self._waiting[:count]
        self._waiting_bytes -= total
        return batch
