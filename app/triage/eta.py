"""Delivery-time prediction with calibrated uncertainty (ETA).

* :class:`EtaModel` - LightGBM quantile models (one per quantile: p10, p50, p90, p95) of the
  *remaining* time to delivery from the prediction time, counted on a business-day clock (the
  carrier's delivery weekdays without the destination's holidays, see
  :func:`app.triage.eta_features.business_clock`) on a log scale, with the tracking stage
  (booking, after the first scan, out for delivery) as a feature; then conformal offsets
  per stage, learnt on the latest training months, so that p10-p90 covers 80 % and p95 95 %
  of deliveries (for Olist p95 is the *promise*, calibrated to a target late rate).
* :class:`EtaBaseline` - what the service uses when no model is registered: the carrier's
  promised date (or Olist's estimate), falling back to lane-median transit.
* :func:`predict_for_shipment` - one shipment and its events as :class:`EtaPrediction`
  (datetimes), re-predicted whenever a tracking event arrives.

Both predictors implement ``predict(frame) -> DataFrame`` with columns ``p10, p50, p90, p95``
in hours from the anchor time (ship time; Olist: purchase), index-aligned with ``frame``,
which is what MLflow's pyfunc wrapper and the batch CLI call. A frame row is a shipment in the
training-contract columns, optionally with ``as_of`` (prediction time) and the tracking state
``ev_*`` (:func:`app.triage.eta_features.event_state`); without them the row is predicted at
booking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.triage import eta_single
from app.triage.eta_features import (
    DAY_H,
    HOUR,
    PROMISE_POINT_HOUR,
    QUANTILE_COLUMNS,
    STAGES,
    EtaFeaturizer,
    anchor_times,
    destination_timezones,
    event_history,
    event_state,
    join_keys,
    promise_points,
    to_utc_timestamps,
    utc_to_local,
)

PREDICTION_COLUMNS = list(QUANTILE_COLUMNS)
DEFAULT_RATIOS = (0.55, 1.0, 1.35, 1.6)  # p10, p50, p90, p95 as multiples of a promise
# Last resort of an unfitted baseline for rows without a promise (hours from the anchor).
DEFAULT_HOURS: dict[str, tuple[float, ...]] = {
    "waybill": (24.0, 48.0, 96.0, 120.0),
    "olist": (168.0, 288.0, 600.0, 720.0),
}


def _monotone(values: np.ndarray) -> np.ndarray:
    """Quantile columns sorted per row: p10 <= p50 <= p90 <= p95 whatever the models said."""
    return np.sort(values, axis=1)


def _frame(values: np.ndarray, index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(_monotone(values), index=index, columns=PREDICTION_COLUMNS)


# From this many rows a prediction uses every core (LightGBM's OpenMP default). Below it, the
# model's own ``num_threads`` (1): the service predicts one shipment at a time on every status
# change, where waking a thread team costs more than the trees and spinning threads steal the
# CPU the API and the other workers need. A batch of 100,000 rows predicts twice as fast on two.
BATCH_THREAD_ROWS = 20_000


@dataclass
class EtaModel:
    """Quantile gradient-boosting ETA with per-stage conformal offsets (log scale)."""

    featurizer: EtaFeaturizer
    boosters: dict[str, Any]  # quantile column -> lightgbm.Booster
    offsets: dict[int, dict[str, float]]  # stage -> quantile column -> log offset
    params: dict[str, Any] = field(default_factory=dict)
    version: str = "local"
    num_threads: int = 1
    clock: str = "business"  # remaining time learnt in business days ("business") or hours

    @property
    def kind(self) -> str:
        return self.featurizer.kind

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Quantiles in hours from the anchor time (see module docstring)."""
        if len(frame) == 0:
            return pd.DataFrame(columns=PREDICTION_COLUMNS, dtype=float)
        fs = self.featurizer.transform(frame)
        X = fs.X.to_numpy(dtype=np.float32)
        remaining = np.empty((len(frame), len(PREDICTION_COLUMNS)))
        default = self.offsets.get(-1, {})
        stage = np.clip(fs.stage, 0, len(STAGES) - 1)
        threads = 0 if len(X) >= BATCH_THREAD_ROWS else self.num_threads
        for j, col in enumerate(PREDICTION_COLUMNS):
            raw = self.boosters[col].predict(X, num_threads=threads)
            off = np.array(
                [self.offsets.get(int(s), default).get(col, 0.0) for s in range(len(STAGES))]
            )
            remaining[:, j] = np.clip(np.expm1(raw + off[stage]), 0.0, None)
        start = fs.start_h[:, None]
        if self.clock == "business":
            total = fs.hours_from_business_clock(fs.bt_start[:, None] + remaining)
            total = np.where(np.isfinite(total), total, start + 24.0 * remaining)
            out = np.maximum(total, start)
        else:
            out = start + remaining
        return _frame(out, frame.index)

    def stages(self, frame: pd.DataFrame) -> np.ndarray:
        return self.featurizer.transform(frame).stage


