"""``eta_app``: batch delivery-time predictions and their evaluation (``waybill eta``).

* ``predict --input shipments.csv --output eta.csv`` - p10/p50/p90/p95 in hours from ship time
  and as local dates; ``--format olist --input DIR`` predicts every order of an Olist directory
  from what is known at purchase (days from purchase).
* ``evaluate --data DIR [--format olist] [--log-mlflow]`` - time-split hold-out: model against
  the baselines, by stage, carrier, service level, season and month.
* ``fit --data DIR --out model.pkl`` - train on all of DIR (what a deployment would serve).
* ``bench`` - batch latency of ``predict`` (default 100,000 shipments).

The model is ``--model`` (a file from ``fit``, or an MLflow URI such as
``models:/waybill-eta@champion``), else the registered champion, else the baseline.
"""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
import typer

eta_app = typer.Typer(
    help="Delivery-time (ETA) prediction: batch predictions, evaluation, benchmark.",
    no_args_is_help=True,
)


class DataFormat(StrEnum):
    WAYBILL = "waybill"
    OLIST = "olist"


TRACKING_HELP = (
    "MLflow tracking/registry URI (default: MLFLOW_TRACKING_URI, else "
    "WAYBILL_MLFLOW_TRACKING_URI, else sqlite:///./var/mlflow.db)."
)


def _echo_err(message: str) -> None:
    typer.echo(message, err=True)


# -- model resolution --------------------------------------------------------------------------
def resolve_model(model: str | None, kind: str, tracking_uri: str | None = None) -> Any:
    """The predictor to use: a model file, an MLflow URI, the champion of the format's
    registered model (``waybill-eta``, ``waybill-eta-olist``), or the baseline."""
    from app.triage.eta import EtaBaseline, load_model

    if model and Path(model).is_file():
        return load_model(model)
    if model:
        import mlflow

        from app.triage.registry import resolve_tracking_uri
        from app.triage.registry_pyfunc import tracking, unwrap

        with tracking(resolve_tracking_uri(tracking_uri)):
            return unwrap(mlflow.pyfunc.load_model(model))
    champion = _champion(kind, tracking_uri)
    if champion is not None:
        return champion
    _echo_err(
        f"no registered ETA model for the {kind} format: using the baseline "
        f"({'Olist estimate' if kind == 'olist' else 'carrier promise'})"
    )
    return EtaBaseline(kind=kind, method="promise")


def _champion(kind: str, tracking_uri: str | None) -> Any | None:
    try:
        import mlflow

        from app.core.config import get_settings
        from app.triage.registry import resolve_tracking_uri, sqlite_path
        from app.triage.registry_pyfunc import tracking, unwrap
        from training.eta.spec import registered_name_for

        uri = resolve_tracking_uri(tracking_uri)
        path = sqlite_path(uri)
        if path is not None and not path.exists():
            return None
        alias = get_settings().model_alias
        with tracking(uri):
            predictor = unwrap(
                mlflow.pyfunc.load_model(f"models:/{registered_name_for(kind)}@{alias}")
            )
    except Exception:  # no registry, no champion, or an unloadable one: fall back
        return None
    return predictor if getattr(predictor, "kind", "waybill") == kind else None


# -- inputs ------------------------------------------------------------------------------------
def read_table(path: Path, name: str = "shipments") -> pd.DataFrame:
    """A CSV or Parquet file, or ``<name>.parquet|csv`` inside a directory."""
    if path.is_dir():
        for ext in ("parquet", "csv"):
            candidate = path / f"{name}.{ext}"
            if candidate.exists():
                return read_table(candidate, name)
        raise FileNotFoundError(f"no {name}.parquet or {name}.csv in {path}")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={"origin_postal_prefix": str, "destination_postal_prefix": str})


