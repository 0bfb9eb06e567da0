"""Per-carrier-account rate limits on the real Redis: shared by every worker, applied in the guarded
adapter, waiting briefly or deferring the job — never failing the intent."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis
from pydantic import ValidationError

from app.carriers.karrio_support import runtime
from app.carriers.sandbox import CarrierSandbox, run_carrier_sandbox
from app.core.carrier_limits import CARRIER_THROTTLED, CarrierRate, CarrierRateLimiter
from app.core.config import Settings
from app.core.db import Database
from app.models import ShipmentRequest, ShipmentState
from app.store.tables import ShipmentRow
from app.sync.booking.directory import CarrierDirectory
from app.sync.booking.guarded import CarrierThrottledError
from app.sync.booking.service import BookingService

pytestmark = pytest.mark.redis

ADDRESS = {
    "name": "Ada",
    "street1": "500 Market St",
    "city": "San Francisco",
    "state_code": "CA",
    "postal_code": "94105",
    "country_code": "US",
}


def throttled(account: str, outcome: str) -> float:
    return CARRIER_THROTTLED.labels(account, outcome)._value.get()  # type: ignore[no-any-return]


def test_workers_share_one_budget_per_account(redis_conn: redis.Redis) -> None:
    """Four "workers" (own connections, own limiter objects) hammer one account for 0.6 s:
    together they never exceed burst + rate x elapsed, whoever wins each token."""
    rate = CarrierRate(per_second=20, burst=3)
    url = redis_conn.connection_pool.connection_kwargs
    got: list[float] = []
    lock = threading.Lock()
    started = time.monotonic()

    def worker() -> None:
        conn = redis.Redis(host=url["host"], port=url["port"], db=url["db"])
        limiter = CarrierRateLimiter(conn, default=None, max_wait_seconds=5)
        while time.monotonic() - started < 0.6:
            assert limiter.acquire("ups-main", rate).allowed
            with lock:
                got.append(time.monotonic() - started)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert len(got) <= rate.burst + rate.per_second * elapsed + 1
    assert len(got) >= rate.burst + rate.per_second * 0.3  # and the budget is actually used
    other = CarrierRateLimiter(redis_conn, default=None, max_wait_seconds=0)
    assert other.acquire("fedex-main", rate).allowed  # accounts are independent


def test_a_short_wait_is_absorbed_a_long_one_defers(redis_conn: redis.Redis) -> None:
    rate = CarrierRate(per_second=10, burst=1)
    patient = CarrierRateLimiter(redis_conn, default=None, max_wait_seconds=1.0)
    hasty = CarrierRateLimiter(redis_conn, default=None, max_wait_seconds=0.0)
    waited_before = throttled("acct-w", "waited")
    deferred_before = throttled("acct-w", "deferred")
    assert patient.acquire("acct-w", rate).allowed
    permit = patient.acquire("acct-w", rate)  # next token due in 0.1 s: wait for it
    assert permit.allowed and 0.05 < permit.waited <= 0.3
    refused = hasty.acquire("acct-w", rate)
    assert not refused.allowed and 0 < refused.retry_after <= 0.1
    assert throttled("acct-w", "waited") == waited_before + 1
    assert throttled("acct-w", "deferred") == deferred_before + 1


def test_account_overrides_and_defaults(redis_conn: redis.Redis) -> None:
    settings = Settings(env="test", carrier_rate_per_second=4, carrier_rate_burst=8, _env_file=None)  # type: ignore[call-arg]
    limiter = CarrierRateLimiter.from_settings(settings, redis_conn)
    box = CarrierSandbox()
    box.base_url = "http://127.0.0.1:1"
    assert limiter.rate_for(box.account("a")) == CarrierRate(per_second=4, burst=8)
    own = box.account("b", options={"rate_limit": {"per_second": 0.5, "burst": 2}})
    assert limiter.rate_for(own) == CarrierRate(per_second=0.5, burst=2)
    assert limiter.for_account(box.account("c", options={"rate_limit": {"per_second": 0}})) is None
    with pytest.raises(ValidationError):
        limiter.rate_for(box.account("d", options={"rate_limit": {"per_second": -1}}))
    off = Settings(env="test", carrier_rate_per_second=0, _env_file=None)  # type: ignore[call-arg]
    assert CarrierRateLimiter.from_settings(off, redis_conn).rate_for(box.account("a")) is None


def test_an_unreachable_redis_lets_calls_through() -> None:
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    limiter = CarrierRateLimiter(dead, default=None)
    assert limiter.acquire("x", CarrierRate(per_second=1, burst=1)).allowed


@pytest.fixture
def sandbox() -> Iterator[CarrierSandbox]:
    previous = runtime.loopback_only()
    runtime.install(loopback_only=True)
    box = CarrierSandbox(seed=11)
    with run_carrier_sandbox(box):
        yield box
    runtime.set_loopback_only(previous)


def test_a_throttled_booking_is_deferred_never_failed(
    sqlite_db: Database, redis_conn: redis.Redis, sandbox: CarrierSandbox
) -> None:
    """Three tokens: shipment A rates and buys (2); B rates (1) and its buy is deferred before
    reaching the carrier — B stays bookable with its quote and books once a token is back."""
    account = sandbox.account(options={"rate_limit": {"per_second": 0.01, "burst": 3}})
    limiter = CarrierRateLimiter(redis_conn, default=None, max_wait_seconds=0)
    directory = CarrierDirectory([account], breakers=redis_conn, rate_limits=limiter)
    booking = BookingService(db=sqlite_db, directory=directory)
    ids = [
        booking.create_direct(
            ShipmentRequest(
                reference=f"RL-{i}", shipper=ADDRESS, recipient=ADDRESS, parcels=[{"weight": 1}]
            ),
            idempotency_key=f"rl-{i}",
            actor="test",
        )
        for i in range(2)
    ]
    assert booking.book_shipment(ids[0]).state == ShipmentState.BOOKED.value
    calls = len(sandbox.requests)

    with pytest.raises(CarrierThrottledError) as caught:
        booking.book_shipment(ids[1])

    assert caught.value.retryable  # the job backs off; nothing is dead-lettered
    assert len(sandbox.requests) == calls + 1  # the quote went out, the buy did not
    with sqlite_db.session() as s:
        row = s.get(ShipmentRow, ids[1])
        assert row is not None and row.state == ShipmentState.RATED.value
    limiter.bucket.reset(account.id)  # time passes: the bucket refills
    assert booking.book_shipment(ids[1]).state == ShipmentState.BOOKED.value
    bought = [r for r in sandbox.requests if r.path.endswith("/buy")]
    assert len(bought) == 2
