"""Job functions the queue tests enqueue by dotted path."""

from __future__ import annotations

from app.core.errors import BadRequest, UpstreamError
from app.core.logging import correlation_id_var

CALLS: list[tuple[str, object, str | None]] = []
FAIL_TIMES: dict[str, int] = {}


def record(tag: str) -> str:
    CALLS.append(("record", tag, correlation_id_var.get()))
    return tag


def flaky(tag: str) -> str:
    CALLS.append(("flaky", tag, correlation_id_var.get()))
    if FAIL_TIMES.get(tag, 0) > 0:
        FAIL_TIMES[tag] -= 1
        raise UpstreamError("carrier hiccup")
    return tag


def rejected(tag: str) -> None:
    CALLS.append(("rejected", tag, correlation_id_var.get()))
    raise BadRequest("will never work")


GATE: tuple = ()


def gated(tag: str) -> None:
    """Blocks on the first call until the test releases it."""
    CALLS.append(("gated", tag, correlation_id_var.get()))
    started, release = GATE
    if not started.is_set():
        started.set()
        release.wait(5)
