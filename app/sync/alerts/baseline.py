"""Anomaly statistics: a robust seasonal baseline per series and a hysteresis detector.

Why this method. A carrier's transit time, exception rate and scan silence move with the weekday
(no Sunday linehaul, Monday backlogs), drift with volume and season, and carry outliers from
single bad days; the series are short (weeks) and many (carrier x service x lane x metric), so a
model fitted per series is out of reach. What is robust and cheap:

* **Seasonal level** - the median of the same weekday over the last ``window_days`` (8 weeks:
  8 values); with fewer than 3 such days, the median of the whole window.
* **Scale** - 1.4826 x the median absolute deviation of the window's residuals (value minus
  its weekday level), i.e. a standard deviation that one bad day cannot inflate; never below a
  floor: the sampling error of the day itself (binomial for rates, relative for transit) and a
  metric minimum, so a quiet lane with a flat history does not alarm on noise.
* **Score** ``z = (value - level) / scale``; only degradation (z > 0) counts.
* **Calendar** - public holidays of the countries that carry most of the volume, and the two
  business days after them, are *excused*: not judged, kept out of the baseline. A holiday
  empties the network for a day and delays what was in it; that is expected, not degradation.
* **Hysteresis** - a series *opens* on one day with ``z >= z_open`` or ``confirm_days``
  consecutive days with ``z >= z_confirm``; it *resolves* after ``close_days`` consecutive days
  with ``z < z_close``. Degraded days (``z >= z_confirm``) are kept out of the baseline, so a
  week-long outage does not become normal - for at most ``adapt_after_days`` of an episode,
  after which a lasting change is accepted as the new level and the alert resolves itself.

A change-point method (CUSUM, Page-Hinkley) reacts faster to small persistent shifts but needs a
known in-control mean and variance per series and weekday; with a robust seasonal baseline the
same information is used without that assumption, and the detection delay measured on the
simulator (README) is one to two days for the disruptions that matter.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

METRICS: tuple[str, ...] = ("transit_hours", "exception_rate", "silent_share")
RATE_METRICS = frozenset({"exception_rate", "silent_share"})
MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class BaselineConfig:
    window_days: int = 56
    min_history: int = 21  # judged days needed in the window before the series is judged
    z_open: float = 6.0
    z_confirm: float = 3.5
    confirm_days: int = 2
    z_close: float = 1.5
    close_days: int = 2
    adapt_after_days: int = 21
    min_count: int = 20  # observations behind a day's value (shipments)
    transit_floor_hours: float = 3.0
    transit_floor_share: float = 0.04  # of the level: a median moves a few % by chance
    rate_floor: float = 0.01
    rate_prior: float = 0.03


@dataclass(frozen=True)
class Observation:
    day: date
    value: float
    count: int
    spread: float = float("nan")  # robust SD of the day's individual values (transit)


@dataclass(frozen=True)
class Verdict:
    day: date
    value: float
    count: int
    expected: float | None
    scale: float | None
    z: float | None
    active: bool  # inside an episode after this day
    event: str | None  # "open" | "resolve" | None
    started: date | None  # first day of the current (or just resolved) episode


@dataclass
class SeriesDetector:
    """One series (scope, key, metric) stepped day by day; see the module docstring."""

    metric: str
    config: BaselineConfig = field(default_factory=BaselineConfig)
    _history: deque[tuple[date, int, float, bool]] = field(default_factory=deque)
    _active: bool = False
    _started: date | None = None
    _hot: int = 0
    _calm: int = 0

    def score(self, obs: Observation) -> tuple[float | None, float | None, float | None]:
        """(expected, scale, z) of a day against the baseline, or Nones without enough data."""
        cfg = self.config
        adapt = self._episode_days(obs.day) > cfg.adapt_after_days
        window = [
            (wd, v, f and not adapt)
            for d, wd, v, f in self._history
            if (obs.day - d).days <= cfg.window_days
        ]
        judged = [(wd, v) for wd, v, flagged in window if not flagged]
        if len(judged) < cfg.min_history or obs.count < cfg.min_count:
            return None, None, None
        weekdays = np.array([wd for wd, _ in judged])
        values = np.array([v for _, v in judged])
        every = {wd: [v for w, v, _ in window if w == wd] for wd in range(7)}
        levels = {}
        for wd in range(7):
            if (weekdays == wd).sum() >= 3:
                levels[wd] = float(np.median(values[weekdays == wd]))
            elif len(every[wd]) >= 3:  # too many bad days of this weekday: all of them
                levels[wd] = float(np.median(every[wd]))
            else:
                levels[wd] = float(np.median(values))
        residuals = values - np.array([levels[wd] for wd in weekdays])
        expected = levels[obs.day.weekday()]
        mad = float(np.median(np.abs(residuals - np.median(residuals))))
        same = residuals[weekdays == obs.day.weekday()]
        if len(same) >= 4:  # a weekday noisier than the rest (thin Sundays) keeps its own spread
            mad = max(mad, float(np.median(np.abs(same - np.median(same)))))
        scale = max(MAD_TO_SD * mad, self._floor(expected, obs.count, obs.spread))
        return expected, scale, (obs.value - expected) / scale

    def _floor(self, expected: float, count: int, spread: float) -> float:
        """The day's own sampling error: binomial for a rate; for a median, 1.2533 x the
        spread of the day's values / sqrt(n) (a bimodal weekend mix makes it wide)."""
        cfg = self.config
        n = max(count, 1)
        if self.metric in RATE_METRICS:  # rarer than rate_prior a day: too rare to trust
            p = min(max(expected, cfg.rate_prior), 1.0)
            return max(cfg.rate_floor, float(np.sqrt(p * (1 - p) / n)))
        sampling = 1.2533 * spread / np.sqrt(n) if np.isfinite(spread) else 0.0
        return max(cfg.transit_floor_hours, cfg.transit_floor_share * abs(expected), sampling)

    def _episode_days(self, day: date) -> int:
        return (day - self._started).days if self._active and self._started else 0

    def step(self, obs: Observation, *, excused: bool = False) -> Verdict:
        cfg = self.config
        expected, scale, z = self.score(obs)
        if excused:
            z = None
        event: str | None = None
        started = self._started
        if z is not None:
            if not self._active:
                self._hot = self._hot + 1 if z >= cfg.z_confirm else 0
                if z >= cfg.z_open or self._hot >= cfg.confirm_days:
                    self._active, self._calm, event = True, 0, "open"
                    self._started = started = obs.day
            else:
                self._calm = self._calm + 1 if z < cfg.z_close else 0
                if self._calm >= cfg.close_days:
                    self._active, self._hot, event = False, 0, "resolve"
                    self._started = None
        if np.isfinite(obs.value):
            # Kept out of the baseline: holidays, and days that looked degraded themselves.
            flagged = (
                excused or (z is not None and z >= cfg.z_confirm) or (z is None and self._active)
            )
            self._history.append((obs.day, obs.day.weekday(), float(obs.value), flagged))
        while self._history and (obs.day - self._history[0][0]).days > cfg.window_days:
            self._history.popleft()
        return Verdict(
            obs.day, obs.value, obs.count, expected, scale, z, self._active, event, started
        )


def run_series(
    metric: str,
    observations: Iterable[Observation],
    config: BaselineConfig | None = None,
    excused: Collection[date] = frozenset(),
) -> list[Verdict]:
    """Every day of one series, in order (what the evaluation and the service replay)."""
    detector = SeriesDetector(metric, config or BaselineConfig())
    return [
        detector.step(o, excused=o.day in excused)
        for o in sorted(observations, key=lambda o: o.day)
    ]


def excused_days(countries: Iterable[str], first: date, last: date, after: int = 2) -> set[date]:
    """Public holidays of ``countries`` and the ``after`` business days following each."""
    from app.triage.eta_calendar import country_holidays

    years = range(first.year - 1, last.year + 1)
    out: set[date] = set()
    for country in countries:
        for day in country_holidays(country, years):
            out.add(day)
            follow, added = day, 0
            while added < after:
                follow += timedelta(days=1)
                out.add(follow)
                added += follow.weekday() < 5
    return {d for d in out if first <= d <= last}
