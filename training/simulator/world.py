"""The documented world the history simulator draws from.

Everything a model could learn from simulated history is declared here, in tables, so a data
scientist can read what structure exists (and what does not) instead of reverse-engineering it:

* **Geography** - 11 countries, 37 delivery zones with hub cities, postal prefixes, coordinates,
  climate, remote-area flags and clock rules. Distance between zones is classed as
  ``local < domestic < neighbour < continental < intercontinental``; crossing the EU customs
  border (GB, CH, US) is a separate flag that adds clearance time and customs holds.
* **Shipper** - two warehouses (Dortmund DE, Tilburg NL) with their destination mix and the
  default carriers an Odoo installation would have configured.
* **Carriers** - six fictional carriers modelled on real network types (national parcel network,
  express integrator, postal consolidator, regional Benelux parcel carrier, city courier, road
  parcel/heavy-goods network). Each has services of four levels (express, ground,
  international, economy), a coverage, a cut-off hour, pickup and delivery weekdays, speed,
  reliability (lognormal spread), how optimistic its promise is, peak-season sensitivity,
  account-level exception rates with a yearly trend, category mix, price curve with fuel and
  peak surcharges, tracking-number format and wording styles (see ``wording.py``).
* **Time** - weekday and cut-off effects, national holidays, a late-November-to-December peak
  with a Black Friday spike, growth of volume over time, and regional weather disruptions with
  start and end dates drawn per seed from each zone's climate.

The world itself is fixed (it does not change with the seed); the seed only drives sampling.
Lane-level speed factors are drawn once from ``WORLD_SEED`` so they are stable across runs.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import numpy as np

from app.models.enums import ExceptionCategory
from training.simulator.calendars import SECONDS_PER_DAY, SECONDS_PER_HOUR, utc_offset_hours

WORLD_SEED = 20_240_101

DISTANCE_CLASSES: tuple[str, ...] = (
    "local", "domestic", "neighbour", "continental", "intercontinental"
)
LOCAL, DOMESTIC, NEIGHBOUR, CONTINENTAL, INTERCONTINENTAL = range(5)


class ServiceLevel(StrEnum):
    """Carrier-neutral class of a carrier product; what a dispatcher compares across carriers."""

    EXPRESS = "express"  # time-definite, next business day domestically
    GROUND = "ground"  # standard domestic parcel
    INTERNATIONAL = "international"  # standard cross-border parcel (road / partner network)
    ECONOMY = "economy"  # deferred, cheapest, postal-style


# Nominal median transit in business days per level and distance class (NaN: not offered).
# A realized transit is ceil(LogNormal(median * carrier speed * lane factor * peak, sigma)).
MEDIAN_DAYS: dict[ServiceLevel, tuple[float, ...]] = {
    ServiceLevel.EXPRESS: (0.72, 0.78, 1.15, 1.6, 2.4),
    ServiceLevel.GROUND: (0.65, 0.80, math.nan, math.nan, math.nan),
    ServiceLevel.INTERNATIONAL: (math.nan, math.nan, 1.9, 3.1, 5.8),
    ServiceLevel.ECONOMY: (1.6, 2.1, 3.4, 4.9, 9.5),
}
CUSTOMS_EXTRA_DAYS: dict[ServiceLevel, float] = {
    ServiceLevel.EXPRESS: 0.25,
    ServiceLevel.GROUND: 0.9,
    ServiceLevel.INTERNATIONAL: 0.9,
    ServiceLevel.ECONOMY: 1.4,
}
REMOTE_EXTRA_DAYS = 0.5
LOCAL_DISTANCE_KM = 25.0  # typical pickup-to-door distance inside one zone


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    eu_customs_union: bool
    tz_base: float  # standard-time offset from UTC, hours
    dst_rule: str  # 'eu', 'us' or 'none'


@dataclass(frozen=True)
class Zone:
    """A delivery region: the unit of lanes, weather and last-mile behaviour."""

    code: str
    country: str
    hub: str  # the city its depot is named after in carrier scans
    lat: float
    lon: float
    share: float  # share of the country's recipients
    climate: str  # key of CLIMATES
    postal_prefixes: tuple[str, ...]
    remote: bool = False
    tz_base: float | None = None  # overrides the country's (US time zones)


@dataclass(frozen=True)
class Warehouse:
    code: str
    zone: str
    postal_prefix: str
    share: float  # share of outbound volume
    destinations: dict[str, float]  # destination country -> share
    default_carriers: tuple[str, ...]  # Odoo default carrier preference, first eligible wins


@dataclass(frozen=True)
class Service:
    """A carrier product: where it goes, how it is priced and what it is compared as."""

    code: str
    level: ServiceLevel
    min_dist: int
    max_dist: int
    customs_ok: bool
    max_kg: float
    base_fee: float  # EUR per parcel
    per_kg: float  # EUR per billable kg (after bracket rounding)
    dist_mult: tuple[float, float, float, float, float]  # price multiplier per distance class
    volumetric_divisor: float = 5000.0  # cm^3 per billable kg
    max_girth_cm: float = 400.0


@dataclass(frozen=True)
class Carrier:
    """A carrier and everything about it that moves its outcomes, prices and wording."""

    code: str
    name: str
    pickup_countries: frozenset[str]
    delivery_countries: frozenset[str]
    services: tuple[Service, ...]
    cutoff_hour: float  # local time at origin; later parcels go the next pickup day
    saturday_pickup: bool
    saturday_delivery: bool
    speed: float  # multiplies the nominal median transit
    sigma: float  # lognormal spread of transit: lower is more reliable
    promise_quantile: float  # quantile of its own off-peak transit it promises
    peak_sensitivity: float  # how much the peak slows it (1 = average)
    exception_rate: float  # carrier-caused exceptions per shipment (account multiplier 1)
    carrier_mix: dict[ExceptionCategory, float]  # split of carrier-caused exceptions
    address_detect: float  # P(address exception | the address is wrong)
    recipient_factor: float  # scales the recipient's chance of missing a delivery
    customs_factor: float  # scales customs holds (brokerage quality)
    security_factor: float  # scales holds of dangerous goods (air networks check more)
    pickup_point_share: float  # after a failed attempt: share sent to a pickup point
    trend_per_year: float  # relative change of the exception rate per year (drift)
    fuel_base: float  # fuel surcharge fraction
    fuel_phase: float  # month offset of the fuel-price cycle
    peak_surcharge: float  # EUR per parcel from 15 Nov to 10 Jan
    remote_surcharge: float  # EUR per parcel to a remote zone
    tracking_format: str  # key in TRACKING_FORMATS
    styles: tuple[str, ...]  # wording styles (wording.STYLES)
    code_scheme: str  # how raw codes look (wording.CODE_SCHEMES)
    code_granularity: str  # 'key', 'category' or 'status': how specific a raw code is
    place_format: str  # how a scan names its location, '{city}' / '{CITY}' / '{cc}'


COUNTRIES: tuple[Country, ...] = (
    Country("DE", "Germany", True, 1.0, "eu"),
    Country("AT", "Austria", True, 1.0, "eu"),
    Country("NL", "Netherlands", True, 1.0, "eu"),
    Country("BE", "Belgium", True, 1.0, "eu"),
    Country("FR", "France", True, 1.0, "eu"),
    Country("PL", "Poland", True, 1.0, "eu"),
    Country("IT", "Italy", True, 1.0, "eu"),
    Country("ES", "Spain", True, 1.0, "eu"),
    Country("GB", "United Kingdom", False, 0.0, "eu"),
    Country("CH", "Switzerland", False, 1.0, "eu"),
    Country("US", "United States", False, -5.0, "us"),
)

# Land or short-sea neighbours: the 'neighbour' distance class (road transit of a day or two).
NEIGHBOURS: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (("DE", "AT"), ("DE", "NL"), ("DE", "BE"), ("DE", "FR"), ("DE", "PL"),
                 ("DE", "CH"), ("NL", "BE"), ("BE", "FR"), ("FR", "IT"), ("FR", "ES"),
                 ("FR", "CH"), ("AT", "IT"), ("AT", "CH"), ("IT", "CH"))
)


def _pp(*prefixes: str | range) -> tuple[str, ...]:
    out: list[str] = []
    for p in prefixes:
        out.extend(f"{i:02d}" for i in p) if isinstance(p, range) else out.append(p)
    return tuple(out)


ZONES: tuple[Zone, ...] = (
    Zone("DE-N", "DE", "Hamburg", 53.55, 10.00, 0.16, "north_sea", _pp(range(20, 30))),
    Zone("DE-E", "DE", "Berlin", 52.52, 13.40, 0.20, "continental", _pp(range(1, 20), "39")),
    Zone("DE-W", "DE", "Dortmund", 51.51, 7.47, 0.24, "temperate",
         _pp(range(40, 54), range(57, 60))),
    Zone("DE-C", "DE", "Frankfurt", 50.11, 8.68, 0.18, "temperate",
         _pp(range(30, 39), range(54, 57), range(60, 70))),
    Zone("DE-SW", "DE", "Stuttgart", 48.78, 9.18, 0.10, "temperate", _pp(range(70, 80), "88")),
    Zone("DE-S", "DE", "Munich", 48.14, 11.58, 0.12, "alpine",
         _pp(range(80, 88), range(89, 98))),
    Zone("AT-E", "AT", "Vienna", 48.21, 16.37, 0.50, "continental",
         _pp(range(10, 40), range(70, 80))),
    Zone("AT-W", "AT", "Innsbruck", 47.27, 11.40, 0.30, "alpine", _pp(range(40, 70)), True),
    Zone("AT-S", "AT", "Graz", 47.07, 15.44, 0.20, "alpine", _pp(range(80, 100))),
    Zone("NL-R", "NL", "Amsterdam", 52.37, 4.90, 0.50, "north_sea", _pp(range(10, 40))),
    Zone("NL-S", "NL", "Tilburg", 51.56, 5.09, 0.30, "temperate", _pp(range(40, 70))),
    Zone("NL-N", "NL", "Zwolle", 52.51, 6.09, 0.20, "north_sea", _pp(range(70, 100))),
    Zone("BE-B", "BE", "Brussels", 50.85, 4.35, 0.20, "temperate", _pp(range(10, 20))),
    Zone("BE-F", "BE", "Antwerp", 51.22, 4.40, 0.55, "north_sea",
         _pp(range(20, 40), range(80, 100))),
    Zone("BE-W", "BE", "Liege", 50.63, 5.57, 0.25, "temperate", _pp(range(40, 80))),
    Zone("FR-IDF", "FR", "Paris", 48.86, 2.35, 0.30, "temperate",
         _pp("75", "77", "78", "91", "92", "93", "94", "95")),
    Zone("FR-N", "FR", "Lille", 50.63, 3.06, 0.15, "north_sea",
         _pp("59", "62", "80", "02", "60", "08", "51")),
    Zone("FR-W", "FR", "Nantes", 47.22, -1.55, 0.20, "atlantic",
         _pp("44", "35", "29", "56", "49", "33", "17", "85")),
    Zone("FR-SE", "FR", "Lyon", 45.76, 4.84, 0.35, "mediterranean",
         _pp("69", "13", "06", "83", "38", "73", "74", "84", "34", "30")),
    Zone("PL-C", "PL", "Warsaw", 52.23, 21.01, 0.35, "continental",
         _pp(range(0, 10), "26", range(96, 100))),
    Zone("PL-S", "PL", "Katowice", 50.26, 19.02, 0.35, "continental", _pp(range(30, 50))),
    Zone("PL-N", "PL", "Gdansk", 54.35, 18.65, 0.30, "baltic",
         _pp(range(70, 79), range(80, 85))),
    Zone("IT-N", "IT", "Milan", 45.46, 9.19, 0.55, "continental", _pp(range(10, 49))),
    Zone("IT-C", "IT", "Rome", 41.90, 12.50, 0.25, "mediterranean",
         _pp(range(0, 10), range(50, 68))),
    Zone("IT-S", "IT", "Naples", 40.85, 14.27, 0.20, "mediterranean", _pp(range(70, 99))),
    Zone("ES-C", "ES", "Madrid", 40.42, -3.70, 0.35, "continental",
         _pp("28", "45", "19", "05", "40", "47", "09")),
    Zone("ES-E", "ES", "Barcelona", 41.39, 2.17, 0.40, "mediterranean",
         _pp("08", "17", "25", "43", "46", "03", "12", "30")),
    Zone("ES-S", "ES", "Seville", 37.39, -5.98, 0.25, "mediterranean",
         _pp("41", "29", "11", "14", "18", "21", "23", "04")),
    Zone("GB-SE", "GB", "London", 51.51, -0.13, 0.45, "atlantic",
         ("E", "N", "SE", "SW", "W", "EC", "WC", "NW", "BR", "CR", "RH", "GU")),
    Zone("GB-M", "GB", "Birmingham", 52.49, -1.89, 0.30, "atlantic",
         ("B", "CV", "LE", "NG", "DE", "WV")),
    Zone("GB-N", "GB", "Manchester", 53.48, -2.24, 0.25, "atlantic",
         ("M", "L", "LS", "S", "G", "EH", "NE")),
    Zone("CH-N", "CH", "Zurich", 47.38, 8.54, 0.55, "temperate",
         _pp(range(80, 90), range(40, 60))),
    Zone("CH-W", "CH", "Geneva", 46.20, 6.14, 0.30, "temperate", _pp(range(10, 30))),
    Zone("CH-A", "CH", "Chur", 46.85, 9.53, 0.15, "alpine",
         _pp(range(70, 80), range(36, 40), range(65, 70)), True),
    Zone("US-E", "US", "New York", 40.71, -74.00, 0.40, "us_east",
         ("10", "11", "07", "02", "19", "20", "21")),
    Zone("US-C", "US", "Chicago", 41.88, -87.63, 0.30, "continental",
         ("60", "48", "55", "63", "43"), tz_base=-6.0),
    Zone("US-W", "US", "Los Angeles", 34.05, -118.24, 0.30, "us_west",
         ("90", "91", "94", "98", "85"), tz_base=-8.0),
)

WAREHOUSES: tuple[Warehouse, ...] = (
    Warehouse(
        "WH-DE1", "DE-W", "44", 0.68,
        {"DE": 0.56, "AT": 0.08, "NL": 0.04, "BE": 0.03, "FR": 0.06, "PL": 0.04, "IT": 0.04,
         "ES": 0.03, "GB": 0.05, "CH": 0.04, "US": 0.03},
        ("parcelo", "swiftair", "postnova"),
    ),
    Warehouse(
        "WH-NL1", "NL-S", "50", 0.32,
        {"NL": 0.40, "BE": 0.22, "DE": 0.14, "FR": 0.09, "GB": 0.06, "ES": 0.02, "IT": 0.02,
         "CH": 0.02, "US": 0.03},
        ("lowlands", "parcelo", "swiftair"),
    ),
)

_EU8 = frozenset({"DE", "AT", "NL", "BE", "FR", "PL", "IT", "ES"})
_EUROPE = _EU8 | {"GB", "CH"}
_ALL = _EUROPE | {"US"}

_C = ExceptionCategory
CARRIERS: tuple[Carrier, ...] = (
    Carrier(
        code="parcelo", name="Parcelo",
        pickup_countries=frozenset({"DE", "NL", "AT"}), delivery_countries=_EUROPE,
        services=(
            Service("PARCELO_CLASSIC", ServiceLevel.GROUND, 0, 1, False, 31.5, 4.20, 0.18,
                    (0.95, 1.0, 1.0, 1.0, 1.0), 6000),
            Service("PARCELO_EUROPA", ServiceLevel.INTERNATIONAL, 2, 3, True, 31.5, 9.50, 0.55,
                    (1.0, 1.0, 1.0, 1.45, 1.0), 6000),
            Service("PARCELO_EXPRESS_12", ServiceLevel.EXPRESS, 0, 1, False, 31.5, 12.90, 0.45,
                    (0.95, 1.0, 1.0, 1.0, 1.0), 5000),
        ),
        cutoff_hour=17.0, saturday_pickup=False, saturday_delivery=True,
        speed=1.0, sigma=0.30, promise_quantile=0.85, peak_sensitivity=1.0,
        exception_rate=0.030,
        carrier_mix={_C.CARRIER_DELAY: 0.60, _C.DAMAGED: 0.15, _C.LOST: 0.05,
                     _C.OTHER_EXCEPTION: 0.20},
        address_detect=0.75, recipient_factor=1.0, customs_factor=1.0, security_factor=0.35,
        pickup_point_share=0.45, trend_per_year=-0.05, fuel_base=0.085, fuel_phase=0.0,
        peak_surcharge=0.19, remote_surcharge=2.5, tracking_format="parcelo",
        styles=("de", "sentence", "terse", "caps"), code_scheme="numeric3",
        code_granularity="key", place_format=" ({city})",
    ),
    Carrier(
        code="swiftair", name="SwiftAir Express",
        pickup_countries=_ALL, delivery_countries=_ALL,
        services=(
            Service("SWA_DOMESTIC_EXPRESS", ServiceLevel.EXPRESS, 0, 1, False, 70, 14.50, 0.80,
                    (0.95, 1.0, 1.0, 1.0, 1.0), 5000),
            Service("SWA_EXPRESS_WORLDWIDE", ServiceLevel.EXPRESS, 2, 4, True, 70, 24.00, 2.40,
                    (1.0, 1.0, 1.0, 1.4, 2.6), 5000),
            Service("SWA_ECONOMY_SELECT", ServiceLevel.INTERNATIONAL, 2, 3, True, 70, 13.00,
                    0.90, (1.0, 1.0, 1.0, 1.35, 1.0), 5000),
        ),
        cutoff_hour=18.5, saturday_pickup=True, saturday_delivery=False,
        speed=0.88, sigma=0.18, promise_quantile=0.93, peak_sensitivity=0.7,
        exception_rate=0.018,
        carrier_mix={_C.CARRIER_DELAY: 0.65, _C.DAMAGED: 0.10, _C.LOST: 0.03,
                     _C.OTHER_EXCEPTION: 0.22},
        address_detect=0.60, recipient_factor=1.1, customs_factor=0.45, security_factor=1.0,
        pickup_point_share=0.25, trend_per_year=0.0, fuel_base=0.19, fuel_phase=2.0,
        peak_surcharge=0.45, remote_surcharge=4.5, tracking_format="swiftair",
        styles=("caps", "sentence", "terse"), code_scheme="alpha2",
        code_granularity="category", place_format=" - {CITY} - {cc}",
    ),
    Carrier(
        code="postnova", name="PostNova",
        pickup_countries=_EUROPE, delivery_countries=_ALL,
        services=(
            Service("PN_PACKET", ServiceLevel.ECONOMY, 0, 4, True, 2.0, 3.10, 1.90,
                    (0.95, 1.0, 1.3, 1.7, 2.8), 8000, 150),
            Service("PN_PARCEL", ServiceLevel.GROUND, 0, 1, False, 20.0, 4.60, 0.25,
                    (0.95, 1.0, 1.0, 1.0, 1.0), 8000, 200),
            Service("PN_INTL_TRACKED", ServiceLevel.INTERNATIONAL, 2, 4, True, 20.0, 8.90,
                    1.40, (1.0, 1.0, 1.0, 1.3, 2.7), 8000, 200),
        ),
        cutoff_hour=14.0, saturday_pickup=False, saturday_delivery=True,
        speed=1.12, sigma=0.42, promise_quantile=0.75, peak_sensitivity=1.5,
        exception_rate=0.045,
        carrier_mix={_C.CARRIER_DELAY: 0.50, _C.DAMAGED: 0.12, _C.LOST: 0.13,
                     _C.OTHER_EXCEPTION: 0.25},
        address_detect=0.85, recipient_factor=0.6, customs_factor=1.6, security_factor=0.35,
        pickup_point_share=0.75, trend_per_year=0.35, fuel_base=0.04, fuel_phase=5.0,
        peak_surcharge=0.0, remote_surcharge=0.0, tracking_format="postnova",
        styles=("fr", "sentence", "terse", "caps"), code_scheme="postal",
        code_granularity="key", place_format=" : {city}",
    ),
    Carrier(
        code="lowlands", name="Lowlands Parcel",
        pickup_countries=frozenset({"NL", "BE", "DE"}),
        delivery_countries=frozenset({"NL", "BE", "DE", "FR", "AT"}),
        services=(
            Service("LL_STANDARD", ServiceLevel.GROUND, 0, 1, False, 31.5, 4.40, 0.20,
                    (0.95, 1.0, 1.0, 1.0, 1.0), 6000),
            Service("LL_EUROPE", ServiceLevel.INTERNATIONAL, 2, 3, False, 31.5, 7.90, 0.40,
                    (1.0, 1.0, 1.0, 1.5, 1.0), 6000),
            Service("LL_EVENING_EXPRESS", ServiceLevel.EXPRESS, 0, 1, False, 31.5, 9.90, 0.35,
                    (0.95, 1.0, 1.0, 1.0, 1.0), 6000),
        ),
        cutoff_hour=19.0, saturday_pickup=False, saturday_delivery=True,
        speed=0.95, sigma=0.30, promise_quantile=0.85, peak_sensitivity=1.1,
        exception_rate=0.035,
        carrier_mix={_C.CARRIER_DELAY: 0.60, _C.DAMAGED: 0.10, _C.LOST: 0.05,
                     _C.OTHER_EXCEPTION: 0.25},
        address_detect=0.75, recipient_factor=0.7, customs_factor=1.0, security_factor=0.35,
        pickup_point_share=0.55, trend_per_year=0.15, fuel_base=0.07, fuel_phase=1.0,
        peak_surcharge=0.25, remote_surcharge=2.0, tracking_format="lowlands",
        styles=("nl", "sentence", "terse"), code_scheme="snake",
        code_granularity="key", place_format=", {city}",
    ),
    Carrier(
        code="velox", name="Velox Kurier",
        pickup_countries=frozenset({"DE", "NL"}), delivery_countries=frozenset({"DE", "NL"}),
        services=(
            Service("VLX_CITY_NEXTDAY", ServiceLevel.EXPRESS, 0, 1, False, 25.0, 8.90, 0.30,
                    (0.9, 1.0, 1.0, 1.0, 1.0), 5000),
            Service("VLX_CITY_ECO", ServiceLevel.GROUND, 0, 1, False, 25.0, 4.00, 0.22,
                    (0.9, 1.0, 1.0, 1.0, 1.0), 5000),
        ),
        cutoff_hour=20.0, saturday_pickup=True, saturday_delivery=True,
        speed=0.9, sigma=0.38, promise_quantile=0.70, peak_sensitivity=1.3,
        exception_rate=0.050,
        carrier_mix={_C.CARRIER_DELAY: 0.55, _C.DAMAGED: 0.10, _C.LOST: 0.10,
                     _C.OTHER_EXCEPTION: 0.25},
        address_detect=0.90, recipient_factor=1.3, customs_factor=1.0, security_factor=0.35,
        pickup_point_share=0.20, trend_per_year=-0.20, fuel_base=0.06, fuel_phase=3.0,
        peak_surcharge=0.30, remote_surcharge=3.0, tracking_format="velox",
        styles=("driver", "de", "terse"), code_scheme="status2",
        code_granularity="status", place_format=" {city}",
    ),
    Carrier(
        code="atlas", name="Atlas Road Parcel",
        pickup_countries=frozenset({"DE", "PL", "NL", "AT"}), delivery_countries=_EUROPE,
        services=(
            Service("ATL_ROAD", ServiceLevel.GROUND, 0, 1, False, 70.0, 7.50, 0.12,
                    (0.95, 1.0, 1.0, 1.0, 1.0), 4000, 400),
            Service("ATL_ROAD_EUROPE", ServiceLevel.INTERNATIONAL, 2, 3, True, 70.0, 14.00,
                    0.28, (1.0, 1.0, 1.0, 1.4, 1.0), 4000, 400),
            Service("ATL_ECONOMY", ServiceLevel.ECONOMY, 0, 3, True, 70.0, 6.00, 0.10,
                    (0.95, 1.0, 1.25, 1.6, 1.0), 4000, 400),
        ),
        cutoff_hour=15.0, saturday_pickup=False, saturday_delivery=False,
        speed=1.05, sigma=0.35, promise_quantile=0.80, peak_sensitivity=1.0,
        exception_rate=0.040,
        carrier_mix={_C.CARRIER_DELAY: 0.50, _C.DAMAGED: 0.30, _C.LOST: 0.04,
                     _C.OTHER_EXCEPTION: 0.16},
        address_detect=0.70, recipient_factor=1.2, customs_factor=1.2, security_factor=0.35,
        pickup_point_share=0.10, trend_per_year=0.0, fuel_base=0.12, fuel_phase=4.0,
        peak_surcharge=0.50, remote_surcharge=2.5, tracking_format="atlas",
        styles=("caps", "pl", "sentence"), code_scheme="slash",
        code_granularity="category", place_format=" / {CITY}",
    ),
)

# Account-level multipliers of the carrier-caused exception rate: the same carrier serves the
# two warehouses from different depots, and one of them is measurably worse.
ACCOUNT_EXCEPTION_MULTIPLIER: dict[tuple[str, str], float] = {
    ("parcelo", "WH-DE1"): 1.0, ("parcelo", "WH-NL1"): 1.25,
    ("swiftair", "WH-DE1"): 1.0, ("swiftair", "WH-NL1"): 0.9,
    ("postnova", "WH-DE1"): 1.1, ("postnova", "WH-NL1"): 0.95,
    ("lowlands", "WH-DE1"): 1.35, ("lowlands", "WH-NL1"): 0.9,
    ("velox", "WH-DE1"): 1.0, ("velox", "WH-NL1"): 1.2,
    ("atlas", "WH-DE1"): 0.9, ("atlas", "WH-NL1"): 1.3,
}

# Climate -> weather hazards: (kind, months, events per zone-month, (min, max) days, severity p)
CLIMATES: dict[str, tuple[tuple[str, tuple[int, ...], float, tuple[int, int],
                                tuple[float, float, float]], ...]] = {
    "north_sea": (("storm", (10, 11, 12, 1, 2, 3), 0.45, (1, 3), (0.5, 0.35, 0.15)),
                  ("snow", (12, 1, 2), 0.12, (1, 4), (0.5, 0.35, 0.15))),
    "baltic": (("storm", (10, 11, 12, 1, 2, 3), 0.35, (1, 3), (0.5, 0.35, 0.15)),
               ("snow", (12, 1, 2, 3), 0.35, (2, 5), (0.45, 0.4, 0.15))),
    "atlantic": (("storm", (10, 11, 12, 1, 2, 3), 0.40, (1, 3), (0.5, 0.35, 0.15)),
                 ("flood", (11, 12, 1, 2), 0.08, (2, 6), (0.3, 0.4, 0.3))),
    "temperate": (("storm", (11, 12, 1, 2, 3), 0.20, (1, 2), (0.6, 0.3, 0.1)),
                  ("snow", (12, 1, 2), 0.20, (1, 4), (0.5, 0.35, 0.15)),
                  ("flood", (6, 7, 8), 0.06, (3, 8), (0.3, 0.4, 0.3))),
    "continental": (("snow", (12, 1, 2, 3), 0.35, (2, 6), (0.45, 0.4, 0.15)),
                    ("thunderstorm", (6, 7, 8), 0.15, (1, 2), (0.6, 0.3, 0.1)),
                    ("flood", (5, 6, 7, 8), 0.05, (3, 8), (0.3, 0.4, 0.3))),
    "alpine": (("snow", (11, 12, 1, 2, 3, 4), 0.60, (2, 6), (0.35, 0.4, 0.25)),
               ("landslide", (5, 6, 7, 8, 9), 0.05, (2, 7), (0.2, 0.4, 0.4))),
    "mediterranean": (("flood", (9, 10, 11), 0.18, (2, 5), (0.3, 0.4, 0.3)),
                      ("heat", (7, 8), 0.10, (3, 7), (0.7, 0.25, 0.05))),
    "us_east": (("snow", (12, 1, 2, 3), 0.40, (2, 5), (0.4, 0.4, 0.2)),
                ("hurricane", (8, 9, 10), 0.08, (3, 7), (0.2, 0.4, 0.4))),
    "us_west": (("wildfire", (7, 8, 9, 10), 0.15, (4, 10), (0.4, 0.4, 0.2)),),
}

# Tracking-number formats: prefix, digits, suffix ('{cc}' = origin country).
TRACKING_FORMATS: dict[str, tuple[str, int, str]] = {
    "parcelo": ("PC", 12, "{cc}"),
    "swiftair": ("", 10, ""),
    "postnova": ("PN", 9, "{cc}"),
    "lowlands": ("3LWL", 11, ""),
    "velox": ("VLX-", 8, ""),
    "atlas": ("ATL", 9, ""),
}

# Weight brackets carriers price in (kg): billable weight is rounded up to the next bracket.
WEIGHT_BRACKETS: tuple[float, ...] = (
    0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 25, 31.5, 40, 50, 60, 70, 1000
)


def _haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
                  ) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def stable_stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per (seed, component name).

    Named streams keep components independent: changing how weather is drawn does not reshuffle
    the shipments of the same seed.
    """
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode())]))


