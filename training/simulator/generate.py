"""Simulate shipment history: shipments, every quote with its counterfactual outcome, events,
deliveries and the weather that shaped them.

Deterministic per seed: every component draws from its own named ``numpy.random.Generator``
stream (``world.stable_stream``), so the same (config, seed) always yields identical tables and
a change in one component does not reshuffle the others. Everything is vectorized over rows;
Python loops run only over small world tables (zones, carriers, calendar groups, days).

Two passes: outbound pickings are simulated first; customer returns are then drawn from the
delivered ones and simulated the same way (from the customer's zone back to the warehouse).
The combined shipments are ordered by ``created_at`` and numbered ``SHP0000001`` onwards.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from app.models.enums import ExceptionCategory, TrackingStatus
from training.simulator import demand, events, outcomes, policies, quotes, weather
from training.simulator.calendars import SECONDS_PER_DAY
from training.simulator.demand import Shipments
from training.simulator.disruptions import Disruption, add_weather
from training.simulator.outcomes import CATEGORIES, FINAL_STATUSES
from training.simulator.quotes import LEVELS, Quotes
from training.simulator.wording import STYLES, Phrasebook
from training.simulator.world import DEFAULT_WORLD, DISTANCE_CLASSES, World, stable_stream

CURRENCY = "EUR"
SOURCE = "simulator"


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. ``shipments_per_day`` is the mean number of outbound pickings per
    calendar day over the window; customer returns come on top (about 8 %)."""

    days: int = 365
    seed: int = 0
    start: date = date(2024, 1, 1)
    shipments_per_day: float = 275.0
    returns: bool = True
    # Injected, known disruptions (``disruptions.py``); none by default.
    disruptions: tuple[Disruption, ...] = ()

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("days must be at least 1")
        if self.shipments_per_day <= 0:
            raise ValueError("shipments_per_day must be positive")


@dataclass
class History:
    """The simulated tables, as pandas DataFrames (columns documented in training/README.md)."""

    shipments: pd.DataFrame
    quotes: pd.DataFrame
    events: pd.DataFrame
    deliveries: pd.DataFrame
    weather_events: pd.DataFrame
    config: SimulationConfig
    seconds: float = 0.0
    world_summary: dict[str, object] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "shipments": self.shipments,
            "quotes": self.quotes,
            "events": self.events,
            "deliveries": self.deliveries,
            "weather_events": self.weather_events,
        }

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {name: len(df) for name, df in self.tables().items()}
        out["seconds"] = round(self.seconds, 3)
        out["seed"] = self.config.seed
        out["days"] = self.config.days
        return out

    def manifest(self) -> dict[str, object]:
        cfg = asdict(self.config)
        cfg["start"] = self.config.start.isoformat()
        cfg["disruptions"] = [  # as JSON reads them back
            {"kind": type(d).__name__, **{k: str(v) if isinstance(v, date) else v
                                          for k, v in asdict(d).items()}}
            for d in self.config.disruptions
        ]
        return {"config": cfg, "counts": {k: len(v) for k, v in self.tables().items()},
                "world": self.world_summary}


# -- conversion helpers ------------------------------------------------------------------------
def _ts(seconds: np.ndarray, valid: np.ndarray | None = None) -> pd.DatetimeIndex:
    arr = (seconds.astype(np.int64) * 1_000_000).astype("datetime64[us]")
    if valid is not None:
        arr = np.where(valid, arr, np.datetime64("NaT", "us"))
    return pd.DatetimeIndex(arr).tz_localize("UTC")


