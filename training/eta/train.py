"""Fit the ETA model: quantile LightGBM on snapshots, conformal offsets from the latest months.

1. Snapshots of the training shipments (booking, first scan, out for delivery, plus exception
   and random mid-transit events) with features known at each snapshot's time; the history
   statistics use only outcomes known before it (expanding windows).
2. The latest ``calibration_fraction`` of the training period (by prediction time) is held
   back: quantile models fitted on the earlier part predict it, and per stage the residual
   quantiles (log scale) become offsets - split-conformal calibration on the newest data, so
   drift up to the end of training is in the interval widths.
3. The models are refitted on the whole training period (``refit``) and keep those offsets.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from app.triage.eta import PREDICTION_COLUMNS, EtaModel
from app.triage.eta_features import (
    HOUR,
    PROMISE_DUE_HOUR,
    QUANTILE_LEVELS,
    STAGES,
    EtaFeaturizer,
    business_clock,
    promise_points,
)
from training.eta.datasets import EtaDataset, snapshots


@dataclass
class EtaParams:
    n_estimators: int = 400
    learning_rate: float = 0.05
    num_leaves: int = 63
    min_data_in_leaf: int = 40
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    calibration_fraction: float = 0.2
    refit: bool = True
    recenter_median: bool = True
    promise_level: float = 0.95  # level p95 is calibrated to when promise_late is None
    promise_alpha: float = 0.95  # quantile level the p95 booster is trained at
    # p95 as a *promise date*: calibrate it so that the share delivered after its date on the
    # calibration slice is this rate; "reference" = the rate of the existing promise there
    # (Olist's estimate), i.e. as reliable as the incumbent, and as short as the model allows.
    promise_late: float | str | None = None
    # one-sided confidence margin (z-score) taken off a "reference" late rate: the promise
    # must not be late more often than the incumbent, not merely on this calibration sample
    promise_margin_z: float = 0.0
    refit_promise: bool = True  # False: p95 keeps the booster its calibration was measured on
    calibration_folds: int = 1
    clock: str = "business"  # learn remaining time in business days ("business") or "hours"
    levels: dict[str, float] = field(default_factory=lambda: dict(QUANTILE_LEVELS))
    num_threads: int = 1  # OpenMP spinning hurts badly on busy machines; 1 is fast enough
    recency: bool = False  # Olist: statistics of the deliveries completed in the last days

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "levels"}
        out.update({f"level_{k}": v for k, v in self.levels.items()})
        return out


def _lgb_params(p: EtaParams, alpha: float, seed: int) -> dict[str, Any]:
    return {
        "objective": "quantile",
        "alpha": alpha,
        "learning_rate": p.learning_rate,
        "num_leaves": p.num_leaves,
        "min_data_in_leaf": p.min_data_in_leaf,
        "feature_fraction": p.feature_fraction,
        "bagging_fraction": p.bagging_fraction,
        "bagging_freq": 1,
        "lambda_l2": p.lambda_l2,
        "seed": seed,
        "verbose": -1,
        "force_row_wise": True,
        "num_threads": p.num_threads,
        "max_cat_to_onehot": 8,
        "cat_smooth": 10.0,
    }


def _fit_boosters(
    X: pd.DataFrame, y: np.ndarray, cats: list[str], p: EtaParams, seed: int
) -> dict[str, Any]:
    import lightgbm as lgb

    out = {}
    data = lgb.Dataset(X, y, categorical_feature=cats, free_raw_data=False, params={"verbose": -1})
    for col in PREDICTION_COLUMNS:
        alpha = p.levels[col] if col != "p95" else p.promise_alpha
        out[col] = lgb.train(_lgb_params(p, alpha, seed), data, num_boost_round=p.n_estimators)
    return out


def _conformal_rank(level: float, n: int) -> float:
    """Split-conformal quantile rank, conservative towards the tail the level points at."""
    if level > 0.5:
        return min(1.0, level * (n + 1) / n)
    if level < 0.5:
        return max(0.0, (level * (n + 1) - 1) / n)
    return 0.5


@dataclass
class CalibrationRows:
    """What the calibration slice contributes: out-of-time predictions and the truth."""

    pred: dict[str, np.ndarray]  # log1p remaining hours per quantile column
    y: np.ndarray  # log1p remaining hours
    stage: np.ndarray
    start_h: np.ndarray
    reference_late: np.ndarray  # existing promise late (1/0, NaN without one)


def _offsets(
    c: CalibrationRows, p: EtaParams, min_rows: int = 200
) -> tuple[dict[int, dict[str, float]], dict[str, float]]:
    """Per stage and quantile, the residual quantile on the calibration slice (log scale):
    P(y <= pred + offset) = level on the newest data. Stage -1 holds the all-stage fallback.
    Returns the offsets and what the promise was calibrated to."""
    info: dict[str, float] = {}
    target: float | None = None
    if p.promise_late == "reference":
        ref = c.reference_late[np.isfinite(c.reference_late)]
        target = float(ref.mean()) if len(ref) else 1.0 - p.promise_level
        if len(ref):
            info["promise_reference_late"] = target
            target = max(
                0.005,
                target - p.promise_margin_z * float(np.sqrt(target * (1 - target) / len(ref))),
            )
    elif p.promise_late is not None:
        target = float(p.promise_late)
    if target is not None:
        info["promise_target_late"] = target

    def one(sel: np.ndarray) -> dict[str, float]:
        out = {}
        n = int(sel.sum())
        for col in PREDICTION_COLUMNS:
            if col == "p50" and not p.recenter_median:
                out[col] = 0.0
            else:
                r = c.y[sel] - c.pred[col][sel]
                level = p.levels[col]
                if col == "p95":
                    level = p.promise_level if target is None else 1.0 - target
                out[col] = float(np.quantile(r, _conformal_rank(level, n)))
        return out

    offsets = {-1: one(np.ones(len(c.y), dtype=bool))}
    for s in range(len(STAGES)):
        sel = c.stage == s
        offsets[s] = one(sel) if sel.sum() >= min_rows else offsets[-1]
    return offsets, info


@dataclass
class TrainingRows:
    X: pd.DataFrame
    y: np.ndarray  # log1p remaining hours from the prediction time
    stage: np.ndarray
    predicted_at: pd.Series  # the shipment's first prediction time (for time blocks)
    start_h: np.ndarray
    reference_late: np.ndarray


def training_rows(
    train: EtaDataset, featurizer: EtaFeaturizer, seed: int = 0, clock: str = "business"
) -> TrainingRows:
    """Snapshots of the training shipments as model rows (see module docstring)."""
    snaps = snapshots(train, training=True, seed=seed)
    fs = featurizer.transform(snaps)
    delivered = pd.to_datetime(snaps["delivered_at"], utc=True)
    if clock == "business":
        remaining = (
            business_clock(delivered, fs.tz_dest, fs.dest_country, fs.weekmask) - fs.bt_start
        )
    else:
        remaining = ((delivered - fs.anchor).dt.total_seconds().to_numpy() / HOUR) - fs.start_h
    y = np.log1p(np.clip(remaining, 0.0, None))
    first = snaps["shipment_id"].map(
        pd.Series(train.prediction_time.to_numpy(), index=train.shipments["shipment_id"])
    )
    due = promise_points(snaps, fs.tz_dest, PROMISE_DUE_HOUR[train.kind])
    ref_late = np.where(due.notna().to_numpy(), (delivered > due).to_numpy(), np.nan)
    return TrainingRows(fs.X, y, fs.stage, first, fs.start_h, ref_late)


def _calibration(
    rows: TrainingRows, cats: list[str], p: EtaParams, seed: int
) -> tuple[CalibrationRows, np.ndarray, dict[str, Any]]:
    """Out-of-time predictions for the latest ``calibration_fraction`` of training time, in
    ``calibration_folds`` consecutive blocks, each predicted by models fitted on what came
    before it. Also returns the models of the last block."""
    t = rows.predicted_at
    lo, hi = t.min(), t.max()
    cal_start = hi - (hi - lo) * p.calibration_fraction
    folds = max(1, p.calibration_folds)
    edges = [cal_start + (hi - cal_start) * i / folds for i in range(folds + 1)]
    pred = {col: np.full(len(rows.y), np.nan) for col in PREDICTION_COLUMNS}
    cal = (t >= cal_start).to_numpy()
    for i in range(folds):
        block = (t >= edges[i]).to_numpy() & (
            (t < edges[i + 1]).to_numpy() if i < folds - 1 else np.ones(len(t), dtype=bool)
        )
        before = (t < edges[i]).to_numpy()
        boosters = _fit_boosters(rows.X.loc[before], rows.y[before], cats, p, seed)
        Xb = rows.X.loc[block].to_numpy(dtype=np.float32)
        for col, b in boosters.items():
            pred[col][block] = b.predict(Xb, num_threads=p.num_threads)
    c = CalibrationRows(
        pred={k: v[cal] for k, v in pred.items()},
        y=rows.y[cal],
        stage=rows.stage[cal],
        start_h=rows.start_h[cal],
        reference_late=rows.reference_late[cal],
    )
    return c, cal, boosters


def fit_eta(
    train: EtaDataset, params: EtaParams | None = None, seed: int = 0, verbose: bool = False
) -> EtaModel:
    """Fit an :class:`EtaModel` on a training data set (see module docstring)."""
    p = params or EtaParams()
    t0 = time.perf_counter()
    featurizer = EtaFeaturizer(kind=train.kind, recency=p.recency).fit(train.shipments)
    rows = training_rows(train, featurizer, seed, p.clock)
    cats = featurizer.categorical_columns()
    t_feat = time.perf_counter()
    cal_rows, cal, last = _calibration(rows, cats, p, seed)
    offsets, info = _offsets(cal_rows, p)
    boosters = _fit_boosters(rows.X, rows.y, cats, p, seed) if p.refit else dict(last)
    if not p.refit_promise:
        boosters["p95"] = last["p95"]
    t_end = time.perf_counter()
    if verbose:
        print(
            f"eta fit: {len(rows.y)} rows ({int(cal.sum())} calibration), "
            f"features {t_feat - t0:.1f}s, models {t_end - t_feat:.1f}s"
        )
    return EtaModel(
        featurizer=featurizer,
        boosters=boosters,
        offsets=offsets,
        params={
            **p.as_dict(),
            **info,
            "seed": seed,
            "rows": len(rows.y),
            "calibration_rows": int(cal.sum()),
        },
        version=f"eta-{train.kind}-local",
        num_threads=p.num_threads,
        clock=p.clock,
    )
