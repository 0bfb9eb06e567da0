"""Jobs the operations-page tests enqueue by dotted path (``ops_jobs.<name>``)."""

from __future__ import annotations

from app.core.errors import BadRequest

RUNS: dict[str, int] = {}
FAILURES_LEFT: dict[str, int] = {}


def fail_first(tag: str) -> str:
    """Fails for good (not retryable) while ``FAILURES_LEFT[tag]`` lasts, then succeeds."""
    RUNS[tag] = RUNS.get(tag, 0) + 1
    if FAILURES_LEFT.get(tag, 0) > 0:
        FAILURES_LEFT[tag] -= 1
        raise BadRequest(f"customs data missing for {tag}")
    return tag


def reset() -> None:
    RUNS.clear()
    FAILURES_LEFT.clear()
