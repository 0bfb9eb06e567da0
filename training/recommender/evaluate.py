"""Judge a carrier-choice policy on held-out shipments by what its picks would have cost.

The simulator knows every quote's outcome, so a policy is evaluated *directly*: look up the
``late`` and ``exception`` outcomes of the quote it picks and price them with the cost model -
``realized total = freight + lateness cost + exception cost`` (tier costs of the shipment's
customer). Outcomes unknown for a pick (quotes that were never booked, in real data) are left
out and ``outcome_coverage`` says how much was judged.

Policies compared in the same run, on the same shipments, among the quotes eligible for the
requested service level:

* ``model`` - the predictor's pick (``rank == 1``);
* ``cheapest`` - the lowest price;
* ``fastest`` - the earliest promised date (then price);
* ``odoo_default`` - the warehouse's default carrier list as Odoo would apply it: the first
  carrier of the list with an eligible quote, its cheapest service; the list is configured or
  estimated from the history's ``odoo_default`` bookings (``default_carriers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from app.triage.recommender_costs import CostModel
from app.triage.recommender_features import QUOTE_COLUMNS

POLICIES = ("cheapest", "fastest", "odoo_default")


def default_carriers(quotes: pd.DataFrame, min_share: float = 0.9) -> dict[str, list[str]]:
    """Estimate each warehouse's Odoo default-carrier list from ``odoo_default`` bookings.

    A carrier ranks next if, among the shipments none of the higher carriers could take, it was
    booked in most of those where it had an eligible quote.
    """
    if "policy" not in quotes or quotes["policy"].isna().all():
        return {}
    sel = (quotes["policy"].astype(object) == "odoo_default") & quotes["eligible"].astype(bool)
    d = quotes.loc[sel, ["shipment_id", "warehouse", "carrier", "chosen"]]
    out: dict[str, list[str]] = {}
    for wh, g in d.groupby(d["warehouse"].astype(object), sort=True):
        order: list[str] = []
        remaining = g
        while len(remaining):
            avail = remaining.groupby("carrier")["shipment_id"].nunique()
            picked = remaining.loc[remaining["chosen"]].groupby("carrier")["shipment_id"].nunique()
            share = (picked.reindex(avail.index).fillna(0) / avail).sort_values(ascending=False)
            if share.empty or share.iloc[0] < min_share:
                break
            best = str(share.index[0])
            order.append(best)
            covered = remaining.loc[remaining["carrier"] == best, "shipment_id"].unique()
            remaining = remaining.loc[~remaining["shipment_id"].isin(covered)]
        if order:
            out[str(wh)] = order
    return out


def _first_per_shipment(df: pd.DataFrame, by: list[str]) -> pd.Index:
    ordered = df.sort_values(["shipment_id", *by], kind="stable")
    return ordered.drop_duplicates("shipment_id").index


def policy_picks(quotes: pd.DataFrame, defaults: Mapping[str, list[str]] | None = None
                 ) -> dict[str, pd.Index]:
    """Row labels of each baseline policy's pick per shipment (among eligible quotes)."""
    el = quotes.loc[quotes["eligible"].astype(bool)].copy()
    el["_promise"] = el["promised_date"].fillna(pd.Timestamp.max.normalize())
    picks = {
        "cheapest": _first_per_shipment(el, ["price", "_promise"]),
        "fastest": _first_per_shipment(el, ["_promise", "price"]),
    }
    if defaults:
        pos = np.full(len(el), 99.0)
        wh = el["warehouse"].astype(object).to_numpy()
        carrier = el["carrier"].astype(object).to_numpy()
        for w, order in defaults.items():
            for i, c in enumerate(order):
                pos[(wh == w) & (carrier == c)] = i
        el["_pos"] = pos
        picks["odoo_default"] = _first_per_shipment(el, ["_pos", "price"])
    return picks


def realized_costs(quotes: pd.DataFrame, costs: CostModel) -> pd.DataFrame:
    """Per quote: freight, lateness and exception cost of its outcome (NaN when unknown)."""
    late_cost, exc_cost = costs.tier_costs(quotes["customer_tier"])
    late = quotes["late"].to_numpy(float)
    exc = quotes["exception"].to_numpy(float)
    known = np.isfinite(late) | np.isfinite(exc)
    out = pd.DataFrame({
        "freight": quotes["price"].to_numpy(float),
        "late_cost": late_cost * np.nan_to_num(late),
        "exception_cost": exc_cost * np.nan_to_num(exc),
        "on_time": 1.0 - late,
        "exception": exc,
        "known": known,
    }, index=quotes.index)
    out["total"] = out["freight"] + out["late_cost"] + out["exception_cost"]
    return out


def policy_metrics(realized: pd.DataFrame, picks: pd.Index) -> dict[str, float]:
    r = realized.loc[picks]
    judged = r.loc[r["known"]]
    if len(judged) == 0:
        return {"n_shipments": float(len(r)), "outcome_coverage": 0.0}
    return {
        "realized_cost_per_shipment": float(judged["total"].mean()),
        "freight_per_shipment": float(judged["freight"].mean()),
        "late_cost_per_shipment": float(judged["late_cost"].mean()),
        "exception_cost_per_shipment": float(judged["exception_cost"].mean()),
        "on_time_rate": float(np.nanmean(judged["on_time"])),
        "exception_rate": float(np.nanmean(judged["exception"])),
        "n_shipments": float(len(r)),
        "outcome_coverage": float(len(judged) / len(r)),
    }


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    ok = np.isfinite(y) & np.isfinite(p)
    if ok.sum() < 2 or len(np.unique(y[ok])) < 2:
        return float("nan")
    return float(roc_auc_score(y[ok], p[ok]))


