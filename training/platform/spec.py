"""The contract every Waybill model implements, so one pipeline can train, log and promote it.

A model is a ``ModelSpec``: it loads a data set from a directory of contract tables (or a
public format such as Olist), splits it into train and held-out data (time split or grouped -
the spec decides and says how in ``Split.description``), fits a ``Predictor``, provides the
baseline it has to beat, and evaluates any predictor on held-out data into flat metrics. The
pipeline compares model and baseline on ``primary_metric`` and the promotion gate compares a
challenger with the champion on it.

Predictors must pickle with cloudpickle and their classes must live under ``app/`` (serving
loads them without the training code); the baseline is the same one the service falls back to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from app.triage.registry import Predictor

__all__ = ["ModelSpec", "Predictor", "Split"]


@dataclass
class Split:
    """Train and held-out data, and how they were cut (logged with the run)."""

    train: Any
    holdout: Any
    description: str


@runtime_checkable
class ModelSpec(Protocol):
    name: str  # "triage" | "eta" | "recommender"
    registered_name: str  # "waybill-triage" ...
    primary_metric: str  # key in evaluate()'s dict used by the promotion gate
    greater_is_better: bool

    def load(self, data_dir: Path, *, fmt: str = "waybill") -> Any: ...

    def split(self, dataset: Any) -> Split: ...

    def fit(self, train: Any, *, seed: int = 0) -> Predictor: ...

    def baseline(self) -> Predictor: ...

    def evaluate(self, predictor: Predictor, holdout: Any) -> dict[str, float]: ...

    def input_example(self, dataset: Any) -> pd.DataFrame: ...

    def params(self) -> dict[str, Any]: ...
