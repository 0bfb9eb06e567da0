"""A tiny model spec for platform tests: a straight line through noisy points.

``ToySpec(quality=q)`` fits least squares and then shrinks the slope by ``q`` (1 = best), so a
test can train a better or a worse challenger at will; the baseline predicts zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training.platform.spec import Split


@dataclass
class LinePredictor:
    slope: float
    intercept: float

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        x = frame["x"].to_numpy(float)
        return pd.DataFrame({"y_hat": self.slope * x + self.intercept}, index=frame.index)


@dataclass
class ZeroPredictor:
    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"y_hat": np.zeros(len(frame))}, index=frame.index)


class BrokenPredictor:
    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        raise RuntimeError("broken")


def write_toy_data(directory: Path, n: int = 200, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 10, n)
    df = pd.DataFrame({"t": np.arange(n), "x": x, "y": 2.0 * x + 1.0 + rng.normal(0, 0.5, n)})
    directory.mkdir(parents=True, exist_ok=True)
    df.to_csv(directory / "toy.csv", index=False)
    return directory


@dataclass
class ToySpec:
    quality: float = 1.0
    name: str = "toy"
    registered_name: str = "waybill-toy"
    primary_metric: str = "mae"
    greater_is_better: bool = False

    def load(self, data_dir: Path, *, fmt: str = "waybill") -> pd.DataFrame:
        return pd.read_csv(Path(data_dir) / "toy.csv")

    def split(self, dataset: pd.DataFrame) -> Split:
        cut = int(len(dataset) * 0.7)
        return Split(dataset.iloc[:cut], dataset.iloc[cut:], f"first {cut} rows / rest")

    def fit(self, train: pd.DataFrame, *, seed: int = 0) -> LinePredictor:
        slope, intercept = np.polyfit(train["x"], train["y"], 1)
        mean_x = float(train["x"].mean())
        shrunk = slope * self.quality
        return LinePredictor(float(shrunk), float(intercept + (slope - shrunk) * mean_x))

    def baseline(self) -> ZeroPredictor:
        return ZeroPredictor()

    def evaluate(self, predictor: Any, holdout: pd.DataFrame) -> dict[str, float]:
        err = predictor.predict(holdout[["x"]])["y_hat"].to_numpy() - holdout["y"].to_numpy()
        return {"mae": float(np.abs(err).mean()), "rmse": float(np.sqrt((err ** 2).mean())),
                "n": float(len(holdout))}

    def input_example(self, dataset: pd.DataFrame) -> pd.DataFrame:
        return dataset[["x"]].head(3)

    def params(self) -> dict[str, Any]:
        return {"quality": self.quality, "kind": {"model": "line"}}