def _brier(y: np.ndarray, p: np.ndarray) -> float:
    ok = np.isfinite(y) & np.isfinite(p)
    return float(np.mean((p[ok] - y[ok]) ** 2)) if ok.any() else float("nan")


def risk_metrics(quotes: pd.DataFrame, out: pd.DataFrame) -> dict[str, float]:
    """Discrimination and calibration of the risk estimates over every quote with an outcome."""
    on_time = 1.0 - quotes["late"].to_numpy(float)
    exc = quotes["exception"].to_numpy(float)
    p_on = out["p_on_time"].to_numpy(float)
    p_exc = out["p_exception"].to_numpy(float)
    if not np.isfinite(p_on).any():
        return {}
    m = {
        "auc_on_time": _auc(on_time, p_on),
        "brier_on_time": _brier(on_time, p_on),
        "mean_p_on_time": float(np.nanmean(p_on)),
        "observed_on_time": float(np.nanmean(on_time)),
        "auc_exception": _auc(exc, p_exc),
        "brier_exception": _brier(exc, p_exc),
        "mean_p_exception": float(np.nanmean(p_exc)),
        "observed_exception": float(np.nanmean(exc)),
    }
    return {k: v for k, v in m.items() if np.isfinite(v)}


def evaluate_policy(predictor: Any, quotes: pd.DataFrame, costs: CostModel,
                    defaults: Mapping[str, list[str]] | None = None, *,
                    target_savings_pct: float = 10.0) -> dict[str, float]:
    """Everything the recommender is judged on, in one flat dict (logged to MLflow as is)."""
    inputs = quotes[list(QUOTE_COLUMNS)]
    out = predictor.predict(inputs)
    out.index = quotes.index
    chosen = out.index[out["chosen"].astype(bool).to_numpy()]
    realized = realized_costs(quotes, costs)
    metrics = policy_metrics(realized, chosen)
    metrics["n_quotes"] = float(len(quotes))
    picks = policy_picks(quotes, defaults)
    model_cost = metrics.get("realized_cost_per_shipment", float("nan"))
    for name, idx in picks.items():
        pm = policy_metrics(realized, idx)
        for key in ("realized_cost_per_shipment", "freight_per_shipment", "on_time_rate",
                    "exception_rate"):
            if key in pm:
                metrics[f"{name}_{key}"] = pm[key]
        base = pm.get("realized_cost_per_shipment")
        if base:
            metrics[f"savings_vs_{name}_pct"] = 100.0 * (base - model_cost) / base
    logged = quotes.index[quotes["chosen"].astype(bool).to_numpy()]
    pm = policy_metrics(realized, logged)
    for key in ("realized_cost_per_shipment", "freight_per_shipment", "on_time_rate",
                "exception_rate"):
        if key in pm:
            metrics[f"logged_{key}"] = pm[key]
    metrics.update(risk_metrics(quotes, out))
    checks = [metrics.get("savings_vs_cheapest_pct", -1.0) >= target_savings_pct,
              metrics.get("on_time_rate", 0.0) >= metrics.get("cheapest_on_time_rate", 1.0)]
    checks += [metrics.get(f"savings_vs_{p}_pct", 1.0) > 0 for p in ("fastest", "odoo_default")]
    metrics["acceptance_pass"] = float(all(checks))
    return metrics


def comparison_table(metrics: Mapping[str, float], currency: str = "EUR") -> str:
    """The policies side by side (what ``waybill models evaluate recommender`` prints)."""
    rows = [("recommender", "")] + [(p, f"{p}_") for p in POLICIES] + [("logged", "logged_")]
    lines = [f"{'policy':<14}{'cost/shipment':>15}{'freight':>10}{'on time':>9}"
             f"{'exceptions':>12}{'recommender saves':>19}"]
    for label, prefix in rows:
        cost = metrics.get(f"{prefix}realized_cost_per_shipment")
        if cost is None:
            continue
        freight = metrics.get(f"{prefix}freight_per_shipment")
        on_time = metrics.get(f"{prefix}on_time_rate")
        exc = metrics.get(f"{prefix}exception_rate")
        saving = metrics.get(f"savings_vs_{label}_pct")
        lines.append(
            f"{label:<14}{cost:>11.2f} {currency}"
            + (f"{freight:>10.2f}" if freight is not None else f"{'':>10}")
            + (f"{100 * on_time:>8.1f}%" if on_time is not None else f"{'':>9}")
            + (f"{100 * exc:>11.1f}%" if exc is not None else f"{'':>12}")
            + (f"{saving:>18.1f}%" if saving is not None else ""))
    n = metrics.get("n_shipments")
    if n is not None:
        lines.append(f"({int(n)} held-out shipments; acceptance "
                     f"{'PASS' if metrics.get('acceptance_pass') else 'FAIL'}: >= 10 % below "
                     "cheapest, below fastest and odoo_default, on-time >= cheapest)")
    return "\n".join(lines)
