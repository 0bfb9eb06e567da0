"""Leave-one-family-out evaluation: how triage does on a carrier family it has never seen.

Protocol (``leave_one_family_out``), for each real carrier family F (UPS, DHL):

* train on everything except F's real texts — simulator events, synthetic wording and the
  *other* family's real texts. Vocabulary, calibration temperature, threshold and weights are
  all fitted inside that training set, so nothing of F leaks in;
* test on F's real texts with the carrier masked (no code table can fire: an unseen carrier has
  none), for the model and the keyword baseline alike.

Pooled figures cover every real row, each predicted by a model that never saw its family.
A third row trains on no real text at all (simulator + synthetic only) and tests on all of it.

Metrics: macro-F1 over the labels present in the test set, accuracy, and exception-vs-normal
F1 (positive = any exception category of DESIGN §4, incl. return_to_sender and cancelled).
Coverage = share not sent to manual review; ``acc@auto`` = accuracy on those.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from app.triage.classifier import KeywordBaseline
from app.triage.classifier_labels import EXCEPTION_LABELS
from app.triage.classifier_model import ModelConfig, TriageModel
from training.triage.augment import paraphrase
from training.triage.dataset import TriageDataset, sample_weights


def metrics(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    confidence: Sequence[float] | None = None,
    needs_review: Sequence[bool] | None = None,
) -> dict[str, float]:
    yt = np.asarray(y_true, dtype=object)
    yp = np.asarray(y_pred, dtype=object)
    labels = sorted(set(yt.tolist()))
    out = {
        "macro_f1": float(f1_score(yt, yp, labels=labels, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(yt, yp)),
        "exception_f1": float(
            f1_score(
                np.isin(yt, list(EXCEPTION_LABELS)),
                np.isin(yp, list(EXCEPTION_LABELS)),
                zero_division=0,
            )
        ),
        "n": float(len(yt)),
    }
    if confidence is not None:
        conf = np.asarray(confidence, dtype=float)
        out["ece"] = expected_calibration_error(conf, yt == yp)
    if needs_review is not None:
        auto = ~np.asarray(needs_review, dtype=bool)
        out["coverage"] = float(auto.mean())
        out["acc_auto"] = float((yt[auto] == yp[auto]).mean()) if auto.any() else float("nan")
    return out


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> float:
    """ECE: |accuracy − confidence| per equal-width confidence bin, weighted by bin size."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - confidence[m].mean())
    return float(ece)


def fit_model(train: pd.DataFrame, config: ModelConfig | None = None, seed: int = 0) -> TriageModel:
    """Fit a ``TriageModel`` on a training frame (weights per source, calibration by family).

    The embedding member uses the distilled MiniLM table when its package is installed; the
    table is fixed (one vector per vocabulary piece), so it carries nothing of any data set.
    Human-labelled texts are paraphrased first (``training.triage.augment``).
    """
    config = config or ModelConfig()
    embedder = None
    if config.use_embedding:
        from training.triage.minilm import load_static_embedder

        embedder = load_static_embedder()
    train = paraphrase(train, seed=seed)
    model = TriageModel(config=config)
    return model.fit(
        train,
        train["label"].tolist(),
        sample_weight=sample_weights(train),
        groups=train["family"].tolist(),
        seed=seed,
        embedder=embedder,
    )


def masked(frame: pd.DataFrame) -> pd.DataFrame:
    """The events as from a carrier never seen: no carrier name, so no code table."""
    return frame.assign(carrier="unseen-carrier")


@dataclass
class FoldResult:
    name: str
    rows: int
    baseline: dict[str, float]
    model: dict[str, float]
    baseline_tables: dict[str, float] | None = None
    seconds: float = 0.0
    predictions: pd.DataFrame | None = field(default=None, repr=False)


