"""The recommender's data set: every quote with its shipment's booking-time facts and outcome.

``load_quotes(data_dir)`` reads the contract's ``shipments`` and ``quotes`` (Parquet or CSV, as
written by the simulator or ``waybill export history``) and returns one row per quote with the
``QUOTE_COLUMNS`` the serving side sees, plus the outcome labels ``late`` and ``exception`` (null
where the outcome is unknown - a quote that was not booked, in real data), ``chosen``,
``policy`` and ``propensity``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.triage.recommender_features import (
    HISTORY_GROUPS,
    QUOTE_COLUMNS,
    eligible_mask,
    outcome_labels,
    prepare_quotes,
)

SHIPMENT_CONTEXT = (
    "created_at", "ship_at", "warehouse", "origin_country", "origin_zone", "destination_country",
    "destination_zone", "distance_class", "lane_distance_km", "is_international",
    "needs_customs", "is_return", "weight_kg", "length_cm", "width_cm", "height_cm",
    "declared_value", "order_value", "dangerous_goods", "incoterm", "goods_category",
    "customer_tier", "customer_type", "requested_service_level", "policy",
)
LABELS = ("late", "exception", "chosen", "policy", "propensity", "eligible")


@dataclass
class QuoteData:
    """Quotes with context and outcomes, sorted by booking time (``created_at``)."""

    quotes: pd.DataFrame
    source: str
    data_dir: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_shipments(self) -> int:
        return int(self.quotes["shipment_id"].nunique())

    def subset(self, mask: np.ndarray | pd.Series) -> QuoteData:
        return QuoteData(self.quotes.loc[np.asarray(mask, bool)].copy(), self.source,
                         self.data_dir, dict(self.info))

    def outcomes(self) -> pd.DataFrame:
        """Booked quotes with known outcomes: what lane history may learn from."""
        q = self.quotes
        booked = q.loc[q["chosen"].astype(bool)]
        keys = sorted({c for cols in HISTORY_GROUPS.values() for c in cols})
        return booked[[*keys, "created_at", "late", "exception"]]


def quotes_from_tables(tables: dict[str, pd.DataFrame], *, source: str = "waybill",
                       data_dir: Path | None = None) -> QuoteData:
    if "quotes" not in tables or "shipments" not in tables:
        raise ValueError("the recommender needs the contract's shipments and quotes tables")
    s, q = tables["shipments"], tables["quotes"]
    context = [c for c in SHIPMENT_CONTEXT if c in s.columns]
    ship = s[["shipment_id", *context]].copy()
    ship["shipment_id"] = ship["shipment_id"].astype(str)
    quotes = q.copy()
    quotes["shipment_id"] = quotes["shipment_id"].astype(str)
    merged = quotes.merge(ship, on="shipment_id", how="inner", validate="many_to_one")
    prepared = prepare_quotes(merged)
    late, exc = outcome_labels(
        merged["delivered_on_time"] if "delivered_on_time" in merged else pd.Series(
            pd.NA, index=merged.index, dtype="boolean"),
        merged["had_exception"] if "had_exception" in merged else pd.Series(
            pd.NA, index=merged.index, dtype="boolean"))
    prepared["late"] = late.to_numpy()
    prepared["exception"] = exc.to_numpy()
    prepared["chosen"] = merged["chosen"].astype(bool).to_numpy()
    prepared["policy"] = (merged["policy"].astype(object).to_numpy() if "policy" in merged
                          else None)
    prepared["propensity"] = (pd.to_numeric(merged["propensity"], errors="coerce").to_numpy()
                              if "propensity" in merged else np.nan)
    prepared["eligible"] = eligible_mask(prepared)
    prepared = prepared.sort_values(["created_at", "shipment_id"], kind="stable")
    prepared = prepared.reset_index(drop=True)
    return QuoteData(prepared, source=source, data_dir=data_dir,
                     info={"rows": len(prepared)})


def load_quotes(data_dir: str | Path) -> QuoteData:
    from training.simulator.io import read_tables

    path = Path(data_dir)
    tables = read_tables(path, names=("shipments", "quotes"))
    src = "waybill"
    if "source" in tables.get("shipments", pd.DataFrame()).columns and len(tables["shipments"]):
        src = str(tables["shipments"]["source"].astype(object).iloc[0])
    return quotes_from_tables(tables, source=src, data_dir=path)


def input_columns() -> list[str]:
    return list(QUOTE_COLUMNS)
