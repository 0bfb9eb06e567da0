"""Disruptions injected into a simulated history, so alerting can be judged against known truth.

The generator's own weather is drawn from zone climates; an evaluation needs events whose zone,
start and end it knows. Two kinds, both off unless listed in ``SimulationConfig.disruptions``
(the default history is unchanged, draw for draw):

* :class:`WeatherDisruption` - a regional weather event (zone, start, duration, severity) added
  to the weather table; parcels handed over in the zone or due there during it are *exposed*
  exactly like parcels in the generator's own weather (``weather.exposure``): more
  ``weather_delay`` exceptions, each costing days.
* :class:`HubFailure` - one carrier's hub in one zone stops sorting for a while. Its parcels
  handed over in that zone, or due to arrive there, while it is down wait until it reopens
  plus a backlog; a share of them get a ``carrier_delay`` scan, and the hub departure scan of
  a stuck parcel never comes (the silence a control tower notices first).

Nothing here draws random numbers: the effects are deterministic functions of the parcels'
times, so injecting a disruption never reshuffles the rest of the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from training.simulator.calendars import SECONDS_PER_DAY
from training.simulator.weather import WEATHER_KINDS, WeatherEvents
from training.simulator.world import World


@dataclass(frozen=True)
class WeatherDisruption:
    zone: str
    start: date
    days: float = 3.0
    severity: int = 3
    kind: str = "storm"

    def window_s(self) -> tuple[int, int]:
        return _window(self.start, self.days)


@dataclass(frozen=True)
class HubFailure:
    carrier: str
    zone: str
    start: date
    days: float = 3.0
    backlog_days: int = 1
    exception_p: float = 0.35  # share of stuck parcels that get a carrier_delay scan

    def window_s(self) -> tuple[int, int]:
        return _window(self.start, self.days)


Disruption = WeatherDisruption | HubFailure


def _window(start: date, days: float) -> tuple[int, int]:
    begin = int(np.datetime64(start, "D").astype(np.int64)) * SECONDS_PER_DAY
    return begin, begin + int(days * SECONDS_PER_DAY)


def add_weather(
    world: World, wx: WeatherEvents, disruptions: tuple[Disruption, ...]
) -> WeatherEvents:
    """The drawn weather plus the injected weather events, in start order."""
    extra = [d for d in disruptions if isinstance(d, WeatherDisruption)]
    if not extra:
        return wx
    zone = np.array([world.zone_codes.index(d.zone) for d in extra], dtype=np.int64)
    kind = np.array([WEATHER_KINDS.index(d.kind) for d in extra], dtype=np.int64)
    sev = np.array([min(3, max(1, d.severity)) for d in extra], dtype=np.int64)
    start = np.array([d.window_s()[0] for d in extra], dtype=np.int64)
    end = np.array([d.window_s()[1] for d in extra], dtype=np.int64)
    out = WeatherEvents(
        *(
            np.concatenate([a, b])
            for a, b in (
                (wx.zone, zone),
                (wx.kind, kind),
                (wx.severity, sev),
                (wx.start_s, start),
                (wx.end_s, end),
            )
        )
    )
    order = np.lexsort((out.zone, out.start_s))
    return WeatherEvents(
        out.zone[order], out.kind[order], out.severity[order], out.start_s[order], out.end_s[order]
    )


def hub_effect(
    world: World,
    disruptions: tuple[Disruption, ...],
    carrier: np.ndarray,
    origin_zone: np.ndarray,
    dest_zone: np.ndarray,
    handover_s: np.ndarray,
    arrival_s: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per parcel: extra business days, whether it is held at all, whether it is held at its
    origin hub (no departure scan), and its carrier_delay probability."""
    n = len(carrier)
    extra = np.zeros(n, dtype=np.int64)
    hit = np.zeros(n, dtype=bool)
    at_origin = np.zeros(n, dtype=bool)
    p_exc = np.zeros(n)
    for d in disruptions:
        if not isinstance(d, HubFailure):
            continue
        c, z = world.carrier_codes.index(d.carrier), world.zone_codes.index(d.zone)
        begin, end = d.window_s()
        for zones, t, origin in ((origin_zone, handover_s, True), (dest_zone, arrival_s, False)):
            sel = (carrier == c) & (zones == z) & (t >= begin) & (t < end)
            wait = np.ceil((end - t) / SECONDS_PER_DAY).astype(np.int64) + d.backlog_days
            extra = np.where(sel, np.maximum(extra, wait), extra)
            p_exc = np.where(sel, np.maximum(p_exc, d.exception_p), p_exc)
            hit |= sel
            if origin:
                at_origin |= sel
    return extra, hit, at_origin, p_exc