def prediction_frame(input_path: Path, fmt: str, events: Path | None = None) -> pd.DataFrame:
    """Rows to predict: shipments (at booking, or at their latest event when ``events`` is
    given) or every order of an Olist directory as known at purchase."""
    if fmt == DataFormat.OLIST:
        from training.eta.datasets import olist_prediction_frame

        return olist_prediction_frame(input_path)
    frame = read_table(input_path)
    if (
        events is None
        and input_path.is_dir()
        and any((input_path / f"events.{e}").exists() for e in ("parquet", "csv"))
    ):
        events = input_path
    if events is None:
        return frame
    from app.triage.eta_features import EVENT_COLUMNS, event_history, event_state

    ev = read_table(events, "events")
    ids = set(frame["shipment_id"].astype(str))
    ev = ev.loc[ev["shipment_id"].astype(str).isin(ids).to_numpy()]
    hist = event_history(ev)
    hist = hist.loc[hist["ev_status"] != "delivered"]
    latest = hist.groupby("shipment_id")["occurred_at"].max()
    frame = frame.copy()
    as_of = frame["shipment_id"].astype(str).map(latest)
    if "as_of" in frame:
        as_of = pd.to_datetime(frame["as_of"], utc=True).fillna(as_of)
    frame["as_of"] = as_of
    have = frame["as_of"].notna().to_numpy()
    state = event_state(hist, frame.loc[have, ["shipment_id", "as_of"]])
    for col in EVENT_COLUMNS:
        frame[col] = None
        frame.loc[have, col] = state[col].to_numpy()
    return frame


def predict_frame(predictor: Any, frame: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """The output table of ``waybill eta predict``."""
    from app.triage.eta import PREDICTION_COLUMNS, quantile_dates
    from app.triage.eta_features import STAGES, stage_of, state_columns

    pred = predictor.predict(frame)
    version = str(getattr(predictor, "version", None) or "baseline")
    if fmt == DataFormat.OLIST:
        out = pd.DataFrame({"order_id": frame["shipment_id"].astype(str).to_numpy()})
        for q in PREDICTION_COLUMNS:
            out[q] = (pred[q].to_numpy() / 24.0).round(3)
        return out
    out = pd.DataFrame({"shipment_id": frame["shipment_id"].astype(str).to_numpy()})
    stage = stage_of(state_columns(frame))
    out["stage"] = [STAGES[s] for s in stage]
    for q in PREDICTION_COLUMNS:
        out[q] = pred[q].to_numpy().round(2)
    dates = quantile_dates(frame, pred, "waybill")
    for col in dates.columns:
        out[col] = dates[col].to_numpy()
    out["model_version"] = version
    return out


# -- commands ----------------------------------------------------------------------------------
@eta_app.command("predict")
def predict(
    input_path: Path = typer.Option(
        ...,
        "--input",
        exists=True,
        help="Shipments CSV/Parquet (training-contract columns), or an Olist directory.",
    ),
    output: Path = typer.Option(..., "--output", help="CSV to write."),
    fmt: DataFormat = typer.Option(DataFormat.WAYBILL, "--format", help="waybill or olist."),
    events: Path | None = typer.Option(
        None,
        "--events",
        exists=True,
        help="Tracking events (CSV/Parquet): predict at each shipment's latest event.",
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        help="Model file from `waybill eta fit` or an MLflow model URI (default: the champion).",
    ),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
) -> None:
    """Predict p10/p50/p90/p95 for every row of --input; writes --output and prints a summary."""
    t0 = time.perf_counter()
    predictor = resolve_model(model, fmt.value, tracking_uri)
    frame = prediction_frame(input_path, fmt.value, events)
    t1 = time.perf_counter()
    out = predict_frame(predictor, frame, fmt.value)
    t2 = time.perf_counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(output, index=False)
    unit = "days from purchase" if fmt == DataFormat.OLIST else "hours from ship time"
    typer.echo(f"{len(out)} predictions ({unit}) -> {output}")
    typer.echo(
        json.dumps(
            {
                "rows": len(out),
                "output": str(output),
                "format": fmt.value,
                "model": str(getattr(predictor, "version", None) or "baseline"),
                "seconds_predict": round(t2 - t1, 3),
                "seconds": round(time.perf_counter() - t0, 3),
            }
        )
    )


@eta_app.command("evaluate")
def evaluate(
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Contract tables directory, or the Olist directory (default ../shared/data/olist).",
    ),
    fmt: DataFormat = typer.Option(DataFormat.WAYBILL, "--format", help="waybill or olist."),
    holdout_months: int | None = typer.Option(
        None, "--holdout-months", min=1, help="Held-out calendar months (default 6; Olist 3)."
    ),
    seed: int = typer.Option(0, "--seed"),
    log_mlflow: bool = typer.Option(
        False,
        "--log-mlflow",
        help="Log params, metrics and tables as a run of the waybill-eta experiment.",
    ),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    save_model: Path | None = typer.Option(
        None, "--save-model", help="Also pickle the model fitted on the training part."
    ),
    recency: bool = typer.Option(
        False,
        "--recency",
        help="Olist: add the recent-deliveries statistics (7/14/30-day windows) to the features.",
    ),
    before: str | None = typer.Option(
        None,
        "--before",
        help="Only shipments predicted before "
        "this month (YYYY-MM): a validation split that precedes "
        "the test months, for choosing settings.",
    ),
) -> None:
    """Fit on the earlier months, evaluate on the later ones; prints the comparison tables."""
    from dataclasses import replace

    from app.triage.eta import EtaBaseline
    from app.triage.eta import save_model as save
    from training.eta.evaluate import evaluation_report, format_table
    from training.eta.spec import FORMAT_PARAMS, EtaSpec

    if data is None and fmt == DataFormat.WAYBILL:
        raise typer.BadParameter("--data is required for the waybill format")
    t0 = time.perf_counter()
    params = replace(FORMAT_PARAMS[fmt.value], recency=True) if recency else None
    spec = EtaSpec(params=params, holdout_months=holdout_months)
    dataset = spec.load(data, fmt=fmt.value)  # type: ignore[arg-type]
    if before is not None:
        from training.eta.datasets import OLIST_TZ

        tz = OLIST_TZ if fmt == DataFormat.OLIST else "UTC"
        end = pd.Timestamp(f"{before}-01", tz=tz)
        dataset = dataset.subset((dataset.prediction_time < end).to_numpy())
    split = spec.split(dataset)
    typer.echo(split.description)
    t1 = time.perf_counter()
    model = spec.fit(split.train, seed=seed)
    t2 = time.perf_counter()
    if save_model is not None:
        save(model, save_model)
    promise_name = "olist_estimate" if fmt == DataFormat.OLIST else "carrier_promise"
    predictors: dict[str, Any] = {"model": model, promise_name: spec.baseline()}
    predictors["lane_median"] = EtaBaseline(fmt.value, "lane_median").fit(split.train.shipments)
    if fmt == DataFormat.OLIST:
        predictors["constant_median"] = EtaBaseline(fmt.value, "constant").fit(
            split.train.shipments
        )
    tables, flat = evaluation_report(
        predictors, split.holdout, promises={promise_name: "promised_date"}
    )
    t3 = time.perf_counter()
    titles = {
        "by_stage": "by stage (hold-out)",
        "by_carrier": "by carrier, at booking",
        "by_service_level": "by service level, at booking",
        "by_season": "peak season vs off-peak, at booking",
        "by_month": "by month of the first prediction",
    }
    text = "\n".join(format_table(tables[k], titles.get(k, k)) for k in tables)
    typer.echo(text)
    summary = {
        "format": fmt.value,
        "train": len(split.train),
        "holdout": len(split.holdout),
        "model.p50_mae_days": flat.get("model.booking.p50_mae_days"),
        f"{promise_name}.p50_mae_days": flat.get(f"{promise_name}.booking.p50_mae_days"),
        "model.coverage_80": flat.get("model.booking.coverage_80"),
        "seconds_fit": round(t2 - t1, 1),
        "seconds": round(t3 - t0, 1),
    }
    if log_mlflow:
        summary["run_id"] = _log_run(
            spec, split.description, model, flat, tables, text, tracking_uri
        )
    typer.echo(json.dumps(summary))


