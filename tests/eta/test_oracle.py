"""The simulator's oracle floor (``training/eta/oracle.py``) on a small history."""

from __future__ import annotations

from datetime import date

from training.eta.oracle import oracle_floor


def test_oracle_knows_the_distribution_but_not_the_draw():
    small = oracle_floor(
        days=90,
        start=date(2024, 3, 1),
        seed=3,
        shipments_per_day=25,
        holdout_from=date(2024, 5, 1),
        replicates=9,
    )
    assert small.n > 300
    # The median of re-simulated outcomes beats the carrier's promise, yet cannot reach zero:
    # the outcome draw itself is noise no booking-time model can know.
    assert 0.2 < small.oracle_mae_days < small.promise_mae_days
    assert small.oracle_mae_no_exception_days < small.oracle_mae_days
