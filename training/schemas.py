"""The training-data contract: column specs and validation for shipments, quotes, events,
deliveries and weather events - whether they come from the simulator, an adapter of a public
data set (Olist) or Waybill's own export.

One declarative table per data set (``TABLES``) is the single source of truth: the pandera
schemas are built from it, ``training/README.md`` documents it, and ``validate_tables`` checks
it, together with what a per-table schema cannot see:

* keys are unique and every row points at a known shipment;
* each shipment with quotes has exactly one chosen quote, it matches the shipment's carrier and
  service, and its recorded outcome equals the actual delivery;
* deliveries are internally consistent (delivered means a delivery time after hand-over,
  transit hours agree with the timestamps, returned means ``return_to_sender``);
* tracking events are a life, not a bag: ``seq`` runs 0..n-1 in time order, milestones never go
  backwards, nothing forward follows ``delivered`` or ``return_to_sender``, ``cancelled`` ends
  it, and every exception carries a category.

Columns marked *optional* may be absent (a real export may not know them); *nullable* columns
may hold nulls. Extra columns are allowed: features may travel with the data.

Usage::

    report = validate_tables("var/history")          # a directory written by training.io
    report = validate_tables({"shipments": df, ...})  # or frames
    report.raise_for_errors()                          # ContractViolation listing every problem
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from app.models.countries import ISO_COUNTRIES
from app.models.enums import ExceptionCategory, TrackingStatus

Kind = Literal["string", "timestamp", "date", "bool", "int", "float"]
LifecycleMode = Literal["error", "warn", "off"]

SCHEMA_VERSION = "1"
SOURCES = ("simulator", "olist", "waybill")
SERVICE_LEVELS = ("express", "ground", "international", "economy")
DISTANCE_CLASSES = ("local", "domestic", "neighbour", "continental", "intercontinental")
STATUSES = tuple(s.value for s in TrackingStatus)
CATEGORIES = tuple(c.value for c in ExceptionCategory)
COUNTRIES = tuple(sorted(ISO_COUNTRIES))
STYLES = ("sentence", "terse", "caps", "driver", "de", "nl", "fr", "pl")
_FORWARD_RANK = {s.value: s.milestone_rank for s in TrackingStatus
                 if s.milestone_rank is not None}
MAX_EXAMPLES = 3


@dataclass(frozen=True)
class Col:
    """One column of the contract."""

    name: str
    kind: Kind
    doc: str
    nullable: bool = False
    optional: bool = False
    enum: tuple[str, ...] | None = None
    ge: float | None = None
    le: float | None = None


def _c(name: str, kind: Kind, doc: str, **kw: object) -> Col:
    return Col(name, kind, doc, **kw)  # type: ignore[arg-type]


TABLES: dict[str, tuple[Col, ...]] = {
    "shipments": (
        _c("shipment_id", "string", "Unique shipment id (simulator `SHP0000001`, Olist order_id)."),
        _c("source", "string", "Where the row comes from.", enum=SOURCES),
        _c("created_at", "timestamp", "When the picking became ready and Waybill saw the intent."),
        _c("booked_at", "timestamp", "When the label was bought.", nullable=True, optional=True),
        _c("ship_at", "timestamp", "When the parcel was ready for the carrier (packed).",
           nullable=True),
        _c("warehouse", "string", "Shipping warehouse code.", nullable=True, optional=True),
        _c("origin_country", "string", "ISO 3166-1 alpha-2 of the pickup address.",
           enum=COUNTRIES),
        _c("origin_zone", "string", "Region of the pickup address (simulator zone, Olist "
           "`BR-<state>`).", nullable=True),
        _c("origin_postal_prefix", "string", "Leading characters of the pickup postal code.",
           nullable=True),
        _c("destination_country", "string", "ISO 3166-1 alpha-2 of the recipient.",
           enum=COUNTRIES),
        _c("destination_zone", "string", "Region of the recipient.", nullable=True),
        _c("destination_postal_prefix", "string", "Leading characters of the recipient postal "
           "code.", nullable=True),
        _c("lane_distance_km", "float", "Great-circle distance between origin and destination "
           "(zone centroids, or postal-prefix centroids for Olist).", nullable=True, ge=0),
        _c("distance_class", "string", "local < domestic < neighbour < continental < "
           "intercontinental.", nullable=True, optional=True, enum=DISTANCE_CLASSES),
        _c("is_international", "bool", "Origin and destination countries differ."),
        _c("needs_customs", "bool", "The lane crosses a customs border."),
        _c("is_return", "bool", "A customer return travelling back to the warehouse."),
        _c("return_of_shipment_id", "string", "For returns: the outbound shipment returned.",
           nullable=True, optional=True),
        _c("weight_kg", "float", "Gross parcel weight.", nullable=True, ge=0, le=1000),
        _c("length_cm", "float", "Longest side of the box.", nullable=True, ge=0, le=400),
        _c("width_cm", "float", "Box width.", nullable=True, ge=0, le=400),
        _c("height_cm", "float", "Box height.", nullable=True, ge=0, le=400),
        _c("declared_value", "float", "Declared goods value (customs), in `currency`.",
           nullable=True, ge=0),
        _c("order_value", "float", "Order value of the goods, in `currency`.", nullable=True,
           ge=0),
        _c("currency", "string", "ISO 4217 code of the money columns.", nullable=True),
        _c("goods_category", "string", "Product category of the contents.", nullable=True,
           optional=True),
        _c("customer_tier", "string", "standard / plus / vip.", nullable=True, optional=True),
        _c("customer_type", "string", "b2c or b2b (businesses close on weekends).",
           nullable=True, optional=True, enum=("b2c", "b2b")),
        _c("requested_service_level", "string", "What the customer paid for: standard or "
           "express.", nullable=True, optional=True, enum=("standard", "express")),
        _c("incoterm", "string", "DAP (recipient pays duties) or DDP, customs lanes only.",
           nullable=True, optional=True),
        _c("dangerous_goods", "bool", "Contains declared dangerous goods (e.g. lithium).",
           nullable=True, optional=True),
        _c("policy", "string", "Which policy chose the carrier (odoo_default, cheapest, "
           "dispatcher, recommender ...).", nullable=True, optional=True),
        _c("carrier", "string", "Carrier of the booked label.", nullable=True),
        _c("carrier_account", "string", "Carrier account used (exception rates differ per "
           "account).", nullable=True, optional=True),
        _c("service", "string", "Carrier service code booked.", nullable=True),
        _c("service_level", "string", "Carrier-neutral level of the booked service.",
           nullable=True, enum=SERVICE_LEVELS),
        _c("tracking_number", "string", "Carrier tracking number.", nullable=True,
           optional=True),
        _c("price", "float", "Price paid for the label, in `currency`.", nullable=True, ge=0),
        _c("promised_transit_days", "int", "Carrier's promise in business days from pickup.",
           nullable=True, ge=0),
        _c("promised_date", "date", "Promised delivery date (destination's calendar).",
           nullable=True),
        _c("n_quotes", "int", "Number of quotes offered at booking time.", nullable=True,
           optional=True, ge=0),
    ),
    "quotes": (
        _c("shipment_id", "string", "The shipment quoted."),
        _c("carrier", "string", "Quoting carrier."),
        _c("carrier_account", "string", "Carrier account quoted.", nullable=True, optional=True),
        _c("service", "string", "Carrier service code."),
        _c("service_level", "string", "Carrier-neutral level.", nullable=True,
           enum=SERVICE_LEVELS),
        _c("price", "float", "Quoted price, in `currency`.", ge=0),
        _c("currency", "string", "ISO 4217 code.", nullable=True),
        _c("billable_weight_kg", "float", "Max(actual, volumetric) weight, bracket-rounded.",
           nullable=True, optional=True, ge=0),
        _c("pickup_date", "date", "Pickup day the cut-off allows.", nullable=True,
           optional=True),
        _c("promised_transit_days", "int", "Carrier's promise in business days.",
           nullable=True, ge=0),
        _c("promised_date", "date", "Carrier's promised delivery date.", nullable=True),
        _c("chosen", "bool", "This quote was booked (exactly one per shipment)."),
        _c("propensity", "float", "Probability the logging policy would book this quote.",
           nullable=True, optional=True, ge=0, le=1),
        _c("realized_handed_over_at", "timestamp", "Outcome had it been booked: carrier "
           "hand-over (null if cancelled).", nullable=True),
        _c("realized_delivered_at", "timestamp", "Outcome: delivery time (null unless "
           "delivered).", nullable=True),
        _c("realized_transit_hours", "float", "Outcome: hand-over to delivery, hours.",
           nullable=True, ge=0),
        _c("delivered_on_time", "bool", "Outcome: delivered on or before the promised date "
           "(false if never delivered, null if cancelled).", nullable=True),
        _c("had_exception", "bool", "Outcome: at least one exception.", nullable=True),
        _c("exception_category", "string", "Outcome: first exception's category.",
           nullable=True, enum=CATEGORIES),
        _c("realized_final_status", "string", "Outcome: final tracking status.",
           nullable=True, enum=STATUSES),
        _c("realized_returned", "bool", "Outcome: returned to the shipper.", nullable=True),
    ),
    "events": (
        _c("shipment_id", "string", "The shipment tracked."),
        _c("seq", "int", "0..n-1 per shipment, in time order.", ge=0),
        _c("carrier", "string", "Carrier that reported the event."),
        _c("tracking_number", "string", "Carrier tracking number.", nullable=True),
        _c("occurred_at", "timestamp", "When it happened (carrier's scan time)."),
        _c("status", "string", "Canonical status (DESIGN §4).", enum=STATUSES),
        _c("raw_code", "string", "Carrier's own event code (null for free text).",
           nullable=True),
        _c("raw_description", "string", "Carrier's own text, verbatim.", nullable=True),
        _c("exception_category", "string", "Ground-truth category of exception, return and "
           "cancellation events; null otherwise.", nullable=True, enum=CATEGORIES),
        _c("location_zone", "string", "Region where it happened.", nullable=True),
        _c("location_country", "string", "Country where it happened.", nullable=True,
           enum=COUNTRIES),
        _c("wording_style", "string", "Simulator only: phrasing style of the text.",
           nullable=True, optional=True, enum=STYLES),
        _c("event_key", "string", "Simulator only: meaning of the event (sub-reason).",
           nullable=True, optional=True),
    ),
    "deliveries": (
        _c("shipment_id", "string", "The shipment."),
        _c("carrier", "string", "Carrier of the booked label.", nullable=True),
        _c("handed_over_at", "timestamp", "Carrier pickup scan (null if cancelled or unknown).",
           nullable=True),
        _c("delivered_at", "timestamp", "Delivery to the recipient (null unless delivered).",
           nullable=True),
        _c("transit_hours", "float", "delivered_at - handed_over_at, hours.", nullable=True,
           ge=0),
        _c("promised_date", "date", "Promised delivery date.", nullable=True),
        _c("on_time", "bool", "Delivered on or before the promised date (false if never "
           "delivered, null if cancelled or no promise).", nullable=True),
        _c("days_late", "float", "Delivery date minus promised date, calendar days (negative "
           "= early).", nullable=True),
        _c("final_status", "string", "Last canonical status.", enum=STATUSES),
        _c("returned", "bool", "Returned to the shipper."),
        _c("returned_at", "timestamp", "When it was back at the shipper.", nullable=True,
           optional=True),
        _c("n_exceptions", "int", "Exception events in its life.", nullable=True,
           optional=True, ge=0),
        _c("first_exception_category", "string", "Category of the first exception.",
           nullable=True, optional=True, enum=CATEGORIES),
    ),
    "weather_events": (
        _c("weather_event_id", "string", "Unique id."),
        _c("zone", "string", "Affected zone."),
        _c("country", "string", "Country of the zone.", enum=COUNTRIES),
        _c("kind", "string", "storm, snow, flood, thunderstorm, heat, landslide, hurricane, "
           "wildfire."),
        _c("severity", "int", "1 (minor) to 3 (severe).", ge=1, le=3),
        _c("start_at", "timestamp", "Start of the disruption."),
        _c("end_at", "timestamp", "End of the disruption."),
    ),
}
KEYS: dict[str, tuple[str, ...]] = {
    "shipments": ("shipment_id",),
    "quotes": ("shipment_id", "carrier", "service", "carrier_account"),
    "events": ("shipment_id", "seq"),
    "deliveries": ("shipment_id",),
    "weather_events": ("weather_event_id",),
}


class ContractViolation(ValueError):
    """Tables that break the training-data contract; the message lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = "\n".join(f"  - {e}" for e in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{len(errors)} contract violation(s):\n{shown}{more}")


@dataclass
class ValidationReport:
    """What ``validate_tables`` found; ``ok`` when there are no errors."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> ValidationReport:
        if self.errors:
            raise ContractViolation(self.errors)
        return self


# -- per-table schemas (pandera) ---------------------------------------------------------------
def _is_string_like(s: pd.Series) -> bool:
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        return len(cats) == 0 or pd.api.types.infer_dtype(cats, skipna=True) in ("string",
                                                                                 "empty")
    if pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
        return True
    return pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")


def _is_utc_timestamp(s: pd.Series) -> bool:
    return isinstance(s.dtype, pd.DatetimeTZDtype) and str(s.dtype.tz) in ("UTC", "utc")


def _is_date(s: pd.Series) -> bool:
    if not pd.api.types.is_datetime64_dtype(s.dtype) or isinstance(s.dtype, pd.DatetimeTZDtype):
        return False
    v = s.dropna()
    return bool((v == v.dt.normalize()).all())


def _is_bool(s: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(s.dtype)


def _is_int(s: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(s.dtype):
        return True
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.dropna().to_numpy(dtype=np.float64)
        return bool(np.all(v == np.round(v)))
    return False


def _is_float(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


_KIND_CHECKS: dict[Kind, tuple[Callable[[pd.Series], bool], str]] = {
    "string": (_is_string_like, "must hold text (str, string or categorical of str)"),
    "timestamp": (_is_utc_timestamp, "must be a timezone-aware UTC timestamp column"),
    "date": (_is_date, "must be a naive datetime64 column of dates (midnight)"),
    "bool": (_is_bool, "must be boolean (bool, or nullable 'boolean')"),
    "int": (_is_int, "must be integers"),
    "float": (_is_float, "must be numeric"),
}


def _column(col: Col) -> pa.Column:
    fn, message = _KIND_CHECKS[col.kind]
    checks = [pa.Check(fn, element_wise=False, name=f"kind={col.kind}", error=message)]
    if col.enum is not None:
        allowed = set(col.enum)
        checks.append(pa.Check(lambda s, a=allowed: s.astype(object).isin(a),
                               name=f"one of {_short(col.enum)}",
                               error=f"must be one of {_short(col.enum)}"))
    if col.ge is not None:
        checks.append(pa.Check(lambda s, g=col.ge: pd.to_numeric(s, errors="coerce") >= g,
                               name=f">= {col.ge:g}", error=f"must be >= {col.ge:g}"))
    if col.le is not None:
        checks.append(pa.Check(lambda s, g=col.le: pd.to_numeric(s, errors="coerce") <= g,
                               name=f"<= {col.le:g}", error=f"must be <= {col.le:g}"))
    return pa.Column(dtype=None, checks=checks, nullable=col.nullable, required=not col.optional,
                     name=col.name)


def _short(values: tuple[str, ...]) -> str:
    return "{" + ", ".join(values[:12]) + (", ..." if len(values) > 12 else "") + "}"


SCHEMAS: dict[str, pa.DataFrameSchema] = {
    table: pa.DataFrameSchema({c.name: _column(c) for c in cols}, strict=False, name=table)
    for table, cols in TABLES.items()
}


def _schema_errors(table: str, df: pd.DataFrame) -> list[str]:
    try:
        SCHEMAS[table].validate(df, lazy=True)
    except SchemaErrors as exc:
        return _format_failures(table, exc.failure_cases)
    return []


def _format_failures(table: str, fc: pd.DataFrame) -> list[str]:
    out: list[str] = []
    fc = fc.copy()
    fc["column"] = fc["column"].fillna("<table>")
    for (column, check), grp in fc.groupby(["column", "check"], sort=False, dropna=False):
        check_s = str(check)
        if check_s == "column_in_dataframe":
            out.append(f"{table}: required column {grp['failure_case'].iloc[0]!r} is missing")
            continue
        if check_s == "not_nullable":
            message = "must not be null"
        else:
            spec = next((c for c in TABLES[table] if c.name == column), None)
            message = _message_for(spec, check_s)
        rows = grp["index"].dropna()
        if rows.empty:
            out.append(f"{table}.{column}: {message}")
            continue
        examples = ", ".join(f"row {i}: {v!r}" for i, v in
                             zip(rows.head(MAX_EXAMPLES), grp["failure_case"].head(MAX_EXAMPLES),
                                 strict=False))
        out.append(f"{table}.{column}: {message} - {len(rows)} row(s) fail, e.g. {examples}")
    return out


def _message_for(spec: Col | None, check: str) -> str:
    if check.startswith("must"):
        return check  # pandera reports a check by its error text
    if spec is None:
        return f"failed {check}"
    if check.startswith("kind="):
        return _KIND_CHECKS[spec.kind][1]
    if check.startswith("one of"):
        return f"must be one of {_short(spec.enum or ())}"
    return f"must be {check}"


# -- cross-table and lifecycle checks ----------------------------------------------------------
def _examples(ids: pd.Series) -> str:
    return ", ".join(map(str, ids.head(MAX_EXAMPLES).tolist()))


def _index_examples(mask: pd.Series) -> str:
    return _examples(pd.Series(mask[mask].index))


def _key_errors(table: str, df: pd.DataFrame) -> list[str]:
    key = [k for k in KEYS[table] if k in df.columns]
    if len(key) != len(KEYS[table]) and table != "quotes":
        return []
    dup = df.duplicated(subset=key, keep=False)
    if dup.any():
        sample = df.loc[dup, key].head(MAX_EXAMPLES).to_dict("records")
        return [f"{table}: key ({', '.join(key)}) is not unique - {int(dup.sum())} row(s), "
                f"e.g. {sample}"]
    return []


def _reference_errors(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    if "shipments" not in tables:
        return [f"{t}: cannot check shipment ids without a shipments table"
                for t in tables if t in ("quotes", "events", "deliveries")]
    known = pd.Index(tables["shipments"]["shipment_id"].astype(str))
    out = []
    for t in ("quotes", "events", "deliveries"):
        if t in tables and "shipment_id" in tables[t].columns:
            ids = tables[t]["shipment_id"].astype(str)
            bad = ~ids.isin(known)
            if bad.any():
                out.append(f"{t}.shipment_id: {int(bad.sum())} row(s) reference unknown "
                           f"shipments, e.g. {_examples(ids[bad].drop_duplicates())}")
    return out


def _shipment_errors(s: pd.DataFrame) -> list[str]:
    out = []
    if {"ship_at", "created_at"} <= set(s.columns):
        bad = s["ship_at"].notna() & (s["ship_at"] < s["created_at"])
        if bad.any():
            out.append(f"shipments: ship_at before created_at in {int(bad.sum())} row(s), e.g. "
                       f"{_examples(s.loc[bad, 'shipment_id'])}")
    if {"promised_date", "created_at"} <= set(s.columns):
        created_day = s["created_at"].dt.tz_convert(None).dt.normalize()
        bad = s["promised_date"].notna() & (s["promised_date"] < created_day - pd.Timedelta(
            days=1))
        if bad.any():
            out.append(f"shipments: promised_date before the shipment was created in "
                       f"{int(bad.sum())} row(s), e.g. {_examples(s.loc[bad, 'shipment_id'])}")
    return out


def _delivery_errors(d: pd.DataFrame) -> list[str]:
    out = []
    status = d["final_status"].astype(object)
    delivered = status == TrackingStatus.DELIVERED.value
    checks = [
        (delivered & d["delivered_at"].isna(), "final_status 'delivered' without delivered_at"),
        (~delivered & d["delivered_at"].notna(),
         "delivered_at set but final_status is not 'delivered'"),
        (d["delivered_at"].notna() & d["handed_over_at"].notna()
         & (d["delivered_at"] < d["handed_over_at"]), "delivered_at before handed_over_at"),
        (d["returned"].astype(bool) & (status != TrackingStatus.RETURN_TO_SENDER.value),
         "returned but final_status is not 'return_to_sender'"),
    ]
    both = d["delivered_at"].notna() & d["handed_over_at"].notna() & d["transit_hours"].notna()
    hours = (d["delivered_at"] - d["handed_over_at"]).dt.total_seconds() / 3600
    checks.append((both & ((hours - d["transit_hours"]).abs() > 0.01),
                   "transit_hours disagrees with delivered_at - handed_over_at"))
    for bad, message in checks:
        bad = bad.fillna(False).astype(bool)
        if bad.any():
            out.append(f"deliveries: {message} in {int(bad.sum())} row(s), e.g. "
                       f"{_examples(d.loc[bad, 'shipment_id'])}")
    return out


def _quote_errors(q: pd.DataFrame, s: pd.DataFrame | None, d: pd.DataFrame | None
                  ) -> list[str]:
    out = []
    chosen = q["chosen"].astype(bool)
    per_ship = chosen.groupby(q["shipment_id"].astype(str)).sum()
    bad = per_ship[per_ship != 1]
    if len(bad):
        out.append(f"quotes: {len(bad)} shipment(s) do not have exactly one chosen quote, e.g. "
                   f"{_examples(pd.Series(bad.index))}")
    if "propensity" in q.columns and q["propensity"].notna().all():
        total = q["propensity"].groupby(q["shipment_id"].astype(str)).sum()
        off = total[(total - 1).abs() > 1e-3]
        if len(off):
            out.append(f"quotes.propensity: does not sum to 1 for {len(off)} shipment(s), e.g. "
                       f"{_examples(pd.Series(off.index))}")
        zero = chosen & (q["propensity"] <= 0)
        if zero.any():
            out.append(f"quotes.propensity: chosen quote with zero propensity in "
                       f"{int(zero.sum())} row(s)")
    picked = q.loc[chosen].drop_duplicates("shipment_id").set_index(
        q.loc[chosen, "shipment_id"].astype(str).drop_duplicates())
    if s is not None and {"carrier", "service"} <= set(s.columns):
        ss = s.set_index(s["shipment_id"].astype(str))
        common = picked.index.intersection(ss.index)
        for col in ("carrier", "service"):
            a = picked.loc[common, col].astype(object)
            b = ss.loc[common, col].astype(object)
            bad = b.notna() & (a != b)
            if bad.any():
                out.append(f"quotes: chosen quote's {col} differs from the shipment's in "
                           f"{int(bad.sum())} shipment(s), e.g. {_index_examples(bad)}")
    if d is not None:
        dd = d.set_index(d["shipment_id"].astype(str))
        common = picked.index.intersection(dd.index)
        pairs = (("realized_final_status", "final_status"), ("realized_returned", "returned"),
                 ("delivered_on_time", "on_time"), ("realized_delivered_at", "delivered_at"))
        for qcol, dcol in pairs:
            if qcol not in picked.columns or dcol not in dd.columns:
                continue
            a = picked.loc[common, qcol].astype(object)
            b = dd.loc[common, dcol].astype(object)
            known = a.notna() & b.notna()
            bad = known & (a != b)
            if bad.any():
                out.append(f"quotes: chosen quote's {qcol} differs from deliveries.{dcol} in "
                           f"{int(bad.sum())} shipment(s), e.g. {_index_examples(bad)}")
        a = picked.loc[common, "realized_transit_hours"].astype(float)
        b = dd.loc[common, "transit_hours"].astype(float)
        bad = a.notna() & b.notna() & ((a - b).abs() > 0.01)
        if bad.any():
            out.append(f"quotes: chosen quote's realized_transit_hours differs from "
                       f"deliveries.transit_hours in {int(bad.sum())} shipment(s), e.g. "
                       f"{_index_examples(bad)}")
    return out


def lifecycle_errors(e: pd.DataFrame) -> list[str]:
    """Temporal and state-machine consistency of tracking events, per shipment."""
    out: list[str] = []
    if e.empty:
        return out
    e = e.sort_values(["shipment_id", "seq"], kind="stable")
    sid = e["shipment_id"].astype(str).to_numpy()
    seq = e["seq"].to_numpy(dtype=np.int64)
    status = e["status"].astype(object).to_numpy()
    category = e["exception_category"].astype(object)
    t = e["occurred_at"].to_numpy(dtype="datetime64[us]").astype(np.int64)
    new = np.r_[True, sid[1:] != sid[:-1]]
    grp = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    pos = np.arange(len(sid)) - first[grp]

    def report(mask: np.ndarray, message: str) -> None:
        if mask.any():
            ids = pd.Series(sid[mask]).drop_duplicates()
            out.append(f"events: {message} in {len(ids)} shipment(s), e.g. {_examples(ids)}")

    report(seq != pos, "seq does not run 0..n-1")
    report(~new & (t < np.r_[t[:1], t[:-1]]), "occurred_at goes backwards along seq")
    is_rts = status == TrackingStatus.RETURN_TO_SENDER.value
    is_del = status == TrackingStatus.DELIVERED.value
    is_cxl = status == TrackingStatus.CANCELLED.value
    is_unknown = status == TrackingStatus.UNKNOWN.value
    is_exc = status == TrackingStatus.EXCEPTION.value

    def prior(mask: np.ndarray) -> np.ndarray:
        c = np.cumsum(mask)
        before = c - mask
        return (before - (c[first] - mask[first])[grp]) > 0

    after_rts, after_del, after_cxl = prior(is_rts), prior(is_del), prior(is_cxl)
    rank = np.array([_FORWARD_RANK.get(s, -1) for s in status])
    forward = (rank >= 0) & ~after_rts
    # Running max of the forward rank within the shipment, before each event.
    key = grp.astype(np.int64) * 10 + np.where(forward, rank, 0)
    run = np.maximum.accumulate(key) - grp.astype(np.int64) * 10
    prev_max = np.r_[-1, run[:-1]]
    prev_max[new] = -1
    report(forward & (rank < prev_max), "a milestone goes backwards")
    report(after_del & ~(is_rts | is_unknown), "an event other than return_to_sender follows "
           "delivered")
    report(after_rts & (rank >= 0), "a forward milestone follows return_to_sender")
    report(after_cxl & ~is_unknown, "an event follows cancelled")
    cat = category.to_numpy()
    has_cat = pd.notna(cat)
    report(is_exc & ~has_cat, "an exception event has no exception_category")
    report((rank >= 0) & has_cat, "a forward milestone carries an exception_category")
    report(is_rts & has_cat & (cat != ExceptionCategory.RETURN_TO_SENDER.value),
           "a return_to_sender event carries a category other than return_to_sender")
    report(is_cxl & has_cat & (cat != ExceptionCategory.CANCELLED.value),
           "a cancelled event carries a category other than cancelled")
    return out


def _event_delivery_errors(e: pd.DataFrame, d: pd.DataFrame) -> list[str]:
    last_delivered = (e.loc[e["status"].astype(object) == TrackingStatus.DELIVERED.value]
                      .groupby(e["shipment_id"].astype(str))["occurred_at"].max())
    dd = d.set_index(d["shipment_id"].astype(str))["delivered_at"]
    common = last_delivered.index.intersection(dd.index)
    a, b = last_delivered.loc[common], dd.loc[common]
    bad = b.notna() & (a != b)
    if bad.any():
        return [f"events: delivered event time differs from deliveries.delivered_at in "
                f"{int(bad.sum())} shipment(s), e.g. {_index_examples(bad)}"]
    return []


# -- entry point -------------------------------------------------------------------------------
def validate_tables(
    source: str | Path | Mapping[str, pd.DataFrame],
    *,
    lifecycle: LifecycleMode = "error",
    raise_on_error: bool = False,
) -> ValidationReport:
    """Validate a set of tables (a directory written by ``training.io`` or a mapping of frames).

    ``lifecycle`` decides whether event-sequence rules are errors (simulator, normalized
    exports), warnings (raw carrier feeds being onboarded) or skipped.
    """
    if isinstance(source, str | Path):
        from training.simulator.io import read_tables

        tables: Mapping[str, pd.DataFrame] = read_tables(source)
    else:
        tables = source
    report = ValidationReport(rows={k: len(v) for k, v in tables.items()})
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        report.warnings.append(f"tables not in the contract (not validated): {unknown}")
    per_table_ok: dict[str, bool] = {}
    for name in TABLES:
        if name in tables:
            errs = _schema_errors(name, tables[name])
            if not errs:
                errs = _key_errors(name, tables[name])
            report.errors.extend(errs)
            per_table_ok[name] = not errs
    if not per_table_ok:
        report.errors.append("no contract tables given (expected any of "
                             f"{', '.join(TABLES)})")
    report.errors.extend(_reference_errors(tables))
    ok = {k for k, v in per_table_ok.items() if v}
    if "shipments" in ok:
        report.errors.extend(_shipment_errors(tables["shipments"]))
    if "deliveries" in ok:
        report.errors.extend(_delivery_errors(tables["deliveries"]))
    if "quotes" in ok:
        report.errors.extend(_quote_errors(
            tables["quotes"], tables.get("shipments") if "shipments" in ok else None,
            tables.get("deliveries") if "deliveries" in ok else None))
    if "weather_events" in ok:
        w = tables["weather_events"]
        bad = w["end_at"] < w["start_at"]
        if bad.any():
            report.errors.append(f"weather_events: end_at before start_at in {int(bad.sum())} "
                                 f"row(s), e.g. {_examples(w.loc[bad, 'weather_event_id'])}")
    if "events" in ok and lifecycle != "off":
        found = lifecycle_errors(tables["events"])
        if "deliveries" in ok:
            found += _event_delivery_errors(tables["events"], tables["deliveries"])
        (report.errors if lifecycle == "error" else report.warnings).extend(found)
    if raise_on_error:
        report.raise_for_errors()
    return report


def markdown() -> str:
    """The contract as Markdown tables (pasted into training/README.md)."""
    lines: list[str] = []
    for table, cols in TABLES.items():
        lines += [f"### `{table}`", "", f"Key: `({', '.join(KEYS[table])})`", "",
                  "| column | type | null | description |", "|---|---|---|---|"]
        for c in cols:
            flags = ("optional, " if c.optional else "") + ("yes" if c.nullable else "no")
            extra = ""
            if c.enum is not None and len(c.enum) <= 12:
                extra = " One of " + ", ".join(f"`{v}`" for v in c.enum) + "."
            if c.ge is not None or c.le is not None:
                lo = "" if c.ge is None else f"≥ {c.ge:g}"
                hi = "" if c.le is None else f"≤ {c.le:g}"
                extra += f" Range {' and '.join(x for x in (lo, hi) if x)}."
            lines.append(f"| `{c.name}` | {c.kind} | {flags} | {c.doc}{extra} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m training.schemas DIR`` validates a directory; ``--markdown`` prints docs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--lifecycle", choices=("error", "warn", "off"), default="error")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown())
        return 0
    if not args.directory:
        parser.error("give a directory or --markdown")
    report = validate_tables(args.directory, lifecycle=args.lifecycle)
    for w in report.warnings:
        print(f"warning: {w}")
    for e in report.errors:
        print(f"error: {e}")
    print("ok" if report.ok else f"{len(report.errors)} error(s)")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
