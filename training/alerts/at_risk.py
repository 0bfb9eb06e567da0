"""At-risk evaluation: choose the threshold on one period, judge it on a later hold-out.

Replays what the service does for every delivered shipment with a promised day: after each
tracking event the ETA predictor re-predicts (quantiles as of that event), and every
``sweep_hours`` the latest prediction is re-read conditioned on "not delivered yet"
(``app.sync.alerts.risk.miss_probability``). A shipment is *flagged* at threshold t when some
check before its deadline (the end of the promised day at the destination) gives P >= t; it is
*late* when it was delivered after the deadline. The threshold maximizing F-beta on the
threshold period is then applied to the hold-out, beside the naive rule "alert when an exception
scan arrives" (before the deadline). Lead time is how long before the deadline the first alert
came, for late shipments caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from app.sync.alerts.risk import miss_probability
from app.triage.eta_features import (
    HOUR,
    PROMISE_DUE_HOUR,
    anchor_times,
    destination_timezones,
    event_history,
    event_state,
    promise_points,
    to_utc_timestamps,
)
from training.eta.datasets import EtaDataset
from training.eta.evaluate import model_inputs

THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.01), 2)


@dataclass
class Checks:
    """Per shipment: the highest probability before the deadline, and when each threshold
    would first have fired (hours before the deadline, for lead times)."""

    shipments: pd.DataFrame  # shipment_id, deadline, late, score, naive, naive_lead_h
    checks: pd.DataFrame  # shipment_id, at, p, lead_h


def deadlines(frame: pd.DataFrame) -> pd.Series:
    return promise_points(frame, destination_timezones(frame), PROMISE_DUE_HOUR["waybill"])


def replay(ds: EtaDataset, predictor: Any, *, sweep_hours: float = 6.0) -> Checks:
    """Every check the service would make on ``ds``'s delivered, promised shipments."""
    ships = ds.shipments.loc[ds.delivered().to_numpy()].reset_index(drop=True)
    ships = ships.loc[ships["promised_date"].notna().to_numpy()].reset_index(drop=True)
    ships["shipment_id"] = ships["shipment_id"].astype(str)
    deadline = deadlines(ships)
    delivered = to_utc_timestamps(ships["delivered_at"])
    ev = ds.events
    if ev is None:
        raise ValueError("at-risk replay needs tracking events")
    ev = ev.loc[ev["shipment_id"].astype(str).isin(set(ships["shipment_id"])).to_numpy()]
    hist = event_history(ev)
    by_id = ships.set_index("shipment_id")
    hist = hist.loc[
        hist["occurred_at"]
        < delivered.set_axis(ships["shipment_id"]).reindex(hist["shipment_id"]).to_numpy()
    ]
    # Prediction points: booking, then every event before delivery.
    points = (
        pd.concat(
            [
                pd.DataFrame(
                    {
                        "shipment_id": ships["shipment_id"],
                        "as_of": to_utc_timestamps(ships["booked_at"]),
                    }
                ),
                pd.DataFrame(
                    {
                        "shipment_id": hist["shipment_id"].to_numpy(),
                        "as_of": hist["occurred_at"].to_numpy(),
                    }
                ),
            ],
            ignore_index=True,
        )
        .drop_duplicates()
        .sort_values(["shipment_id", "as_of"], kind="stable")
        .reset_index(drop=True)
    )
    rows = by_id.loc[points["shipment_id"].to_numpy()].reset_index()
    rows["as_of"] = points["as_of"].to_numpy()
    state = event_state(hist, rows[["shipment_id", "as_of"]])
    for col in state.columns:
        rows[col] = state[col].to_numpy()
    pred = predictor.predict(model_inputs(rows))
    anchor = anchor_times(rows, "waybill")
    q_at = [
        anchor + pd.to_timedelta(pred[c].to_numpy(), unit="h") for c in ("p10", "p50", "p90", "p95")
    ]
    # Each prediction serves until the next one; sweeps re-read it every ``sweep_hours``.
    dl = deadline.set_axis(ships["shipment_id"]).reindex(rows["shipment_id"]).to_numpy()
    dv = delivered.set_axis(ships["shipment_id"]).reindex(rows["shipment_id"]).to_numpy()
    nxt = rows.groupby("shipment_id")["as_of"].shift(-1)
    end = pd.Series(
        np.minimum(np.minimum(dl, dv), nxt.fillna(pd.Timestamp.max.tz_localize("UTC")).to_numpy())
    )
    start = rows["as_of"]
    step = pd.Timedelta(hours=sweep_hours)
    first_sweep = (start + step).dt.floor(f"{int(sweep_hours)}h")
    n_sweeps = ((end - first_sweep) / step).fillna(-1).clip(lower=-1).astype(int) + 1
    n_sweeps = n_sweeps.clip(lower=0, upper=24 * 30).to_numpy()
    idx = np.concatenate([np.arange(len(rows)), np.repeat(np.arange(len(rows)), n_sweeps)])
    offs = np.concatenate([np.arange(k) for k in n_sweeps]) if n_sweeps.sum() else np.zeros(0)
    at = pd.concat(
        [
            start,
            pd.Series(first_sweep.to_numpy()[np.repeat(np.arange(len(rows)), n_sweeps)])
            + pd.to_timedelta(offs * sweep_hours, unit="h"),
        ],
        ignore_index=True,
    )
    at = pd.to_datetime(at, utc=True)
    origin = pd.Timestamp("2000-01-01", tz="UTC")

    def h(values: Any) -> np.ndarray:
        return (
            (pd.to_datetime(pd.Series(values), utc=True) - origin).dt.total_seconds() / HOUR
        ).to_numpy()

    q = np.column_stack([h(x.to_numpy())[idx] for x in q_at])
    now_h, dl_h = h(at.to_numpy()), h(dl)[idx]
    keep = (now_h < dl_h) & (now_h < h(dv)[idx])
    p = miss_probability(q[keep], dl_h[keep], now_h[keep])
    checks = (
        pd.DataFrame(
            {
                "shipment_id": rows["shipment_id"].to_numpy()[idx][keep],
                "at": at.to_numpy()[keep],
                "p": p,
                "lead_h": dl_h[keep] - now_h[keep],
            }
        )
        .sort_values(["shipment_id", "at"], kind="stable")
        .reset_index(drop=True)
    )
    score = checks.groupby("shipment_id")["p"].max()
    late = (delivered > deadline).to_numpy()
    exc = hist.loc[hist["ev_status"] == "exception"]
    exc_first = exc.groupby("shipment_id")["occurred_at"].min()
    exc_at = pd.Series(pd.to_datetime(exc_first.reindex(ships["shipment_id"]).to_numpy(), utc=True))
    lead = (deadline.reset_index(drop=True) - exc_at).dt.total_seconds().to_numpy() / HOUR
    naive = np.nan_to_num(lead, nan=-1.0) > 0
    naive_lead = np.where(naive, lead, np.nan)
    out = pd.DataFrame(
        {
            "shipment_id": ships["shipment_id"],
            "deadline": deadline.to_numpy(),
            "late": late,
            "score": score.reindex(ships["shipment_id"]).fillna(0.0).to_numpy(),
            "naive": naive,
            "naive_lead_h": naive_lead,
            "ship_at": to_utc_timestamps(ships["ship_at"]).to_numpy(),
        }
    )
    return Checks(out, checks)


