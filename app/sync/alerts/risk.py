"""The probability that a shipment misses its promise, from the ETA model's quantiles.

The ETA model gives four quantiles of the delivery time (p10, p50, p90, p95) as of the latest
tracking event. They are read as a distribution: linear between the quantiles, a linear left
tail with the p10-p50 slope, and an exponential right tail that halves every (p95 - p90) - the
rate the p90-p95 segment itself implies (S(p90) = 10 %, S(p95) = 5 %).

A shipment that has gone quiet carries information too: it has *not* been delivered by now. The
probability of missing the deadline ``d`` is therefore the conditional survival

    P(T > d | T > now) = S(d) / S(now)        (1 once now >= d and it is still not delivered)

so the same prediction, made at the last scan, grows more pessimistic the longer the silence
lasts - which is how the scheduled sweep catches a stalled parcel before any exception scan.
Everything here is vectorized numpy on hours from any common origin; the service and the
evaluation use the same functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

LEVELS = np.array([0.10, 0.50, 0.90, 0.95])
_EPS = 1e-6  # hours: keeps degenerate (equal) quantiles ordered
_LN2 = float(np.log(2.0))


def _knots(q: np.ndarray) -> np.ndarray:
    """Quantiles as strictly increasing knots (rows), whatever the model returned."""
    q = np.sort(np.atleast_2d(np.asarray(q, dtype=float)), axis=1)
    return q + _EPS * np.arange(q.shape[1])


def log_survival(q: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log P(T > t) per row of quantiles ``q`` (n x 4: p10, p50, p90, p95) at times ``t`` (n)."""
    k = _knots(q)
    t = np.broadcast_to(np.asarray(t, dtype=float), (k.shape[0],))
    cdf = np.empty(k.shape[0])
    # Left tail: the p10-p50 slope carried down to zero.
    slope = (LEVELS[1] - LEVELS[0]) / (k[:, 1] - k[:, 0])
    left = np.clip(LEVELS[0] - slope * (k[:, 0] - t), 0.0, LEVELS[0])
    cdf[:] = left
    for j in range(3):
        inside = (t >= k[:, j]) & (t < k[:, j + 1])
        frac = (t - k[:, j]) / (k[:, j + 1] - k[:, j])
        cdf = np.where(inside, LEVELS[j] + frac * (LEVELS[j + 1] - LEVELS[j]), cdf)
    surv = np.log(np.clip(1.0 - cdf, 1e-300, 1.0))
    width = k[:, 3] - k[:, 2]
    tail = np.log(1.0 - LEVELS[3]) - _LN2 * (t - k[:, 3]) / width
    return np.where(t >= k[:, 3], tail, surv)


def miss_probability(q: np.ndarray, deadline: np.ndarray, now: np.ndarray) -> np.ndarray:
    """P(delivered after ``deadline`` | not delivered by ``now``), per row (see module doc)."""
    q = np.atleast_2d(np.asarray(q, dtype=float))
    deadline = np.broadcast_to(np.asarray(deadline, dtype=float), (q.shape[0],))
    now = np.broadcast_to(np.asarray(now, dtype=float), (q.shape[0],))
    ratio = np.exp(np.minimum(log_survival(q, deadline) - log_survival(q, now), 0.0))
    return np.where(now >= deadline, 1.0, ratio)


def conditional_quantile(q: Sequence[float], now: float, level: float = 0.5) -> float:
    """The time by which the shipment is delivered with probability ``level``, given it was
    not delivered by ``now`` (bisection on the survival function; one shipment)."""
    row = np.asarray([q], dtype=float)
    target = np.log(max(1e-12, 1.0 - level)) + float(log_survival(row, np.array([now]))[0])
    lo, hi = float(now), float(max(now, np.max(q))) + 24.0
    while float(log_survival(row, np.array([hi]))[0]) > target:
        hi += 2.0 * (hi - lo) + 24.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if float(log_survival(row, np.array([mid]))[0]) > target:
            lo = mid
        else:
            hi = mid
    return hi


def promise_deadline(promised: date, timezone: str) -> datetime:
    """A promised *day* is kept until midnight at the destination (UTC result)."""
    try:
        tz = ZoneInfo(timezone)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    end = datetime.combine(promised + timedelta(days=1), time(0, 0), tzinfo=tz)
    return end.astimezone(UTC)


def hours(at: datetime, origin: datetime) -> float:
    return (at - origin).total_seconds() / 3600.0
