"""What gets shipped: pickings (outbound and customer returns) with their parcels and customers.

A shipment here is what Waybill sees when Odoo marks a picking ready: when (``created_at``), from
which warehouse, to whom, how heavy, how valuable, how urgent. It also carries the *latent*
facts no table of the service holds - a wrong address, a recipient who is rarely home, missing
customs documents - which later decide exceptions for every carrier alike (common random
numbers, so quotes of one shipment can be compared fairly).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from training.simulator.calendars import SECONDS_PER_HOUR, holiday_array
from training.simulator.season import peak_intensity, volume_multiplier, weekday_of
from training.simulator.world import World

GOODS = ("apparel", "shoes", "electronics", "home", "books", "beauty", "toys")
GOODS_SHARE = np.array([0.28, 0.10, 0.14, 0.18, 0.10, 0.12, 0.08])
_WEIGHT_MEDIAN = np.array([0.6, 1.3, 1.5, 3.5, 0.7, 0.4, 1.2])  # kg
_WEIGHT_SIGMA = np.array([0.5, 0.25, 0.9, 0.9, 0.5, 0.5, 0.7])
_DENSITY = np.array([0.15, 0.25, 0.30, 0.20, 0.60, 0.35, 0.15])  # kg per litre of box
_VALUE_MEDIAN = np.array([55.0, 85.0, 140.0, 70.0, 25.0, 35.0, 40.0])  # EUR
_DG_RATE = np.array([0.003, 0.003, 0.12, 0.01, 0.0, 0.05, 0.01])  # lithium, aerosols
RETURN_RATE = np.array([0.22, 0.18, 0.07, 0.05, 0.02, 0.03, 0.05])  # customer returns

TIERS = ("standard", "plus", "vip")
TIER_SHARE = np.array([0.78, 0.17, 0.05])
EXPRESS_SHARE_BY_TIER = np.array([0.07, 0.15, 0.30])
CUSTOMER_TYPES = ("b2c", "b2b")
B2B_SHARE = 0.14
LEVEL_REQUESTS = ("standard", "express")
INCOTERMS = ("DAP", "DDP")

# Warehouse shift: weekday picking-ready hours (local) and their weights; Saturday is 8-13.
_HOURS = np.arange(7, 21)
_HOUR_WEIGHT = np.array([2, 5, 8, 9, 8, 6, 5, 6, 7, 7, 6, 5, 3, 2], dtype=float)


@dataclass
class Shipments:
    """Column arrays of shipments (one row each); ``latent_*`` never leave the simulator."""

    cols: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.cols["created_at"])

    def take(self, idx: np.ndarray) -> Shipments:
        return Shipments({k: v[idx] for k, v in self.cols.items()})

    @staticmethod
    def concat(parts: list[Shipments]) -> Shipments:
        keys = parts[0].cols.keys()
        return Shipments({k: np.concatenate([p.cols[k] for p in parts]) for k in keys})


def _processed_volume(world: World, start: date, days: int, wh: int) -> np.ndarray:
    """Expected pickings per day for a warehouse: demand rolled onto its working days.

    Orders arrive every day; the warehouse ships Monday to Friday and half a Saturday, not on
    its country's holidays, so Mondays and days after holidays carry the backlog.
    """
    d = np.datetime64(start, "D") + np.arange(days)
    demand = volume_multiplier(d, start) * world.warehouses[wh].share
    country = world.zones[world.zone_index(world.warehouses[wh].zone)].country
    years = (start.year - 1, start.year + days // 365 + 2)
    hol = set(holiday_array(country, *years).astype(np.int64).tolist())
    weekday = weekday_of(d)
    out = np.zeros(days)
    carry = 0.0
    for i in range(days):
        carry += demand[i]
        if int(d[i].astype(np.int64)) in hol or weekday[i] == 6:
            continue
        if weekday[i] == 5:
            out[i], carry = 0.5 * carry, 0.5 * carry
        else:
            out[i], carry = carry, 0.0
    return out


def _sample_zone(world: World, rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    idx, cum = world.country_zone_table
    u = rng.random(len(country))
    pos = (cum[country] < u[:, None]).sum(axis=1)
    return idx[country, np.minimum(pos, idx.shape[1] - 1)]


def sample_postal_prefix(world: World, rng: np.random.Generator, zone: np.ndarray) -> np.ndarray:
    """A postal prefix of the zone per row, uniform over the zone's prefixes."""
    out = np.empty(len(zone), dtype=object)
    u = rng.random(len(zone))
    for z, spec in enumerate(world.zones):
        sel = zone == z
        if sel.any():
            pref = np.array(spec.postal_prefixes, dtype=object)
            out[sel] = pref[np.minimum((u[sel] * len(pref)).astype(int), len(pref) - 1)]
    return out


