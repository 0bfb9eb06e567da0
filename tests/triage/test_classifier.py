"""The classifier: beats the baseline on an unseen carrier, calibration, review, explanations."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pandas as pd
import pytest

from app.models.enums import ExceptionCategory, TrackingStatus
from app.triage.classifier import (
    ExceptionClassifier,
    KeywordBaseline,
    baseline_predictor,
    keyword_decision,
    unwrap_model,
)
from app.triage.classifier_labels import LABELS, label_status, to_label
from app.triage.classifier_model import TriageModel
from app.triage.text import event_text, normalize
from training.triage.evaluate import expected_calibration_error, masked, metrics

PREDICTOR_COLUMNS = {"status", "category", "confidence", "needs_review"}


def test_model_beats_keyword_baseline_on_a_held_out_simulated_carrier(
    model: TriageModel, split_frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    _, test = split_frames
    pred = model.predict(masked(test))
    base = KeywordBaseline().predict(masked(test))
    m = metrics(test["label"], pred["label"])
    b = metrics(test["label"], base["label"])
    assert m["macro_f1"] > b["macro_f1"] + 0.03, (m, b)
    assert m["accuracy"] > b["accuracy"] + 0.05, (m, b)
    assert m["exception_f1"] > 0.85


def test_confidence_is_calibrated_on_the_unseen_carrier(
    model: TriageModel, split_frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    _, test = split_frames
    pred = model.predict(masked(test))
    correct = pred["label"].to_numpy() == test["label"].to_numpy()
    conf = pred["confidence"].to_numpy()
    assert expected_calibration_error(conf, correct) < 0.12
    # Confidence bins: the confident half is right more often than the unsure half.
    hi = conf >= np.median(conf)
    assert correct[hi].mean() >= correct[~hi].mean()
    assert 0.5 < model.temperature_ < 3.0


def test_ece_of_a_perfectly_calibrated_forecaster_is_small() -> None:
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.2, 1.0, 20_000)
    correct = rng.random(20_000) < conf
    assert expected_calibration_error(conf, correct) < 0.02
    assert expected_calibration_error(np.full(1000, 0.9), np.zeros(1000, bool)) > 0.85


def test_needs_review_below_threshold(model: TriageModel) -> None:
    strict = ExceptionClassifier(model, review_threshold=0.999)
    c = strict.classify({"carrier": "newco", "description": "xq zzv blorp"})
    assert c.needs_review and c.source == "model"
    assert any("manual review" in line for line in c.explanation)
    frame = pd.DataFrame(
        {
            "carrier": ["newco"] * 3,
            "code": [None] * 3,
            "description": ["Delivered", "xq zzv blorp", "Parcel damaged"],
        }
    )
    out = ExceptionClassifier(model, review_threshold=0.6).classify_batch(frame)
    assert (out["needs_review"] == (out["confidence"] < 0.6)).all()


def test_explanation_names_words_present_in_the_text(model: TriageModel) -> None:
    clf = ExceptionClassifier(model)
    texts = [
        "The receiver refused the delivery",
        "Parcel damaged during sorting",
        "Severe snow storm in the region delays deliveries",
        "Customs: commercial invoice missing",
        "Arrived at sort facility Leipzig",
    ]
    for text in texts:
        c = clf.classify({"carrier": "newco", "description": text})
        assert c.explanation, text
        quoted = re.findall(r"'([^']+)'", " ".join(c.explanation))
        norm = normalize(text)
        assert quoted, c.explanation
        assert all(q in norm for q in quoted), (text, c.explanation)


def test_obvious_texts_of_a_new_carrier(model: TriageModel) -> None:
    clf = ExceptionClassifier(model)
    cases = {
        "Consignee refused to accept the shipment": ExceptionCategory.REFUSED,
        "Package damaged in transit": ExceptionCategory.DAMAGED,
        "Held in customs, import duties unpaid": ExceptionCategory.CUSTOMS_HOLD,
        "Delivery delayed due to hurricane": ExceptionCategory.WEATHER_DELAY,
    }
    for text, category in cases.items():
        c = clf.classify({"carrier": "brand-new-carrier", "code": "Q7", "description": text})
        assert c.category is category, (text, c)
    ok = clf.classify({"carrier": "brand-new-carrier", "description": "Delivered, signed by J"})
    assert ok.status is TrackingStatus.DELIVERED and ok.category is None


def test_code_table_comes_first_and_generic_codes_defer_to_the_text(model: TriageModel) -> None:
    for clf in (ExceptionClassifier(model), ExceptionClassifier()):
        c = clf.classify({"carrier": "ups", "code": "RF", "description": "whatever"})
        assert c.source == "code_table"
        assert c.category is ExceptionCategory.REFUSED and c.confidence == 1.0
        # FedEx "DE" only says "delivery exception": the words decide the category.
        g = clf.classify(
            {"carrier": "fedex", "code": "DE", "description": "Customer refused the package"}
        )
        assert g.source in ("model", "keywords")
        assert g.status is TrackingStatus.EXCEPTION
        assert g.category is ExceptionCategory.REFUSED
        # An unknown code of a known carrier is read like any text.
        u = clf.classify({"carrier": "ups", "code": "ZZ9", "description": "Out for delivery"})
        assert u.source != "code_table" and u.status is TrackingStatus.OUT_FOR_DELIVERY


def test_batch_agrees_with_single_event(
    model: TriageModel, split_frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    _, test = split_frames
    sample = pd.concat(
        [
            test.head(40),
            pd.DataFrame(
                {
                    "carrier": ["ups", "fedex"],
                    "code": ["RF", "DE"],
                    "description": ["x", "Recipient not home"],
                    "status_so_far": ["none", "none"],
                }
            ),
        ],
        ignore_index=True,
    )
    for clf in (ExceptionClassifier(model), ExceptionClassifier()):
        batch = clf.classify_batch(sample, explain=True)
        single = [clf.classify(r) for r in sample.to_dict("records")]
        assert batch["status"].tolist() == [c.status.value for c in single]
        assert batch["category"].tolist() == [
            c.category.value if c.category else None for c in single
        ]
        assert np.allclose(batch["confidence"], [c.confidence for c in single], atol=1e-4)
        assert batch["source"].tolist() == [c.source for c in single]
        assert batch["explanation"].str.len().gt(0).all()


def test_single_event_path_equals_the_batch_arithmetic(model: TriageModel) -> None:
    for text in ("the receiver was not available", "parcel damaged", "", "zzz qqq"):
        for status in ("none", "out_for_delivery"):
            fast = model.score_one(text, status)["proba"]
            full = model.predict_proba_texts([text], [status])[0]
            assert np.allclose(fast, full, atol=1e-5), (text, status)


def test_predictor_contract_and_pickling(
    model: TriageModel, split_frames: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    _, test = split_frames
    frame = test[["carrier", "code", "description", "status_so_far"]].head(25)
    for predictor in (model, KeywordBaseline(), baseline_predictor()):
        out = predictor.predict(frame)
        assert set(out.columns) >= PREDICTOR_COLUMNS
        assert len(out) == len(frame) and (out.index == frame.index).all()
        assert out["confidence"].between(0, 1).all()
        again = pickle.loads(pickle.dumps(predictor))
        pd.testing.assert_frame_equal(again.predict(frame), out)
    # Aliases of the event store's columns are accepted.
    renamed = frame.rename(columns={"code": "raw_code", "description": "raw_description"})
    pd.testing.assert_frame_equal(model.predict(renamed), model.predict(frame))


def test_unwrap_finds_the_model_inside_wrappers(model: TriageModel) -> None:
    class Wrapper:
        def __init__(self, predictor: object) -> None:
            self.predictor = predictor

    assert unwrap_model(Wrapper(model)) is model
    assert unwrap_model(Wrapper(KeywordBaseline())) is None
    assert not ExceptionClassifier(Wrapper(KeywordBaseline())).uses_model


def test_keyword_baseline_reads_several_languages() -> None:
    cases = {
        "Recipient refused the parcel": "refused",
        "Zoll: Unterlagen fehlen": "customs_hold",
        "Niemand thuis, kaartje achtergelaten": "recipient_unavailable",
        "Colis endommagé": "damaged",
        "Przesyłka zagubiona": "lost",
        "Out for delivery": "out_for_delivery",
        "Could not be delivered: address incomplete": "address_issue",
        "Return to sender initiated": "return_to_sender",
    }
    for text, label in cases.items():
        assert keyword_decision(event_text(text))[0] == label, text
    assert keyword_decision("")[0] == "unknown"
    assert keyword_decision(event_text("The parcel could not be delivered"))[0] != "delivered"


def test_normalization() -> None:
    assert normalize("CNEE ADDR INCORR - DLVY ATT 2") == (
        "consignee address incorrect delivery attempt 0"
    )
    assert normalize("Przesyłka doręczona") == "przesylka doreczona"
    assert event_text("Pakket niet thuis", "NOT_HOME_RETURN") == (
        "pakket niet thuis not home return"
    )
    assert event_text("Delivered", "H3") == "delivered"
    assert event_text(None, None) == ""


@pytest.mark.parametrize("label", [lab.value for lab in LABELS])
def test_labels_round_trip(label: str) -> None:
    status = label_status(label)
    category = None if label not in {c.value for c in ExceptionCategory} else label
    assert to_label(status.value, category) == label
