"""The triage text model: calibrated linear models over normalized text and keyword priors.

Features (all computed from ``app.triage.text`` normalization, shared with training):

* character n-grams (within words, 3–5) — robust to spelling, abbreviations, typos and to
  words never seen whole (``undeliverable`` shares ``delive`` with ``delivery``);
* word uni- and bigrams — the phrase level ("not home", "missed connection");
* keyword-rule scores (``app.triage.classifier_rules``), one per label plus a generic
  exception signal — domain knowledge that holds for any carrier, weighted by the model;
* the status so far (``status_so_far``), when the caller knows it.

Three multinomial logistic regressions — character n-grams + rules + context, word n-grams +
rules + context, and a static sentence embedding of the text (``classifier_embed``: the
all-MiniLM-L6-v2 encoder distilled into a word-piece table, when it was available at training
time; its table's common direction removed, ``embed_center``) — are averaged in log space
(weights ``ensemble_weights``), then temperature-scaled. The
embedding member carries meaning across wording ("consignee" ≈ "recipient"), the n-gram
members carry the exact words. The temperature is fitted on out-of-group predictions: whole
training *carriers* are held out in turn, so confidence reflects how sure the model should be
on a carrier it has not seen. Below ``review_threshold`` an event goes to manual review
instead of being guessed.

``TriageModel`` is the ``Predictor`` of the training platform: ``predict(frame)`` returns
``status, category, confidence, needs_review`` (plus ``label``); it pickles with plain
scikit-learn objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from app.triage.classifier_embed import StaticEmbedder
from app.triage.classifier_labels import LABELS, label_category, label_status
from app.triage.classifier_rules import N_RULE_FEATURES, rule_features, rule_hits
from app.triage.text import event_text

STATUS_SO_FAR = (
    "none",
    "info_received",
    "in_transit",
    "out_for_delivery",
    "available_for_pickup",
    "delivered",
    "exception",
    "return_to_sender",
    "cancelled",
    "unknown",
)
_STATUS_INDEX = {s: i for i, s in enumerate(STATUS_SO_FAR)}
# Function words never make a useful explanation on their own.
_STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "to",
        "from",
        "at",
        "in",
        "on",
        "by",
        "for",
        "and",
        "or",
        "is",
        "was",
        "are",
        "were",
        "has",
        "have",
        "been",
        "be",
        "with",
        "your",
        "our",
        "we",
        "it",
        "its",
        "this",
        "that",
    ]
)


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters; logged to MLflow as they are."""

    char_ngram: tuple[int, int] = (3, 5)
    char_analyzer: str = "char_wb"
    word_ngram: tuple[int, int] = (1, 2)
    min_df: int = 1
    max_features_char: int = 120_000
    max_features_word: int = 40_000
    c_char: float = 4.0
    c_word: float = 4.0
    rule_scale: float = 1.0
    context_scale: float = 0.5
    use_context: bool = True
    c_embed: float = 10.0
    use_embedding: bool = True
    embed_idf: bool = False
    embed_center: bool = True
    embed_max_pool: bool = False
    # Log-space weights of the members: character, word, embedding (renormalized when the
    # embedding table is not available).
    ensemble_weights: tuple[float, float, float] = (0.25, 0.25, 0.5)
    review_threshold: float = 0.5
    class_balance: float = 0.0
    calibrate: bool = True
    calibration_folds: int = 3
    max_iter: int = 300

    def as_params(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


def frame_texts(frame: pd.DataFrame) -> list[str]:
    """Normalized texts of an event frame (``description`` and ``code``; aliases accepted)."""
    desc = _column(frame, "description", "raw_description")
    code = _column(frame, "code", "raw_code")
    return [
        event_text(d if isinstance(d, str) else None, c if isinstance(c, str) else None)
        for d, c in zip(desc, code, strict=True)
    ]


def frame_status_so_far(frame: pd.DataFrame) -> list[str]:
    col = _column(frame, "status_so_far", "previous_status")
    return [s if isinstance(s, str) and s in _STATUS_INDEX else "none" for s in col]


def _column(frame: pd.DataFrame, *names: str) -> Sequence[Any]:
    for name in names:
        if name in frame.columns:
            return frame[name].tolist()
    return [None] * len(frame)


def _context_matrix(statuses: Sequence[str]) -> sparse.csr_matrix:
    rows = np.arange(len(statuses))
    cols = np.array([_STATUS_INDEX.get(s, 0) for s in statuses], dtype=np.int64)
    data = np.ones(len(statuses))
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(statuses), len(STATUS_SO_FAR)))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class TriageModel:
    """Fitted triage text model (see the module docstring)."""

    config: ModelConfig = field(default_factory=ModelConfig)
    classes_: np.ndarray | None = None
    temperature_: float = 1.0
    char_vec_: TfidfVectorizer | None = None
    word_vec_: TfidfVectorizer | None = None
    char_clf_: LogisticRegression | None = None
    word_clf_: LogisticRegression | None = None
    embedder_: StaticEmbedder | None = None
    embed_clf_: LogisticRegression | None = None
    fit_summary_: dict[str, Any] = field(default_factory=dict)

    # --- fitting ---------------------------------------------------------------------------
    def fit(
        self,
        frame: pd.DataFrame,
        labels: Sequence[str],
        *,
        sample_weight: np.ndarray | None = None,
        groups: Sequence[str] | None = None,
        seed: int = 0,
        embedder: StaticEmbedder | None = None,
    ) -> TriageModel:
        """Fit on an event frame; ``groups`` (carrier per row) drive the calibration folds.

        ``embedder`` (a distilled sentence-encoder table) adds the embedding member.
        """
        self.fit_summary_ = {}
        self.embedder_ = embedder if self.config.use_embedding else None
        texts = frame_texts(frame)
        status = frame_status_so_far(frame)
        y = np.asarray(labels, dtype=object)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        g = np.asarray(groups if groups is not None else ["all"] * len(y), dtype=object)
        # Rows that read the same (after normalization) are one row with their weights summed:
        # same fit, a fraction of the work (simulated carriers repeat their phrasebook).
        key = pd.DataFrame({"t": texts, "s": status, "y": y, "g": g, "w": w})
        agg = key.groupby(["t", "s", "y", "g"], sort=False, as_index=False)["w"].sum()
        texts, status = agg["t"].tolist(), agg["s"].tolist()
        y, g, w = agg["y"].to_numpy(object), agg["g"].to_numpy(object), agg["w"].to_numpy()
        self._fit_core(texts, status, y, w, seed)
        if self.config.calibrate and groups is not None:
            self.temperature_ = self._fit_temperature(texts, status, y, w, g, seed)
        self.fit_summary_.update(
            {
                "n_train": len(frame),
                "n_distinct": len(y),
                "n_classes": len(self.classes_),
                "temperature": self.temperature_,
            }
        )
        return self

    def _fit_core(
        self,
        texts: list[str],
        status: list[str],
        y: np.ndarray,
        sample_weight: np.ndarray | None,
        seed: int,
    ) -> None:
        cfg = self.config
        self.__dict__.pop("_names", None)
        self.__dict__.pop("_fast_parts", None)
        self.char_vec_ = TfidfVectorizer(
            analyzer=cfg.char_analyzer,
            ngram_range=tuple(cfg.char_ngram),
            min_df=cfg.min_df,
            sublinear_tf=True,
            max_features=cfg.max_features_char,
            dtype=np.float32,
        )
        self.word_vec_ = TfidfVectorizer(
            analyzer="word",
            ngram_range=tuple(cfg.word_ngram),
            min_df=cfg.min_df,
            sublinear_tf=True,
            token_pattern=r"[a-z0-9]+",
            max_features=cfg.max_features_word,
            dtype=np.float32,
        )
        sample_weight = self._balanced(y, sample_weight)
        xc = self.char_vec_.fit_transform(texts)
        xw = self.word_vec_.fit_transform(texts)
        shared = self._shared(texts, status)
        self.char_clf_ = self._lr(cfg.c_char, seed).fit(
            sparse.hstack([xc, shared], format="csr"), y, sample_weight=sample_weight
        )
        self.word_clf_ = self._lr(cfg.c_word, seed).fit(
            sparse.hstack([xw, shared], format="csr"), y, sample_weight=sample_weight
        )
        self.classes_ = self.char_clf_.classes_
        self.embed_clf_ = None
        if self.embedder_ is not None:
            if cfg.embed_center:
                self.embedder_ = self.embedder_.with_centering()
            if cfg.embed_max_pool and not self.embedder_.max_pool:
                self.embedder_ = self.embedder_.with_max_pooling()
            if cfg.embed_idf:
                self.embedder_ = self.embedder_.with_idf(texts)
            self.embed_clf_ = LogisticRegression(
                C=cfg.c_embed, max_iter=cfg.max_iter * 3, random_state=seed
            ).fit(self.embedder_.encode(texts), y, sample_weight=sample_weight)

    def _balanced(self, y: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
        """Sample weights times (class weight share) ** -class_balance (1 = "balanced")."""
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        classes, inv = np.unique(y, return_inverse=True)
        mass = np.bincount(inv, weights=w, minlength=len(classes))
        factor = (mass / mass.sum() * len(classes)) ** -self.config.class_balance
        out = w * factor[inv]
        return out * len(y) / out.sum()

    def _lr(self, c: float, seed: int) -> LogisticRegression:
        return LogisticRegression(
            C=c, max_iter=self.config.max_iter, solver="newton-cg", random_state=seed
        )

    def _shared(self, texts: Sequence[str], status: Sequence[str]) -> sparse.csr_matrix:
        cfg = self.config
        blocks = [sparse.csr_matrix(rule_features(texts) * cfg.rule_scale)]
        if cfg.use_context:
            blocks.append(_context_matrix(status) * cfg.context_scale)
        return sparse.hstack(blocks, format="csr")

    def _fit_temperature(
        self,
        texts: list[str],
        status: list[str],
        y: np.ndarray,
        sample_weight: np.ndarray | None,
        groups: np.ndarray,
        seed: int,
    ) -> float:
        uniq = list(dict.fromkeys(groups.tolist()))
        if len(uniq) < 2:
            return 1.0
        # Whole carriers per fold (at most ``calibration_folds``), so every held-out row is
        # predicted by a model that never saw its carrier.
        order = np.random.default_rng(seed).permutation(len(uniq))
        k = min(self.config.calibration_folds, len(uniq))
        fold_of = {uniq[j]: i % k for i, j in enumerate(order)}
        fold = np.array([fold_of[g] for g in groups.tolist()])
        members = np.zeros((3, len(y), len(self.classes_)))
        covered = np.zeros(len(y), dtype=bool)
        full = (
            self.char_vec_,
            self.word_vec_,
            self.char_clf_,
            self.word_clf_,
            self.classes_,
            self.embed_clf_,
        )
        try:
            for f in range(k):
                test = fold == f
                train = ~test
                if len(set(y[train])) < 2:
                    continue
                sub = TriageModel(config=self.config, embedder_=self.embedder_)
                sw = None if sample_weight is None else sample_weight[train]
                sub._fit_core(
                    [t for t, m in zip(texts, train, strict=True) if m],
                    [s for s, m in zip(status, train, strict=True) if m],
                    y[train],
                    sw,
                    seed,
                )
                part = sub._members(
                    [t for t, m in zip(texts, test, strict=True) if m],
                    [s for s, m in zip(status, test, strict=True) if m],
                )
                idx = {c: i for i, c in enumerate(self.classes_)}
                cols = [idx[c] for c in sub.classes_]
                block = np.full((3, int(test.sum()), len(self.classes_)), -30.0)
                block[:, :, cols] = part
                members[:, test] = block
                covered[test] = True
        finally:
            (
                self.char_vec_,
                self.word_vec_,
                self.char_clf_,
                self.word_clf_,
                self.classes_,
                self.embed_clf_,
            ) = full
        if not covered.any():
            return 1.0
        idx = {c: i for i, c in enumerate(self.classes_)}
        target = np.array([idx[c] for c in y[covered]])
        parts = members[:, covered]
        w = np.ones(len(target)) if sample_weight is None else sample_weight[covered]
        rows = np.arange(len(target))

        def nll_of(z: np.ndarray) -> float:
            p = _softmax(z)
            return float(-(w * np.log(p[rows, target] + 1e-12)).sum() / w.sum())

        self.fit_summary_["oof_rows"] = int(covered.sum())
        z = np.tensordot(np.array(self._weights()), parts, axes=1)
        res = minimize_scalar(
            lambda log_t: nll_of(z / np.exp(log_t)), bounds=(-2.0, 2.0), method="bounded"
        )
        return float(np.exp(res.x))

    # --- inference -------------------------------------------------------------------------
    def _logits(self, texts: Sequence[str], status: Sequence[str]) -> np.ndarray:
        assert self.char_vec_ is not None and self.word_vec_ is not None
        assert self.char_clf_ is not None and self.word_clf_ is not None
        return np.tensordot(np.array(self._weights()), self._members(texts, status), axes=1)

    def _members(self, texts: Sequence[str], status: Sequence[str]) -> np.ndarray:
        """Log-probabilities of each member: (character, word, embedding) x rows x classes."""
        assert self.char_vec_ is not None and self.word_vec_ is not None
        assert self.char_clf_ is not None and self.word_clf_ is not None
        shared = self._shared(texts, status)
        xc = sparse.hstack([self.char_vec_.transform(texts), shared], format="csr")
        xw = sparse.hstack([self.word_vec_.transform(texts), shared], format="csr")
        out = np.zeros((3, len(texts), len(self.char_clf_.classes_)))
        out[0] = self.char_clf_.predict_log_proba(xc)
        out[1] = self.word_clf_.predict_log_proba(xw)
        if self.embed_clf_ is not None and self.embedder_ is not None:
            out[2] = self.embed_clf_.predict_log_proba(self.embedder_.encode(texts))
        return out

    def _weights(self) -> tuple[float, float, float]:
        wc, ww, we = self.config.ensemble_weights
        if self.embed_clf_ is None:
            we = 0.0
        total = wc + ww + we
        return wc / total, ww / total, we / total

    def predict_proba_texts(
        self, texts: Sequence[str], status: Sequence[str] | None = None
    ) -> np.ndarray:
        """Calibrated class probabilities (columns ``classes_``) for normalized texts."""
        status = status if status is not None else ["none"] * len(texts)
        return _softmax(self._logits(texts, status) / self.temperature_)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.predict_proba_texts(frame_texts(frame), frame_status_so_far(frame))

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``label, status, category, confidence, needs_review`` per row (Predictor API)."""
        texts = frame_texts(frame)
        status = frame_status_so_far(frame)
        # Identical events are frequent in a tracking stream: score each distinct one once.
        keys = pd.Index(list(zip(texts, status, strict=True)))
        codes, uniq = pd.factorize(keys)
        proba = self.predict_proba_texts([u[0] for u in uniq], [u[1] for u in uniq])
        best = proba.argmax(axis=1)
        labels = self.classes_[best][codes]
        conf = proba[np.arange(len(best)), best][codes]
        return predictions_frame(labels, conf, self.config.review_threshold, frame.index)

    # --- single event: the same arithmetic without scikit-learn's per-call checks -----------
    def _fast(self) -> dict[str, Any]:
        cached = self.__dict__.get("_fast_parts")
        if cached is None:
            assert self.char_vec_ is not None and self.word_vec_ is not None
            assert self.char_clf_ is not None and self.word_clf_ is not None
            cached = {
                "char": (
                    self.char_vec_.build_analyzer(),
                    self.char_vec_.vocabulary_,
                    self.char_vec_.idf_.astype(np.float64),
                    np.ascontiguousarray(self.char_clf_.coef_.T),
                    self.char_clf_.intercept_,
                ),
                "word": (
                    self.word_vec_.build_analyzer(),
                    self.word_vec_.vocabulary_,
                    self.word_vec_.idf_.astype(np.float64),
                    np.ascontiguousarray(self.word_clf_.coef_.T),
                    self.word_clf_.intercept_,
                ),
            }
            self.__dict__["_fast_parts"] = cached
        return cached

    @staticmethod
    def _tfidf(
        analyzer: Any, vocab: dict[str, int], idf: np.ndarray, text: str
    ) -> tuple[np.ndarray, np.ndarray]:
        counts: dict[int, int] = {}
        for gram in analyzer(text):
            j = vocab.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.zeros(0, np.int64), np.zeros(0)
        idx = np.fromiter(counts.keys(), np.int64, len(counts))
        val = (1.0 + np.log(np.fromiter(counts.values(), np.float64, len(counts)))) * idf[idx]
        return idx, val / np.linalg.norm(val)

    def score_one(self, text: str, status: str = "none") -> dict[str, Any]:
        """Calibrated probabilities of one normalized text, plus what explanations need.

        Equal to ``predict_proba_texts([text], [status])`` (the tests check it), in a fraction
        of the time: one event is a few hundred multiply-adds, not a validated sparse pipeline.
        """
        cfg = self.config
        shared = rule_features([text])[0] * cfg.rule_scale
        ctx = _STATUS_INDEX.get(status, 0) if cfg.use_context else None
        wc, ww, we = self._weights()
        z = np.zeros(len(self.classes_))
        parts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for name, weight in (("char", wc), ("word", ww)):
            analyzer, vocab, idf, coef_t, intercept = self._fast()[name]
            idx, val = self._tfidf(analyzer, vocab, idf, text)
            n = len(idf)
            logits = val @ coef_t[idx] + shared @ coef_t[n : n + N_RULE_FEATURES] + intercept
            if ctx is not None:
                logits = logits + cfg.context_scale * coef_t[n + N_RULE_FEATURES + ctx]
            z += weight * _log_softmax(logits)
            parts[name] = (idx, val, coef_t)
        embed_p = None
        if we > 0 and self.embed_clf_ is not None and self.embedder_ is not None:
            e = self.embedder_.encode([text])[0]
            logits = self.embed_clf_.coef_ @ e + self.embed_clf_.intercept_
            z += we * _log_softmax(logits)
            embed_p = np.exp(_log_softmax(logits))
        proba = _softmax((z / self.temperature_)[None, :])[0]
        return {"proba": proba, "parts": parts, "embed_proba": embed_p}

    # --- explanation ---------------------------------------------------------------------------
    def explain(
        self,
        text: str,
        label: str,
        status: str = "none",
        top: int = 4,
        scored: dict[str, Any] | None = None,
    ) -> list[str]:
        """Words of ``text`` (normalized) that pushed towards ``label``, strongest first."""
        scored = scored if scored is not None else self.score_one(text, status)
        k = int(np.flatnonzero(self.classes_ == label)[0])
        contrib: dict[str, float] = {}
        a, b, _ = self._weights()
        vocab_c, vocab_w = self._feature_names()
        # Word model: each uni/bigram's weight goes to its words.
        idx, val, coef_t = scored["parts"]["word"]
        for j, v in zip(idx, val, strict=True):
            parts = vocab_w[j].split()
            for p in parts:
                contrib[p] = contrib.get(p, 0.0) + b * v * coef_t[j, k] / len(parts)
        # Character model: within-word n-grams belong to exactly one word.
        idx, val, coef_t = scored["parts"]["char"]
        grams = {vocab_c[j]: a * v * coef_t[j, k] for j, v in zip(idx, val, strict=True)}
        lo, hi = self.config.char_ngram
        for word in set(text.split()):
            padded = f" {word} "
            seen = {
                padded[i : i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)
            }
            contrib[word] = contrib.get(word, 0.0) + sum(grams.get(g, 0.0) for g in seen)
        words = sorted(
            ((w, c) for w, c in contrib.items() if c > 0 and len(w) > 1 and w not in _STOPWORDS),
            key=lambda x: -x[1],
        )[:top]
        out = [f"'{w}' (+{c:.2f})" for w, c in words]
        hits = [h for h in rule_hits(text) if h.label == label]
        if hits:
            out.append("keyword rule: " + ", ".join(f"'{h.match}'" for h in hits[:3]))
        embed_p = scored.get("embed_proba")
        if embed_p is not None and self.embed_clf_ is not None:
            k_e = int(np.flatnonzero(self.embed_clf_.classes_ == label)[0])
            out.append(f"meaning (sentence embedding) supports {label}: p={embed_p[k_e]:.2f}")
        if status != "none":
            out.append(f"status so far: {status}")
        return out

    def _feature_names(self) -> tuple[np.ndarray, np.ndarray]:
        cached = self.__dict__.get("_names")
        if cached is None:
            assert self.char_vec_ is not None and self.word_vec_ is not None
            cached = (
                self.char_vec_.get_feature_names_out(),
                self.word_vec_.get_feature_names_out(),
            )
            self.__dict__["_names"] = cached
        return cached

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_names", None)
        state.pop("_fast_parts", None)
        return state

    def params(self) -> dict[str, Any]:
        return {**self.config.as_params(), "n_rule_features": N_RULE_FEATURES}


def predictions_frame(
    labels: Sequence[str], confidence: np.ndarray, threshold: float, index: pd.Index | None = None
) -> pd.DataFrame:
    """The Predictor output columns for labels and confidences."""
    labels = [str(x) for x in labels]
    status = [label_status(x).value for x in labels]
    category = [c.value if (c := label_category(x)) is not None else None for x in labels]
    conf = np.asarray(confidence, dtype=float)
    return pd.DataFrame(
        {
            "label": labels,
            "status": status,
            "category": pd.Series(category, dtype=object, index=index),
            "confidence": conf,
            "needs_review": conf < threshold,
        },
        index=index if index is not None else pd.RangeIndex(len(labels)),
    )


__all__ = ["LABELS", "ModelConfig", "TriageModel", "frame_texts", "predictions_frame"]
