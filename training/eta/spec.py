"""``EtaSpec``: the ETA model for the training platform (``waybill train eta``).

* ``load`` - contract tables (``fmt="waybill"``: simulator output or ``waybill export
  history``) or an Olist directory (``fmt="olist"``);
* ``split`` - by time: the last ``holdout_months`` calendar months (6 for contract tables, so
  a peak season is held out; 3 for Olist: Dec 2017 - Feb 2018 of the shared sample) are held
  out, everything predicted earlier trains;
* ``fit`` - :func:`training.eta.train.fit_eta` (quantile LightGBM + conformal calibration on
  the latest training months);
* ``baseline`` - the carrier's promised date (Olist: its estimate) with intervals from the
  training residuals, falling back to lane medians;
* ``evaluate`` - flat metrics per stage (``booking.p50_mae_days`` ...); the primary metric
  ``p50_mae_days`` is the one at booking (Olist: at purchase), lower is better.
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from app.triage.eta import EtaBaseline, EtaModel
from training.eta.datasets import (
    OLIST_TZ,
    EtaDataset,
    load_dataset,
    month_cut,
    snapshots,
    time_split,
)
from training.eta.evaluate import eval_frame, evaluate_predictor, model_inputs
from training.eta.train import EtaParams, fit_eta

try:  # the platform's contract; a stand-in with the same shape keeps this usable without it
    from training.platform.spec import Split
except ImportError:  # pragma: no cover
    from dataclasses import dataclass

    @dataclass
    class Split:  # type: ignore[no-redef]
        train: Any
        holdout: Any
        description: str


HOLDOUT_MONTHS: dict[str, int] = {"waybill": 6, "olist": 3}
FORMAT_PARAMS: dict[str, EtaParams] = {
    "waybill": EtaParams(n_estimators=140, learning_rate=0.11, num_leaves=31),
    # Olist: plain split conformal (no refit: the calibrated models are the served ones) on the
    # latest fifth of the period; p95 is the *promise*, trained at the 0.9 quantile and
    # calibrated to be late no more often than Olist's own estimate on those months, less a
    # one-sided 95 % margin for the calibration sample's noise.
    "olist": EtaParams(
        n_estimators=400,
        refit=False,
        promise_alpha=0.9,
        promise_late="reference",
        promise_margin_z=1.645,
    ),
}


# One registered model per data format: the service serves ``waybill-eta`` (shipments in the
# contract columns); a model learnt from Olist orders predicts a different thing (days from a
# marketplace purchase) and must never become its champion.
REGISTERED_NAMES: dict[str, str] = {"waybill": "waybill-eta", "olist": "waybill-eta-olist"}


def registered_name_for(fmt: str) -> str:
    """The MLflow registered model of ETA models trained on ``fmt`` data."""
    if fmt not in REGISTERED_NAMES:
        raise ValueError(f"unknown ETA data format {fmt!r} (waybill or olist)")
    return REGISTERED_NAMES[fmt]


class EtaSpec:
    name = "eta"
    primary_metric = "p50_mae_days"
    greater_is_better = False
    default_format = "waybill"

    def __init__(self, params: EtaParams | None = None, holdout_months: int | None = None) -> None:
        self.fmt = self.default_format
        self._params = params
        self._holdout_months = holdout_months
        self._train: EtaDataset | None = None
        self._eval_cache: weakref.WeakKeyDictionary[EtaDataset, pd.DataFrame] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def registered_name(self) -> str:
        """Per data format (``REGISTERED_NAMES``): set by ``load``, so a run on Olist data
        registers as ``waybill-eta-olist`` and the served ``waybill-eta`` stays untouched."""
        return registered_name_for(self.fmt)

    # -- contract --------------------------------------------------------------------------------
    def load(self, data_dir: Path, *, fmt: str = "waybill") -> EtaDataset:
        self.fmt = fmt
        return load_dataset(data_dir, fmt)

    def fit(self, train: EtaDataset, *, seed: int = 0) -> EtaModel:
        if train.kind != self.fmt:  # the registry name must describe what was trained
            raise ValueError(
                f"{type(self).__name__} loaded {self.fmt!r} data but is asked to "
                f"fit {train.kind!r} data"
            )
        return fit_eta(train, self.eta_params(train.kind), seed=seed)

    def holdout_months(self, kind: str) -> int:
        return self._holdout_months or HOLDOUT_MONTHS.get(kind, 3)

    def split(self, dataset: EtaDataset) -> Split:
        months = self.holdout_months(dataset.kind)
        tz = OLIST_TZ if dataset.kind == "olist" else "UTC"
        cut = month_cut(dataset.prediction_time, months, tz)
        train, holdout = time_split(dataset, cut)
        if len(train) == 0 or len(holdout) == 0:
            raise ValueError(
                f"time split at {cut:%Y-%m-%d} leaves an empty side "
                f"({len(train)} train, {len(holdout)} held out)"
            )
        self._train = train

        def span(ds: EtaDataset) -> str:
            t = ds.prediction_time.dt.tz_convert(tz)
            return f"{t.min():%Y-%m-%d} .. {t.max():%Y-%m-%d}"

        p = self.eta_params(dataset.kind)
        description = (
            f"time split ({dataset.kind}): train {len(train)} shipments predicted "
            f"{span(train)}, hold-out {len(holdout)} from {span(holdout)} (last {months} "
            f"months); conformal calibration on the latest {p.calibration_fraction:.0%} of "
            f"training time; history statistics only from outcomes known before each row"
        )
        return Split(train=train, holdout=holdout, description=description)

    def eta_params(self, kind: str) -> EtaParams:
        return self._params or replace(FORMAT_PARAMS.get(kind, EtaParams()))

    def baseline(self) -> EtaBaseline:
        kind = self._train.kind if self._train is not None else self.fmt
        base = EtaBaseline(kind=kind, method="promise")
        if self._train is not None:
            base.fit(self._train.shipments)
        return base

    def evaluate(self, predictor: Any, holdout: EtaDataset) -> dict[str, float]:
        snaps = self._eval_cache.get(holdout)
        if snaps is None:
            snaps = eval_frame(holdout)
            self._eval_cache[holdout] = snaps
        # A promise baseline is judged on its own date (carrier promise, Olist's estimate).
        promise = (
            "promised_date"
            if isinstance(predictor, EtaBaseline) and predictor.method == "promise"
            else "p95"
        )
        return evaluate_predictor(predictor, snaps, kind=holdout.kind, promise=promise)

    def input_example(self, dataset: EtaDataset) -> pd.DataFrame:
        """A few rows as ``predict`` receives them: shipments at booking and, when tracked, in
        transit and out for delivery (no outcome columns)."""
        ds = dataset.subset(dataset.delivered().to_numpy(), dataset.description)
        ids = ds.shipments["shipment_id"].head(3)
        small = ds.subset(ds.shipments["shipment_id"].isin(ids).to_numpy())
        example = model_inputs(snapshots(small)).head(8)
        return _json_friendly(example)

    def params(self) -> dict[str, Any]:
        return {
            **self.eta_params(self.fmt).as_dict(),
            "format": self.fmt,
            "holdout_months": self.holdout_months(self.fmt),
        }


def _json_friendly(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop all-null columns and store timestamps as ISO strings, so MLflow can infer a schema
    and serialize the example; ``predict`` parses both forms."""
    out = frame.dropna(axis=1, how="all").copy()
    for col in out.columns:
        dtype = out[col].dtype
        if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            out[col] = out[col].astype("string").astype(object)
        elif isinstance(dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
        elif pd.api.types.is_bool_dtype(dtype):
            out[col] = out[col].astype(bool)
        elif str(dtype) in ("Int64", "Float64", "boolean") or pd.api.types.is_integer_dtype(dtype):
            out[col] = out[col].astype(float)  # integers cannot carry missing values
    return out.reset_index(drop=True)


class OlistEtaSpec(EtaSpec):
    """The ETA model on Olist orders as its own platform model (``waybill train eta-olist``,
    ``waybill promote eta-olist``): always the Olist format, registered as
    ``waybill-eta-olist``, so promoting it can never touch the served ``waybill-eta``."""

    name = "eta-olist"
    default_format = "olist"

    def load(self, data_dir: Path, *, fmt: str = "olist") -> EtaDataset:
        # The platform's default format is "waybill"; this spec only knows Olist directories.
        self.fmt = "olist"
        return load_dataset(data_dir, "olist")
