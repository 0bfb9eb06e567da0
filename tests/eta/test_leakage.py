"""No leakage: a row's features never depend on its own or any later outcome, nor on tracking
events after its prediction time, nor (Olist) on the input's delivery dates or status."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.triage.eta_features import EtaFeaturizer, event_history, event_state
from training.eta.datasets import load_olist_dataset, olist_prediction_frame, snapshots
from training.eta.train import EtaParams, fit_eta

from .olist_fake import write_fake_olist


def _scramble_outcomes_known_after(
    frame: pd.DataFrame, t0: pd.Timestamp, seed: int = 0
) -> pd.DataFrame:
    """Rewrite every outcome that became known at or after ``t0`` (it stays after ``t0``)."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    delivered = pd.to_datetime(out["delivered_at"], utc=True)
    late = (delivered >= t0).to_numpy()
    shift = pd.to_timedelta(rng.uniform(1, 30, late.sum()), unit="D")
    out.loc[late, "delivered_at"] = (delivered[late] + shift).to_numpy()
    out.loc[late, "n_exceptions"] = rng.integers(0, 4, late.sum())
    handed = pd.to_datetime(out["handed_over_at"], utc=True)
    later = (handed >= t0).to_numpy()
    out.loc[later, "handed_over_at"] = (handed[later] + pd.Timedelta(days=9)).to_numpy()
    return out


def _history_columns(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if c.startswith("hist_")]


def test_history_features_only_use_outcomes_known_before_the_prediction(fitted):
    train = fitted.train
    snaps = snapshots(train, training=True)
    t0 = pd.to_datetime(snaps["as_of"], utc=True).quantile(0.6)
    before = (pd.to_datetime(snaps["as_of"], utc=True) < t0).to_numpy()
    own_later = before & (pd.to_datetime(snaps["delivered_at"], utc=True) >= t0).to_numpy()
    assert own_later.sum() > 50  # rows whose *own* outcome is rewritten are part of the check

    honest = EtaFeaturizer("waybill").fit(train.shipments)
    rewritten = EtaFeaturizer("waybill").fit(_scramble_outcomes_known_after(train.shipments, t0))
    a = honest.transform(snaps.loc[before]).X
    b = rewritten.transform(snaps.loc[before]).X
    cols = _history_columns(a)
    assert len(cols) >= 6
    pd.testing.assert_frame_equal(a[cols], b[cols])
    # ... while rows predicted after t0 do see the rewritten outcomes: the check has teeth.
    c = honest.transform(snaps.loc[~before]).X[cols]
    d = rewritten.transform(snaps.loc[~before]).X[cols]
    assert not np.allclose(c.to_numpy(), d.to_numpy(), equal_nan=True)


def test_tracking_state_ignores_events_after_the_prediction_time(fitted):
    ds = fitted.train
    snaps = snapshots(ds, training=False)
    snaps = snaps.loc[snaps["eval_stage"] != "booking"].head(400)
    events = ds.events.loc[ds.events["shipment_id"].isin(set(snaps["shipment_id"]))].copy()
    base = event_state(event_history(events), snaps[["shipment_id", "as_of"]])
    # Future events become exceptions somewhere else; past ones are untouched.
    as_of = snaps.groupby("shipment_id")["as_of"].min()
    future = (
        pd.to_datetime(events["occurred_at"], utc=True) > events["shipment_id"].map(as_of)
    ).to_numpy()
    assert future.sum() > 100
    events.loc[future, "status"] = "exception"
    events.loc[future, "exception_category"] = "lost"
    events.loc[future, "location_zone"] = "US-W"
    first = snaps.drop_duplicates("shipment_id", keep="first")
    after = event_state(event_history(events), first[["shipment_id", "as_of"]])
    pd.testing.assert_frame_equal(base.loc[first.index], after)


