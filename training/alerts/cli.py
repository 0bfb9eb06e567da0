"""``waybill alerts evaluate ...``: the figures behind the alerting thresholds.

* ``simulator`` - detection delay and false alarms per injected disruption (none, a regional
  weather event, a carrier hub failure) on simulated history;
* ``at-risk`` - the threshold chosen on a threshold period from the precision/recall curve and
  judged on a later hold-out, beside the naive rule "alert on an exception scan";
* ``olist`` - the detector over Olist's real history, day by day: when it flags the late-Nov
  2017 (Black Friday) surge and how many days it raises alerts elsewhere.

Each prints a readable table and, last, one JSON line for scripts.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer

evaluate_app = typer.Typer(help="Evaluate predictive alerting.", no_args_is_help=True)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


@evaluate_app.command("simulator")
def simulator(
    seed: int = typer.Option(11, "--seed", help="Simulation seed (the detector was tuned on 3)."),
    days: int = typer.Option(150, "--days", min=90),
    shipments_per_day: float = typer.Option(275.0, "--shipments-per-day", min=10.0),
) -> None:
    """Detection delay and false-alarm rate per injected disruption scenario."""
    from dataclasses import replace

    from training.alerts.scenarios import BASE, evaluate_scenarios

    base = replace(BASE, seed=seed, days=days, shipments_per_day=shipments_per_day)
    results = [r.as_dict() for r in evaluate_scenarios(base=base)]
    typer.echo(
        f"{'scenario':<22}{'delay (days)':>13}{'detected':>10}{'false alarms':>14}"
        f"{'per 1000 series-days':>22}{'false-alarm days':>18}"
    )
    for r in results:
        delay = "-" if r["detection_delay_days"] is None else f"{r['detection_delay_days']:.0f}"
        typer.echo(
            f"{r['name']:<22}{delay:>13}{r['detected_series']:>10}{r['false_alarms']:>14}"
            f"{r['false_alarms_per_1000_series_days']:>22.2f}"
            f"{r['false_alarm_days']:>11}/{r['days_judged']}"
        )
        if r["first_alert"]:
            typer.echo(f"  first alert: {r['first_alert']}")
    typer.echo(json.dumps({"seed": seed, "scenarios": results}))


@evaluate_app.command("at-risk")
def at_risk(
    seed: int = typer.Option(5, "--seed"),
    days: int = typer.Option(243, "--days", min=120),
    shipments_per_day: float = typer.Option(60.0, "--shipments-per-day", min=5.0),
    predictor: str = typer.Option(
        "both",
        "--predictor",
        help="model (LightGBM ETA fitted here), baseline (what serves "
        "without a registered model) or both",
    ),
    beta: float = typer.Option(1.0, "--beta", min=0.1, help="F-beta the threshold maximizes."),
    sweep_hours: float = typer.Option(6.0, "--sweep-hours", min=1.0),
    min_lead: list[float] = typer.Option(
        [0.0, 24.0], "--min-lead-hours", help="Count only alerts this long before the deadline."
    ),
) -> None:
    """Threshold from the precision/recall curve on a threshold period; hold-out figures."""
    import pandas as pd

    from app.triage.eta import baseline_predictor
    from training.alerts.at_risk import (
        choose_threshold,
        judge,
        replay,
        split_by_ship_time,
        with_min_lead,
    )
    from training.eta.datasets import from_tables
    from training.eta.train import EtaParams, fit_eta
    from training.simulator.generate import SimulationConfig, simulate_history

    cfg = SimulationConfig(
        days=days, seed=seed, start=date(2024, 1, 1), shipments_per_day=shipments_per_day
    )
    h = simulate_history(cfg)
    ds = from_tables(h.shipments, h.deliveries, h.events)
    ship_at = pd.to_datetime(ds.shipments["ship_at"], utc=True)
    start = pd.Timestamp(cfg.start, tz="UTC")
    fit_cut = start + pd.Timedelta(days=int(days * 0.6))  # ETA model: first 60 %
    hold_cut = start + pd.Timedelta(days=int(days * 0.8))  # threshold: next 20 %, hold-out: rest
    end = start + pd.Timedelta(days=days - 7)  # their outcomes are all known
    train = ds.subset((ship_at < fit_cut).to_numpy())
    later = ds.subset(((ship_at >= fit_cut) & (ship_at < end)).to_numpy())
    predictors: dict[str, Any] = {}
    if predictor in ("baseline", "both"):
        predictors["baseline"] = baseline_predictor()
    if predictor in ("model", "both"):
        predictors["model"] = fit_eta(
            train, EtaParams(n_estimators=150, learning_rate=0.08), seed=0
        )
    out: dict[str, Any] = {
        "seed": seed,
        "periods": {
            "eta_fit": f"< {fit_cut.date()}",
            "threshold": f"{fit_cut.date()} .. {hold_cut.date()}",
            "holdout": f"{hold_cut.date()} .. {end.date()}",
        },
    }
    for name, p in predictors.items():
        all_checks = replay(later, p, sweep_hours=sweep_hours)
        for lead in min_lead:
            checks = with_min_lead(all_checks, lead)
            tune, hold = split_by_ship_time(checks, hold_cut)
            threshold = choose_threshold(tune, beta)
            result = judge(hold, threshold)
            out[f"{name}@{lead:g}h"] = result
            _print_result(f"{name}, alerts >= {lead:g} h ahead", tune, result, beta)
    typer.echo(json.dumps(_clean(out)))


def _print_result(title: str, tune: Any, result: dict[str, Any], beta: float) -> None:
    threshold = result["threshold"]
    a, n = result["at_risk"], result["naive_exception_rule"]
    typer.echo(
        f"[{title}] threshold {threshold:.2f} (max F{beta:g} on the threshold period, "
        f"{int(tune.shipments['late'].sum())} late of {len(tune.shipments)})"
    )
    typer.echo(f"  hold-out: {int(a['late'])} late of {int(a['n'])} delivered shipments")
    for label, s in (("at-risk", a), ("naive: exception scan", n)):
        typer.echo(
            f"  {label:<24} precision {s['precision']:.3f}  recall {s['recall']:.3f}"
            f"  F1 {s['f1']:.3f}  flagged {int(s['flagged'])}"
            f"  median lead {s['median_lead_hours']:.1f} h"
        )


@evaluate_app.command("olist")
def olist(
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Olist directory (default: ../shared/data/olist beside the repository).",
    ),
    silence_hours: float = typer.Option(240.0, "--silence-hours", min=24.0),
) -> None:
    """The detector over Olist's history: the Black Friday 2017 surge and false-alarm days."""
    from training.alerts.olist import SURGE_END, SURGE_START, run_olist

    report, verdicts = run_olist(data, silence_hours=silence_hours)
    typer.echo(f"surge window {SURGE_START} .. {SURGE_END}; {report['days_judged']} days judged")
    for scope in ("carrier", "lane"):
        r = report[scope]
        typer.echo(
            f"[{scope}: {r['series']} series] surge first flagged {r['surge_first_flag']} "
            f"({r['surge_delay_days']} days after Black Friday; "
            f"{r['surge_first_flag_series']}); {r['surge_days_flagged']} surge days "
            f"flagged; {r['false_alarm_days']} days flagged elsewhere "
            f"({r['false_alarm_opens']} alerts opened)"
        )
    episodes = verdicts.loc[(verdicts["scope"] == "carrier") & (verdicts["event"] == "open")]
    for row in episodes.itertuples():
        typer.echo(
            f"  opened {row.day} {row.key} {row.metric}: {row.value:.3g} vs usual "
            f"{row.expected:.3g} (z={row.z:.1f})"
        )
    typer.echo(json.dumps(_clean({**report, "generated_at": datetime.now().isoformat()})))
