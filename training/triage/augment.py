"""Paraphrased copies of carrier texts: the same message in another carrier's words.

A model trained on one carrier family's texts learns its word choices as much as their meaning:
"consignee" rather than "receiver", "parcel" rather than "package", "hub" rather than "depot".
A carrier never seen picks differently. ``paraphrase`` writes copies of each labelled text
with such interchangeable words swapped inside their group and the odd filler word left out, so
what the model can rely on is the part that carries the category ("refused", "could not be
located"), not one carrier's vocabulary.

The groups are general parcel-logistics vocabulary (the same as the synthetic wording of
``training.triage.synth``), not taken from any evaluation data. Only rows whose source is in
``SOURCES`` (human-labelled carrier texts) are paraphrased: the simulator and the synthetic
templates already vary their wording. Deterministic per seed.
"""

from __future__ import annotations

import re
import zlib

import numpy as np
import pandas as pd

# Interchangeable words and phrases; each group is one meaning. Multi-word entries first so
# "sort center" is swapped as one.
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("package", "parcel", "shipment", "item", "consignment"),
    ("packages", "parcels", "shipments", "items", "consignments"),
    ("recipient", "receiver", "consignee", "addressee"),
    ("sender", "shipper", "merchant"),
    ("facility", "hub", "depot", "terminal", "sort center", "distribution center", "station"),
    ("driver", "courier"),
    ("pickup point", "access point", "parcel shop", "service point", "collection point"),
    ("pickup", "collection"),
    ("delivery vehicle", "delivery van", "truck"),
    ("attempted", "tried"),
    ("unable to", "not able to", "could not"),
    ("customer service", "customer support", "our support team"),
    ("has been", "was"),
    ("scheduled", "planned", "expected"),
    ("additional", "further", "more"),
    ("currently", "now"),
    ("delayed", "held up"),
    # Words that name the category itself: a synonym keeps the label.
    ("refused", "declined", "rejected"),
    ("returned", "sent back"),
    ("damaged", "broken"),
    ("lost", "missing"),
    ("not home", "not available", "absent"),
    ("notice", "notification card", "card"),
    ("arrived at", "reached", "received at"),
    ("departed", "left"),
    ("on hold", "held"),
    ("ready for pickup", "available for collection", "ready for collection"),
    ("out for delivery", "on vehicle for delivery", "with courier for delivery"),
)
# Words that can go without changing what is said.
FILLER = frozenset(
    {
        "the",
        "a",
        "an",
        "your",
        "our",
        "this",
        "please",
        "currently",
        "now",
        "has",
        "been",
        "is",
        "was",
        "will",
        "be",
        "of",
        "at",
        "to",
        "for",
    }
)
SOURCES = frozenset({"real", "feedback"})
COPIES = 3
DROP_RATE = 0.1

_PHRASE = {p: g for g in SYNONYM_GROUPS for p in g}
_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in sorted(_PHRASE, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def paraphrase_text(text: str, rng: np.random.Generator, drop_rate: float = DROP_RATE) -> str:
    """One paraphrase of ``text`` (lower case; every group member swapped at random)."""

    def swap(match: re.Match[str]) -> str:
        group = _PHRASE[match.group(0).lower()]
        return group[int(rng.integers(len(group)))]

    swapped = _PATTERN.sub(swap, text.lower())
    words = swapped.split()
    kept = [w for w in words if not (w in FILLER and rng.random() < drop_rate)]
    return " ".join(kept or words)


def paraphrase(
    frame: pd.DataFrame, *, copies: int = COPIES, seed: int = 0, drop_rate: float = DROP_RATE
) -> pd.DataFrame:
    """``frame`` plus ``copies`` paraphrases of each row from ``SOURCES`` (same labels).

    Copies keep their row's source and family, so ``dataset.sample_weights`` spreads the
    family's share over original and copies alike: the real texts do not gain weight.
    Copies identical to their original are dropped.
    """
    if copies <= 0 or "source" not in frame.columns:
        return frame
    base = frame[frame["source"].isin(SOURCES) & frame["description"].notna()]
    if base.empty:
        return frame
    rng = np.random.default_rng([seed, zlib.crc32(b"triage-paraphrase")])
    parts = []
    for _ in range(copies):
        texts = [paraphrase_text(str(t), rng, drop_rate) for t in base["description"]]
        parts.append(base.assign(description=texts))
    extra = pd.concat(parts, ignore_index=True)
    extra = extra[
        extra["description"].to_numpy()
        != np.tile(base["description"].str.lower().to_numpy(), copies)
    ]
    return pd.concat(
        [frame, extra.drop_duplicates(["description", "label", "family"])], ignore_index=True
    )
