"""Regional weather disruptions with start and end dates, drawn per seed from zone climates.

Each zone's climate (``world.CLIMATES``) lists hazards with the months they occur in, a rate per
zone-month, a duration range and a severity distribution. A parcel is *exposed* when it is handed
over in an affected zone during the event, or is due to arrive in one during it; exposure raises
its chance of a ``weather_delay`` exception with the severity (see ``outcomes.py``). The events
are written out as their own table, so an ETA model may use them as known external signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from training.simulator.calendars import SECONDS_PER_DAY
from training.simulator.world import CLIMATES, World

WEATHER_KINDS: tuple[str, ...] = (
    "storm", "snow", "flood", "thunderstorm", "heat", "landslide", "hurricane", "wildfire"
)
NATURAL_EVENT_KINDS = frozenset({"flood", "landslide", "hurricane", "wildfire"})
# P(weather_delay exception | exposed) by severity 1..3.
EXPOSED_EXCEPTION_P = np.array([0.0, 0.25, 0.45, 0.65])
BACKGROUND_WEATHER_P = 0.002  # local showers nobody forecasts


@dataclass
class WeatherEvents:
    zone: np.ndarray
    kind: np.ndarray  # index into WEATHER_KINDS
    severity: np.ndarray  # 1 (minor) .. 3 (severe)
    start_s: np.ndarray  # UTC epoch seconds
    end_s: np.ndarray

    def __len__(self) -> int:
        return len(self.zone)


def generate(world: World, start: date, days: int, rng: np.random.Generator) -> WeatherEvents:
    """Weather events over the window (plus a month either side, for parcels in flight)."""
    first = np.datetime64(start, "M") - 1
    last = (np.datetime64(start, "D") + days).astype("datetime64[M]") + 1
    months = np.arange(first, last + 1)
    zone, kind, sev, st, en = [], [], [], [], []
    for z, spec in enumerate(world.zones):
        for kname, hazard_months, rate, (dmin, dmax), sev_p in CLIMATES[spec.climate]:
            for m in months:
                month_no = int(m.astype(np.int64) % 12) + 1
                if month_no not in hazard_months:
                    continue
                count = rng.poisson(rate)
                if count == 0:
                    continue
                month_start = m.astype("datetime64[D]").astype(np.int64) * SECONDS_PER_DAY
                month_len = ((m + 1).astype("datetime64[D]") - m.astype("datetime64[D]")
                             ).astype(np.int64)
                s = month_start + (rng.random(count) * month_len * SECONDS_PER_DAY).astype(
                    np.int64)
                dur = (rng.uniform(dmin, dmax + 1, count) * SECONDS_PER_DAY).astype(np.int64)
                zone.append(np.full(count, z))
                kind.append(np.full(count, WEATHER_KINDS.index(kname)))
                sev.append(rng.choice(3, size=count, p=np.array(sev_p) / sum(sev_p)) + 1)
                st.append(s)
                en.append(s + dur)
    if not zone:
        empty = np.zeros(0, dtype=np.int64)
        return WeatherEvents(empty, empty, empty, empty, empty)
    ev = WeatherEvents(*(np.concatenate(x) for x in (zone, kind, sev, st, en)))
    order = np.lexsort((ev.zone, ev.start_s))
    return WeatherEvents(ev.zone[order], ev.kind[order], ev.severity[order],
                         ev.start_s[order], ev.end_s[order])


def exposure(events: WeatherEvents, n_zones: int, origin_zone: np.ndarray,
             handover_s: np.ndarray, dest_zone: np.ndarray, arrival_s: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Worst severity each parcel is exposed to, the event kind and whether it hit at the origin.

    Rows are grouped by zone once, so the cost is one pass over the rows per event of their zone
    rather than a pass over all rows per event.
    """
    n = len(origin_zone)
    sev = np.zeros(n, dtype=np.int64)
    kind = np.full(n, -1, dtype=np.int64)
    at_origin = np.zeros(n, dtype=bool)
    for zones, times, is_origin in ((origin_zone, handover_s, True),
                                    (dest_zone, arrival_s, False)):
        order = np.argsort(zones, kind="stable")
        bounds = np.searchsorted(zones[order], np.arange(n_zones + 1))
        for e in range(len(events)):
            z = events.zone[e]
            rows = order[bounds[z]:bounds[z + 1]]
            t = times[rows]
            hit = rows[(t >= events.start_s[e] - 6 * 3600) & (t <= events.end_s[e])]
            worse = hit[sev[hit] < events.severity[e]]
            sev[worse] = events.severity[e]
            kind[worse] = events.kind[e]
            at_origin[worse] = is_origin
    return sev, kind, at_origin
