"""What lateness and exceptions cost, per customer tier, and the expected total cost of a quote.

``expected total = freight + P(late) x cost of lateness + P(exception) x cost of an exception``,
with the costs of the shipment's customer tier. The same model prices realized outcomes in
evaluation (``late`` and ``exception`` are then 0 or 1), so what the recommender optimizes is
exactly what it is judged on.

The defaults are a mid-size European web shop's rough figures (EUR): a late parcel costs a
customer-service contact, a goodwill voucher for the better tiers and some churn; an exception
(failed delivery, damage, customs hold, return) costs handling, re-delivery or re-shipping and a
contact. Override them with a JSON file (``CostModel.load``), e.g.::

    {"currency": "EUR", "tiers": {"standard": {"late": 12, "exception": 20},
                                  "vip": {"late": 60, "exception": 90}}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

COST_FILE = "recommender-costs.json"


class TierCosts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    late: float = Field(ge=0, description="Cost of a parcel delivered after its promised date.")
    exception: float = Field(ge=0, description="Cost of a parcel with a delivery exception.")


def _default_tiers() -> dict[str, TierCosts]:
    return {
        "standard": TierCosts(late=20.0, exception=25.0),
        "plus": TierCosts(late=30.0, exception=40.0),
        "vip": TierCosts(late=60.0, exception=80.0),
    }


class CostModel(BaseModel):
    """Per-tier costs of lateness and exceptions (settings-like: defaults, JSON overrides)."""

    model_config = ConfigDict(extra="forbid")

    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    tiers: dict[str, TierCosts] = Field(default_factory=_default_tiers)
    default_tier: str = Field(default="standard",
                              description="Tier of a shipment whose customer tier is unknown.")

    def model_post_init(self, __context: Any) -> None:
        merged = _default_tiers()
        merged.update(self.tiers)
        self.tiers = merged
        if self.default_tier not in self.tiers:
            raise ValueError(f"default_tier {self.default_tier!r} is not among the tiers "
                             f"{sorted(self.tiers)}")

    @classmethod
    def load(cls, source: str | Path | Mapping[str, Any] | None = None) -> CostModel:
        """From a mapping, JSON text or a JSON file; defaults when ``source`` is None."""
        if source is None:
            return cls()
        if isinstance(source, Mapping):
            return cls.model_validate(dict(source))
        text = str(source)
        if not text.lstrip().startswith("{"):
            text = Path(text).read_text()
        return cls.model_validate(json.loads(text))

    @classmethod
    def from_settings(cls, settings: Any) -> CostModel:
        """``<data_dir>/recommender-costs.json`` when it exists, else the defaults."""
        data_dir = getattr(settings, "data_dir", None)
        path = Path(data_dir) / COST_FILE if data_dir is not None else None
        return cls.load(path) if path is not None and path.exists() else cls()

    def tier_costs(self, tiers: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lateness cost, exception cost) per row, by customer tier."""
        names = pd.Series(np.asarray(tiers, dtype=object)).fillna(self.default_tier).astype(str)
        names = names.where(names.isin(list(self.tiers)), self.default_tier)
        late = names.map({k: v.late for k, v in self.tiers.items()}).to_numpy(float)
        exc = names.map({k: v.exception for k, v in self.tiers.items()}).to_numpy(float)
        return late, exc

    def total(self, price: np.ndarray, p_late: np.ndarray, p_exception: np.ndarray,
              tiers: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(expected lateness cost, expected exception cost, expected total) per quote.

        Unknown probabilities (NaN) count as zero risk, so without a risk model the total is
        the freight and the ranking is by price.
        """
        late_cost, exc_cost = self.tier_costs(tiers)
        e_late = late_cost * np.nan_to_num(np.asarray(p_late, float))
        e_exc = exc_cost * np.nan_to_num(np.asarray(p_exception, float))
        return e_late, e_exc, np.asarray(price, float) + e_late + e_exc


def rank_quotes(quotes: pd.DataFrame, p_on_time: np.ndarray, p_exception: np.ndarray,
                costs: CostModel, eligible: np.ndarray) -> pd.DataFrame:
    """Score and rank the quotes of each shipment by expected total cost (eligible first).

    Ties go to the lower price, then the earlier promise. Returns one row per quote, in the
    input's order, with ``rank`` 1 for the quote to book (``chosen``).
    """
    p_on_time = np.asarray(p_on_time, float)
    e_late, e_exc, total = costs.total(quotes["price"].to_numpy(float), 1.0 - p_on_time,
                                       p_exception, quotes["customer_tier"])
    out = pd.DataFrame({
        "shipment_id": quotes["shipment_id"].astype(str).to_numpy(),
        "carrier": quotes["carrier"].to_numpy(),
        "carrier_account": quotes["carrier_account"].to_numpy(),
        "service": quotes["service"].to_numpy(),
        "price": quotes["price"].to_numpy(float),
        "p_on_time": p_on_time,
        "p_exception": np.asarray(p_exception, float),
        "expected_late_cost": e_late,
        "expected_exception_cost": e_exc,
        "expected_total_cost": total,
        "eligible": np.asarray(eligible, bool),
    }, index=quotes.index)
    promise = quotes["promised_date"].to_numpy("datetime64[us]").astype("int64").astype(float)
    order = pd.DataFrame({
        "sid": out["shipment_id"].to_numpy(), "inel": (~out["eligible"]).to_numpy(int),
        "total": np.round(total, 6), "price": out["price"].to_numpy(),
        "promise": np.where(quotes["promised_date"].isna().to_numpy(), np.inf, promise),
        "pos": np.arange(len(out)),
    }).sort_values(["sid", "inel", "total", "price", "promise", "pos"], kind="stable")
    rank = order.groupby("sid", sort=False).cumcount().to_numpy() + 1
    ranks = np.empty(len(out), dtype=np.int64)
    ranks[order["pos"].to_numpy()] = rank
    out["rank"] = ranks
    out["chosen"] = out["rank"] == 1
    return out
