"""Evaluation of ETA predictors on a time-split hold-out, with the baselines beside the model.

Metrics (delivered shipments; ``y`` = hours from the anchor - ship time, Olist: purchase - to
delivery):

* ``p50_mae_days`` - mean |p50 - y| in days; ``date_mae_days`` - mean |p50 date - delivery
  date| in whole days (destination calendar), the measure a date promise can be held to;
* ``exact_day`` - the p50 date (destination calendar) is the delivery date; ``within_1_day``;
* ``coverage_80`` - p10 <= y <= p90 (target 80 %); ``coverage_95`` - y <= p95;
* ``width_80_days`` - median p90 - p10; ``bias_days`` - median y - p50;
* ``promise_days`` / ``late_rate`` - the promise (p95; for the promise baselines the carrier's
  date, kept until the end of that day, or Olist's estimate, the timestamp it ships as): its
  median length in days from the anchor and the share delivered after it.

Stages are the snapshots of :func:`training.eta.datasets.snapshots`: ``booking`` (Olist: the
purchase), ``first_scan`` and ``out_for_delivery``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from app.triage.eta_features import (
    HOUR,
    PROMISE_DUE_HOUR,
    anchor_times,
    promise_points,
    season_features,
    timezones,
    to_utc_timestamps,
    utc_to_local,
)
from training.eta.datasets import EVAL_STAGES, OUTCOME_COLUMNS, EtaDataset, snapshots

METRICS = ("n", "p50_mae_days", "date_mae_days", "exact_day", "within_1_day", "coverage_80",
           "coverage_95", "width_80_days", "bias_days", "promise_days", "late_rate")


def model_inputs(snaps: pd.DataFrame) -> pd.DataFrame:
    """Snapshot rows without anything learnt after the prediction time (outcomes, status):
    predictors only ever see these columns."""
    hidden = [*OUTCOME_COLUMNS, "y_hours", "olist_order_status", "eval_stage"]
    return snaps.drop(columns=[c for c in hidden if c in snaps])


def eval_frame(holdout: EtaDataset) -> pd.DataFrame:
    """Hold-out snapshots (all evaluation stages) with the truth in ``y_hours``."""
    snaps = snapshots(holdout, training=False)
    anchor = anchor_times(snaps, holdout.kind)
    delivered = to_utc_timestamps(snaps["delivered_at"])
    snaps["y_hours"] = ((delivered - anchor).dt.total_seconds() / HOUR).to_numpy()
    return snaps


def metric_table(snaps: pd.DataFrame, pred: pd.DataFrame, kind: str,
                 promise: str = "p95") -> pd.DataFrame:
    """Per-row outcomes used by the aggregations: errors, hits, coverage, promise, late."""
    anchor = anchor_times(snaps, kind)
    tz = timezones(snaps["destination_zone"], snaps["destination_country"])
    y = snaps["y_hours"].to_numpy()
    delivered_day = utc_to_local(to_utc_timestamps(snaps["delivered_at"]), tz).dt.normalize()
    p50_day = utc_to_local(anchor + pd.to_timedelta(pred["p50"].to_numpy(), unit="h"),
                           tz).dt.normalize()
    if promise == "promised_date":
        due = promise_points(snaps, tz, PROMISE_DUE_HOUR[kind])
        promise_h = ((due - anchor).dt.total_seconds() / HOUR).to_numpy()
    else:
        promise_h = pred[promise].to_numpy()
    day_err = (p50_day - delivered_day).dt.days.to_numpy()
    out = pd.DataFrame({
        "abs_err_days": np.abs(pred["p50"].to_numpy() - y) / 24.0,
        "err_days": (y - pred["p50"].to_numpy()) / 24.0,
        "date_err_days": np.abs(day_err).astype(float),
        "exact_day": (day_err == 0).astype(float),
        "within_1_day": (np.abs(day_err) <= 1).astype(float),
        "covered_80": ((pred["p10"].to_numpy() <= y) & (y <= pred["p90"].to_numpy())).astype(
            float),
        "covered_95": (y <= pred["p95"].to_numpy()).astype(float),
        "width_80_days": (pred["p90"].to_numpy() - pred["p10"].to_numpy()) / 24.0,
        "promise_days": promise_h / 24.0,
        "late": (y > promise_h).astype(float),
    }, index=snaps.index)
    return out


def aggregate(rows: pd.DataFrame) -> dict[str, float]:
    if len(rows) == 0:
        return {"n": 0.0}
    return {
        "n": float(len(rows)),
        "p50_mae_days": float(rows["abs_err_days"].mean()),
        "date_mae_days": float(rows["date_err_days"].mean()),
        "exact_day": float(rows["exact_day"].mean()),
        "within_1_day": float(rows["within_1_day"].mean()),
        "coverage_80": float(rows["covered_80"].mean()),
        "coverage_95": float(rows["covered_95"].mean()),
        "width_80_days": float(rows["width_80_days"].median()),
        "bias_days": float(rows["err_days"].median()),
        "promise_days": float(rows["promise_days"].median()),
        "late_rate": float(rows["late"].mean()),
    }


def evaluate_predictor(predictor: Any, holdout: EtaDataset | pd.DataFrame, kind: str | None = None,
                       promise: str = "p95") -> dict[str, float]:
    """Flat metrics ``<stage>.<metric>`` plus ``p50_mae_days``, ``coverage_80``, ``exact_day``,
    ``promise_days`` and ``late_rate`` of the first (booking / purchase) stage."""
    snaps = eval_frame(holdout) if isinstance(holdout, EtaDataset) else holdout
    kind = kind or (holdout.kind if isinstance(holdout, EtaDataset) else "waybill")
    pred = predictor.predict(model_inputs(snaps))
    rows = metric_table(snaps, pred, kind, promise)
    out: dict[str, float] = {}
    stage = snaps["eval_stage"].to_numpy()
    for s in EVAL_STAGES:
        sel = stage == s
        if not sel.any():
            continue
        for k, v in aggregate(rows.loc[sel]).items():
            out[f"{s}.{k}"] = v
    for k in ("p50_mae_days", "coverage_80", "coverage_95", "exact_day", "within_1_day",
              "promise_days", "late_rate", "n"):
        if f"booking.{k}" in out:
            out[k] = out[f"booking.{k}"]
    return out


def breakdown(snaps: pd.DataFrame, rows: Mapping[str, pd.DataFrame], by: pd.Series,
              metrics: tuple[str, ...] = ("n", "p50_mae_days", "exact_day", "coverage_80")
              ) -> pd.DataFrame:
    """One line per value of ``by``, the metrics of each predictor side by side."""
    records = []
    for value in sorted(pd.unique(by.dropna().astype(str))):
        sel = (by.astype(str) == value).to_numpy()
        rec: dict[str, Any] = {by.name or "group": value}
        for name, table in rows.items():
            agg = aggregate(table.loc[sel])
            for m in metrics:
                if m == "n":
                    rec["n"] = int(agg.get("n", 0))
                else:
                    rec[f"{name}.{m}"] = agg.get(m, np.nan)
        records.append(rec)
    return pd.DataFrame.from_records(records)


def evaluation_report(predictors: Mapping[str, Any], holdout: EtaDataset,
                      promises: Mapping[str, str] | None = None
                      ) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    """Tables (by stage, by carrier, peak/off-peak, by month) and flat metrics of several
    predictors on the same hold-out snapshots; metric keys are ``<predictor>.<metric>``."""
    promises = dict(promises or {})
    snaps = eval_frame(holdout)
    kind = holdout.kind
    inputs = model_inputs(snaps)
    rows = {name: metric_table(snaps, p.predict(inputs), kind, promises.get(name, "p95"))
            for name, p in predictors.items()}
    stage = snaps["eval_stage"]
    tables: dict[str, pd.DataFrame] = {}
    records = []
    for s in EVAL_STAGES:
        sel = (stage == s).to_numpy()
        if not sel.any():
            continue
        for name, table in rows.items():
            records.append({"stage": s, "predictor": name, **aggregate(table.loc[sel])})
    tables["by_stage"] = pd.DataFrame.from_records(records)
    first = (stage == "booking").to_numpy()
    booking = snaps.loc[first]
    first_rows = {n: t.loc[first] for n, t in rows.items()}
    if kind == "waybill":
        tables["by_carrier"] = breakdown(booking, first_rows, booking["carrier"].rename(
            "carrier"))
        tables["by_service_level"] = breakdown(booking, first_rows,
                                               booking["service_level"].rename("level"))
        day = utc_to_local(anchor_times(booking, kind), timezones(
            booking["origin_zone"], booking["origin_country"])).dt.normalize()
        peak = season_features(day.to_numpy())["in_peak"]
        tables["by_season"] = breakdown(booking, first_rows, pd.Series(
            np.where(peak > 0, "peak", "off-peak"), index=booking.index, name="season"))
    month = utc_to_local(anchor_times(booking, kind), timezones(
        booking["destination_zone"], booking["destination_country"])).dt.strftime("%Y-%m")
    tables["by_month"] = breakdown(booking, first_rows, month.rename("month"),
                                   ("n", "p50_mae_days", "coverage_80", "late_rate"))
    flat: dict[str, float] = {}
    for rec in tables["by_stage"].to_dict("records"):
        for m in METRICS:
            flat[f"{rec['predictor']}.{rec['stage']}.{m}"] = float(rec[m])
    return tables, flat


def format_table(df: pd.DataFrame, title: str) -> str:
    """A plain-text table: percentages for rates, two decimals for days."""
    shown = df.copy()
    for col in shown.columns:
        name = str(col).split(".")[-1]
        if name in ("exact_day", "within_1_day", "coverage_80", "coverage_95", "late_rate"):
            shown[col] = shown[col].map(lambda v: f"{100 * v:.1f}%" if pd.notna(v) else "-")
        elif name in ("p50_mae_days", "date_mae_days", "width_80_days", "bias_days",
                      "promise_days"):
            shown[col] = shown[col].map(lambda v: f"{v:.2f}" if pd.notna(v) else "-")
        elif name == "n":
            shown[col] = shown[col].map(lambda v: f"{v:.0f}" if pd.notna(v) else "-")
    return f"\n## {title}\n" + shown.to_string(index=False)
