"""Tracking events of the booked shipments, worded by their carrier.

A parcel's life is laid out as a fixed sequence of *slots* (label, pickup, hub scans, linehaul
exception, export/import/customs, depot, delivery attempts, delivery, return). Each slot has a
time derived from the booked quote's outcome and a mask saying whether it happens to this
parcel; exceptions sit where they occur and the delay they cause is the gap after them. The
canonical slot order is also the time order, which gives the guarantees tests check:

* milestones never go backwards (info_received < in_transit < out_for_delivery <
  available_for_pickup < delivered), whatever exceptions sit between them;
* ``delivered`` is the last event; a returned parcel ends with ``return_to_sender`` events and
  nothing forward after them; ``cancelled`` ends a life before pickup;
* the ``delivered`` event's time equals ``deliveries.delivered_at``.

Scans go missing at realistic rates (hub scans 4-6 %, depot 5 %), a few meaningless status
updates (``unknown``) appear, and each event's words come from the carrier's phrasebook.
"""

from __future__ import annotations

import numpy as np

from app.models.enums import ExceptionCategory
from training.simulator.calendars import SECONDS_PER_HOUR
from training.simulator.demand import Shipments
from training.simulator.outcomes import (
    CAT,
    CATEGORIES,
    LM_PICKUP_POINT,
    LM_REDELIVER,
    LM_UNCOLLECTED,
)
from training.simulator.weather import NATURAL_EVENT_KINDS, WEATHER_KINDS
from training.simulator.wording import (
    CATEGORY_MEANINGS,
    MEANING_CATEGORY,
    MEANING_INDEX,
    MEANING_PLACE,
    MEANING_STATUS,
    STYLES,
    Phrasebook,
)
from training.simulator.world import TRACKING_FORMATS, World

_M = MEANING_INDEX
_EC = ExceptionCategory


def _sub_reason_table() -> tuple[np.ndarray, np.ndarray]:
    n_cat = len(CATEGORIES)
    width = max(len(v) for v in CATEGORY_MEANINGS.values())
    tbl = np.zeros((n_cat, width), dtype=np.int64)
    cnt = np.ones(n_cat, dtype=np.int64)
    for cat, ms in CATEGORY_MEANINGS.items():
        tbl[CAT[cat], : len(ms)] = ms
        cnt[CAT[cat]] = len(ms)
    return tbl, cnt


