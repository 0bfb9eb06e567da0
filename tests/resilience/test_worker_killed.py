"""Scenario 4: a worker killed (SIGKILL to its process group: worker, work-horse, scheduler) while
inside a booking job. Its job is abandoned; the heartbeat lapses, registry maintenance on the
surviving workers retries it, and the booking ends booked once — or, if the kill cut a purchase
off mid-air, held for a dispatcher with the reference to check. Never bought twice."""

from __future__ import annotations

import time

import pytest
from fleet import Figures, Fleet, check_invariants
from processes import wait_for
from rq import Worker
from rq.job import Job
from sqlalchemy import select

from app.models import ShipmentState
from app.store.tables import ShipmentRow
from app.sync.intake.jobs import poll_pickings

pytestmark = pytest.mark.redis

PICKINGS = 8


def test_worker_killed_mid_job_is_recovered_without_a_second_label(fleet: Fleet) -> None:
    fleet.carrier.latency_ms = 200  # each carrier call takes a while: a window to die in
    fleet.odoo_box.release_pickings(PICKINGS)
    poll_pickings()
    with fleet.ctx.db.session() as s:
        ids = list(
            s.scalars(select(ShipmentRow.id).where(ShipmentRow.state == ShipmentState.INTENT.value))
        )
    intents = len(ids)
    assert intents >= PICKINGS // 2
    started = time.monotonic()
    conn = fleet.ctx.redis
    survivor = fleet.start_worker("survivor")  # first up: it runs the scheduler (retries)
    assert wait_for(lambda: any(w.pid == survivor.pid for w in Worker.all(conn)), 60, 0.1)
    victim = fleet.start_worker("victim")

    def victim_buying() -> str | None:
        """The victim's job id once it is inside the purchase (state ``booking``): the worst
        moment to die, as the carrier may sell the label with nobody left to record it."""
        for w in Worker.all(conn):
            job_id = w.get_current_job_id() if w.pid == victim.pid else None
            if job_id and job_id.startswith("book-"):
                with fleet.ctx.db.session() as s:
                    row = s.get(ShipmentRow, job_id.removeprefix("book-"))
                    if row is not None and row.state == ShipmentState.BOOKING.value:
                        return job_id
        return None

    assert wait_for(lambda: victim_buying() is not None, 60, 0.02), victim.output()[-2000:]
    job_id = victim_buying()
    assert job_id is not None
    state_at_kill = ShipmentState.BOOKING.value
    victim.kill_group()
    killed_at = time.monotonic()
    fleet.start_worker("replacement")

    # heartbeat lapses -> maintenance retries the abandoned job; the sweeper runs meanwhile
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not fleet.settled(intents):
        time.sleep(2.0)
        fleet.sweep()
    assert fleet.settled(intents), dict(fleet.states())
    drained = time.monotonic()

    counts = check_invariants(fleet, ids)
    with fleet.ctx.db.session() as s:
        final = s.get(ShipmentRow, job_id.removeprefix("book-"))
        assert final is not None
        final_state = final.state
    # the retry finds the purchase fence up: no second purchase, a person checks the reference
    trail = [
        line[:300]
        for w in fleet.workers
        for line in w.output().splitlines()
        if job_id.removeprefix("book-") in line and "odoo_rpc" not in line
    ]
    assert final_state == ShipmentState.AWAITING_APPROVAL.value, "\n".join(trail)
    retried = Job.fetch(job_id, connection=conn)
    Figures.of_run(
        fleet,
        "4: worker killed mid-job",
        intents=intents,
        counts=counts,
        sweeper_requeued=0,
        seconds_to_drain=round(drained - started, 1),
        extra={
            "killed_job": job_id,
            "state_at_kill": state_at_kill,
            "final_state": final_state,
            "retries_left": retried.retries_left,
            "seconds_after_kill": round(drained - killed_at, 1),
        },
    ).print()
    assert counts["booked"] + counts["held"] + counts["dead"] == intents
