"""Circuit breaker on the real Redis: opens on sustained failure, probes, closes."""

from __future__ import annotations

import time

import pytest
import redis

from app.core.breaker import CircuitBreaker

pytestmark = pytest.mark.redis


def test_opens_after_threshold_then_half_open_probe(redis_conn: redis.Redis) -> None:
    breaker = CircuitBreaker(
        redis_conn, "acct", failure_threshold=3, window_seconds=30, cooldown_seconds=1
    )
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state() == "closed" and breaker.allow()
    breaker.record_failure()
    assert breaker.state() == "open" and not breaker.allow()
    other_worker = CircuitBreaker(redis_conn, "acct", failure_threshold=3, cooldown_seconds=1)
    assert other_worker.state() == "open"  # shared through Redis
    time.sleep(1.05)
    assert breaker.state() == "half_open"
    assert breaker.allow() is True  # the one probe
    assert other_worker.allow() is False
    breaker.record_failure()
    assert breaker.state() == "open"
    time.sleep(1.05)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state() == "closed" and other_worker.allow()


def test_success_resets_the_failure_count(redis_conn: redis.Redis) -> None:
    breaker = CircuitBreaker(redis_conn, "acct2", failure_threshold=2)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state() == "closed"