def test_olist_prediction_never_reads_delivery_dates_or_status(tmp_path):
    data = write_fake_olist(tmp_path / "olist", n_orders=500)
    model = fit_eta(
        load_olist_dataset(data), EtaParams(n_estimators=30, num_leaves=15, min_data_in_leaf=10)
    )
    frame = olist_prediction_frame(data)
    assert len(frame) == 500  # every order of the orders file, delivered or not
    assert not {"delivered_at", "handed_over_at", "olist_order_status", "final_status"} & set(
        frame.columns
    )
    first = model.predict(frame)
    orders = pd.read_csv(data / "olist_orders_dataset.csv")
    orders["order_delivered_customer_date"] = "2019-01-01 00:00:00"
    orders["order_delivered_carrier_date"] = "2018-12-30 00:00:00"
    orders["order_status"] = "canceled"
    orders.to_csv(data / "olist_orders_dataset.csv", index=False)
    second = model.predict(olist_prediction_frame(data))
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize("column", ["delivered_at", "n_exceptions", "final_status"])
def test_predict_ignores_outcome_columns(fitted, column):
    rows = fitted.snaps.head(200)
    changed = rows.copy()
    changed[column] = None
    pd.testing.assert_frame_equal(fitted.model.predict(rows), fitted.model.predict(changed))


def _appended_later(frame: pd.DataFrame, t0: pd.Timestamp) -> pd.DataFrame:
    """``frame`` plus copies of its orders purchased (and delivered) well after ``t0``."""
    later = frame.tail(150).copy()
    shift = frame["created_at"].max() - later["created_at"].min() + pd.Timedelta(days=1)
    assert (later["created_at"] + shift > t0).all()
    for col in (
        "created_at",
        "booked_at",
        "delivered_at",
        "handed_over_at",
        "olist_shipping_limit_at",
    ):
        later[col] = later[col] + shift
    later["shipment_id"] = later["shipment_id"] + "-later"
    later["delivered_at"] = pd.to_datetime(later["delivered_at"], utc=True) + pd.Timedelta(
        days=25
    )  # and much slower: a slowdown the earlier rows must not see
    return pd.concat([frame, later], ignore_index=True)


@pytest.mark.parametrize("change", ["rewrite", "append"])
def test_olist_recency_features_only_use_deliveries_completed_before(tmp_path, change):
    """Every Olist history statistic - the recent-window ones included - of an order purchased
    before t0 stays the same when outcomes known after t0 are rewritten or later orders are
    appended; orders purchased after t0 do see the change."""
    ds = load_olist_dataset(write_fake_olist(tmp_path / "olist", n_orders=800))
    times = ("created_at", "booked_at", "delivered_at", "handed_over_at", "olist_shipping_limit_at")
    frame = ds.shipments.assign(
        **{
            c: pd.to_datetime(ds.shipments[c], utc=True).astype("datetime64[ns, UTC]")
            for c in times
        }
    )
    created = frame["created_at"]
    t0 = created.quantile(0.6)
    other = (
        _scramble_outcomes_known_after(frame, t0)
        if change == "rewrite"
        else _appended_later(frame, t0)
    )
    honest = EtaFeaturizer("olist", recency=True).fit(frame)
    changed = EtaFeaturizer("olist", recency=True).fit(other)
    before = (created < t0).to_numpy()
    a = honest.transform(frame.loc[before]).X
    b = changed.transform(frame.loc[before]).X
    cols = _history_columns(a)
    recency = {
        "hist_all7_ly",
        "hist_all14_lt",
        "hist_dest14_ly",
        "hist_dest30_lt",
        "hist_lane30_lt",
        "hist_handover30_lh",
        "hist_handover_all14_lh",
    }
    assert recency <= set(cols)
    assert a[sorted(recency)].notna().all().all()
    pd.testing.assert_frame_equal(a[cols], b[cols])
    after = ~before if change == "rewrite" else np.ones(len(frame), dtype=bool)
    probe = frame.loc[after].copy()
    if change == "append":  # the same orders asked about after the appended deliveries
        probe["as_of"] = pd.to_datetime(other["delivered_at"], utc=True).max()
    c = honest.transform(probe).X[sorted(recency)]
    d = changed.transform(probe).X[sorted(recency)]
    assert not np.allclose(c.to_numpy(), d.to_numpy(), equal_nan=True)