def _parcel(rng: np.random.Generator, goods: np.ndarray) -> tuple[np.ndarray, ...]:
    """Weight (kg) and box dimensions (cm) from the goods category, with a bulky tail."""
    n = len(goods)
    weight = _WEIGHT_MEDIAN[goods] * np.exp(_WEIGHT_SIGMA[goods] * rng.standard_normal(n))
    bulky = rng.random(n) < 0.04
    weight = np.where(bulky, weight * rng.uniform(3, 8, n), weight)
    weight = np.round(np.clip(weight, 0.05, 68.0), 3)
    litres = weight / _DENSITY[goods] * rng.uniform(0.8, 1.3, n)
    side = np.cbrt(litres * 1000.0)
    length = side * rng.uniform(1.2, 1.8, n)
    width = side * rng.uniform(0.8, 1.1, n)
    height = litres * 1000.0 / (length * width)
    length = np.clip(np.ceil(length), 10, 100)
    width = np.clip(np.ceil(width), 8, 70)
    height = np.clip(np.ceil(height), 2, 70)
    return weight, length, width, height


def outbound(world: World, start: date, days: int, per_day: float,
             rng: np.random.Generator) -> Shipments:
    """Outbound pickings over ``days`` days from ``start``, ``per_day`` on average."""
    n_wh = len(world.warehouses)
    vols = np.stack([_processed_volume(world, start, days, w) for w in range(n_wh)])
    scale = per_day * days / max(vols.sum(), 1e-9)
    counts = rng.poisson(vols * scale)
    wh = np.repeat(np.tile(np.arange(n_wh)[:, None], (1, days)).ravel(), counts.ravel())
    day_idx = np.repeat(np.tile(np.arange(days), n_wh), counts.ravel())
    day = np.datetime64(start, "D") + day_idx
    n = len(wh)

    wh_zone = np.array([world.zone_index(w.zone) for w in world.warehouses])
    origin_zone = wh_zone[wh]
    saturday = weekday_of(day) == 5
    hour_p = _HOUR_WEIGHT / _HOUR_WEIGHT.sum()
    hour = rng.choice(_HOURS, size=n, p=hour_p) + rng.random(n)
    hour = np.where(saturday, 8 + 5 * rng.random(n), hour)
    created = world.local_to_utc(day, hour, origin_zone)
    pack_h = np.exp(np.log(1.8) + 0.6 * rng.standard_normal(n)) * (1 + 0.4 * peak_intensity(day))
    ship_at = created + np.round(np.minimum(pack_h, 30.0) * SECONDS_PER_HOUR).astype(np.int64)

    # Destination country from the warehouse's mix, then zone and postal prefix.
    dest_country = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for w, spec in enumerate(world.warehouses):
        sel = wh == w
        codes = list(spec.destinations)
        p = np.array([spec.destinations[c] for c in codes])
        cum = np.cumsum(p / p.sum())
        pick = np.minimum(np.searchsorted(cum, u[sel]), len(codes) - 1)
        dest_country[sel] = np.array([world.country_index(c) for c in codes])[pick]
    dest_zone = _sample_zone(world, rng, dest_country)
    return _attributes(world, rng, wh, origin_zone, dest_zone, created, ship_at)


