"""Exception triage at serving time: tracking event → status, category, confidence, why.

Three layers, first hit wins:

1. **Code table** — the carrier's own code, when our table for that carrier knows it
   (``app.carriers.*.codes``). Exact and cheap. A *generic* code (one that only says
   "exception", e.g. FedEx ``DE``) fixes the status but leaves the category to the text.
2. **Model** — the registered triage model (``TriageModel``: calibrated character/word
   n-gram ensemble with keyword priors) reads the words; it is what handles unknown codes,
   free text and carriers never seen. Below the confidence threshold the event is flagged
   ``needs_review`` instead of guessed.
3. **Keywords** — without a registered model, ``KeywordBaseline`` (the rule tables of
   ``app.triage.classifier_rules``) reads the words.

``classify(event)`` handles one event (the consumer of the event log); ``classify_batch(frame)``
a DataFrame (back-fills, the CLI), scoring each distinct event once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from app.carriers.codes import CodeMapping, CodeTable
from app.models.enums import ExceptionCategory, TrackingStatus
from app.triage.classifier_labels import (
    EXCEPTION_LABELS,
    LABELS,
    label_category,
    label_status,
    to_label,
)
from app.triage.classifier_model import TriageModel, frame_texts, predictions_frame
from app.triage.classifier_rules import N_LABELS, rule_hits, rule_scores
from app.triage.text import event_text

Source = Literal["code_table", "model", "keywords"]
DEFAULT_REVIEW_THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class Classification:
    status: TrackingStatus
    category: ExceptionCategory | None
    confidence: float
    needs_review: bool
    explanation: list[str] = field(default_factory=list)
    source: Source = "keywords"

    @property
    def label(self) -> str:
        return to_label(self.status.value, self.category.value if self.category else None)

    @property
    def is_exception(self) -> bool:
        return self.category is not None

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status.value,
                "category": self.category.value if self.category else None,
                "confidence": round(self.confidence, 4), "needs_review": self.needs_review,
                "explanation": list(self.explanation), "source": self.source}


# --- code tables -----------------------------------------------------------------------------

def _tables() -> dict[str, CodeTable]:
    from app.carriers.dhl_express import codes as dhl_express
    from app.carriers.easypost import codes as easypost
    from app.carriers.fedex import codes as fedex
    from app.carriers.ups import codes as ups
    from app.carriers.usps import codes as usps

    return {m.TABLE.carrier: m.TABLE for m in (ups, fedex, dhl_express, usps, easypost)}


# Carrier names as they arrive (adapter code, display name) → our table's carrier code.
CARRIER_ALIASES: Mapping[str, str] = {
    "ups": "ups", "fedex": "fedex", "fed ex": "fedex", "usps": "usps",
    "dhl_express": "dhl_express", "dhl express": "dhl_express", "mydhl": "dhl_express",
    "easypost": "easypost",
}


def carrier_key(carrier: str | None) -> str | None:
    if not carrier:
        return None
    return CARRIER_ALIASES.get(str(carrier).strip().lower().replace("-", " "))


class CodeTables:
    """Lookup of (carrier, code) in our carrier code tables; generic exceptions flagged."""

    def __init__(self, tables: Mapping[str, CodeTable] | None = None) -> None:
        self._tables = dict(tables) if tables is not None else _tables()

    def lookup(self, carrier: str | None, code: str | None) -> CodeMapping | None:
        key = carrier_key(carrier)
        if key is None or not code:
            return None
        table = self._tables.get(key)
        if table is None:
            return None
        found = table.get(str(code))
        if found is None or found.status is TrackingStatus.UNKNOWN:
            return None
        return found


def is_generic(mapping: CodeMapping) -> bool:
    """A code that only says "exception": the words decide the category."""
    return mapping.category is ExceptionCategory.OTHER_EXCEPTION


# --- keyword baseline ------------------------------------------------------------------------

_EXC_IDX = np.array([i for i, lab in enumerate(LABELS) if lab.value in EXCEPTION_LABELS])


def keyword_decision(text: str) -> tuple[str, float]:
    """Label and a rough confidence from the keyword tables alone."""
    scores = rule_scores(text)
    pos, generic = scores[:N_LABELS], float(scores[-1])
    best = int(np.argmax(pos))
    if pos[best] <= 0:
        return ("other_exception", 0.3) if generic > 0 else ("unknown", 0.0)
    label = LABELS[best].value
    if label not in EXCEPTION_LABELS and generic >= pos[best]:
        e = int(_EXC_IDX[np.argmax(pos[_EXC_IDX])])
        label = LABELS[e].value if pos[e] > 0 else "other_exception"
        best = e if pos[e] > 0 else best
    positive = pos[pos > 0].sum()
    conf = float(pos[best] / (positive + 1.0)) if pos[best] > 0 else 0.3
    return label, conf


@dataclass
class KeywordBaseline:
    """Code tables + keyword rules: the service's triage when no model is registered.

    Also a ``Predictor`` (``predict(frame) -> DataFrame``) so the platform can log it as the
    baseline beside the model.
    """

    review_threshold: float = DEFAULT_REVIEW_THRESHOLD
    use_code_tables: bool = True

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        tables = CodeTables() if self.use_code_tables else None
        carriers = _col(frame, "carrier")
        codes = _col(frame, "code", "raw_code")
        labels: list[str] = []
        conf: list[float] = []
        cache: dict[str, tuple[str, float]] = {}
        for text, carrier, code in zip(frame_texts(frame), carriers, codes, strict=True):
            mapping = tables.lookup(carrier, code) if tables else None
            if mapping is not None and not is_generic(mapping):
                labels.append(to_label(mapping.status.value,
                                       mapping.category.value if mapping.category else None))
                conf.append(1.0)
                continue
            if text not in cache:
                cache[text] = keyword_decision(text)
            label, c = cache[text]
            if mapping is not None and label not in EXCEPTION_LABELS:
                label, c = "other_exception", max(c, 0.5)
            labels.append(label)
            conf.append(c)
        return predictions_frame(labels, np.array(conf), self.review_threshold, frame.index)


def baseline_predictor() -> KeywordBaseline:
    """The triage baseline the model registry serves while no model is registered."""
    return KeywordBaseline()


def _col(frame: pd.DataFrame, *names: str) -> list[Any]:
    for n in names:
        if n in frame.columns:
            return [v if isinstance(v, str) else None for v in frame[n].tolist()]
    return [None] * len(frame)


# --- the classifier --------------------------------------------------------------------------

def _event_field(event: Mapping[str, Any], *names: str) -> str | None:
    for n in names:
        v = event.get(n)
        if v is not None and v == v and str(v) != "":
            return str(v)
    return None


class ExceptionClassifier:
    """Serving-time triage; see the module docstring for the three layers.

    ``model`` is a fitted ``TriageModel`` (or anything wrapping one, e.g. the python model of
    an MLflow pyfunc). Without one the keyword baseline answers.
    """

    def __init__(self, model: Any | None = None, *, tables: CodeTables | None = None,
                 review_threshold: float | None = None) -> None:
        self.model: TriageModel | None = unwrap_model(model)
        self.tables = tables or CodeTables()
        if review_threshold is None:
            review_threshold = (self.model.config.review_threshold if self.model is not None
                                else DEFAULT_REVIEW_THRESHOLD)
        self.review_threshold = review_threshold

    @property
    def uses_model(self) -> bool:
        return self.model is not None

    # --- one event -------------------------------------------------------------------------
    def classify(self, event: Mapping[str, Any]) -> Classification:
        carrier = _event_field(event, "carrier")
        code = _event_field(event, "code", "raw_code")
        description = _event_field(event, "description", "raw_description", "text")
        status_so_far = _event_field(event, "status_so_far", "previous_status") or "none"
        mapping = self.tables.lookup(carrier, code)
        if mapping is not None and not is_generic(mapping):
            return Classification(
                mapping.status, mapping.category, 1.0, False,
                [f"code '{code}' of {carrier} → {mapping.status.value}"
                 + (f"/{mapping.category.value}" if mapping.category else "")
                 + " (code table)"],
                "code_table",
            )
        text = event_text(description, code)
        only_exceptions = mapping is not None  # a generic exception code: status is settled
        if self.model is not None:
            return self._classify_model(text, status_so_far, only_exceptions, code, carrier)
        return self._classify_keywords(text, only_exceptions, code, carrier)

    def _classify_model(self, text: str, status_so_far: str, only_exceptions: bool,
                        code: str | None, carrier: str | None) -> Classification:
        assert self.model is not None
        scored = self.model.score_one(text, status_so_far)
        proba = scored["proba"]
        classes = self.model.classes_
        if only_exceptions:
            mask = np.array([c in EXCEPTION_LABELS for c in classes])
            proba = np.where(mask, proba, 0.0)
            proba = proba / proba.sum() if proba.sum() > 0 else mask / mask.sum()
        order = np.argsort(-proba)
        label, conf = str(classes[order[0]]), float(proba[order[0]])
        explanation = self.model.explain(text, label, status_so_far, scored=scored)
        if only_exceptions:
            explanation.insert(0, f"code '{code}' of {carrier} says exception (code table); "
                                  "the text decides the category")
        needs_review = conf < self.review_threshold
        if needs_review:
            alt = ", ".join(f"{classes[i]} {proba[i]:.2f}" for i in order[:3])
            explanation.append(f"low confidence: manual review (top guesses: {alt})")
        if not text:
            explanation.append("no description text")
        return Classification(label_status(label), label_category(label), conf, needs_review,
                              explanation, "model")

    def _classify_keywords(self, text: str, only_exceptions: bool, code: str | None,
                           carrier: str | None) -> Classification:
        label, conf = keyword_decision(text)
        explanation = [f"keyword '{h.match}' → {h.label.value} (weight {h.weight:g})"
                       for h in sorted(rule_hits(text), key=lambda h: -h.weight)
                       if h.label.value == label][:4]
        if only_exceptions:
            explanation.insert(0, f"code '{code}' of {carrier} says exception (code table)")
            if label not in EXCEPTION_LABELS:
                label, conf = "other_exception", max(conf, 0.5)
        if not explanation:
            explanation.append("no keyword matched")
        needs_review = conf < self.review_threshold
        if needs_review:
            explanation.append("low confidence: manual review")
        return Classification(label_status(label), label_category(label), conf, needs_review,
                              explanation, "keywords")

    # --- many events -----------------------------------------------------------------------
    def classify_batch(self, frame: pd.DataFrame, *, explain: bool = False) -> pd.DataFrame:
        """Columns ``status, category, confidence, needs_review, source`` (+ ``explanation``).

        Code-table rows are resolved by lookup, the rest are scored together, each distinct
        (text, status so far) once. ``explain=True`` adds per-row explanations (slower).
        """
        n = len(frame)
        carriers = _col(frame, "carrier")
        codes = _col(frame, "code", "raw_code")
        pairs = pd.Series(list(zip(carriers, codes, strict=True)))
        uniq_pairs = {p: self.tables.lookup(*p) for p in dict.fromkeys(pairs.tolist())}
        mappings = [uniq_pairs[p] for p in pairs.tolist()]
        table_rows = np.array([m is not None and not is_generic(m) for m in mappings], bool)
        generic_rows = np.array([m is not None and is_generic(m) for m in mappings], bool)
        labels = np.empty(n, dtype=object)
        conf = np.ones(n)
        source = np.full(n, "code_table", dtype=object)
        for i in np.flatnonzero(table_rows):
            m = mappings[i]
            labels[i] = to_label(m.status.value, m.category.value if m.category else None)
        rest = np.flatnonzero(~table_rows)
        if len(rest):
            sub = frame.iloc[rest]
            if self.model is not None:
                texts = frame_texts(sub)
                status = [s if isinstance(s, str) else "none"
                          for s in _col(sub, "status_so_far", "previous_status")]
                keys = pd.Index(list(zip(texts, status, strict=True)))
                inv, uniq = pd.factorize(keys)
                proba = self.model.predict_proba_texts([u[0] for u in uniq],
                                                       [u[1] for u in uniq])[inv]
                gen = generic_rows[rest]
                if gen.any():
                    mask = np.array([c in EXCEPTION_LABELS for c in self.model.classes_])
                    p = proba[gen] * mask
                    proba[gen] = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
                best = proba.argmax(axis=1)
                labels[rest] = self.model.classes_[best]
                conf[rest] = proba[np.arange(len(best)), best]
                source[rest] = "model"
            else:
                pred = KeywordBaseline(self.review_threshold, use_code_tables=False).predict(sub)
                lab = pred["label"].to_numpy(dtype=object, copy=True)
                c = pred["confidence"].to_numpy(dtype=float, copy=True)
                gen = generic_rows[rest]
                fix = gen & ~np.isin(lab, list(EXCEPTION_LABELS))
                lab[fix] = "other_exception"
                c[fix] = np.maximum(c[fix], 0.5)
                labels[rest] = lab
                conf[rest] = c
                source[rest] = "keywords"
        out = predictions_frame(labels.tolist(), conf, self.review_threshold, frame.index)
        out.loc[table_rows, "needs_review"] = False
        out["source"] = source
        if explain:
            records = frame.to_dict("records")
            out["explanation"] = ["; ".join(self.classify(r).explanation) for r in records]
        return out


def unwrap_model(model: Any | None) -> TriageModel | None:
    """The ``TriageModel`` inside whatever the registry handed us (pyfunc, wrapper, itself)."""
    seen = 0
    while model is not None and not isinstance(model, TriageModel) and seen < 5:
        seen += 1
        for attr in ("unwrap_python_model", "predictor", "model", "_model_impl",
                     "python_model"):
            inner = getattr(model, attr, None)
            if inner is None:
                continue
            model = inner() if callable(inner) and attr == "unwrap_python_model" else inner
            break
        else:
            return None
    return model if isinstance(model, TriageModel) else None


def latency_probe(classifier: ExceptionClassifier, events: list[Mapping[str, Any]],
                  repeat: int = 1) -> dict[str, float]:
    """Per-event classify latency percentiles in milliseconds (for the benchmark command).

    ``*_ms`` is wall time; ``cpu_*_ms`` the thread's CPU time, which leaves out the time the
    process was not scheduled (on a busy machine the wall-time tail is mostly that).
    """
    wall, cpu = [], []
    for _ in range(repeat):
        for ev in events:
            t, c = time.perf_counter(), time.thread_time()
            classifier.classify(ev)
            cpu.append((time.thread_time() - c) * 1000)
            wall.append((time.perf_counter() - t) * 1000)
    w, c = np.array(wall), np.array(cpu)
    return {"p50_ms": float(np.percentile(w, 50)), "p99_ms": float(np.percentile(w, 99)),
            "max_ms": float(w.max()), "cpu_p50_ms": float(np.percentile(c, 50)),
            "cpu_p99_ms": float(np.percentile(c, 99)), "n": float(len(w))}


__all__ = ["Classification", "CodeTables", "ExceptionClassifier", "KeywordBaseline",
           "baseline_predictor", "keyword_decision", "latency_probe", "unwrap_model"]