def _log_run(
    spec: Any,
    description: str,
    model: Any,
    flat: dict[str, float],
    tables: dict[str, pd.DataFrame],
    text: str,
    tracking_uri: str | None,
) -> str:
    import mlflow

    from app.triage.registry_pyfunc import tracking as tracking_scope
    from training.platform import tracking

    uri = tracking.tracking_uri(tracking_uri)
    with tracking_scope(uri):
        client = tracking.client(uri)
        exp_id = tracking.experiment_id(client, spec.name, uri)
        with mlflow.start_run(experiment_id=exp_id, run_name=f"eta-evaluate-{spec.fmt}") as run:
            mlflow.set_tags(
                {"waybill.model": spec.name, "waybill.kind": "evaluate", "waybill.format": spec.fmt}
            )
            params = {k: str(v)[:250] for k, v in spec.params().items()}
            params["split"] = description[:500]
            mlflow.log_params(params)
            metrics = {
                k.replace("@", "_"): v for k, v in flat.items() if v == v and abs(v) != float("inf")
            }
            mlflow.log_metrics(metrics)
            mlflow.log_text(text, "evaluation/tables.txt")
            for name, table in tables.items():
                mlflow.log_text(table.to_csv(index=False), f"evaluation/{name}.csv")
            return str(run.info.run_id)


