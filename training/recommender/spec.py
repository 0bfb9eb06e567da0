"""``RecommenderSpec``: the carrier recommender as a ``training.platform`` model.

* **data** - every quote of every shipment, with booking-time context and its outcome
  (``training.recommender.data``);
* **split** - by time: the last ``holdout_days`` (at most 30 % of the span) are held out; the
  ``gap_days`` before them are dropped from training, because their outcomes would not be known
  yet when a model is trained at the cut;
* **fit** - two LightGBM classifiers, P(late against the quote's promise) and P(exception),
  over ``app.triage.recommender_features`` (shared with serving) with lane history computed as
  of each training row's booking (no leakage) and frozen at the cut for serving;
* **baseline** - the cheapest eligible quote (``app.triage.recommender.CheapestBaseline``);
* **evaluate** - realized total cost per shipment and on-time rate of the picks against the
  cheapest, fastest and Odoo-default policies (``training.recommender.evaluate``);
  primary metric ``realized_cost_per_shipment`` (lower is better).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.triage.recommender import CheapestBaseline, RiskPredictor
from app.triage.recommender_costs import CostModel
from app.triage.recommender_features import (
    CATEGORICAL,
    QUOTE_COLUMNS,
    HistoryConfig,
    LaneHistory,
    lane_history_asof,
    quote_features,
)
from training.platform.spec import Split
from training.recommender.data import QuoteData, load_quotes
from training.recommender.evaluate import default_carriers, evaluate_policy

LGBM_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.06,
    "num_leaves": 31,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 63,
    "cat_smooth": 20.0,
    "cat_l2": 10.0,
    "verbose": -1,
    # One thread: OpenMP workers spin-waiting on a busy 2-core machine made training 8x slower;
    # set "num_threads" here for a dedicated box.
}


@dataclass
class Holdout:
    data: QuoteData
    default_carriers: dict[str, list[str]]


@dataclass
class RecommenderSpec:
    name: str = "recommender"
    registered_name: str = "waybill-recommender"
    primary_metric: str = "realized_cost_per_shipment"
    greater_is_better: bool = False
    costs: CostModel = field(default_factory=CostModel)
    history: HistoryConfig = field(default_factory=HistoryConfig)
    holdout_days: int = 92
    max_holdout_share: float = 0.3
    gap_days: int = 7
    max_train_rows: int = 300_000
    num_boost_round: int = 250
    lgbm: dict[str, Any] = field(default_factory=lambda: dict(LGBM_PARAMS))
    odoo_default_carriers: dict[str, list[str]] | None = None
    target_savings_pct: float = 10.0

    # -- data ----------------------------------------------------------------------------------
    def load(self, data_dir: Path, *, fmt: str = "waybill") -> QuoteData:
        if fmt != "waybill":
            raise ValueError(f"the recommender trains on the contract tables (format 'waybill': "
                             f"simulator output or `waybill export history`); {fmt!r} data has "
                             f"no carrier quotes")
        return load_quotes(data_dir)

    def cut(self, data: QuoteData) -> tuple[pd.Timestamp, pd.Timestamp]:
        """(end of training, start of hold-out)."""
        created = data.quotes["created_at"]
        start, end = created.min(), created.max()
        span_days = max(1.0, (end - start).total_seconds() / 86400)
        days = min(float(self.holdout_days), self.max_holdout_share * span_days)
        holdout_start = (end - pd.Timedelta(days=days)).normalize()
        train_end = holdout_start - pd.Timedelta(days=self.gap_days)
        return train_end, holdout_start

    def split(self, dataset: QuoteData) -> Split:
        train_end, holdout_start = self.cut(dataset)
        created = dataset.quotes["created_at"]
        train = dataset.subset(created < train_end)
        holdout = dataset.subset(created >= holdout_start)
        defaults = self.odoo_default_carriers or default_carriers(train.quotes)
        desc = (f"time split: train {created.min():%Y-%m-%d} .. {train_end:%Y-%m-%d} "
                f"({train.n_shipments} shipments), gap {self.gap_days} d, hold-out "
                f"{holdout_start:%Y-%m-%d} .. {created.max():%Y-%m-%d} "
                f"({holdout.n_shipments} shipments, {len(holdout.quotes)} quotes)")
        return Split(train=train, holdout=Holdout(holdout, defaults), description=desc)

    # -- model ---------------------------------------------------------------------------------
    def fit(self, train: QuoteData, *, seed: int = 0) -> RiskPredictor:
        import lightgbm as lgb

        q = train.quotes
        outcomes = train.outcomes()
        hist = lane_history_asof(q, outcomes, self.history)
        x = quote_features(q, hist)
        categories = {c: sorted(x[c].unique().tolist()) for c in CATEGORICAL}
        for c in CATEGORICAL:
            x[c] = pd.Categorical(x[c], categories=categories[c])
        params = {"num_threads": 1, **self.lgbm, "seed": seed, "deterministic": True,
                  "force_row_wise": True}
        params["min_data_in_leaf"] = int(min(params["min_data_in_leaf"], max(20, len(q) // 200)))
        rng = np.random.default_rng(seed)
        boosters = {}
        for target in ("late", "exception"):
            y = q[target].to_numpy(float)
            rows = np.flatnonzero(np.isfinite(y))
            if len(rows) > self.max_train_rows:
                rows = np.sort(rng.choice(rows, self.max_train_rows, replace=False))
            if len(rows) == 0 or len(np.unique(y[rows])) < 2:
                raise ValueError(f"cannot train the {target} classifier: no varied outcomes")
            data = lgb.Dataset(x.iloc[rows], y[rows], categorical_feature=list(CATEGORICAL),
                               free_raw_data=True)
            boosters[target] = lgb.train(params, data, num_boost_round=self.num_boost_round)
        history = LaneHistory.build(outcomes, self.history)
        return RiskPredictor(
            on_time_model=boosters["late"], exception_model=boosters["exception"],
            categories=categories, history=history, costs=self.costs,
            info={"trained_until": str(q["created_at"].max()), "rows": len(q),
                  "history": history.summary()})

    def baseline(self) -> CheapestBaseline:
        return CheapestBaseline(self.costs)

    def evaluate(self, predictor: Any, holdout: Holdout) -> dict[str, float]:
        return evaluate_policy(predictor, holdout.data.quotes, self.costs,
                               holdout.default_carriers,
                               target_savings_pct=self.target_savings_pct)

    def input_example(self, dataset: QuoteData) -> pd.DataFrame:
        q = dataset.quotes
        first = q["shipment_id"].drop_duplicates().head(2)
        ex = q.loc[q["shipment_id"].isin(first), list(QUOTE_COLUMNS)].copy()
        for col in ("created_at", "ship_at"):
            ex[col] = ex[col].map(lambda t: t.isoformat() if pd.notna(t) else "")
        for col in ("pickup_date", "promised_date"):
            ex[col] = ex[col].map(lambda t: t.date().isoformat() if pd.notna(t) else "")
        for col in ex.columns:
            if ex[col].dtype == object:
                ex[col] = ex[col].fillna("").astype(str)
            elif pd.api.types.is_float_dtype(ex[col]):
                ex[col] = ex[col].astype(float)
        return ex.reset_index(drop=True)

    def params(self) -> dict[str, Any]:
        return {
            "costs": self.costs.model_dump(),
            "history": vars(self.history),
            "holdout_days": self.holdout_days,
            "max_holdout_share": self.max_holdout_share,
            "gap_days": self.gap_days,
            "max_train_rows": self.max_train_rows,
            "num_boost_round": self.num_boost_round,
            "lgbm": self.lgbm,
            "odoo_default_carriers": self.odoo_default_carriers or "estimated from history",
            "features": "app.triage.recommender_features.FEATURES",
        }
