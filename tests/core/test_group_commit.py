"""Group commit: callers that arrive during a write share the next one, each gets its own
answer, and a failed batch fails only its own callers."""

from __future__ import annotations

import asyncio
import threading

import pytest

from app.core.group_commit import GroupCommit, GroupCommitFull


class Store:
    """A blocking write that records its batches; the first one can be held open."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()
        self.fail_on: set[int] = set()

    def write(self, items: list[int]) -> list[str]:
        self.entered.set()
        self.hold.wait(5)
        self.batches.append(list(items))
        if self.fail_on & set(items):
            raise RuntimeError("disk full")
        return [f"stored {i}" for i in items]


async def _wait_for(event: threading.Event) -> None:
    while not event.is_set():
        await asyncio.sleep(0.001)


async def _during_a_write(
    commit: GroupCommit[int, str], store: Store, first: int, rest: range
) -> list[object]:
    """Submit ``first``, hold its write open while ``rest`` arrive, then let everything run."""
    store.hold.clear()
    store.entered.clear()
    head = asyncio.create_task(commit.submit(first))
    await _wait_for(store.entered)
    tail = [asyncio.create_task(commit.submit(i)) for i in rest]
    await asyncio.sleep(0.01)
    store.hold.set()
    return await asyncio.gather(head, *tail, return_exceptions=True)


def test_callers_arriving_during_a_write_share_the_next_one() -> None:
    store = Store()
    commit: GroupCommit[int, str] = GroupCommit(store.write)

    results = asyncio.run(_during_a_write(commit, store, 0, range(1, 20)))

    assert results == [f"stored {i}" for i in range(20)]
    assert store.batches == [[0], list(range(1, 20))]


def test_an_idle_caller_is_written_at_once_and_batches_are_capped() -> None:
    store = Store()
    commit: GroupCommit[int, str] = GroupCommit(store.write, max_batch=8)

    async def scenario() -> list[object]:
        alone = await commit.submit(99)
        return [alone, *await _during_a_write(commit, store, 0, range(1, 21))]

    results = asyncio.run(scenario())

    assert results[0] == "stored 99" and len(results) == 22
    assert [len(b) for b in store.batches] == [1, 1, 8, 8, 4]


def test_a_failed_batch_fails_its_own_callers_only() -> None:
    store = Store()
    store.fail_on = {3}
    commit: GroupCommit[int, str] = GroupCommit(store.write, max_batch=4)

    results = asyncio.run(_during_a_write(commit, store, 0, range(1, 9)))

    assert store.batches == [[0], [1, 2, 3, 4], [5, 6, 7, 8]]
    assert results[0] == "stored 0"
    assert all(isinstance(r, RuntimeError) for r in results[1:5])
    assert results[5:] == [f"stored {i}" for i in range(5, 9)]


def test_a_caller_that_goes_away_does_not_cancel_its_neighbours() -> None:
    store = Store()
    commit: GroupCommit[int, str] = GroupCommit(store.write)

    async def scenario() -> tuple[list[str], bool]:
        store.hold.clear()
        leaver = asyncio.create_task(commit.submit(1))
        stayer = asyncio.create_task(commit.submit(2))
        await _wait_for(store.entered)
        leaver.cancel()
        store.hold.set()
        with pytest.raises(asyncio.CancelledError):
            await leaver
        return [await stayer], leaver.cancelled()

    results, cancelled = asyncio.run(scenario())

    assert results == ["stored 2"] and cancelled
    assert store.batches == [[1, 2]]  # the leaver's item was still written: it was accepted


def test_a_batch_is_also_capped_by_size_but_never_empty() -> None:
    store = Store()
    commit: GroupCommit[int, str] = GroupCommit(store.write, max_bytes=10, size=lambda item: item)

    results = asyncio.run(_during_a_write(commit, store, 1, range(2, 8)))

    assert results == [f"stored {i}" for i in range(1, 8)]
    # weights 2+3+4 fit in 10; 5 alone; 6 alone; 7 alone (each over half the cap)
    assert store.batches == [[1], [2, 3, 4], [5], [6], [7]]


def test_an_item_larger_than_the_cap_still_goes_alone() -> None:
    store = Store()
    commit: GroupCommit[int, str] = GroupCommit(store.write, max_bytes=3, size=lambda item: item)

    results = asyncio.run(_during_a_write(commit, store, 9, range(1, 3)))

    assert results == ["stored 9", "stored 1", "stored 2"]
    assert store.batches == [[9], [1, 2]]


def test_what_waits_is_bounded_but_a_lone_caller_is_never_refused() -> None:
    store = Store()
    commit: GroupCommit[int, str] = GroupCommit(
        store.write, max_waiting_bytes=10, size=lambda item: item
    )

    async def scenario() -> tuple[list[object], str]:
        store.hold.clear()
        head = asyncio.create_task(commit.submit(50))  # over the bound, but nothing waits
        await _wait_for(store.entered)  # ... and it is being written, not waiting
        waiting = [asyncio.create_task(commit.submit(i)) for i in (4, 5, 3)]  # 4 + 5 fit; 3 not
        await asyncio.sleep(0.01)
        store.hold.set()
        results = await asyncio.gather(head, *waiting, return_exceptions=True)
        return results, await commit.submit(7)  # room again once the batch was taken

    results, later = asyncio.run(scenario())

    assert results[:3] == ["stored 50", "stored 4", "stored 5"]
    assert isinstance(results[3], GroupCommitFull)
    assert later == "stored 7" and store.batches == [[50], [4, 5], [7]]
