"""``TriageSpec``: the exception classifier as a model of the training platform.

``waybill train triage [--data DIR]`` runs these steps (``training.platform.pipeline``):

* **default data** — without ``--data``: ``../shared/data`` beside the repository when it holds
  ``carrier-events-dev.csv``, else an empty ``var/data/triage`` (so a simulated history); and
  the first version that beats the baseline is promoted when no champion exists
  (``promote_first_version``), so a fresh clone serves a model after one command.

* **load** — events of ``DIR`` (simulator output or ``waybill export history``; a person's
  corrections there count as feedback), synthetic wording, and the real carrier texts
  (``carrier-events-dev.csv`` in ``DIR`` or in ``../shared/data``) when present. A directory
  without events gets a simulated history, so an empty directory works on a fresh clone.
* **split** — grouped by carrier family: the real texts of one family (``DHL`` by default:
  nine sub-brands, the most varied wording) are held out and everything else trains. Without
  real texts, one simulated carrier is held out instead. Nothing of the held-out family reaches
  vocabulary, calibration or thresholds.
* **primary metric** — ``macro_f1`` on the held-out family with the carrier masked (no code
  table can fire): the unseen-carrier macro-F1 of the issue. The full leave-one-family-out
  table (both families, pooled, no-real-text) is ``waybill triage evaluate``.
* **baseline** — ``KeywordBaseline`` (code tables + keyword rules), the service's fallback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.triage.classifier import KeywordBaseline
from app.triage.classifier_labels import to_label
from app.triage.classifier_model import ModelConfig, TriageModel
from app.triage.registry import Predictor
from training.triage.dataset import (
    COLUMNS,
    DEFAULT_DATA_DIR,
    REAL_FILE,
    SOURCE_WEIGHT,
    TriageDataset,
    load_real,
    simulator_events,
)
from training.triage.evaluate import fit_model, masked, metrics

try:  # the platform's Split; a local stand-in keeps this module importable on its own
    from training.platform.spec import Split
except ImportError:  # pragma: no cover - only while the platform package is absent
    from dataclasses import dataclass

    @dataclass
    class Split:  # type: ignore[no-redef]
        train: Any
        holdout: Any
        description: str


INPUT_COLUMNS = ["carrier", "code", "description", "status_so_far"]


class TriageSpec:
    name = "triage"
    registered_name = "waybill-triage"
    primary_metric = "macro_f1"
    greater_is_better = True
    # ``waybill train triage`` without flags promotes the first version that beats the baseline.
    promote_first_version = True

    def __init__(
        self,
        config: ModelConfig | None = None,
        *,
        holdout_family: str = "DHL",
        seed: int = 7,
        real_dir: Path | str | None = None,
        sim_days: int = 120,
    ) -> None:
        self.config = config or default_config()
        self.holdout_family = holdout_family
        self.seed = seed
        self.real_dir = real_dir
        self.sim_days = sim_days

    # --- data ------------------------------------------------------------------------------
    def default_data_dir(self) -> Path:
        """What ``waybill train triage`` reads without ``--data``.

        The directory of the real carrier texts when present (``real_dir``, else
        ``../shared/data`` beside the repository); otherwise an empty directory under
        ``var/``, for which ``load`` simulates a history. Simulator and synthetic wording are
        added by ``load`` in every case.
        """
        for candidate in (self.real_dir, DEFAULT_DATA_DIR):
            if candidate is not None and (Path(candidate) / REAL_FILE).exists():
                return Path(candidate)
        empty = Path("var") / "data" / "triage"
        empty.mkdir(parents=True, exist_ok=True)
        return empty

    def load(self, data_dir: Path, *, fmt: str = "waybill") -> TriageDataset:
        from training.triage.synth import synthetic_wording

        if fmt != "waybill":
            raise ValueError(f"triage reads Waybill tables (simulator or export), not {fmt!r}")
        data_dir = Path(data_dir)
        events = store_events(data_dir)
        if events is None:
            events = simulator_events(seed=self.seed, days=self.sim_days)
        parts = [events, synthetic_wording(seed=self.seed)]
        real_dir = self.real_dir
        if real_dir is None:
            real_dir = data_dir if (data_dir / REAL_FILE).exists() else DEFAULT_DATA_DIR
        real = load_real(real_dir)
        if real is not None:
            parts.append(real[[*COLUMNS, *(c for c in ("label_confidence",) if c in real)]])
        return TriageDataset(pd.concat(parts, ignore_index=True))

    def split(self, dataset: TriageDataset) -> Split:
        frame = dataset.frame
        fam = self.holdout_family
        if fam in dataset.families:
            holdout = dataset.real[dataset.real["family"] == fam]
            train = dataset.without_family(fam)
            desc = (
                f"grouped by carrier family: real texts of {fam} held out ({len(holdout)} "
                f"rows, carrier masked), trained on {len(train)} rows "
                f"({_sources(train)}); primary metric = unseen-family macro-F1"
            )
            return Split(train, holdout, desc)
        sim = frame[frame["source"] != "synthetic"]
        carriers = sorted(sim["family"].unique().tolist())
        if not carriers:
            raise ValueError("no events to hold out")
        held = "velox" if "velox" in carriers else carriers[-1]
        holdout = frame[frame["family"] == held]
        train = frame[frame["family"] != held]
        desc = (
            f"grouped by carrier: no real carrier texts found, simulated carrier {held} "
            f"held out ({len(holdout)} rows), trained on {len(train)} rows "
            f"({_sources(train)}); primary metric = unseen-carrier macro-F1"
        )
        return Split(train, holdout, desc)

    # --- model -----------------------------------------------------------------------------
    def fit(self, train: pd.DataFrame, *, seed: int = 0) -> TriageModel:
        return fit_model(train, self.config, seed)

    def baseline(self) -> Predictor:
        return KeywordBaseline()

    def evaluate(self, predictor: Predictor, holdout: pd.DataFrame) -> dict[str, float]:
        pred = predictor.predict(masked(holdout)[INPUT_COLUMNS])
        label = (
            pred["label"]
            if "label" in pred.columns
            else [to_label(s, c) for s, c in zip(pred["status"], pred["category"], strict=True)]
        )
        conf = pred["confidence"].to_numpy(dtype=float)
        review = pred["needs_review"].to_numpy(dtype=bool)
        return metrics(holdout["label"], label, conf, review)

    def input_example(self, dataset: TriageDataset) -> pd.DataFrame:
        frame = dataset.frame
        sample = frame[frame["source"] != "real"].groupby("label").head(1).head(5)
        return sample[INPUT_COLUMNS].reset_index(drop=True).astype(object)

    def params(self) -> dict[str, Any]:
        return {
            **self.config.as_params(),
            "holdout_family": self.holdout_family,
            "data_seed": self.seed,
            "sim_days": self.sim_days,
            "source_weight": dict(SOURCE_WEIGHT),
        }


def default_config() -> ModelConfig:
    """The configuration `waybill train triage` and `waybill triage evaluate` use."""
    return ModelConfig()


def _sources(frame: pd.DataFrame) -> str:
    counts = frame["source"].value_counts()
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def store_events(data_dir: Path) -> pd.DataFrame | None:
    """Events of a contract-table directory as training rows (None when it has none)."""
    from training.simulator.io import read_tables

    try:
        tables = read_tables(data_dir, ("events",))
    except FileNotFoundError:
        return None
    ev = tables.get("events")
    if ev is None or ev.empty:
        return None
    ev = ev.sort_values(["shipment_id", "seq"])
    status = ev["status"].astype(str)
    prev = status.groupby(ev["shipment_id"].astype(str)).shift(1).fillna("none")
    rng = np.random.default_rng(0)
    prev = prev.where(rng.random(len(prev)) < 0.5, "none")
    cat = ev["exception_category"].astype(object).where(ev["exception_category"].notna(), None)
    feedback = (
        ev["label_source"].astype(str).eq("feedback").to_numpy()
        if "label_source" in ev.columns
        else np.zeros(len(ev), bool)
    )
    simulated = "wording_style" in ev.columns
    frame = pd.DataFrame(
        {
            "carrier": ev["carrier"].astype(str).to_numpy(),
            "code": ev["raw_code"].astype(object).where(ev["raw_code"].notna(), None).to_numpy(),
            "description": ev["raw_description"].fillna("").astype(str).to_numpy(),
            "status_so_far": prev.to_numpy(),
            "label": [to_label(s, c) for s, c in zip(status, cat, strict=True)],
            "source": np.where(feedback, "feedback", "simulator" if simulated else "store"),
        }
    )
    frame["family"] = frame["carrier"]
    frame = frame[frame["description"].str.len() > 0]
    frame = frame.drop_duplicates(["carrier", "code", "description", "status_so_far", "label"])
    return frame.reset_index(drop=True)[COLUMNS]