@dataclass
class EtaBaseline:
    """Carrier promise or lane median, with intervals from training residuals when fitted.

    ``method="promise"``: p50 is the promised date (carrier's, read at midday local time;
    Olist's estimate, the timestamp it ships as); p10/p90/p95 scale it by quantiles of
    actual/promised per carrier (fitted) or by fixed factors. Rows without a promise fall back
    to the lane median.
    ``method="lane_median"``: quantiles of transit from the anchor on the same lane (origin and
    destination zone and service level; then coarser), fitted on training outcomes.
    ``method="constant"``: the training quantiles of every shipment alike.
    Rows already in transit are never predicted before their prediction time; with
    ``exception_delay_h`` each exception so far (``ev_exceptions``) pushes the row back.
    """

    kind: str = "waybill"
    method: str = "promise"
    ratio_quantiles: dict[str, list[float]] = field(default_factory=dict)
    lane_quantiles: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    global_quantiles: list[float] = field(default_factory=list)
    min_count: int = 20
    version: str = "baseline"
    # Serving: each exception so far pushes every quantile back by this much (0 = the plain
    # promise, as evaluated); carriers' exception delays are a day or more in the median.
    exception_delay_h: float = 0.0

    @property
    def lane_levels(self) -> tuple[tuple[str, ...], ...]:
        if self.kind == "olist":
            return (("origin_zone", "destination_zone"), ("destination_zone",))
        return (
            ("origin_zone", "destination_zone", "service_level"),
            ("origin_zone", "destination_zone"),
            ("destination_country", "service_level"),
        )

    def fit(self, frame: pd.DataFrame) -> EtaBaseline:
        """Learn residual ratios and lane quantiles from shipments with ``delivered_at``."""
        anchor = anchor_times(frame, self.kind)
        delivered = to_utc_timestamps(frame["delivered_at"])
        hours = ((delivered - anchor).dt.total_seconds() / HOUR).to_numpy()
        ok = np.isfinite(hours) & (hours > 0)
        frame, hours = frame.loc[ok], hours[ok]
        levels = [q for q in (0.10, 0.50, 0.90, 0.95)]
        self.global_quantiles = list(np.quantile(hours, levels)) if len(hours) else []
        tz = destination_timezones(frame)
        point = promise_points(frame, tz, PROMISE_POINT_HOUR.get(self.kind, 12.0))
        promise_h = ((point - anchor.loc[ok]).dt.total_seconds() / HOUR).to_numpy()
        ratio = np.log(np.clip(hours, 0.5, None) / np.clip(promise_h, 1.0, None))
        have = np.isfinite(ratio)
        group = (
            frame["carrier"].astype("string").fillna("*").to_numpy()
            if "carrier" in frame
            else np.full(len(frame), "*", dtype=object)
        )
        self.ratio_quantiles = {}
        if have.any():
            self.ratio_quantiles["*"] = list(np.exp(np.quantile(ratio[have], levels)))
            for g in pd.unique(group[have]):
                sel = have & (group == g)
                if sel.sum() >= self.min_count and g != "*":
                    self.ratio_quantiles[str(g)] = list(np.exp(np.quantile(ratio[sel], levels)))
        self.lane_quantiles = {}
        for cols in self.lane_levels:
            if not all(c in frame for c in cols):
                continue
            key = join_keys(frame, cols)
            table = pd.DataFrame({"k": key.to_numpy(), "h": hours})
            grouped = table.groupby("k")["h"]
            counts = grouped.size()
            qs = grouped.quantile(levels).unstack()
            qs = qs.loc[counts[counts >= self.min_count].index]
            self.lane_quantiles["|".join(cols)] = {
                str(k): [float(v) for v in row]
                for k, row in zip(qs.index, qs.to_numpy(), strict=True)
            }
        return self

    def _lane(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.full((len(frame), 4), np.nan)
        for cols in self.lane_levels:
            table = self.lane_quantiles.get("|".join(cols))
            if not table or not all(c in frame for c in cols):
                continue
            missing = np.isnan(out[:, 0])
            if not missing.any():
                break
            keys = join_keys(frame, cols).to_numpy()
            found = np.array([table.get(k, [np.nan] * 4) for k in keys[missing]], dtype=float)
            if len(found):
                out[missing] = found
        missing = np.isnan(out[:, 0])
        out[missing] = self.global_quantiles or DEFAULT_HOURS.get(
            self.kind, DEFAULT_HOURS["waybill"]
        )
        return out

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        if len(frame) == 0:
            return pd.DataFrame(columns=PREDICTION_COLUMNS, dtype=float)
        anchor = anchor_times(frame, self.kind)
        if self.method == "constant":
            out = np.tile(
                np.asarray(
                    self.global_quantiles or DEFAULT_HOURS.get(self.kind, DEFAULT_HOURS["waybill"]),
                    dtype=float,
                ),
                (len(frame), 1),
            )
        else:
            out = self._lane(frame)
        if self.method == "promise":
            tz = destination_timezones(frame)
            point = promise_points(frame, tz, PROMISE_POINT_HOUR.get(self.kind, 12.0))
            promise_h = ((point - anchor).dt.total_seconds() / HOUR).to_numpy()
            carriers = (
                frame["carrier"].astype("string").fillna("*").to_numpy()
                if "carrier" in frame
                else np.full(len(frame), "*", dtype=object)
            )
            default = self.ratio_quantiles.get("*", list(DEFAULT_RATIOS))
            ratios = np.array(
                [self.ratio_quantiles.get(str(c), default) for c in carriers], dtype=float
            ).reshape(len(frame), 4)
            ratios[:, 1] = 1.0  # the promise itself is the point prediction
            ratios[:, 0] = np.minimum(ratios[:, 0], 1.0)
            ratios[:, 2] = np.maximum(ratios[:, 2], 1.0)
            ratios[:, 3] = np.maximum(ratios[:, 3], ratios[:, 2])
            have = np.isfinite(promise_h) & (promise_h > 0)
            out[have] = promise_h[have, None] * ratios[have]
        if self.exception_delay_h and "ev_exceptions" in frame:
            n_exc = pd.to_numeric(frame["ev_exceptions"], errors="coerce").fillna(0.0)
            out = out + self.exception_delay_h * n_exc.to_numpy(dtype=float)[:, None]
        if "as_of" in frame:
            start = to_utc_timestamps(frame["as_of"])
            start_h = ((start - anchor).dt.total_seconds() / HOUR).to_numpy()
            start_h = np.where(np.isfinite(start_h), start_h, 0.0)
            out = np.maximum(out, start_h[:, None])
        return _frame(out, frame.index)


# -- serving ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EtaPrediction:
    """Quantile delivery times (UTC datetimes) of one shipment at one moment."""

    p10: datetime
    p50: datetime
    p90: datetime
    p95: datetime
    stage: str  # booking, first_scan, out_for_delivery, delivered
    model_version: str
    timezone: str = "UTC"

    def local_dates(self) -> dict[str, date]:
        """Delivery dates in the destination's calendar (what a customer is told)."""
        tz = self.timezone
        return {q: pd.Timestamp(getattr(self, q)).tz_convert(tz).date() for q in PREDICTION_COLUMNS}


def _stage_name(code: int) -> str:
    return STAGES[int(np.clip(code, 0, len(STAGES) - 1))]


def shipment_frame(
    shipment: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]] = (),
    as_of: datetime | None = None,
) -> pd.DataFrame:
    """One shipment and its tracking events as a predict() row (with ``as_of`` and ``ev_*``)."""
    row = pd.DataFrame([dict(shipment)])
    if "shipment_id" not in row:
        row["shipment_id"] = "shipment"
    row["shipment_id"] = row["shipment_id"].astype(str)
    ev = pd.DataFrame([dict(e) for e in events]) if events else pd.DataFrame()
    if len(ev):
        ev["shipment_id"] = row["shipment_id"].iloc[0]
        ev["occurred_at"] = to_utc_timestamps(ev["occurred_at"])
        ev["status"] = ev["status"].map(lambda s: getattr(s, "value", s))
    if as_of is not None:
        row["as_of"] = (
            pd.Timestamp(as_of).tz_convert("UTC")
            if pd.Timestamp(as_of).tzinfo
            else pd.Timestamp(as_of).tz_localize("UTC")
        )
    elif len(ev):
        row["as_of"] = ev["occurred_at"].max()
    if len(ev) and "as_of" in row:
        state = event_state(event_history(ev), row[["shipment_id", "as_of"]])
        for col in state.columns:
            row[col] = state[col].to_numpy()
    return row


