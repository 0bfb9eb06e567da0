"""Shared triage fixtures: a small training set and one model trained once per session."""

from __future__ import annotations

import pandas as pd
import pytest

from app.triage.classifier_model import ModelConfig, TriageModel
from training.triage.dataset import DEFAULT_DATA_DIR, REAL_FILE, load_real, simulator_events
from training.triage.evaluate import fit_model
from training.triage.synth import synthetic_wording

HELD_OUT_CARRIER = "velox"  # city courier: driver notes without codes, German, terse


@pytest.fixture(scope="session")
def small_frame() -> pd.DataFrame:
    sim = simulator_events(seed=5, days=60, shipments_per_day=80)
    return pd.concat([sim, synthetic_wording(seed=5)], ignore_index=True)


@pytest.fixture(scope="session")
def split_frames(small_frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    held = small_frame["family"] == HELD_OUT_CARRIER
    return small_frame[~held], small_frame[held]


@pytest.fixture(scope="session")
def model(split_frames: tuple[pd.DataFrame, pd.DataFrame]) -> TriageModel:
    train, _ = split_frames
    # No embedding member here (its table takes minutes to build on a fresh machine; it has
    # tests of its own) and two calibration folds: the session fixture stays a few seconds.
    return fit_model(train, ModelConfig(use_embedding=False, calibration_folds=2), seed=0)


@pytest.fixture(scope="session")
def real_frame() -> pd.DataFrame:
    if not (DEFAULT_DATA_DIR / REAL_FILE).exists():
        pytest.skip("real carrier texts (../shared/data/carrier-events-dev.csv) not present")
    frame = load_real()
    assert frame is not None
    return frame
