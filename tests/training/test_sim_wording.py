"""Carrier wording: several styles per carrier and category, codes and free text, own words."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from app.models.enums import ExceptionCategory
from training.simulator.generate import History
from training.simulator.wording import MEANINGS, Phrasebook, ascii_caps, typo_variant
from training.simulator.world import CARRIERS

DEV_EVENTS = Path(__file__).resolve().parents[3] / "shared" / "data" / "carrier-events-dev.csv"


def test_every_carrier_has_three_styles_per_category() -> None:
    styles = Phrasebook().styles_by_category()
    for carrier in CARRIERS:
        for cat in ExceptionCategory:
            assert len(styles[(carrier.code, cat)]) >= 3, (carrier.code, cat)


def test_every_carrier_can_say_everything() -> None:
    book = Phrasebook()
    said = {(p.carrier, p.meaning) for p in book.phrases}
    for carrier in CARRIERS:
        for meaning in MEANINGS:
            assert (carrier.code, meaning.key) in said, (carrier.code, meaning.key)


def test_driver_notes_have_no_code_and_caps_are_ascii() -> None:
    book = Phrasebook()
    driver = [p for p in book.phrases if p.style == "driver"]
    assert driver and all(p.code is None for p in driver)
    caps = [p for p in book.phrases if p.style == "caps"]
    assert all(p.text == p.text.upper() and p.text.isascii() for p in caps)
    assert ascii_caps("Recipient address incomplete") == "RCPT ADDR INCOMPLETE"
    assert typo_variant("nobody home") != "nobody home"


def test_codes_are_not_a_shared_vocabulary() -> None:
    book = Phrasebook()
    by_carrier: dict[str, set[str]] = {}
    for p in book.phrases:
        if p.code:
            by_carrier.setdefault(p.carrier, set()).add(p.code)
    codes = list(by_carrier.values())
    overlaps = [len(a & b) / len(a | b) for i, a in enumerate(codes) for b in codes[i + 1 :]]
    assert max(overlaps) < 0.2
    # One carrier's codes only know the status: the text is the only signal there.
    assert len(by_carrier["velox"]) <= 9


def test_events_use_many_styles_and_languages(history: History) -> None:
    ev = history.events
    exc = ev[ev["status"].astype(object) == "exception"]
    per = exc.groupby("carrier", observed=True)["wording_style"].nunique()
    assert (per >= 3).all()
    assert {"de", "nl", "fr", "pl", "driver", "caps"} <= set(ev["wording_style"].astype(object))
    assert ev["raw_code"].isna().any() and ev["raw_code"].notna().mean() > 0.9


def test_wording_is_our_own_not_the_evaluation_set() -> None:
    if not DEV_EVENTS.exists():
        pytest.skip("carrier-events-dev.csv is not available")
    real = pd.read_csv(DEV_EVENTS)["description"].astype(str).str.strip().str.lower()
    real_set = set(real.str.rstrip("."))
    ours = {p.text.strip().lower().rstrip(".") for p in Phrasebook().phrases}
    assert not (ours & real_set)