def predict_for_shipment(
    shipment: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]] = (),
    model: EtaModel | EtaBaseline | None = None,
    as_of: datetime | None = None,
) -> EtaPrediction:
    """Predict one shipment's delivery time from its booking data and the events so far.

    ``shipment`` holds the training-contract columns (lane, carrier, service, parcel, promise,
    ``ship_at`` ...); ``events`` dicts hold ``occurred_at``, ``status`` and, when known,
    ``exception_category``, ``location_zone``, ``location_country``. Without ``as_of`` the
    prediction is made at the latest event (or at booking). A delivered shipment returns its
    delivery time. ``model`` is the serving predictor (e.g. ``ModelManager.get("eta")``);
    ``None`` - or a model trained on another format such as Olist - uses the baseline.
    """
    predictor: Any = model if model is not None else baseline_predictor()
    if getattr(predictor, "kind", "waybill") != "waybill":
        predictor = baseline_predictor()  # e.g. a model trained on Olist orders
    fast = _predict_single(shipment, events, predictor, as_of)
    if fast is not None:
        return fast
    return _predict_via_frame(shipment, events, predictor, as_of)


def _predict_single(
    shipment: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    predictor: Any,
    as_of: datetime | None,
) -> EtaPrediction | None:
    """The one-row path of :mod:`app.triage.eta_single` (None: take the frame path)."""
    if type(predictor) not in (EtaModel, EtaBaseline):
        return None
    try:
        row = eta_single.single_row(shipment, events, as_of)
        anchor = row.anchor
        v = row.values
        tz = eta_single.timezone(v.get("destination_zone"), v.get("destination_country"))
        version = str(getattr(predictor, "version", None) or "baseline")
        delivered = [
            eta_single.utc(e["occurred_at"])
            for e in events
            if getattr(e.get("status"), "value", e.get("status")) == "delivered"
        ]
        if delivered:
            if any(at is None for at in delivered):
                return None
            at = max(delivered).to_pydatetime()  # type: ignore[type-var]
            return EtaPrediction(at, at, at, at, "delivered", version, tz)
        if anchor is None:  # no ship, booking or creation time: nothing to count from
            return None
        if isinstance(predictor, EtaModel):
            hours, code = eta_single.model_hours(predictor, row)
        else:
            hours, code = eta_single.baseline_hours(predictor, row), eta_single.baseline_stage(row)
    except eta_single.Unsupported:
        return None
    times = [(anchor + pd.Timedelta(hours=float(h))).round("s").to_pydatetime() for h in hours]
    return EtaPrediction(*times, _stage_name(code), version, tz)


