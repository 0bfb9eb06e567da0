"""The simulator's irreducible error at booking: an oracle that knows the generative process.

The simulator draws every delivery from a distribution (``training/simulator/outcomes.py``):
a log-normal number of business days in the network, exceptions that add days, a last mile
that may fail. No model can predict the draw itself, only the distribution. The oracle
re-runs the outcome simulation of the *same* outbound shipments (same world, demand, weather,
quotes and booked carrier service, and the same latent customer traits such as a bad address
or an absent recipient) with ``replicates`` independent outcome streams, and predicts each
shipment's median delivery instant across the replicates. Its p50 MAE against the delivery
that actually happened (the original stream) is a *lower bound* for any booking-time model:
it knows more than is knowable at booking (the latent traits, the true lane factors and
transit medians). Nothing here changes the simulator; it only calls it with other streams.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

DAY_S = 86400.0


@dataclass
class OracleResult:
    n: int
    oracle_mae_days: float
    promise_mae_days: float
    oracle_mae_no_exception_days: float
    promise_mae_no_exception_days: float
    replicates: int

    def as_dict(self) -> dict[str, float]:
        out = dict(self.__dict__)
        out["oracle_over_promise"] = self.oracle_mae_days / self.promise_mae_days
        return out


def _outbound_outcomes(
    cfg: object, stream_tag: str
) -> tuple[dict[str, np.ndarray], object, object, np.ndarray]:
    """The outbound pass of ``simulate_history`` with the outcome stream named ``stream_tag``."""
    from training.simulator import demand, outcomes, policies, quotes, weather
    from training.simulator.world import DEFAULT_WORLD, stable_stream

    world = DEFAULT_WORLD
    seed, start, days = cfg.seed, cfg.start, cfg.days  # type: ignore[attr-defined]
    wx = weather.generate(world, start, days, stable_stream(seed, "weather"))
    ship = demand.outbound(
        world,
        start,
        days,
        cfg.shipments_per_day,  # type: ignore[attr-defined]
        stable_stream(seed, "demand"),
    )
    rng_b = stable_stream(seed, "outbound.booking")
    ship.cols["booked_at"] = ship.cols["created_at"] + (
        rng_b.uniform(1, 15, len(ship)) * 60
    ).astype(np.int64)
    q = quotes.build(world, ship, start.year)
    o = outcomes.simulate(world, ship, q, wx, stable_stream(seed, stream_tag), start.year)
    chosen, _, _ = policies.choose(world, ship, q, stable_stream(seed, "outbound.policy"))
    return {k: v[chosen] for k, v in o.items()}, ship, q, chosen


def oracle_floor(
    days: int = 610,
    start: date = date(2023, 7, 1),
    seed: int = 7,
    shipments_per_day: float = 120.0,
    holdout_from: date = date(2024, 10, 1),
    replicates: int = 41,
) -> OracleResult:
    """Oracle p50 MAE (days) on outbound shipments booked from ``holdout_from`` that were
    delivered, beside the carrier promise (its date at midday, as the evaluation reads it)."""
    from training.simulator.generate import SimulationConfig
    from training.simulator.world import DEFAULT_WORLD

    cfg = SimulationConfig(days=days, seed=seed, start=start, shipments_per_day=shipments_per_day)
    actual, ship, q, chosen = _outbound_outcomes(cfg, "outbound.outcomes")
    draws = np.full((replicates, len(chosen)), np.nan)
    for k in range(replicates):
        rep, _, _, _ = _outbound_outcomes(cfg, f"oracle.{k}.outcomes")
        draws[k] = np.where(rep["delivered"], rep["delivered_at"], np.nan)
    with warnings.catch_warnings():  # never delivered in any replicate: NaN, left out
        warnings.simplefilter("ignore", RuntimeWarning)
        p50 = np.nanmedian(draws, axis=0)
    cut = pd.Timestamp(holdout_from, tz="UTC").value // 10**9
    sel = actual["delivered"] & (ship.cols["booked_at"] >= cut) & np.isfinite(p50)
    truth = actual["delivered_at"].astype(float)
    promised = q.cols["promised_date"][chosen]
    dest = ship.cols["dest_zone"]
    promise_at = DEFAULT_WORLD.local_to_utc(promised, np.full(len(chosen), 12.0), dest)
    # The evaluation never lets a promise precede the prediction; at booking it never does.
    err_oracle = np.abs(p50 - truth) / DAY_S
    err_promise = np.abs(promise_at.astype(float) - truth) / DAY_S
    clean = sel & (actual["n_exceptions"] == 0)
    return OracleResult(
        n=int(sel.sum()),
        oracle_mae_days=float(err_oracle[sel].mean()),
        promise_mae_days=float(err_promise[sel].mean()),
        oracle_mae_no_exception_days=float(err_oracle[clean].mean()),
        promise_mae_no_exception_days=float(err_promise[clean].mean()),
        replicates=replicates,
    )
