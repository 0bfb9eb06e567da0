"""Rate quotes at booking time: which carrier services can take a parcel, at what price and promise.

Eligibility follows the carrier's coverage (pickup and delivery countries), the service's
distance classes and customs ability, weight limit and girth limit. Prices follow carrier price
curves: ``(base fee + per-kg x billable-weight bracket) x distance multiplier + remote and peak
surcharges``, all times ``1 + fuel surcharge`` (a monthly cycle per carrier with a slow upward
drift). Billable weight is the larger of actual and volumetric weight, rounded up to the next
bracket. The promise is the carrier's own: business days at a quantile of its off-peak transit
distribution (optimistic carriers promise the median-ish, careful ones the 90th percentile),
counted from the pickup day the cut-off allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from training.simulator.calendars import (
    WEEKMASK_MON_FRI,
    WEEKMASK_MON_SAT,
    busday_offset_grouped,
)
from training.simulator.demand import Shipments
from training.simulator.season import in_surcharge_window
from training.simulator.world import (
    CUSTOMS_EXTRA_DAYS,
    MEDIAN_DAYS,
    REMOTE_EXTRA_DAYS,
    WEIGHT_BRACKETS,
    ServiceLevel,
    World,
)

LEVELS: tuple[ServiceLevel, ...] = tuple(ServiceLevel)
WEEKMASKS: tuple[str, ...] = (WEEKMASK_MON_FRI, WEEKMASK_MON_SAT)


@dataclass
class Quotes:
    """Column arrays, one row per (shipment, carrier service), sorted by shipment."""

    cols: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.cols["ship"])


def calendar_years(days: np.ndarray) -> tuple[int, int]:
    """Year span (with margin) the holiday calendars must cover for these days."""
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    return int(years.min(initial=2000)) - 1, int(years.max(initial=2000)) + 2


def carrier_arrays(world: World) -> dict[str, np.ndarray]:
    """Per-carrier parameters as arrays indexed by carrier position."""
    cs = world.carriers
    return {
        "cutoff": np.array([c.cutoff_hour for c in cs]),
        "pickup_mask": np.array([int(c.saturday_pickup) for c in cs]),
        "delivery_mask": np.array([int(c.saturday_delivery) for c in cs]),
        "speed": np.array([c.speed for c in cs]),
        "sigma": np.array([c.sigma for c in cs]),
        "promise_z": np.array([NormalDist().inv_cdf(c.promise_quantile) for c in cs]),
        "peak_sens": np.array([c.peak_sensitivity for c in cs]),
        "fuel_base": np.array([c.fuel_base for c in cs]),
        "fuel_phase": np.array([c.fuel_phase for c in cs]),
        "peak_surcharge": np.array([c.peak_surcharge for c in cs]),
        "remote_surcharge": np.array([c.remote_surcharge for c in cs]),
    }


def fuel_surcharge(world: World, carrier: np.ndarray, days: np.ndarray, start_year: int
                   ) -> np.ndarray:
    """Monthly fuel surcharge fraction: carrier base, a yearly cycle and a slow drift."""
    ca = carrier_arrays(world)
    month_idx = days.astype("datetime64[M]").astype(np.int64)
    years = month_idx / 12.0 + 1970 - start_year
    cycle = 0.025 * np.sin(2 * math.pi * (month_idx + ca["fuel_phase"][carrier]) / 12.0)
    return np.maximum(ca["fuel_base"][carrier] + cycle + 0.01 * years, 0.0)


def build(world: World, ship: Shipments, start_year: int) -> Quotes:
    """Every eligible carrier service for every shipment, priced and promised."""
    sc = ship.cols
    n = len(ship)
    oz, dz = sc["origin_zone"], sc["dest_zone"]
    oc, dc = world.zone_country[oz], world.zone_country[dz]
    dist = world.zone_distance_class[oz, dz]
    customs = world.zone_customs[oz, dz]
    girth = sc["length"] + 2 * (sc["width"] + sc["height"])
    codes = world.country_codes
    parts: list[tuple[np.ndarray, int]] = []
    for p, (ci, svc) in enumerate(world.products):
        carrier = world.carriers[ci]
        pick_ok = np.array([c in carrier.pickup_countries for c in codes])
        drop_ok = np.array([c in carrier.delivery_countries for c in codes])
        ok = (pick_ok[oc] & drop_ok[dc] & (dist >= svc.min_dist) & (dist <= svc.max_dist)
              & (svc.customs_ok | ~customs) & (sc["weight"] <= svc.max_kg)
              & (girth <= svc.max_girth_cm))
        parts.append((np.flatnonzero(ok), p))
    s_idx = np.concatenate([rows for rows, _ in parts])
    prod = np.concatenate([np.full(len(rows), p) for rows, p in parts])
    order = np.lexsort((prod, s_idx))
    s_idx, prod = s_idx[order], prod[order]
    missing = np.setdiff1d(np.arange(n), s_idx)
    if missing.size:
        raise ValueError(f"{missing.size} shipments have no eligible carrier service")

    services = [svc for _, svc in world.products]
    carrier = np.array([ci for ci, _ in world.products])[prod]
    level = np.array([LEVELS.index(s.level) for s in services])[prod]
    q_dist = dist[s_idx]
    q_customs = customs[s_idx]
    q_remote = world.zone_remote[dz[s_idx]] | world.zone_remote[oz[s_idx]]
    ca = carrier_arrays(world)

    # Pickup day: the ship-ready day if before the carrier's cut-off on a pickup day, else the
    # next pickup day (weekdays, plus Saturday for some carriers, never origin holidays).
    ship_day, ship_hour = world.utc_to_local(sc["ship_at"][s_idx], oz[s_idx])
    after_cutoff = ship_hour >= ca["cutoff"][carrier]
    years = calendar_years(ship_day)
    pickup_day = busday_offset_grouped(
        ship_day + after_cutoff.astype(np.int64), np.zeros(len(s_idx), dtype=np.int64),
        world.zone_country[oz[s_idx]], ca["pickup_mask"][carrier], world.country_codes,
        WEEKMASKS, years,
    )

    # Price.
    divisor = np.array([s.volumetric_divisor for s in services])[prod]
    vol_kg = (sc["length"] * sc["width"] * sc["height"])[s_idx] / divisor
    billable = np.maximum(sc["weight"][s_idx], vol_kg)
    brackets = np.array(WEIGHT_BRACKETS)
    bracket = brackets[np.minimum(np.searchsorted(brackets, billable - 1e-9),
                                  len(brackets) - 1)]
    base_fee = np.array([s.base_fee for s in services])[prod]
    per_kg = np.array([s.per_kg for s in services])[prod]
    dist_mult = np.array([s.dist_mult for s in services])[prod, q_dist]
    price = (base_fee + per_kg * bracket) * dist_mult
    price += np.where(q_remote, ca["remote_surcharge"][carrier], 0.0)
    price += np.where(in_surcharge_window(pickup_day), ca["peak_surcharge"][carrier], 0.0)
    price *= 1 + fuel_surcharge(world, carrier, pickup_day, start_year)
    price = np.round(price, 2)

    # Promise: the carrier's quantile of its own nominal (off-peak, average-lane) transit.
    median_tbl = np.array([MEDIAN_DAYS[lv] for lv in LEVELS])
    customs_extra = np.array([CUSTOMS_EXTRA_DAYS[lv] for lv in LEVELS])
    median = (median_tbl[level, q_dist] + customs_extra[level] * q_customs
              + REMOTE_EXTRA_DAYS * q_remote) * ca["speed"][carrier]
    if np.isnan(median).any():
        raise ValueError("a service was offered on a distance class it has no transit for")
    promised_days = np.maximum(
        1, np.ceil(median * np.exp(ca["sigma"][carrier] * ca["promise_z"][carrier]) - 1e-9)
    ).astype(np.int64)
    promised_date = busday_offset_grouped(
        pickup_day, promised_days, world.zone_country[dz[s_idx]], ca["delivery_mask"][carrier],
        world.country_codes, WEEKMASKS, years,
    )
    wh = sc["warehouse"][s_idx]
    account_mult = np.array([
        [world.account_multiplier.get((c.code, w.code), 1.0) for w in world.warehouses]
        for c in world.carriers
    ])[carrier, wh]
    return Quotes({
        "ship": s_idx,
        "product": prod,
        "carrier": carrier,
        "level": level,
        "dist": q_dist,
        "customs": q_customs,
        "remote": q_remote,
        "price": price,
        "billable_kg": np.round(billable, 3),
        "pickup_day": pickup_day,
        "ship_day": ship_day,
        "ship_hour": ship_hour,
        "after_cutoff": after_cutoff,
        "promised_days": promised_days,
        "promised_date": promised_date,
        "median_days": median,
        "account_mult": account_mult,
    })
