"""Olist (Brazilian e-commerce) orders as ``shipments`` + ``deliveries`` of the training contract.

Real delivery history for ETA evaluation: carrier hand-over to customer delivery, with the
marketplace's own promised date as the baseline to beat. The files are read where they lie
(default ``../shared/data/olist`` beside the repository); nothing is copied.

What maps:

=============================  ===============================================================
contract column                Olist source
=============================  ===============================================================
shipment_id                    ``order_id``
created_at                     ``order_purchase_timestamp``
booked_at                      ``order_approved_at`` (payment approved; the seller may ship)
origin_* / destination_*       seller / customer zip prefix (5 digits) and state (``BR-SP``)
lane_distance_km               great circle between the zip prefixes' median coordinates
weight_kg, *_cm                sum of item weights; dimensions of the largest item
order_value, declared_value    sum of item prices (BRL)
price                          sum of freight values (BRL)
goods_category                 English category of the first item
promised_date                  ``order_estimated_delivery_date``
handed_over_at                 ``order_delivered_carrier_date``
delivered_at                   ``order_delivered_customer_date``
final_status                   delivered / in_transit (shipped) / cancelled (canceled,
                               unavailable) / info_received (created ... invoiced) / unknown
=============================  ===============================================================

What does not exist in Olist and stays null: carrier, service, service level, carrier promise in
days, ship-ready time, tracking events, quotes, exceptions, returns, customer tier. Extra
columns ``olist_order_status``, ``olist_seller_id`` and ``olist_shipping_limit_at`` are kept.

Timestamps are local Brazilian time in the source; they are read as ``America/Sao_Paulo``
(daylight saving as it was then) and stored in UTC like every other source. Orders whose
delivery precedes the hand-over (a handful of data errors) are dropped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from app.models.enums import TrackingStatus

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OLIST_DIR = REPO_ROOT.parent / "shared" / "data" / "olist"
OLIST_TZ = "America/Sao_Paulo"
FILES = {
    "orders": "olist_orders_dataset.csv",
    "items": "olist_order_items_dataset.csv",
    "customers": "olist_customers_dataset.csv",
    "sellers": "olist_sellers_dataset.csv",
    "products": "olist_products_dataset.csv",
    "categories": "product_category_name_translation.csv",
    "geo": "geolocation_zip_prefix_median.csv",
}
STATUS_MAP: dict[str, TrackingStatus] = {
    "delivered": TrackingStatus.DELIVERED,
    "shipped": TrackingStatus.IN_TRANSIT,
    "canceled": TrackingStatus.CANCELLED,
    "unavailable": TrackingStatus.CANCELLED,
    "created": TrackingStatus.INFO_RECEIVED,
    "approved": TrackingStatus.INFO_RECEIVED,
    "invoiced": TrackingStatus.INFO_RECEIVED,
    "processing": TrackingStatus.INFO_RECEIVED,
}


@dataclass
class OlistTables:
    shipments: pd.DataFrame
    deliveries: pd.DataFrame
    dropped: dict[str, int] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"shipments": self.shipments, "deliveries": self.deliveries}


def available(path: str | Path | None = None) -> bool:
    """True when the Olist files are present (tests skip otherwise)."""
    base = Path(path) if path else DEFAULT_OLIST_DIR
    return all((base / f).exists() for f in FILES.values())


def _utc(local: pd.Series) -> pd.Series:
    ts = pd.to_datetime(local, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    out = ts.dt.tz_localize(OLIST_TZ, ambiguous=np.zeros(len(ts), dtype=bool),
                            nonexistent="shift_forward")
    return out.dt.tz_convert("UTC").astype("datetime64[us, UTC]")


def _zip(values: pd.Series) -> pd.Series:
    return values.astype("Int64").astype("str").str.zfill(5).where(values.notna())


def _haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
                  ) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def load_olist(path: str | Path | None = None) -> OlistTables:
    """Read the Olist files under ``path`` into contract ``shipments`` and ``deliveries``."""
    base = Path(path) if path else DEFAULT_OLIST_DIR
    if not available(base):
        raise FileNotFoundError(f"Olist files not found under {base}")
    raw = {k: pd.read_csv(base / f, encoding="utf-8-sig") for k, f in FILES.items()}
    orders, items, products = raw["orders"], raw["items"], raw["products"]

    items = items.merge(products, on="product_id", how="left").merge(
        raw["categories"], on="product_category_name", how="left")
    items["volume"] = (items["product_length_cm"] * items["product_width_cm"]
                       * items["product_height_cm"])
    items = items.sort_values(["order_id", "order_item_id"])
    agg = items.groupby("order_id").agg(
        seller_id=("seller_id", "first"),
        order_value=("price", "sum"),
        freight=("freight_value", "sum"),
        weight_g=("product_weight_g", lambda s: s.sum(min_count=1)),
        shipping_limit=("shipping_limit_date", "min"),
        goods_category=("product_category_name_english", "first"),
    )
    largest = items.sort_values("volume", ascending=False, na_position="last").drop_duplicates(
        "order_id").set_index("order_id")[["product_length_cm", "product_width_cm",
                                            "product_height_cm"]]
    agg = agg.join(largest)

    df = orders.merge(agg, left_on="order_id", right_index=True, how="left")
    df = df.merge(raw["customers"], on="customer_id", how="left")
    df = df.merge(raw["sellers"], on="seller_id", how="left")
    geo = raw["geo"].set_index("zip_code_prefix")[["lat", "lng"]]
    c_geo = geo.reindex(df["customer_zip_code_prefix"].to_numpy())
    s_geo = geo.reindex(pd.to_numeric(df["seller_zip_code_prefix"], errors="coerce").to_numpy())
    dist = _haversine_km(s_geo["lat"].to_numpy(), s_geo["lng"].to_numpy(),
                         c_geo["lat"].to_numpy(), c_geo["lng"].to_numpy())

    created = _utc(df["order_purchase_timestamp"])
    approved = _utc(df["order_approved_at"])
    handed = _utc(df["order_delivered_carrier_date"])
    delivered_at = _utc(df["order_delivered_customer_date"])
    promised = pd.to_datetime(df["order_estimated_delivery_date"]).dt.normalize().astype(
        "datetime64[us]")
    status = df["order_status"].map({k: v.value for k, v in STATUS_MAP.items()}).fillna(
        TrackingStatus.UNKNOWN.value)
    status = status.where(~((status == TrackingStatus.DELIVERED.value) & delivered_at.isna()),
                          TrackingStatus.UNKNOWN.value)
    is_delivered = status == TrackingStatus.DELIVERED.value
    delivered_at = delivered_at.where(is_delivered)
    transit = (delivered_at - handed).dt.total_seconds() / 3600
    bad = transit < 0
    local_delivery_day = delivered_at.dt.tz_convert(OLIST_TZ).dt.tz_localize(None).dt.normalize()
    # Only delivered orders have an answer; in-flight and cancelled ones stay unknown.
    on_time = pd.array(local_delivery_day <= promised, dtype="boolean")
    on_time[~is_delivered.to_numpy()] = pd.NA
    days_late = (local_delivery_day - promised).dt.days.astype("float64")

    weight = df["weight_g"] / 1000.0
    shipments = pd.DataFrame({
        "shipment_id": df["order_id"].astype("str"),
        "source": "olist",
        "created_at": created,
        "booked_at": approved,
        "ship_at": pd.Series(pd.NaT, index=df.index, dtype="datetime64[us, UTC]"),
        "warehouse": pd.Series(None, index=df.index, dtype="str"),
        "origin_country": "BR",
        "origin_zone": ("BR-" + df["seller_state"]).astype("str"),
        "origin_postal_prefix": _zip(pd.to_numeric(df["seller_zip_code_prefix"],
                                                   errors="coerce")),
        "destination_country": "BR",
        "destination_zone": ("BR-" + df["customer_state"]).astype("str"),
        "destination_postal_prefix": _zip(df["customer_zip_code_prefix"]),
        "lane_distance_km": np.round(dist, 1),
        "is_international": False,
        "needs_customs": False,
        "is_return": False,
        "weight_kg": weight.where(weight > 0),
        "length_cm": df["product_length_cm"].astype(float),
        "width_cm": df["product_width_cm"].astype(float),
        "height_cm": df["product_height_cm"].astype(float),
        "declared_value": df["order_value"].astype(float),
        "order_value": df["order_value"].astype(float),
        "currency": "BRL",
        "goods_category": df["goods_category"].astype("str"),
        "carrier": pd.Series(None, index=df.index, dtype="str"),
        "service": pd.Series(None, index=df.index, dtype="str"),
        "service_level": pd.Series(None, index=df.index, dtype="str"),
        "price": df["freight"].astype(float),
        "promised_transit_days": pd.array([pd.NA] * len(df), dtype="Int64"),
        "promised_date": promised,
        "olist_order_status": df["order_status"].astype("str"),
        "olist_seller_id": df["seller_id"].astype("str"),
        "olist_shipping_limit_at": _utc(df["shipping_limit"]),
    })
    deliveries = pd.DataFrame({
        "shipment_id": df["order_id"].astype("str"),
        "carrier": pd.Series(None, index=df.index, dtype="str"),
        "handed_over_at": handed,
        "delivered_at": delivered_at,
        "transit_hours": np.round(transit, 3),
        "promised_date": promised,
        "on_time": on_time,
        "days_late": days_late,
        "final_status": status.astype("str"),
        "returned": False,
    })
    keep = ~bad.to_numpy()
    return OlistTables(
        shipments=shipments.loc[keep].reset_index(drop=True),
        deliveries=deliveries.loc[keep].reset_index(drop=True),
        dropped={"delivered_before_handover": int(bad.sum())},
    )