def _date(days: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    arr = days.astype("datetime64[D]").astype("datetime64[us]")
    if valid is not None:
        arr = np.where(valid, arr, np.datetime64("NaT", "us"))
    return arr


def _cat(codes: np.ndarray, categories: tuple[str, ...] | list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=list(categories))


def _nullable_bool(values: np.ndarray) -> pd.arrays.BooleanArray:
    """int array of 1/0/-1 -> nullable boolean (-1 is missing)."""
    return pd.arrays.BooleanArray(values == 1, values < 0)


# -- the simulation ----------------------------------------------------------------------------
def _pass(world: World, ship: Shipments, wx: weather.WeatherEvents, seed: int, tag: str,
          start_year: int, disruptions: tuple[Disruption, ...] = ()
          ) -> tuple[Quotes, dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    rng_b = stable_stream(seed, f"{tag}.booking")
    ship.cols["booked_at"] = ship.cols["created_at"] + (
        rng_b.uniform(1, 15, len(ship)) * 60).astype(np.int64)
    q = quotes.build(world, ship, start_year)
    o = outcomes.simulate(world, ship, q, wx, stable_stream(seed, f"{tag}.outcomes"), start_year,
                          disruptions)
    chosen, policy, propensity = policies.choose(world, ship, q,
                                                 stable_stream(seed, f"{tag}.policy"))
    return q, o, chosen, policy, propensity


def simulate_history(config: SimulationConfig | None = None, world: World = DEFAULT_WORLD
                     ) -> History:
    """Run the simulator; see the module docstring and training/README.md."""
    cfg = config or SimulationConfig()
    t_start = time.perf_counter()
    seed, start_year = cfg.seed, cfg.start.year
    end_s = int((np.datetime64(cfg.start, "D") + cfg.days).astype(np.int64)) * SECONDS_PER_DAY
    wx = weather.generate(world, cfg.start, cfg.days, stable_stream(seed, "weather"))
    wx = add_weather(world, wx, cfg.disruptions)

    ship1 = demand.outbound(world, cfg.start, cfg.days, cfg.shipments_per_day,
                            stable_stream(seed, "demand"))
    q1, o1, ch1, pol1, prop1 = _pass(world, ship1, wx, seed, "outbound", start_year,
                                  cfg.disruptions)
    parts = [(ship1, q1, o1, ch1, pol1, prop1)]
    if cfg.returns:
        damaged = (o1["first_exception"][ch1] == outcomes.CAT[ExceptionCategory.DAMAGED])
        ship2 = demand.customer_returns(world, ship1, o1["delivered_at"][ch1],
                                        o1["delivered"][ch1], damaged, end_s,
                                        stable_stream(seed, "returns"))
        if len(ship2):
            parts.append((ship2, *_pass(world, ship2, wx, seed, "returns", start_year,
                                               cfg.disruptions)))

    ship, q, o, chosen, policy, propensity = _combine(parts)
    # Order shipments by creation time and renumber everything accordingly.
    order = np.argsort(ship.cols["created_at"], kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    ship = ship.take(order)
    ro = ship.cols["return_of"]
    ship.cols["return_of"] = np.where(ro >= 0, rank[np.maximum(ro, 0)], -1)
    policy, chosen = policy[order], chosen[order]
    q_ship = rank[q.cols["ship"]]
    q_order = np.lexsort((q.cols["product"], q_ship))
    q_rank = np.empty_like(q_order)
    q_rank[q_order] = np.arange(len(q_order))
    q = Quotes({k: v[q_order] for k, v in q.cols.items()})
    q.cols["ship"] = q_ship[q_order]
    o = {k: v[q_order] for k, v in o.items()}
    propensity = propensity[q_order]
    chosen = q_rank[chosen]

    oc = {k: v[chosen] for k, v in o.items()}  # the booked quote's outcome, per shipment
    carrier = q.cols["carrier"][chosen]
    rng_ev = stable_stream(seed, "events")
    tracking = events.tracking_numbers(world, carrier, world.zone_country[ship.cols["origin_zone"]],
                                       rng_ev)
    ev = events.build(world, ship, carrier, oc, rng_ev, _phrasebook(world))

    ids = np.array([f"SHP{i:07d}" for i in range(1, len(ship) + 1)], dtype=object)
    tables = _frames(world, ship, q, o, oc, chosen, policy, propensity, tracking, ev, ids, wx)
    return History(**tables, config=cfg, seconds=time.perf_counter() - t_start,
                   world_summary=world.summary())


_PHRASEBOOKS: dict[int, Phrasebook] = {}


def _phrasebook(world: World) -> Phrasebook:
    key = id(world.carriers)
    if key not in _PHRASEBOOKS:
        _PHRASEBOOKS[key] = Phrasebook(world.carriers)
    return _PHRASEBOOKS[key]


def _combine(parts: list[tuple[Shipments, Quotes, dict[str, np.ndarray], np.ndarray,
                               np.ndarray, np.ndarray]]
             ) -> tuple[Shipments, Quotes, dict[str, np.ndarray], np.ndarray, np.ndarray,
                        np.ndarray]:
    ship_off, q_off = 0, 0
    ships, qs, os_, chs, pols, props = [], [], [], [], [], []
    for ship, q, o, ch, pol, prop in parts:
        cols = dict(q.cols)
        cols["ship"] = cols["ship"] + ship_off
        qs.append(Quotes(cols))
        ships.append(ship)
        os_.append(o)
        chs.append(ch + q_off)
        pols.append(pol)
        props.append(prop)
        ship_off += len(ship)
        q_off += len(q)
    q_all = Quotes({k: np.concatenate([x.cols[k] for x in qs]) for k in qs[0].cols})
    o_all = {k: np.concatenate([x[k] for x in os_]) for k in os_[0]}
    return (Shipments.concat(ships), q_all, o_all, np.concatenate(chs), np.concatenate(pols),
            np.concatenate(props))


def _frames(world: World, ship: Shipments, q: Quotes, o: dict[str, np.ndarray],
            oc: dict[str, np.ndarray], chosen: np.ndarray, policy: np.ndarray,
            propensity: np.ndarray, tracking: np.ndarray, ev: dict[str, np.ndarray],
            ids: np.ndarray, wx: weather.WeatherEvents) -> dict[str, pd.DataFrame]:
    sc, qc = ship.cols, q.cols
    n = len(ship)
    oz, dz = sc["origin_zone"], sc["dest_zone"]
    zone_codes, country_codes = world.zone_codes, world.country_codes
    carrier_codes = world.carrier_codes
    services = [svc.code for _, svc in world.products]
    accounts = [f"{c}-{w}" for c in carrier_codes for w in world.warehouse_codes]
    n_wh = len(world.warehouses)
    levels = [lv.value for lv in LEVELS]
    cat_values = [c.value for c in CATEGORIES]
    status_values = [s.value for s in TrackingStatus]
    final_values = [FINAL_STATUSES[i].value for i in range(len(FINAL_STATUSES))]
    final_codes = np.array([status_values.index(v) for v in final_values])

    q_ship = qc["ship"]
    q_account = qc["carrier"] * n_wh + sc["warehouse"][q_ship]
    is_chosen = np.zeros(len(q_ship), dtype=bool)
    is_chosen[chosen] = True
    n_quotes = np.bincount(q_ship, minlength=n)

    shipments = pd.DataFrame({
        "shipment_id": pd.Series(ids, dtype="str"),
        "source": _cat(np.zeros(n), [SOURCE]),
        "created_at": _ts(sc["created_at"]),
        "booked_at": _ts(sc["booked_at"]),
        "ship_at": _ts(sc["ship_at"]),
        "warehouse": _cat(sc["warehouse"], list(world.warehouse_codes)),
        "origin_country": _cat(world.zone_country[oz], country_codes),
        "origin_zone": _cat(oz, zone_codes),
        "origin_postal_prefix": pd.Series(sc["origin_postal"], dtype="str"),
        "destination_country": _cat(world.zone_country[dz], country_codes),
        "destination_zone": _cat(dz, zone_codes),
        "destination_postal_prefix": pd.Series(sc["dest_postal"], dtype="str"),
        "lane_distance_km": np.round(world.zone_distance_km[oz, dz], 1),
        "distance_class": _cat(world.zone_distance_class[oz, dz], DISTANCE_CLASSES),
        "is_international": world.zone_country[oz] != world.zone_country[dz],
        "needs_customs": world.zone_customs[oz, dz],
        "is_return": sc["is_return"],
        "return_of_shipment_id": pd.Series(
            np.where(sc["return_of"] >= 0, ids[np.maximum(sc["return_of"], 0)], None),
            dtype="str"),
        "weight_kg": sc["weight"],
        "length_cm": sc["length"],
        "width_cm": sc["width"],
        "height_cm": sc["height"],
        "declared_value": sc["declared_value"],
        "order_value": sc["order_value"],
        "currency": _cat(np.zeros(n), [CURRENCY]),
        "goods_category": _cat(sc["goods"], demand.GOODS),
        "customer_tier": _cat(sc["tier"], demand.TIERS),
        "customer_type": _cat(sc["b2b"].astype(np.int64), demand.CUSTOMER_TYPES),
        "requested_service_level": _cat(sc["express_requested"].astype(np.int64),
                                        demand.LEVEL_REQUESTS),
        "incoterm": _cat(sc["incoterm"], demand.INCOTERMS),
        "dangerous_goods": sc["dangerous_goods"],
        "policy": _cat(policy, policies.POLICIES),
        "carrier": _cat(qc["carrier"][chosen], carrier_codes),
        "carrier_account": _cat(q_account[chosen], accounts),
        "service": _cat(qc["product"][chosen], services),
        "service_level": _cat(qc["level"][chosen], levels),
        "tracking_number": pd.Series(tracking, dtype="str"),
        "price": qc["price"][chosen],
        "promised_transit_days": qc["promised_days"][chosen],
        "promised_date": _date(qc["promised_date"][chosen]),
        "n_quotes": n_quotes,
    })

    had = o["n_exceptions"] > 0
    quotes_df = pd.DataFrame({
        "shipment_id": pd.Series(ids[q_ship], dtype="str"),
        "carrier": _cat(qc["carrier"], carrier_codes),
        "carrier_account": _cat(q_account, accounts),
        "service": _cat(qc["product"], services),
        "service_level": _cat(qc["level"], levels),
        "price": qc["price"],
        "currency": _cat(np.zeros(len(q_ship)), [CURRENCY]),
        "billable_weight_kg": qc["billable_kg"],
        "pickup_date": _date(qc["pickup_day"]),
        "promised_transit_days": qc["promised_days"],
        "promised_date": _date(qc["promised_date"]),
        "chosen": is_chosen,
        "propensity": propensity,
        "realized_handed_over_at": _ts(o["handover_at"], ~o["cancelled"]),
        "realized_delivered_at": _ts(o["delivered_at"], o["delivered"]),
        "realized_transit_hours": o["transit_hours"],
        "delivered_on_time": _nullable_bool(o["on_time"]),
        "had_exception": had,
        "exception_category": _cat(np.where(had, o["first_exception"], -1), cat_values),
        "realized_final_status": _cat(final_codes[o["final"]], status_values),
        "realized_returned": o["returned"],
    })

    days_late = np.where(
        oc["delivered"], (oc["final_day"] - qc["promised_date"][chosen]).astype(np.int64), 0
    ).astype(np.float64)
    days_late[~oc["delivered"]] = np.nan
    had_c = oc["n_exceptions"] > 0
    deliveries = pd.DataFrame({
        "shipment_id": pd.Series(ids, dtype="str"),
        "carrier": _cat(qc["carrier"][chosen], carrier_codes),
        "handed_over_at": _ts(oc["handover_at"], ~oc["cancelled"]),
        "delivered_at": _ts(oc["delivered_at"], oc["delivered"]),
        "transit_hours": oc["transit_hours"],
        "promised_date": _date(qc["promised_date"][chosen]),
        "on_time": _nullable_bool(oc["on_time"]),
        "days_late": days_late,
        "final_status": _cat(final_codes[oc["final"]], status_values),
        "returned": oc["returned"],
        "returned_at": _ts(oc["returned_at"], oc["returned"]),
        "n_exceptions": oc["n_exceptions"],
        "first_exception_category": _cat(np.where(had_c, oc["first_exception"], -1),
                                         cat_values),
    })

    e_ship = ev["ship"]
    events_df = pd.DataFrame({
        "shipment_id": pd.Series(ids[e_ship], dtype="str"),
        "seq": ev["seq"],
        "carrier": _cat(ev["carrier"], carrier_codes),
        "tracking_number": pd.Series(tracking[e_ship], dtype="str"),
        "occurred_at": _ts(ev["occurred_at"]),
        "status": pd.Categorical(ev["status"], categories=status_values),
        "raw_code": pd.Series(ev["raw_code"], dtype="str"),
        "raw_description": pd.Series(ev["raw_description"], dtype="str"),
        "exception_category": pd.Categorical(ev["exception_category"], categories=cat_values),
        "location_zone": _cat(ev["zone"], zone_codes),
        "location_country": _cat(world.zone_country[ev["zone"]], country_codes),
        "wording_style": pd.Categorical(ev["wording_style"], categories=list(STYLES)),
        "event_key": pd.Series(ev["event_key"], dtype="str"),
    })

    weather_df = pd.DataFrame({
        "weather_event_id": pd.Series(
            [f"WX{i + 1:05d}" for i in range(len(wx))], dtype="str"),
        "zone": _cat(wx.zone, zone_codes),
        "country": _cat(world.zone_country[wx.zone], country_codes),
        "kind": _cat(wx.kind, weather.WEATHER_KINDS),
        "severity": wx.severity.astype(np.int64),
        "start_at": _ts(wx.start_s),
        "end_at": _ts(wx.end_s),
    })
    return {"shipments": shipments, "quotes": quotes_df, "events": events_df,
            "deliveries": deliveries, "weather_events": weather_df}


__all__ = ["History", "SimulationConfig", "simulate_history"]
