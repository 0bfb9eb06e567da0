"""Dead letters on RQ (real Redis): a booking that kept failing is replayed once fixed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis as redis_lib
from booking_env import BookingEnv
from rq import SimpleWorker
from typer.testing import CliRunner

from app.cli import cli
from app.core.context import AppContext, set_context
from app.core.dlq import RQDeadLetters
from app.core.queue import JobSpec, RQJobQueue
from app.models import ShipmentState
from app.sync.booking.jobs import BOOK_JOB

pytestmark = pytest.mark.redis


@pytest.fixture
def rq_ctx(benv: BookingEnv, redis_conn: redis_lib.Redis) -> Iterator[AppContext]:
    ctx = AppContext(
        settings=benv.settings, db=benv.db, redis=redis_conn, queue=RQJobQueue(redis_conn)
    )
    ctx.use_odoo(benv.odoo)
    ctx.extras["carrier_directory"] = benv.directory
    set_context(ctx)
    yield ctx
    set_context(None)


def run_worker(conn: redis_lib.Redis) -> None:
    SimpleWorker(["booking", "odoo"], connection=conn).work(burst=True, with_scheduler=True)


def test_dead_lettered_booking_is_recovered_by_replay(
    benv: BookingEnv, rq_ctx: AppContext, redis_conn: redis_lib.Redis
) -> None:
    intent = benv.intent_for_first_ready()
    benv.carrier_box.fail_next("503", count=3)  # every attempt meets an outage
    rq_ctx.queue.enqueue(
        JobSpec(
            BOOK_JOB,
            (intent.id,),
            job_id=f"book-{intent.id}",
            queue="booking",
            retry_intervals=(0, 0),
        )
    )
    run_worker(redis_conn)
    letters = RQDeadLetters(redis_conn).list()
    assert [(d.id, d.job, d.args) for d in letters] == [
        (f"book-{intent.id}", BOOK_JOB, [intent.id])
    ]
    assert letters[0].attempts == 3 and "no carrier could quote" in letters[0].reason
    assert benv.shipment(intent.id).state == ShipmentState.INTENT  # nothing lost, nothing bought

    listed = CliRunner().invoke(cli, ["dlq", "list"])
    assert listed.exit_code == 0 and f"book-{intent.id}" in listed.output
    replayed = CliRunner().invoke(cli, ["dlq", "replay", f"book-{intent.id}"])
    assert replayed.exit_code == 0, replayed.output
    run_worker(redis_conn)
    assert benv.shipment(intent.id).state == ShipmentState.BOOKED
    assert RQDeadLetters(redis_conn).list() == []
    assert benv.buys() == 1


def test_intents_whose_jobs_vanished_are_requeued(
    benv: BookingEnv, rq_ctx: AppContext, redis_conn: redis_lib.Redis
) -> None:
    """Redis lost its queue (restart without persistence): the sweeper books from the store."""
    from datetime import UTC, datetime, timedelta

    from app.store.tables import ShipmentRow
    from app.sync.booking.jobs import sweep_stalled_intents

    intent = benv.intent_for_first_ready()
    redis_conn.flushdb()  # the queue is gone; the intent is still in the database
    with benv.db.session() as s:
        row = s.get(ShipmentRow, intent.id)
        assert row is not None
        row.updated_at = datetime.now(UTC) - timedelta(minutes=30)
    assert sweep_stalled_intents()["requeued"] >= 1
    run_worker(redis_conn)
    assert benv.shipment(intent.id).state == ShipmentState.BOOKED