@dataclass
class EvaluationReport:
    folds: list[FoldResult]
    pooled: FoldResult | None
    synthetic_only: FoldResult | None
    config: dict[str, Any]

    def summary(self) -> dict[str, float]:
        """Flat metrics for MLflow: model_* and baseline_* side by side."""
        out: dict[str, float] = {}
        for fold in [
            *self.folds,
            *([self.pooled] if self.pooled else []),
            *([self.synthetic_only] if self.synthetic_only else []),
        ]:
            key = re.sub(r"[^a-z0-9]+", "_", fold.name.lower()).strip("_")
            for k, v in fold.model.items():
                out[f"model_{key}_{k}"] = v
            for k, v in fold.baseline.items():
                out[f"baseline_{key}_{k}"] = v
        if self.pooled is not None:
            out["unseen_family_macro_f1"] = self.pooled.model["macro_f1"]
            out["unseen_family_exception_f1"] = self.pooled.model["exception_f1"]
            out["unseen_family_accuracy"] = self.pooled.model["accuracy"]
            out["baseline_unseen_family_macro_f1"] = self.pooled.baseline["macro_f1"]
            out["baseline_unseen_family_exception_f1"] = self.pooled.baseline["exception_f1"]
            out["baseline_unseen_family_accuracy"] = self.pooled.baseline["accuracy"]
        return out

    def table(self) -> str:
        head = (
            f"{'test set (unseen)':<26}{'rows':>6}  {'':<9}{'macro-F1':>9}{'accuracy':>9}"
            f"{'exc-F1':>8}{'ECE':>7}{'cover':>7}{'acc@auto':>9}"
        )
        lines = [head, "-" * len(head)]
        for fold in [
            *self.folds,
            *([self.pooled] if self.pooled else []),
            *([self.synthetic_only] if self.synthetic_only else []),
        ]:
            variants = [("baseline", fold.baseline)]
            if fold.baseline_tables is not None:
                variants.append(("base+tbl", fold.baseline_tables))
            variants.append(("model", fold.model))
            for i, (name, m) in enumerate(variants):
                label = fold.name if i == 0 else ""
                rows = str(fold.rows) if i == 0 else ""
                lines.append(
                    f"{label:<26}{rows:>6}  {name:<9}{m['macro_f1']:>9.3f}{m['accuracy']:>9.3f}"
                    f"{m['exception_f1']:>8.3f}{m.get('ece', float('nan')):>7.3f}"
                    f"{m.get('coverage', float('nan')):>7.2f}"
                    f"{m.get('acc_auto', float('nan')):>9.3f}"
                )
        return "\n".join(lines)


def _baseline_metrics(
    test: pd.DataFrame, use_tables: bool
) -> tuple[dict[str, float], pd.DataFrame]:
    frame = test if use_tables else masked(test)
    pred = KeywordBaseline(use_code_tables=use_tables).predict(frame)
    return metrics(test["label"], pred["label"], pred["confidence"], pred["needs_review"]), pred


def evaluate_fold(
    name: str, train: pd.DataFrame, test: pd.DataFrame, config: ModelConfig | None, seed: int
) -> FoldResult:
    t0 = time.perf_counter()
    model = fit_model(train, config, seed)
    pred = model.predict(masked(test))
    base, bpred = _baseline_metrics(test, use_tables=False)
    base_tbl, _ = _baseline_metrics(test, use_tables=True)
    m = metrics(test["label"], pred["label"], pred["confidence"], pred["needs_review"])
    preds = pd.DataFrame(
        {
            "family": test["family"].to_numpy(),
            "label": test["label"].to_numpy(),
            "model": pred["label"].to_numpy(),
            "confidence": pred["confidence"].to_numpy(),
            "needs_review": pred["needs_review"].to_numpy(),
            "baseline": bpred["label"].to_numpy(),
            "baseline_confidence": bpred["confidence"].to_numpy(),
            "baseline_review": bpred["needs_review"].to_numpy(),
        },
        index=test.index,
    )
    return FoldResult(name, len(test), base, m, base_tbl, time.perf_counter() - t0, preds)


def leave_one_family_out(
    dataset: TriageDataset,
    config: ModelConfig | None = None,
    *,
    seed: int = 0,
    synthetic_only: bool = True,
) -> EvaluationReport:
    """Run the protocol of the module docstring."""
    real = dataset.real
    folds: list[FoldResult] = []
    for family in dataset.families:
        test = real[real["family"] == family]
        train = dataset.without_family(family)
        folds.append(evaluate_fold(f"{family} (held out)", train, test, config, seed))
    pooled = None
    if folds:
        preds = pd.concat([f.predictions for f in folds if f.predictions is not None])
        pooled = FoldResult(
            "pooled unseen-family",
            len(preds),
            metrics(
                preds["label"],
                preds["baseline"],
                preds["baseline_confidence"],
                preds["baseline_review"],
            ),
            metrics(preds["label"], preds["model"], preds["confidence"], preds["needs_review"]),
            None,
            sum(f.seconds for f in folds),
            preds,
        )
    syn = None
    if synthetic_only and len(real):
        syn = evaluate_fold(
            "no real text in training", dataset.synthetic_only(), real, config, seed
        )
    cfg = (config or ModelConfig()).as_params()
    return EvaluationReport(folds, pooled, syn, cfg)


def per_class(preds: pd.DataFrame, column: str = "model") -> pd.DataFrame:
    """Precision, recall and F1 per label for a predictions frame (aggregate numbers only)."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(set(preds["label"]))
    p, r, f, s = precision_recall_fscore_support(
        preds["label"], preds[column], labels=labels, zero_division=0
    )
    return pd.DataFrame({"precision": p, "recall": r, "f1": f, "support": s}, index=labels)