def _attributes(world: World, rng: np.random.Generator, wh: np.ndarray, origin_zone: np.ndarray,
                dest_zone: np.ndarray, created: np.ndarray, ship_at: np.ndarray) -> Shipments:
    n = len(wh)
    goods = rng.choice(len(GOODS), size=n, p=GOODS_SHARE)
    weight, length, width, height = _parcel(rng, goods)
    tier = rng.choice(len(TIERS), size=n, p=TIER_SHARE)
    b2b = rng.random(n) < B2B_SHARE
    value = np.round(_VALUE_MEDIAN[goods] * np.exp(0.6 * rng.standard_normal(n))
                     * np.where(tier == 2, 1.3, 1.0) * np.where(b2b, 2.0, 1.0), 2)
    express = rng.random(n) < EXPRESS_SHARE_BY_TIER[tier]
    customs = world.zone_customs[origin_zone, dest_zone]
    incoterm = np.where(customs, np.where(rng.random(n) < 0.35, 1, 0), -1)
    return Shipments({
        "created_at": created,
        "ship_at": ship_at,
        "warehouse": wh,
        "origin_zone": origin_zone,
        "dest_zone": dest_zone,
        "origin_postal": sample_postal_prefix(world, rng, origin_zone),
        "dest_postal": sample_postal_prefix(world, rng, dest_zone),
        "goods": goods,
        "weight": weight,
        "length": length,
        "width": width,
        "height": height,
        "order_value": value,
        "declared_value": value.copy(),
        "tier": tier,
        "b2b": b2b,
        "express_requested": express,
        "incoterm": incoterm,
        "dangerous_goods": rng.random(n) < _DG_RATE[goods],
        "is_return": np.zeros(n, dtype=bool),
        "return_of": np.full(n, -1, dtype=np.int64),
        # Latent facts: the same for every carrier quoted for this shipment.
        "latent_address_bad": rng.random(n) < np.where(b2b, 0.006, 0.013),
        "latent_away": rng.beta(1.0, 22.0, n),
        "latent_docs_missing": rng.random(n) < 0.03,
        "latent_not_ordered": rng.random(n) < 0.002,
    })


def customer_returns(world: World, parent: Shipments, delivered_at: np.ndarray,
                     delivered: np.ndarray, damaged: np.ndarray, end_s: int,
                     rng: np.random.Generator) -> Shipments:
    """Customer returns of delivered outbound parcels, created within the window.

    The return rate depends on the goods (apparel is returned far more than books), rises for
    parcels that arrived damaged, and the return ships from the customer's zone back to the
    warehouse it came from. ``return_of`` holds the parent's row index.
    """
    g = parent.cols["goods"]
    p = RETURN_RATE[g] * np.where(parent.cols["tier"] == 2, 1.2, 1.0)
    p = np.where(damaged, np.maximum(p, 0.5), p)
    pick = delivered & ~parent.cols["b2b"] & (rng.random(len(g)) < p)
    idx = np.flatnonzero(pick)
    created = delivered_at[idx] + np.round(rng.uniform(1, 14, len(idx)) * 86_400).astype(np.int64)
    keep = created < end_s
    idx, created = idx[keep], created[keep]
    ship_at = created + np.round(rng.uniform(2, 72, len(idx)) * SECONDS_PER_HOUR).astype(np.int64)
    src = parent.take(idx).cols
    wh_zone = np.array([world.zone_index(w.zone) for w in world.warehouses])
    n = len(idx)
    cols = dict(src)
    cols.update({
        "created_at": created,
        "ship_at": ship_at,
        "origin_zone": src["dest_zone"],
        "dest_zone": wh_zone[src["warehouse"]],
        "origin_postal": src["dest_postal"],
        "dest_postal": np.array(
            [world.warehouses[w].postal_prefix for w in src["warehouse"]], dtype=object
        ).reshape(n),
        "express_requested": np.zeros(n, dtype=bool),
        "incoterm": np.where(src["incoterm"] >= 0, 1, -1),  # the shop pays duties on returns
        "is_return": np.ones(n, dtype=bool),
        "return_of": idx.astype(np.int64),
        "latent_address_bad": np.zeros(n, dtype=bool),
        "latent_away": np.full(n, 0.002),
        "latent_docs_missing": rng.random(n) < 0.02,
        "latent_not_ordered": np.zeros(n, dtype=bool),
    })
    return Shipments(cols)