def _exception_meaning(cat: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    tbl, cnt = _sub_reason_table()
    c = np.maximum(cat, 0)
    pick = np.minimum((rng.random(len(cat)) * cnt[c]).astype(np.int64), cnt[c] - 1)
    return tbl[c, pick]


def tracking_numbers(world: World, carrier: np.ndarray, origin_country: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """Carrier-formatted tracking numbers (prefix, digits, optional country suffix)."""
    out = np.empty(len(carrier), dtype=object)
    for ci, spec in enumerate(world.carriers):
        sel = np.flatnonzero(carrier == ci)
        if sel.size == 0:
            continue
        prefix, digits, suffix = TRACKING_FORMATS[spec.tracking_format]
        nums = rng.integers(0, 10**digits, sel.size, dtype=np.int64)
        body = np.char.zfill(nums.astype(str), digits).astype(object)
        cc = np.array(world.country_codes, dtype=object)[origin_country[sel]]
        tail = cc if suffix == "{cc}" else np.full(sel.size, suffix, dtype=object)
        out[sel] = prefix + body + tail
    return out


def build(world: World, ship: Shipments, carrier: np.ndarray, o: dict[str, np.ndarray],
          rng: np.random.Generator, phrasebook: Phrasebook) -> dict[str, np.ndarray]:
    """Event columns for the booked quotes ``o`` (one row of ``o`` per shipment)."""
    sc = ship.cols
    n = len(ship)
    oz, dz = sc["origin_zone"], sc["dest_zone"]
    customs = world.zone_customs[oz, dz]
    cancelled = o["cancelled"]
    alive_lh = ~(cancelled | o["lost_final"] | o["lh_return"])
    alive = alive_lh & ~o["cus_return"]
    t0, span = o["t0"], o["t1"] - o["t0"]
    hour = SECONDS_PER_HOUR

    def frac(lo: float, hi: float) -> np.ndarray:
        return t0 + (rng.uniform(lo, hi, n) * span).astype(np.int64)

    hub_in = o["handover_at"] + (rng.uniform(0.7, 2.5, n) * hour).astype(np.int64)
    hub_out = hub_in + (rng.uniform(0.5, 2.0, n) * hour).astype(np.int64)
    cleared = np.where(o["cus_hold"], frac(0.85, 0.92), frac(0.58, 0.64))
    mid = np.where(customs, frac(0.93, 0.96), frac(0.66, 0.80))
    unknown = np.where(customs, frac(0.965, 0.98), frac(0.81, 0.84))
    depot = o["t1"] + (rng.uniform(0, 1.5, n) * hour).astype(np.int64)
    ofd1 = world.local_to_utc(o["first_attempt_day"], 6.5 + 2 * rng.random(n), dz)
    ofd2 = world.local_to_utc(o["final_day"], 6.5 + 2 * rng.random(n), dz)
    rts_transit = o["rts_start_at"] + (rng.uniform(12, 40, n) * hour).astype(np.int64)
    kind = o["lm_kind"]
    pickup_point = (kind == LM_PICKUP_POINT) | (kind == LM_UNCOLLECTED)
    lh_origin = np.where(o["lh_cat"] == CAT[_EC.WEATHER_DELAY], o["weather_at_origin"],
                         rng.random(n) < 0.5)
    several_days = (o["first_attempt_day"] - o["handover_at"].astype("datetime64[s]").astype(
        "datetime64[D]")).astype(np.int64) >= 2

    # Meanings of exception slots: sub-reasons, with context where the world provides it.
    lh_meaning = _exception_meaning(o["lh_cat"], rng)
    natural = np.isin(o["weather_kind"], [WEATHER_KINDS.index(k) for k in NATURAL_EVENT_KINDS])
    is_wx = o["lh_cat"] == CAT[_EC.WEATHER_DELAY]
    lh_meaning = np.where(is_wx, np.where(natural, _M["exc.weather_delay.natural_event"],
                                          _M["exc.weather_delay.severe_weather"]), lh_meaning)
    lh_meaning = np.where(o["lost_final"], np.where(rng.random(n) < 0.6, _M["exc.lost.declared"],
                                                    _M["exc.lost.not_located"]), lh_meaning)
    lh_meaning = np.where((o["lh_cat"] == CAT[_EC.LOST]) & ~o["lost_final"],
                          _M["exc.lost.not_located"], lh_meaning)
    cus_meaning = _exception_meaning(np.full(n, CAT[_EC.CUSTOMS_HOLD]), rng)
    lm_meaning = _exception_meaning(o["lm_cat"], rng)
    is_ru = o["lm_cat"] == CAT[_EC.RECIPIENT_UNAVAILABLE]
    home = np.where(rng.random(n) < 0.5, _M["exc.recipient_unavailable.not_home"],
                    _M["exc.recipient_unavailable.notice_left"])
    lm_meaning = np.where(is_ru & ~sc["b2b"], home, lm_meaning)
    lm_meaning = np.where(o["business_closed"], _M["exc.recipient_unavailable.business_closed"],
                          lm_meaning)
    is_ref = o["lm_cat"] == CAT[_EC.REFUSED]
    duties = customs & (sc["incoterm"] == 0) & (rng.random(n) < 0.7)
    ref = np.where(sc["latent_not_ordered"], _M["exc.refused.not_ordered"],
                   np.where(duties, _M["exc.refused.duties"], _M["exc.refused.refused"]))
    lm_meaning = np.where(is_ref, ref, lm_meaning)
    delivered_m = np.where(pickup_point, _M["ms.delivered_pickup"],
                           np.where(~sc["b2b"] & (rng.random(n) < 0.15),
                                    _M["ms.delivered_neighbour"], _M["ms.delivered"]))

    lh_zone = np.where(lh_origin, oz, dz)
    rts_zone = np.where(o["lh_return"], lh_zone, dz)  # a return starts where the parcel is
    full = np.full
    # (time, mask, meaning, zone) per slot, in canonical (= time) order.
    slots: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = [
        (sc["booked_at"], full(n, True), full(n, _M["ms.label_created"]), oz),
        (o["cancel_at"], cancelled, full(n, _M["cx.cancelled"]), oz),
        (o["handover_at"], ~cancelled, full(n, _M["ms.picked_up"]), oz),
        (hub_in, ~cancelled & (rng.random(n) >= 0.04), full(n, _M["ms.hub_arrival"]), oz),
        (hub_out, ~cancelled & (rng.random(n) >= 0.06) & ~o.get("hub_outage", full(n, False)),
         full(n, _M["ms.hub_departure"]), oz),
        (o["lh_at"], o["lh_cat"] >= 0, lh_meaning, lh_zone),
        (frac(0.28, 0.33), customs & alive_lh, full(n, _M["ms.export"]), oz),
        (frac(0.45, 0.50), customs & alive_lh, full(n, _M["ms.import"]), dz),
        (o["cus_at"], o["cus_hold"], cus_meaning, dz),
        (cleared, customs & alive, full(n, _M["ms.customs_cleared"]), dz),
        (mid, alive & several_days & (rng.random(n) < 0.7), full(n, _M["ms.in_transit"]), dz),
        (unknown, alive & (rng.random(n) < 0.02), full(n, _M["ms.status_update"]), dz),
        (depot, alive & (rng.random(n) >= 0.05), full(n, _M["ms.depot_arrival"]), dz),
        (ofd1, alive, full(n, _M["ms.out_for_delivery"]), dz),
        (o["attempt_at"], o["lm_cat"] >= 0, lm_meaning, dz),
        (o["avail_at"], pickup_point, full(n, _M["ms.pickup_point"]), dz),
        (ofd2, kind == LM_REDELIVER, full(n, _M["ms.out_for_delivery"]), dz),
        (o["delivered_at"], o["delivered"], delivered_m, dz),
        (o["rts_start_at"], o["returned"], full(n, _M["rts.started"]), rts_zone),
        (rts_transit, o["returned"], full(n, _M["rts.in_transit"]), rts_zone),
        (o["returned_at"], o["returned"], full(n, _M["rts.completed"]), oz),
    ]
    ship_idx = np.concatenate([np.flatnonzero(m) for _, m, _, _ in slots])
    slot = np.concatenate([np.full(int(m.sum()), i) for i, (_, m, _, _) in enumerate(slots)])
    t = np.concatenate([tt[m] for tt, m, _, _ in slots])
    meaning = np.concatenate([mm[m] for _, m, mm, _ in slots])
    zone = np.concatenate([z[m] for _, m, _, z in slots])
    order = np.lexsort((slot, ship_idx))
    ship_idx, t, meaning, zone = ship_idx[order], t[order], meaning[order], zone[order]
    # Safety net: within a shipment, time never runs backwards along the canonical order.
    big = np.int64(1) << np.int64(40)
    t = np.maximum.accumulate(ship_idx * big + t) - ship_idx * big
    starts = np.searchsorted(ship_idx, ship_idx, side="left")
    seq = np.arange(len(ship_idx)) - starts

    ev_carrier = carrier[ship_idx]
    phrase = phrasebook.pick(ev_carrier, meaning, rng.random(len(meaning)))
    text = phrasebook.texts[phrase].copy()
    place = MEANING_PLACE[meaning]
    suffix = _place_suffixes(world)
    text[place] = text[place] + suffix[ev_carrier[place], zone[place]]
    status = np.array([s.value for s in MEANING_STATUS], dtype=object)[meaning]
    category = np.array([c.value if c else None for c in MEANING_CATEGORY], dtype=object)[meaning]
    return {
        "ship": ship_idx,
        "seq": seq,
        "carrier": ev_carrier,
        "occurred_at": t,
        "raw_code": phrasebook.codes[phrase],
        "raw_description": text,
        "status": status,
        "exception_category": category,
        "zone": zone,
        "wording_style": np.array(STYLES, dtype=object)[phrasebook.styles[phrase]],
        "event_key": np.array(list(_M), dtype=object)[meaning],
    }


def _place_suffixes(world: World) -> np.ndarray:
    """Location text per (carrier, zone) in the carrier's own format."""
    out = np.empty((len(world.carriers), len(world.zones)), dtype=object)
    for ci, c in enumerate(world.carriers):
        for zi, z in enumerate(world.zones):
            out[ci, zi] = c.place_format.format(city=z.hub, CITY=z.hub.upper(), cc=z.country)
    return out
