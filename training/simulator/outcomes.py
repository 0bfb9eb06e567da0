"""What would happen to a shipment with each quoted carrier service: the counterfactual outcomes.

Every quote is simulated as if it had been booked, so a recommender can be evaluated on the
quotes it would have picked. Outcomes of one shipment's quotes are *coupled*: causes that belong
to the shipment (a wrong address, an absent recipient, missing customs papers, dangerous goods,
the weather, the order being cancelled) use one random draw per shipment, compared against each
carrier's own probability; causes that belong to the carrier's network (delays, damage, loss)
are drawn independently per quote. The booked quote's outcome *is* the shipment's delivery.

The life of a parcel, in business days of the destination country:

1. **Pickup** - the ship-ready day if before the carrier's cut-off and a pickup day, else the
   next pickup day; hand-over around the cut-off hour.
2. **Network transit** ``N = max(1, ceil(x))``, ``x ~ LogNormal(median x lane x peak, sigma)``.
3. **Linehaul exception** (at most one; lost > security hold > damaged > weather > carrier
   delay > other) adds delay days, or ends the life (lost, or returned after damage/security).
4. **Customs hold** on lanes crossing the EU customs border adds 1-10 days or returns it.
5. **First attempt** on ``pickup + N + delays``; a last-mile exception there (refused > address
   > recipient unavailable, B2B recipients closed on Saturdays) redelivers, sends the parcel to
   a pickup point (collected 1-6 days later, or not at all) or returns it.
6. **Delivery** at a local time of day typical of the service; **returns** start a few hours
   after the exception that caused them and take about as long as the outbound transit.
"""

from __future__ import annotations

import numpy as np

from app.models.enums import ExceptionCategory, TrackingStatus
from training.simulator.calendars import SECONDS_PER_DAY, SECONDS_PER_HOUR, busday_offset_grouped
from training.simulator.demand import Shipments
from training.simulator.disruptions import Disruption, hub_effect
from training.simulator.quotes import LEVELS, WEEKMASKS, Quotes, calendar_years, carrier_arrays
from training.simulator.season import peak_intensity, weekday_of
from training.simulator.weather import (
    BACKGROUND_WEATHER_P,
    EXPOSED_EXCEPTION_P,
    WeatherEvents,
    exposure,
)
from training.simulator.world import ServiceLevel, World

CATEGORIES: tuple[ExceptionCategory, ...] = tuple(ExceptionCategory)
CAT = {c: i for i, c in enumerate(CATEGORIES)}
LINEHAUL_PRIORITY: tuple[ExceptionCategory, ...] = (
    ExceptionCategory.LOST,
    ExceptionCategory.HELD_BY_CARRIER_SECURITY,
    ExceptionCategory.DAMAGED,
    ExceptionCategory.WEATHER_DELAY,
    ExceptionCategory.CARRIER_DELAY,
    ExceptionCategory.OTHER_EXCEPTION,
)
FINAL_STATUSES: tuple[TrackingStatus, ...] = (
    TrackingStatus.DELIVERED,
    TrackingStatus.RETURN_TO_SENDER,
    TrackingStatus.EXCEPTION,
    TrackingStatus.CANCELLED,
)
DELIVERED, RETURNED, LOST_FINAL, CANCELLED = range(4)
# Last-mile outcome kinds.
LM_NONE, LM_REDELIVER, LM_PICKUP_POINT, LM_RETURN, LM_UNCOLLECTED = range(5)

CANCEL_RATE = 0.005


def _choice(rng: np.random.Generator, values: tuple[int, ...], p: tuple[float, ...], n: int
            ) -> np.ndarray:
    return np.asarray(values)[rng.choice(len(values), size=n, p=np.asarray(p))]


def shared_uniforms(rng: np.random.Generator, n_ship: int) -> dict[str, np.ndarray]:
    """One draw per shipment and shipment-level cause, shared by all its quotes."""
    names = ("addr", "recipient", "refused", "customs", "security", "weather", "cancel")
    return {k: rng.random(n_ship) for k in names}