@dataclass(frozen=True)
class World:
    """The static world plus index arrays the vectorized generator works on."""

    countries: tuple[Country, ...] = COUNTRIES
    zones: tuple[Zone, ...] = ZONES
    warehouses: tuple[Warehouse, ...] = WAREHOUSES
    carriers: tuple[Carrier, ...] = CARRIERS
    account_multiplier: dict[tuple[str, str], float] = field(
        default_factory=lambda: dict(ACCOUNT_EXCEPTION_MULTIPLIER)
    )

    # -- lookups ---------------------------------------------------------------------------------
    @cached_property
    def country_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.countries)

    @cached_property
    def zone_codes(self) -> tuple[str, ...]:
        return tuple(z.code for z in self.zones)

    @cached_property
    def carrier_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.carriers)

    @cached_property
    def warehouse_codes(self) -> tuple[str, ...]:
        return tuple(w.code for w in self.warehouses)

    def country_index(self, code: str) -> int:
        return self.country_codes.index(code)

    def zone_index(self, code: str) -> int:
        return self.zone_codes.index(code)

    def carrier(self, code: str) -> Carrier:
        return self.carriers[self.carrier_codes.index(code)]

    # -- zone arrays -----------------------------------------------------------------------------
    @cached_property
    def zone_country(self) -> np.ndarray:
        return np.array([self.country_index(z.country) for z in self.zones])

    @cached_property
    def zone_tz_base(self) -> np.ndarray:
        by_code = {c.code: c for c in self.countries}
        return np.array([
            z.tz_base if z.tz_base is not None else by_code[z.country].tz_base for z in self.zones
        ])

    @cached_property
    def dst_rules(self) -> tuple[str, ...]:
        return ("none", "eu", "us")

    @cached_property
    def zone_dst(self) -> np.ndarray:
        by_code = {c.code: c for c in self.countries}
        return np.array([self.dst_rules.index(by_code[z.country].dst_rule) for z in self.zones])

    @cached_property
    def zone_remote(self) -> np.ndarray:
        return np.array([z.remote for z in self.zones])

    @cached_property
    def country_eu(self) -> np.ndarray:
        return np.array([c.eu_customs_union for c in self.countries])

    @cached_property
    def zone_distance_km(self) -> np.ndarray:
        lat = np.array([z.lat for z in self.zones])
        lon = np.array([z.lon for z in self.zones])
        d = _haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        np.fill_diagonal(d, LOCAL_DISTANCE_KM)
        return d

    @cached_property
    def zone_distance_class(self) -> np.ndarray:
        """Distance class of every zone pair (rows: origin, columns: destination)."""
        n = len(self.zones)
        out = np.empty((n, n), dtype=np.int8)
        for i, a in enumerate(self.zones):
            for j, b in enumerate(self.zones):
                if i == j:
                    out[i, j] = LOCAL
                elif a.country == b.country:
                    out[i, j] = DOMESTIC
                elif "US" in (a.country, b.country):
                    out[i, j] = INTERCONTINENTAL
                elif frozenset((a.country, b.country)) in NEIGHBOURS:
                    out[i, j] = NEIGHBOUR
                else:
                    out[i, j] = CONTINENTAL
        return out

    @cached_property
    def zone_customs(self) -> np.ndarray:
        """True where a parcel crosses the EU customs border (either side outside the union)."""
        eu = self.country_eu[self.zone_country]
        same = self.zone_country[:, None] == self.zone_country[None, :]
        return ~same & ~(eu[:, None] & eu[None, :])

    @cached_property
    def country_zone_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Zones of each country and their recipient shares, padded, for vectorized sampling."""
        n_c, n_z = len(self.countries), len(self.zones)
        idx = np.full((n_c, n_z), -1)
        cum = np.ones((n_c, n_z))
        for c in range(n_c):
            zs = np.flatnonzero(self.zone_country == c)
            shares = np.array([self.zones[z].share for z in zs])
            idx[c, : len(zs)] = zs
            cum[c, : len(zs)] = np.cumsum(shares / shares.sum())
        return idx, cum

    # -- products (carrier x service) -----------------------------------------------------------
    @cached_property
    def products(self) -> tuple[tuple[int, Service], ...]:
        return tuple((ci, s) for ci, c in enumerate(self.carriers) for s in c.services)

    @cached_property
    def lane_factor(self) -> np.ndarray:
        """Per (carrier, origin zone, destination zone) speed factor, fixed by WORLD_SEED.

        Real lanes differ for reasons no table explains (a depot's sort window, a linehaul that
        leaves before the trucks arrive); a lognormal factor with 10 % spread stands for that.
        """
        rng = np.random.default_rng(WORLD_SEED)
        n_c, n_z = len(self.carriers), len(self.zones)
        return np.exp(rng.normal(0.0, 0.10, size=(n_c, n_z, n_z)))

    # -- clocks --------------------------------------------------------------------------------
    def utc_offset(self, zone: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Local-minus-UTC hours of each zone on each local day (daylight saving included)."""
        return utc_offset_hours(self.zone_tz_base[zone], self.zone_dst[zone], days,
                                self.dst_rules)

    def local_to_utc(self, days: np.ndarray, hours: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """UTC epoch seconds of a local wall-clock time (day + fractional hour) in a zone."""
        d = days.astype("datetime64[D]")
        off = self.utc_offset(zone, d)
        return (d.astype(np.int64) * SECONDS_PER_DAY
                + np.round((hours - off) * SECONDS_PER_HOUR).astype(np.int64))

    def utc_to_local(self, utc_s: np.ndarray, zone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Local day (``datetime64[D]``) and fractional local hour of UTC epoch seconds."""
        day_utc = (utc_s // SECONDS_PER_DAY).astype("datetime64[D]")
        local = utc_s + np.round(self.utc_offset(zone, day_utc) * SECONDS_PER_HOUR).astype(
            np.int64)
        return ((local // SECONDS_PER_DAY).astype("datetime64[D]"),
                (local % SECONDS_PER_DAY) / SECONDS_PER_HOUR)

    def summary(self) -> dict[str, object]:
        """A JSON-able description, written beside the tables so a data set names its world."""
        return {
            "countries": [c.code for c in self.countries],
            "zones": [z.code for z in self.zones],
            "warehouses": [w.code for w in self.warehouses],
            "carriers": {
                c.code: {"name": c.name, "services": [s.code for s in c.services],
                         "levels": sorted({str(s.level) for s in c.services}),
                         "cutoff_hour": c.cutoff_hour, "styles": list(c.styles)}
                for c in self.carriers
            },
            "distance_classes": list(DISTANCE_CLASSES),
        }


DEFAULT_WORLD = World()