def _predict_via_frame(
    shipment: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    predictor: Any,
    as_of: datetime | None,
) -> EtaPrediction:
    """The batch feature code on a one-row frame: every input the one-row path declines."""
    kind = "waybill"
    row = shipment_frame(shipment, events, as_of)
    tz = destination_timezones(row).iloc[0]
    version = str(getattr(predictor, "version", None) or "baseline")
    delivered = [
        e for e in events if getattr(e.get("status"), "value", e.get("status")) == "delivered"
    ]
    if delivered:
        at = max(
            pd.Timestamp(to_utc_timestamps(pd.Series([e["occurred_at"]])).iloc[0])
            for e in delivered
        ).to_pydatetime()
        return EtaPrediction(at, at, at, at, "delivered", version, tz)
    pred = predictor.predict(row).iloc[0]
    anchor = anchor_times(row, kind).iloc[0]
    stages = predictor.stages(row) if callable(getattr(predictor, "stages", None)) else None
    if stages is None:
        rank = float(row.get("ev_rank", pd.Series([-1.0])).iloc[0])
        scans = float(row.get("ev_scans", pd.Series([0.0])).iloc[0])
        code = 2 if rank >= 2 else (1 if scans >= 1 else 0)
    else:
        code = int(stages[0])
    times = {
        q: (anchor + pd.Timedelta(hours=float(pred[q]))).round("s").to_pydatetime()
        for q in PREDICTION_COLUMNS
    }
    return EtaPrediction(
        times["p10"], times["p50"], times["p90"], times["p95"], _stage_name(code), version, tz
    )


def quantile_dates(
    frame: pd.DataFrame, predictions: pd.DataFrame, kind: str = "waybill"
) -> pd.DataFrame:
    """Prediction hours as local delivery dates at the destination (``p10_date`` ...)."""
    anchor = anchor_times(frame, kind)
    tz = destination_timezones(frame)
    out = pd.DataFrame(index=frame.index)
    for q in PREDICTION_COLUMNS:
        at = anchor + pd.to_timedelta(predictions[q].to_numpy(), unit="h")
        out[f"{q}_date"] = utc_to_local(at, tz).dt.date
    return out


def hours_to_days(predictions: pd.DataFrame) -> pd.DataFrame:
    return predictions / DAY_H


def baseline_predictor() -> EtaBaseline:
    """What serves while no ETA model is registered: the carrier's promise (unfitted: fixed
    interval factors around it), pushed back a day by each exception so far, and never before
    the latest event."""
    return EtaBaseline(kind="waybill", method="promise", exception_delay_h=24.0)


def save_model(model: EtaModel | EtaBaseline, path: str | Path) -> Path:
    """Pickle a predictor to ``path`` (what ``waybill eta fit --out`` writes)."""
    import cloudpickle

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(cloudpickle.dumps(model))
    return out


def load_model(path: str | Path) -> EtaModel | EtaBaseline:
    """Load a pickled predictor written by :func:`save_model` (trusted files only)."""
    import pickle

    return pickle.loads(Path(path).read_bytes())