@eta_app.command("fit")
def fit(
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Contract tables directory, or the Olist directory (default ../shared/data/olist).",
    ),
    fmt: DataFormat = typer.Option(DataFormat.WAYBILL, "--format", help="waybill or olist."),
    out: Path = typer.Option(..., "--out", help="Model file to write."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Fit on all of --data (calibrated on its latest months) and save the model."""
    from app.triage.eta import save_model
    from training.eta.spec import EtaSpec

    if data is None and fmt == DataFormat.WAYBILL:
        raise typer.BadParameter("--data is required for the waybill format")
    t0 = time.perf_counter()
    spec = EtaSpec()
    dataset = spec.load(data, fmt=fmt.value)  # type: ignore[arg-type]
    model = spec.fit(dataset, seed=seed)
    save_model(model, out)
    typer.echo(
        json.dumps(
            {
                "out": str(out),
                "format": fmt.value,
                "shipments": len(dataset),
                "rows": model.params.get("rows"),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
    )


@eta_app.command("oracle")
def oracle(
    days: int = typer.Option(610, "--days", min=60),
    start: str = typer.Option("2023-07-01", "--start", help="First simulated day."),
    seed: int = typer.Option(7, "--seed"),
    shipments_per_day: float = typer.Option(120.0, "--shipments-per-day"),
    holdout_from: str = typer.Option("2024-10-01", "--holdout-from"),
    replicates: int = typer.Option(41, "--replicates", min=3),
    log_mlflow: bool = typer.Option(
        False, "--log-mlflow", help="Log the figures as a run of the waybill-eta experiment."
    ),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
) -> None:
    """The simulator's irreducible booking error: p50 MAE of an oracle that knows the
    generative process (median of re-simulated outcomes), beside the carrier promise."""
    from datetime import date

    from training.eta.oracle import oracle_floor

    result = oracle_floor(
        days=days,
        start=date.fromisoformat(start),
        seed=seed,
        shipments_per_day=shipments_per_day,
        holdout_from=date.fromisoformat(holdout_from),
        replicates=replicates,
    )
    figures = result.as_dict()
    typer.echo(
        f"oracle p50 MAE {figures['oracle_mae_days']:.3f} d vs carrier promise "
        f"{figures['promise_mae_days']:.3f} d = {figures['oracle_over_promise']:.2f} x "
        f"({figures['n']} delivered outbound shipments, {replicates} replicates)"
    )
    if log_mlflow:
        figures["run_id"] = _log_oracle(figures, tracking_uri)
    typer.echo(json.dumps(figures))


def _log_oracle(figures: dict[str, Any], tracking_uri: str | None) -> str:
    import mlflow

    from app.triage.registry_pyfunc import tracking as tracking_scope
    from training.platform import tracking

    uri = tracking.tracking_uri(tracking_uri)
    with tracking_scope(uri):
        client = tracking.client(uri)
        exp_id = tracking.experiment_id(client, "eta", uri)
        with mlflow.start_run(experiment_id=exp_id, run_name="eta-oracle-waybill") as run:
            mlflow.set_tags(
                {"waybill.model": "eta", "waybill.kind": "oracle", "waybill.format": "waybill"}
            )
            mlflow.log_metrics({k: float(v) for k, v in figures.items()})
            return str(run.info.run_id)


@eta_app.command("bench")
def bench(
    rows: int = typer.Option(100_000, "--rows", min=1, help="Shipments to predict."),
    model: str | None = typer.Option(
        None, "--model", help="Model file (default: fit one on a small simulated history first)."
    ),
    repeat: int = typer.Option(3, "--repeat", min=1),
) -> None:
    """Batch latency: predict ROWS simulated shipments at booking (best of --repeat)."""
    from training.eta.bench import run_bench

    result = run_bench(rows, model, repeat)
    typer.echo(
        f"{result['rows']} shipments predicted in {result['best_seconds']:.2f} s "
        f"(best of {repeat}; {result['rows_per_second']:,.0f} rows/s)"
    )
    typer.echo(json.dumps(result))


if __name__ == "__main__":  # pragma: no cover
    eta_app()