def simulate(world: World, ship: Shipments, q: Quotes, weather: WeatherEvents,
             rng: np.random.Generator, start_year: int,
             disruptions: tuple[Disruption, ...] = ()) -> dict[str, np.ndarray]:
    """Outcome arrays per quote (see module docstring); all times are UTC epoch seconds.
    ``disruptions`` (hub failures) hold parcels and raise carrier delays without drawing."""
    sc, qc = ship.cols, q.cols
    n = len(q)
    s, c = qc["ship"], qc["carrier"]
    oz, dz = sc["origin_zone"][s], sc["dest_zone"][s]
    ca = carrier_arrays(world)
    cs = world.carriers
    shared = shared_uniforms(rng, len(ship))
    pickup = qc["pickup_day"]
    years_span = calendar_years(pickup)
    intensity = peak_intensity(pickup)
    sens = ca["peak_sens"][c]
    dest_country = world.zone_country[dz]
    dmask = ca["delivery_mask"][c]

    def busday(days: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        return busday_offset_grouped(days, offsets.astype(np.int64), dest_country, dmask,
                                     world.country_codes, WEEKMASKS, years_span)

    # 1. Hand-over around the cut-off; never before the parcel is ready.
    hour = ca["cutoff"][c] + rng.uniform(-1.5, 0.75, n)
    same_day = pickup == qc["ship_day"]
    hour = np.where(same_day, np.maximum(hour, qc["ship_hour"] + 0.2), hour)
    handover = world.local_to_utc(pickup, np.minimum(hour, 23.5), oz)

    # 2. Network transit in business days.
    lane = world.lane_factor[c, oz, dz]
    median = qc["median_days"] * lane * (1 + 0.22 * sens * intensity)
    sigma = ca["sigma"][c] + 0.06 * sens * intensity
    x = median * np.exp(sigma * rng.standard_normal(n))
    n_days = np.maximum(1, np.ceil(x)).astype(np.int64)

    # 3. Linehaul exceptions.
    years = (pickup.astype(np.int64) - np.datetime64(f"{start_year}-01-01", "D").astype(
        np.int64)) / 365.25
    trend = np.maximum(0.2, 1 + np.array([k.trend_per_year for k in cs])[c] * years)
    base = np.array([k.exception_rate for k in cs])[c] * qc["account_mult"] * trend
    mix = np.array([[k.carrier_mix.get(cat, 0.0) for cat in CATEGORIES] for k in cs])[c]
    heavy = sc["weight"][s] > 15
    p_cd = base * mix[:, CAT[ExceptionCategory.CARRIER_DELAY]] * (1 + 2.0 * intensity * sens)
    p_dmg = base * mix[:, CAT[ExceptionCategory.DAMAGED]] * (1 + 0.4 * intensity) * (
        1 + 0.5 * heavy)
    p_lost = base * mix[:, CAT[ExceptionCategory.LOST]] * (1 + 0.6 * intensity)
    p_oth = base * mix[:, CAT[ExceptionCategory.OTHER_EXCEPTION]]

    nominal_arrival = world.local_to_utc(busday(pickup, n_days), np.full(n, 12.0), dz)
    w_sev, w_kind, w_origin = exposure(weather, len(world.zones), oz, handover, dz,
                                       nominal_arrival)
    p_wx = BACKGROUND_WEATHER_P + EXPOSED_EXCEPTION_P[w_sev]
    hub_days, hub_hit, hub_origin, hub_p = hub_effect(world, disruptions, c, oz, dz, handover,
                                          nominal_arrival)
    p_cd = np.where(hub_hit, np.maximum(p_cd, hub_p), p_cd)
    air = (qc["level"] == LEVELS.index(ServiceLevel.EXPRESS)) & (qc["dist"] >= 2)
    sec_factor = np.array([k.security_factor for k in cs])[c]
    p_sec = 0.0004 + sc["dangerous_goods"][s] * 0.25 * sec_factor * np.where(air, 1.6, 1.0)

    drawn = {
        ExceptionCategory.LOST: rng.random(n) < p_lost,
        ExceptionCategory.HELD_BY_CARRIER_SECURITY: shared["security"][s] < p_sec,
        ExceptionCategory.DAMAGED: rng.random(n) < p_dmg,
        ExceptionCategory.WEATHER_DELAY: shared["weather"][s] < p_wx,
        ExceptionCategory.CARRIER_DELAY: rng.random(n) < p_cd,
        ExceptionCategory.OTHER_EXCEPTION: rng.random(n) < p_oth,
    }
    cancelled = shared["cancel"][s] < CANCEL_RATE * np.where(sc["is_return"][s], 0.4, 1.0)
    lh = np.full(n, -1, dtype=np.int64)
    for cat in reversed(LINEHAUL_PRIORITY):
        lh = np.where(drawn[cat], CAT[cat], lh)
    lh = np.where(cancelled, -1, lh)

    u = rng.random(n)
    lost = lh == CAT[ExceptionCategory.LOST]
    lost_final = lost & (u >= 0.15)
    is_sec = lh == CAT[ExceptionCategory.HELD_BY_CARRIER_SECURITY]
    is_dmg = lh == CAT[ExceptionCategory.DAMAGED]
    lh_return = (is_sec & (u < 0.4)) | (is_dmg & (u < 0.2))
    lh_delay = np.zeros(n, dtype=np.int64)
    lh_delay = np.where(lost & ~lost_final, rng.integers(4, 9, n), lh_delay)
    lh_delay = np.where(is_sec & ~lh_return, rng.integers(2, 5, n), lh_delay)
    lh_delay = np.where(is_dmg & ~lh_return, rng.integers(0, 2, n), lh_delay)
    lh_delay = np.where(lh == CAT[ExceptionCategory.WEATHER_DELAY],
                        np.maximum(w_sev, 1) + (rng.random(n) < 0.5), lh_delay)
    lh_delay = np.where(lh == CAT[ExceptionCategory.CARRIER_DELAY],
                        _choice(rng, (1, 2, 3), (0.7, 0.25, 0.05), n), lh_delay)
    lh_delay = np.where(lh == CAT[ExceptionCategory.OTHER_EXCEPTION],
                        _choice(rng, (0, 1, 2), (0.3, 0.5, 0.2), n), lh_delay)
    ended = cancelled | lost_final | lh_return

    # 4. Customs.
    dap = sc["incoterm"][s] == 0
    cust_factor = np.array([k.customs_factor for k in cs])[c]
    p_cus = np.minimum(0.95, (0.035 * np.where(sc["declared_value"][s] > 150, 1.5, 1.0)
                              + 0.8 * sc["latent_docs_missing"][s]) * cust_factor)
    cus_hold = qc["customs"] & (shared["customs"][s] < p_cus) & ~ended
    cus_delay = np.where(cus_hold, 1 + np.minimum(rng.poisson(1.3, n), 9), 0)
    cus_return = cus_hold & (rng.random(n) < 0.06 + 0.08 * dap)
    ended |= cus_return

    # 5. First attempt and the last mile.
    first_attempt = busday(pickup, n_days + lh_delay + cus_delay + hub_days)
    saturday = weekday_of(first_attempt) == 5
    not_return = ~sc["is_return"][s]
    p_ref = not_return * (0.003 + 0.03 * (qc["customs"] & dap) + 0.9 * sc["latent_not_ordered"][s])
    p_addr = not_return * (0.002 + sc["latent_address_bad"][s]) * np.array(
        [k.address_detect for k in cs])[c]
    closed = sc["b2b"][s] & saturday
    p_ru = sc["latent_away"][s] * np.array([k.recipient_factor for k in cs])[c] + 0.85 * closed
    lm = np.full(n, -1, dtype=np.int64)
    lm = np.where(shared["recipient"][s] < p_ru, CAT[ExceptionCategory.RECIPIENT_UNAVAILABLE], lm)
    lm = np.where(shared["addr"][s] < p_addr, CAT[ExceptionCategory.ADDRESS_ISSUE], lm)
    lm = np.where(shared["refused"][s] < p_ref, CAT[ExceptionCategory.REFUSED], lm)
    lm = np.where(ended, -1, lm)

    u = rng.random(n)
    pp_share = np.array([k.pickup_point_share for k in cs])[c]
    kind = np.full(n, LM_NONE)
    d2 = np.zeros(n, dtype=np.int64)
    is_ref = lm == CAT[ExceptionCategory.REFUSED]
    is_addr = lm == CAT[ExceptionCategory.ADDRESS_ISSUE]
    is_ru = lm == CAT[ExceptionCategory.RECIPIENT_UNAVAILABLE]
    kind = np.where(is_ref, LM_RETURN, kind)
    kind = np.where(is_addr, np.where(u < 0.15, LM_RETURN, LM_REDELIVER), kind)
    d2 = np.where(is_addr, 1 + (u < 0.55) + (u < 0.25), d2)
    to_pp = is_ru & ~closed & (u < pp_share)
    kind = np.where(is_ru, np.where(to_pp, LM_PICKUP_POINT, LM_REDELIVER), kind)
    d2 = np.where(is_ru, 1, d2)
    d2 = np.where(to_pp, np.minimum(rng.geometric(0.55, n), 6), d2)
    uncollected = to_pp & (rng.random(n) < 0.08)
    kind = np.where(uncollected, LM_UNCOLLECTED, kind)
    final_day = busday(first_attempt, d2)
    returned = lh_return | cus_return | (kind == LM_RETURN) | (kind == LM_UNCOLLECTED)
    delivered = ~(cancelled | lost_final | returned)

    # 6. Times of day, delivery, returns.
    express = qc["level"] == LEVELS.index(ServiceLevel.EXPRESS)
    b2b = sc["b2b"][s]
    tod = np.where(express, 9 + 3.5 * rng.random(n), 9.5 + 9.5 * rng.beta(2, 2, n))
    tod = np.where(b2b & ~express, 9 + 7.5 * rng.beta(2, 2, n), tod)
    tod = np.where(kind == LM_PICKUP_POINT, 10 + 9.5 * rng.random(n), tod)
    delivered_at = world.local_to_utc(final_day, tod, dz)

    t0 = handover + int(4.5 * SECONDS_PER_HOUR)
    t1 = np.maximum(world.local_to_utc(first_attempt, np.full(n, 4.5), dz),
                    t0 + 2 * SECONDS_PER_HOUR)
    span = t1 - t0
    lh_at = t0 + (rng.uniform(0.05, 0.25, n) * span).astype(np.int64)
    lh_at = np.where(lost_final, t0 + (rng.uniform(2, 6, n) * SECONDS_PER_DAY).astype(np.int64),
                     lh_at)
    cus_at = t0 + (rng.uniform(0.52, 0.56, n) * span).astype(np.int64)
    attempt_at = world.local_to_utc(first_attempt, 10 + 8 * rng.random(n), dz)
    avail_at = attempt_at + (rng.uniform(1, 4, n) * SECONDS_PER_HOUR).astype(np.int64)
    trigger = np.where(lh_return, lh_at, np.where(cus_return, cus_at, attempt_at))
    trigger = np.where(kind == LM_UNCOLLECTED,
                       avail_at + (rng.uniform(7, 9, n) * SECONDS_PER_DAY).astype(np.int64),
                       trigger)
    rts_start = trigger + (rng.uniform(4, 30, n) * SECONDS_PER_HOUR).astype(np.int64)
    returned_at = (rts_start + (n_days + 1 + rng.poisson(1.0, n)) * SECONDS_PER_DAY
                   + (rng.uniform(0, 8, n) * SECONDS_PER_HOUR).astype(np.int64))

    booked = sc["booked_at"][s]
    cancel_at = booked + (rng.uniform(0.1, 0.9, n) * (handover - booked)).astype(np.int64)

    final = np.select([cancelled, lost_final, returned], [CANCELLED, LOST_FINAL, RETURNED],
                      DELIVERED)
    on_time = np.where(cancelled, -1,
                       (delivered & (final_day <= qc["promised_date"])).astype(np.int64))
    lm = np.where(cancelled, -1, lm)
    first_exc = np.where(lh >= 0, lh, np.where(cus_hold, CAT[ExceptionCategory.CUSTOMS_HOLD],
                                               lm))
    first_exc = np.where(cancelled, CAT[ExceptionCategory.CANCELLED], first_exc)
    n_exc = (lh >= 0).astype(np.int64) + cus_hold + (lm >= 0) + cancelled
    transit_h = np.where(delivered, (delivered_at - handover) / SECONDS_PER_HOUR, np.nan)
    return {
        "handover_at": handover,
        "n_days": n_days,
        "first_attempt_day": first_attempt,
        "final_day": final_day,
        "delivered_at": np.where(delivered, delivered_at, 0),
        "delivered": delivered,
        "transit_hours": np.round(transit_h, 3),
        "on_time": on_time,
        "final": final,
        "returned": returned,
        "returned_at": np.where(returned, returned_at, 0),
        "rts_start_at": rts_start,
        "cancelled": cancelled,
        "cancel_at": cancel_at,
        "lh_cat": lh,
        "lh_at": lh_at,
        "lost_final": lost_final,
        "lh_return": lh_return,
        "cus_hold": cus_hold,
        "cus_return": cus_return,
        "cus_at": cus_at,
        "lm_cat": lm,
        "lm_kind": kind,
        "attempt_at": attempt_at,
        "avail_at": avail_at,
        "t0": t0,
        "t1": t1,
        "weather_severity": w_sev,
        "weather_kind": w_kind,
        "weather_at_origin": w_origin,
        "first_exception": first_exc,
        "n_exceptions": n_exc,
        "business_closed": closed & is_ru,
        "hub_outage": hub_origin,
    }
