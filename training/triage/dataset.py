"""Triage training data: simulated carrier events, synthetic wording and real carrier texts.

Every source becomes one frame with the columns the classifier reads — ``carrier, code,
description, status_so_far`` — plus ``label`` (a canonical status or exception category,
``app.triage.classifier_labels``), ``source`` (simulator / synthetic / real / feedback) and
``family`` (the carrier family: the unit the evaluation holds out).

* **simulator** — the history simulator's events (six carriers, eight wording styles, four
  languages); each distinct (carrier, code, text, status so far, label) kept once.
* **synthetic** — ``training.triage.synth``: template wording from general vocabulary.
* **real** — ``../shared/data/carrier-events-dev.csv`` (UPS and DHL families) when present,
  read where it lies and never copied; families are the carrier's brand (``UPS Freight`` →
  ``UPS``, ``PPL (DHL eCommerce CZ)`` → ``DHL``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from app.triage.classifier_labels import to_label

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
REAL_FILE = "carrier-events-dev.csv"
COLUMNS = ["carrier", "code", "description", "status_so_far", "label", "source", "family"]

# Relative weight of each source in training (per family, split evenly over its rows).
SOURCE_WEIGHT = {"simulator": 1.0, "synthetic": 3.0, "real": 3.0, "feedback": 3.0}
# How far a labelled row is trusted, by the labeller's own confidence: a judgement call
# ("medium", "low") teaches less than a clear case. Rows without a confidence count fully.
LABEL_CONFIDENCE_WEIGHT = {"high": 1.0, "medium": 0.7, "low": 0.4}


@dataclass
class TriageDataset:
    """All training rows; ``real`` is the labelled carrier-text subset (may be empty)."""

    frame: pd.DataFrame

    @property
    def real(self) -> pd.DataFrame:
        return self.frame[self.frame["source"] == "real"]

    @property
    def families(self) -> list[str]:
        return sorted(self.real["family"].unique().tolist())

    def without_family(self, family: str) -> pd.DataFrame:
        f = self.frame
        return f[~((f["source"] == "real") & (f["family"] == family))]

    def synthetic_only(self) -> pd.DataFrame:
        return self.frame[self.frame["source"] != "real"]

    def describe(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.frame["source"].value_counts().items()}


def family_of(carrier: str) -> str:
    """Carrier brand family of a carrier name (``DHL Parcel NL`` → ``DHL``)."""
    name = str(carrier).upper()
    for brand in ("DHL", "UPS", "FEDEX", "USPS"):
        if brand in name:
            return brand
    return name.split()[0] if name.split() else name


def load_real(data_dir: Path | str | None = None) -> pd.DataFrame | None:
    """The real labelled carrier texts, or None when the file is not there."""
    path = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    if path.is_dir():
        path = path / REAL_FILE
    if not path.exists():
        return None
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = pd.DataFrame(
        {
            "carrier": raw["carrier"],
            "code": raw["code"].replace("", None),
            "description": raw["description"],
            "status_so_far": "none",
            "label": raw["category"],
            "source": "real",
            "family": raw["carrier"].map(family_of),
        }
    )
    if "label_confidence" in raw.columns:
        frame["label_confidence"] = raw["label_confidence"]
    return frame


def simulator_events(
    *,
    seed: int = 7,
    days: int = 120,
    shipments_per_day: float = 120.0,
    keep_status_share: float = 0.5,
) -> pd.DataFrame:
    """Distinct simulated tracking events with the status so far (hidden half of the time)."""
    from training.simulator.generate import SimulationConfig, simulate_history

    hist = simulate_history(
        SimulationConfig(
            days=days, seed=seed, start=date(2024, 9, 1), shipments_per_day=shipments_per_day
        )
    )
    ev = hist.events.sort_values(["shipment_id", "seq"])
    status = ev["status"].astype(str)
    prev = status.groupby(ev["shipment_id"].astype(str)).shift(1).fillna("none")
    rng = np.random.default_rng(seed)
    prev = prev.where(rng.random(len(prev)) < keep_status_share, "none")
    category = ev["exception_category"].astype(object).where(ev["exception_category"].notna(), None)
    labels = [to_label(s, c) for s, c in zip(status, category, strict=True)]
    frame = pd.DataFrame(
        {
            "carrier": ev["carrier"].astype(str).to_numpy(),
            "code": ev["raw_code"].astype(object).where(ev["raw_code"].notna(), None).to_numpy(),
            "description": ev["raw_description"].astype(str).to_numpy(),
            "status_so_far": prev.to_numpy(),
            "label": labels,
            "source": "simulator",
        }
    )
    frame["family"] = frame["carrier"]
    frame = frame.drop_duplicates(["carrier", "code", "description", "status_so_far", "label"])
    return frame.reset_index(drop=True)[COLUMNS]


def build_dataset(
    data_dir: Path | str | None = None,
    *,
    seed: int = 7,
    include_real: bool = True,
    sim_days: int = 120,
    feedback: pd.DataFrame | None = None,
) -> TriageDataset:
    """Simulator + synthetic wording (+ the real texts when present, + human feedback)."""
    from training.triage.synth import synthetic_wording

    parts = [simulator_events(seed=seed, days=sim_days), synthetic_wording(seed=seed)]
    if include_real:
        real = load_real(data_dir)
        if real is not None:
            parts.append(real)
    if feedback is not None and len(feedback):
        fb = feedback.copy()
        fb["source"] = "feedback"
        fb["family"] = fb.get("family", fb["carrier"].map(family_of))
        parts.append(fb)
    frame = pd.concat(
        [p.assign(status_so_far=p.get("status_so_far", "none")) for p in parts], ignore_index=True
    )
    frame["status_so_far"] = frame["status_so_far"].fillna("none")
    return TriageDataset(frame)


def sample_weights(frame: pd.DataFrame) -> np.ndarray:
    """Each family gets its source's weight, spread evenly over its rows (times label trust)."""
    per_family = frame.groupby(["source", "family"])["label"].transform("size").to_numpy()
    source_w = frame["source"].map(SOURCE_WEIGHT).fillna(1.0).to_numpy()
    w = source_w / per_family
    if "label_confidence" in frame.columns:
        trust = frame["label_confidence"].map(LABEL_CONFIDENCE_WEIGHT).fillna(1.0).to_numpy()
        w = w * trust
    return w * len(frame) / w.sum()