def scores(late: np.ndarray, flagged: np.ndarray) -> dict[str, float]:
    tp = float((late & flagged).sum())
    fp = float((~late & flagged).sum())
    fn = float((late & ~flagged).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "flagged": float(flagged.sum()),
        "late": float(late.sum()),
        "n": float(len(late)),
    }


def curve(c: Checks, beta: float = 1.0) -> pd.DataFrame:
    """Precision, recall and F-beta per threshold (the precision/recall curve)."""
    late = c.shipments["late"].to_numpy()
    rows = []
    for t in THRESHOLDS:
        s = scores(late, c.shipments["score"].to_numpy() >= t)
        b2 = beta * beta
        denom = b2 * s["precision"] + s["recall"]
        s["fbeta"] = (1 + b2) * s["precision"] * s["recall"] / denom if denom else 0.0
        rows.append({"threshold": float(t), **s})
    return pd.DataFrame(rows)


def choose_threshold(c: Checks, beta: float = 1.0) -> float:
    table = curve(c, beta)
    return float(table.loc[table["fbeta"].idxmax(), "threshold"])


def lead_hours(c: Checks, threshold: float) -> float:
    """Median hours before the deadline of the first alert, over late shipments caught."""
    hits = c.checks.loc[c.checks["p"] >= threshold].groupby("shipment_id")["lead_h"].max()
    late_ids = c.shipments.loc[c.shipments["late"], "shipment_id"]
    caught = hits.reindex(late_ids).dropna()
    return float(caught.median()) if len(caught) else float("nan")


def judge(c: Checks, threshold: float) -> dict[str, Any]:
    late = c.shipments["late"].to_numpy()
    model = scores(late, c.shipments["score"].to_numpy() >= threshold)
    naive = scores(late, c.shipments["naive"].to_numpy())
    naive_lead = c.shipments.loc[c.shipments["late"] & c.shipments["naive"], "naive_lead_h"]
    return {
        "threshold": threshold,
        "at_risk": {**model, "median_lead_hours": lead_hours(c, threshold)},
        "naive_exception_rule": {
            **naive,
            "median_lead_hours": float(naive_lead.median()) if len(naive_lead) else float("nan"),
        },
    }


def with_min_lead(c: Checks, min_lead_hours: float) -> Checks:
    """Only alerts raised at least ``min_lead_hours`` before the deadline count (the naive
    rule's exception scan likewise): what is left for customer service to act on."""
    if min_lead_hours <= 0:
        return c
    checks = c.checks.loc[c.checks["lead_h"] >= min_lead_hours].reset_index(drop=True)
    ships = c.shipments.copy()
    ships["score"] = (
        checks.groupby("shipment_id")["p"].max().reindex(ships["shipment_id"]).fillna(0.0)
    ).to_numpy()
    ships["naive"] = ships["naive"] & (ships["naive_lead_h"] >= min_lead_hours)
    return Checks(ships, checks)


def split_by_ship_time(c: Checks, cut: pd.Timestamp) -> tuple[Checks, Checks]:
    ids_before = set(c.shipments.loc[c.shipments["ship_at"] < cut, "shipment_id"])
    parts = []
    for before in (True, False):
        sel = c.shipments["shipment_id"].isin(ids_before) == before
        ships = c.shipments.loc[sel.to_numpy()].reset_index(drop=True)
        checks = c.checks.loc[c.checks["shipment_id"].isin(set(ships["shipment_id"]))]
        parts.append(Checks(ships, checks.reset_index(drop=True)))
    return parts[0], parts[1]
