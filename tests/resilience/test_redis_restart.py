"""Scenario 2: Redis restarted in the middle of a burst (no persistence: every queued job, lock,
circuit and bucket is gone). Two ``waybill worker`` processes ride it out; the sweeper rebuilds
the queue from the database; each intent ends booked once (or held/dead with its reason)."""

from __future__ import annotations

import time

import pytest
from fleet import Figures, Fleet, check_invariants
from processes import wait_for
from sqlalchemy import select

from app.models import ShipmentState
from app.store.tables import ShipmentRow
from app.sync.intake.jobs import poll_pickings

pytestmark = pytest.mark.redis

INTENTS = 24  # pickings released; those intake accepts become intents
IN_FLIGHT_GRACE = 2.0  # stands in for the sweeper's production cutoff (minutes >> one job)


def test_redis_restart_mid_burst_loses_nothing_and_buys_nothing_twice(fleet: Fleet) -> None:
    fleet.carrier.latency_ms = 40
    fleet.odoo_box.release_pickings(INTENTS)
    poll_pickings()  # the real intake: one intent and one booking job per ready picking
    with fleet.ctx.db.session() as s:  # (pickings intake refused, e.g. no customs data, aside)
        ids = list(
            s.scalars(select(ShipmentRow.id).where(ShipmentRow.state == ShipmentState.INTENT.value))
        )
    intents = len(ids)
    assert intents >= INTENTS // 2
    started = time.monotonic()
    workers = [fleet.start_worker("w1"), fleet.start_worker("w2")]

    def booked() -> int:
        return fleet.states().get(ShipmentState.BOOKED.value, 0)

    assert wait_for(lambda: booked() >= 5, 60, step=0.05), workers[0].output()[-3000:]
    booked_before = booked()
    queued_before = sum(fleet.ctx.queue.depth().values())
    fleet.redis.restart(down_seconds=1.0)
    assert fleet.ctx.redis.dbsize() == 0  # the restart really lost the queue
    restarted_at = time.monotonic()

    # the scheduler's sweep: after the in-flight grace, every second, until all is settled
    time.sleep(IN_FLIGHT_GRACE)
    lost = fleet.sweep()  # intents whose queue entry the restart took
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not fleet.settled(intents):
        time.sleep(1.0)
        fleet.sweep()  # deduped by job id: a booking still queued is not queued twice
    assert fleet.settled(intents), dict(fleet.states())
    drained = time.monotonic()

    counts = check_invariants(fleet, ids)
    assert all(w.proc.poll() is None for w in workers)  # no worker died with the Redis
    Figures.of_run(
        fleet,
        "2: redis restarted mid-burst (no persistence)",
        intents=intents,
        counts=counts,
        sweeper_requeued=lost,
        seconds_to_drain=round(drained - started, 1),
        extra={
            "booked_before_restart": booked_before,
            "queued_at_restart": queued_before,
            "seconds_after_restart": round(drained - restarted_at, 1),
        },
    ).print()
    assert counts["booked"] + counts["held"] + counts["dead"] == intents
    assert counts["booked"] >= intents - 4  # only a purchase cut off mid-air may need a person
