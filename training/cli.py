"""Command line of the training steps, mounted by ``waybill`` as sub-commands.

* ``simulate_app`` - ``waybill simulate history --days 365 --seed 7 --out var/history`` writes
  the simulated tables (see ``training/README.md``), validates them against the contract and
  prints one JSON line: row counts and seconds, so scripts and CI logs can read it.
* ``train_app`` - ``waybill train <model> --data DIR``: fit, evaluate against the baseline on
  held-out data, log to MLflow, register (``--promote-if-better`` also runs the gate).
  ``waybill train triage`` needs no arguments: default data, and the first version that beats
  the baseline becomes the champion.
* ``models_app`` - ``waybill models list | promote <model> <version> | evaluate <model> | ui``.
* ``export_app`` - ``waybill export history --out DIR``: Waybill's store as contract tables.
* ``recommend_app`` - ``waybill recommend --input quotes.csv --output choices.csv``.

Each command prints what a person reads first and, last, one JSON line for scripts.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import typer

simulate_app = typer.Typer(
    help="Simulate shipment history (shipments, quotes, events, deliveries) for training.",
    no_args_is_help=True,
)


class TableFormat(StrEnum):
    PARQUET = "parquet"
    CSV = "csv"


@simulate_app.callback()
def _group() -> None:
    """Simulation commands."""


@simulate_app.command("history")
def history(
    out: Path = typer.Option(..., "--out", help="Directory to write the tables to."),
    days: int = typer.Option(365, "--days", min=1, help="Days of history from --start."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same "
                             "tables."),
    fmt: TableFormat = typer.Option(TableFormat.PARQUET, "--format", help="parquet or csv."),
    shipments_per_day: float = typer.Option(
        275.0, "--shipments-per-day", min=0.01,
        help="Mean outbound shipments per calendar day (customer returns come on top)."),
    start: datetime = typer.Option(
        datetime(2024, 1, 1), "--start", formats=["%Y-%m-%d"], help="First day of history."),
    validate: bool = typer.Option(True, "--validate/--no-validate",
                                  help="Check the tables against the training contract."),
) -> None:
    """Simulate history and write it; prints a one-line JSON summary."""
    from training.schemas import validate_tables
    from training.simulator.generate import SimulationConfig, simulate_history
    from training.simulator.io import write_tables

    t0 = time.perf_counter()
    config = SimulationConfig(days=days, seed=seed, start=start.date(),
                              shipments_per_day=shipments_per_day)
    hist = simulate_history(config)
    t_sim = time.perf_counter()
    valid = None
    if validate:
        report = validate_tables(hist.tables())
        valid = report.ok
        if not report.ok:
            for err in report.errors:
                typer.echo(f"contract violation: {err}", err=True)
    write_tables(hist.tables(), out, fmt.value, hist.manifest())
    t_end = time.perf_counter()
    summary = {
        **{name: len(df) for name, df in hist.tables().items()},
        "seed": seed,
        "days": days,
        "format": fmt.value,
        "out": str(out),
        "valid": valid,
        "seconds_simulate": round(t_sim - t0, 3),
        "seconds": round(t_end - t0, 3),
    }
    typer.echo(json.dumps(summary))
    if valid is False:
        raise typer.Exit(code=1)


# -- ML platform -------------------------------------------------------------------------------
class DataFormat(StrEnum):
    WAYBILL = "waybill"
    OLIST = "olist"


TRACKING_HELP = ("MLflow tracking/registry URI (default: MLFLOW_TRACKING_URI, else "
                 "WAYBILL_MLFLOW_TRACKING_URI, else sqlite:///./var/mlflow.db).")

train_app = typer.Typer(
    help="Train a model: data -> features -> fit -> evaluate against the baseline on held-out "
    "data -> log to MLflow -> register.",
    no_args_is_help=True,
)
models_app = typer.Typer(help="Registered models: list, evaluate, promote by alias, MLflow UI.",
                         no_args_is_help=True)
export_app = typer.Typer(help="Export Waybill's own history as training tables.",
                         no_args_is_help=True)
recommend_app = typer.Typer(help="Batch carrier recommendation from a CSV of quotes.",
                            no_args_is_help=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=code)


def _policy_table(model: str, metrics: dict[str, float]) -> str | None:
    if model != "recommender":
        return None
    from training.recommender.evaluate import comparison_table

    return comparison_table(metrics)


@train_app.callback(invoke_without_command=True,
                    context_settings={"allow_interspersed_args": True})
def train(
    model: str = typer.Argument(..., help="triage, eta or recommender."),
    data: Path | None = typer.Option(
        None, "--data", exists=True, file_okay=False,
        help="Directory of tables (simulator output, `waybill export history`, or a public "
        "data set with --format). Optional for models with default data (triage)."),
    fmt: DataFormat = typer.Option(DataFormat.WAYBILL, "--format", help="waybill or olist."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the fit."),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    register: bool = typer.Option(True, "--register/--no-register",
                                  help="Register a new version of waybill-<model>."),
    promote_if_better: bool | None = typer.Option(
        None, "--promote-if-better/--no-promote",
        help="Then move @champion to it if it beats the champion (or baseline). Default: off, "
        "except for models that promote their first version (triage: when no champion "
        "exists yet and the model beats the baseline)."),
) -> None:
    """Train MODEL on --data; prints model vs baseline figures and a JSON summary."""
    from training.platform.pipeline import champion_version
    from training.platform.pipeline import train as run_train
    from training.platform.specs import SpecNotAvailable, get_spec

    try:
        spec = get_spec(model)
    except SpecNotAvailable as exc:
        raise _fail(str(exc)) from None
    if data is None:
        default_data = getattr(spec, "default_data_dir", None)
        if default_data is None:
            raise _fail(f"--data is required for {model}")
        data = default_data()
    if promote_if_better is None:
        # A fresh clone has no champion: the first version that beats the baseline serves.
        promote_if_better = bool(getattr(spec, "promote_first_version", False)) and (
            champion_version(model, tracking_uri=tracking_uri) is None)
    try:
        result = run_train(spec, data, fmt=fmt.value, tracking_uri=tracking_uri, seed=seed,
                           register=register, promote_if_better=promote_if_better)
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(f"training {model} failed: {exc}") from None
    typer.echo(f"{result.registered_name} v{result.version or '-'}  run {result.run_id}")
    typer.echo(f"split: {result.split}")
    typer.echo(result.figures())
    table = _policy_table(model, result.metrics)
    if table:
        typer.echo(table)
    if not result.beats_baseline:
        typer.echo(f"warning: the model does not beat the baseline on {result.primary_metric}",
                   err=True)
    if result.promotion is not None:
        typer.echo(result.promotion.reason)
    typer.echo(json.dumps(result.summary()))


@models_app.command("list")
def models_list(
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
) -> None:
    """Every registered version: aliases, primary metric vs baseline, data fingerprint."""
    from training.platform.pipeline import list_models

    rows = list_models(tracking_uri=tracking_uri)
    if not rows:
        typer.echo("no registered models (train one: waybill train <model> --data DIR)")
    else:
        typer.echo(f"{'model':<22}{'version':>8}  {'aliases':<12}{'metric':<30}"
                   f"{'model':>10}{'baseline':>10}  data")
        for r in rows:
            typer.echo(f"{r['registered_name']:<22}{r['version']:>8}  "
                       f"{','.join(r['aliases']) or '-':<12}{r['primary_metric'] or '-':<30}"
                       f"{r['model'] or '-':>10}{r['baseline'] or '-':>10}  "
                       f"{r['data_fingerprint']}")
    typer.echo(json.dumps({"models": rows}))


@models_app.command("promote")
def models_promote(
    model: str = typer.Argument(..., help="triage, eta or recommender."),
    version: str = typer.Argument(..., help="Registered version to promote."),
    data: Path | None = typer.Option(None, "--data", help="Held-out data (default: the data "
                                     "the version was trained on)."),
    fmt: DataFormat | None = typer.Option(None, "--format", help="waybill or olist."),
    alias: str = typer.Option("champion", "--alias", help="Alias to move."),
    min_improvement: float = typer.Option(0.0, "--min-improvement", min=0.0,
                                          help="Required margin on the primary metric."),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
) -> None:
    """Move @champion to VERSION if it beats the champion (or baseline) on held-out data."""
    from training.platform.pipeline import PromotionError, PromotionRefused, promote
    from training.platform.specs import SpecNotAvailable

    try:
        result = promote(model, version, data_dir=data, fmt=fmt.value if fmt else None,
                         tracking_uri=tracking_uri, alias=alias,
                         min_improvement=min_improvement)
    except PromotionRefused as refused:
        typer.echo(refused.result.reason)
        typer.echo(refused.result.figures())
        typer.echo(json.dumps(refused.result.summary()))
        raise typer.Exit(code=1) from None
    except (PromotionError, SpecNotAvailable, ValueError, FileNotFoundError) as exc:
        raise _fail(f"cannot promote: {exc}") from None
    typer.echo(result.reason)
    typer.echo(result.figures())
    typer.echo(json.dumps(result.summary()))


@models_app.command("evaluate")
def models_evaluate(
    model: str = typer.Argument(..., help="triage, eta or recommender."),
    data: Path = typer.Option(..., "--data", exists=True, file_okay=False,
                              help="Data whose held-out split to evaluate on."),
    version: str | None = typer.Option(None, "--version",
                                       help="Registered version (default: the champion)."),
    fmt: DataFormat = typer.Option(DataFormat.WAYBILL, "--format", help="waybill or olist."),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
) -> None:
    """Figures of a registered version (default @champion) against the baseline."""
    from app.triage.registry_pyfunc import load_version
    from training.platform import tracking
    from training.platform.pipeline import champion_version, figures_table
    from training.platform.specs import SpecNotAvailable, get_spec

    try:
        spec = get_spec(model)
    except SpecNotAvailable as exc:
        raise _fail(str(exc)) from None
    uri = tracking.tracking_uri(tracking_uri)
    version = version or champion_version(model, tracking_uri=uri)
    if version is None:
        raise _fail(f"no @champion for {spec.registered_name}: pass --version")
    split = spec.split(spec.load(data, fmt=fmt.value))
    metrics = spec.evaluate(load_version(uri, spec.registered_name, version), split.holdout)
    baseline = spec.evaluate(spec.baseline(), split.holdout)
    typer.echo(f"{spec.registered_name} v{version} on {data}")
    typer.echo(f"split: {split.description}")
    typer.echo(figures_table({f"v{version}": metrics, "baseline": baseline},
                             spec.primary_metric, spec.greater_is_better))
    table = _policy_table(model, metrics)
    if table:
        typer.echo(table)
    typer.echo(json.dumps({"model": model, "version": version, "metrics": metrics,
                           "baseline": baseline}, default=float))


@models_app.command("ui")
def models_ui(
    port: int = typer.Option(5000, "--port"),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    dry_run: bool = typer.Option(False, "--print", help="Only print the command."),
) -> None:
    """Open the MLflow UI on this store (runs with model_* and baseline_* metrics)."""
    import subprocess

    from training.platform import tracking

    cmd = tracking.ui_command(tracking.tracking_uri(tracking_uri), port)
    typer.echo(" ".join(cmd))
    if not dry_run:
        raise typer.Exit(code=subprocess.call(cmd))


@export_app.callback()
def _export_group() -> None:
    """Export commands."""


@export_app.command("history")
def export_history_cmd(
    out: Path = typer.Option(..., "--out", help="Directory to write the tables to."),
    fmt: TableFormat = typer.Option(TableFormat.PARQUET, "--format", help="parquet or csv."),
    database_url: str | None = typer.Option(None, "--database-url",
                                            help="Store to read (default WAYBILL_DATABASE_URL)."),
) -> None:
    """Shipments, quotes, events, deliveries (+ feedback) from Waybill's store, validated."""
    from app.core.config import get_settings
    from app.core.db import Database
    from training.platform.export import export_history

    db = Database(database_url or get_settings().database_url)
    try:
        result = export_history(db, out, fmt.value)
    finally:
        db.dispose()
    for w in result.report.warnings[:20]:
        typer.echo(f"warning: {w}", err=True)
    for e in result.report.errors:
        typer.echo(f"contract violation: {e}", err=True)
    typer.echo(json.dumps({**result.summary(), "out": str(out)}))
    if not result.report.ok:
        raise typer.Exit(code=1)


@recommend_app.callback(invoke_without_command=True,
                        context_settings={"allow_interspersed_args": True})
def recommend(
    input_path: Path = typer.Option(..., "--input", exists=True, dir_okay=False,
                                    help="CSV, one row per quote (shipment_id, carrier, "
                                    "service, price, ... see app.triage.recommender_features)."),
    output: Path = typer.Option(..., "--output", help="CSV, one row per shipment."),
    costs_file: Path | None = typer.Option(None, "--costs", exists=True, dir_okay=False,
                                           help="JSON cost model (default: built-in tiers)."),
    version: str | None = typer.Option(None, "--version",
                                       help="Registered version (default: the champion)."),
    baseline: bool = typer.Option(False, "--baseline", help="Use the cheapest-quote baseline."),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
) -> None:
    """Choose a quote per shipment; writes the choice, its scores and the explanation."""
    import pandas as pd

    from app.triage.recommender import recommend_frame
    from app.triage.recommender_costs import CostModel
    from app.triage.registry import resolve_tracking_uri

    quotes = pd.read_csv(input_path, dtype={"shipment_id": str})
    costs = CostModel.load(costs_file) if costs_file else CostModel()
    predictor, source, served = None, "baseline", None
    if not baseline:
        from app.triage.models import ModelManager
        from app.triage.registry_pyfunc import load_version

        uri = resolve_tracking_uri(tracking_uri)
        if version:
            predictor, source, served = load_version(uri, "recommender", version), "registry", \
                version
        else:
            manager = ModelManager(uri, names=("recommender",), refresh_seconds=None)
            got = manager.get("recommender")
            predictor, source, served = got.predictor, got.source, got.version
    try:
        choices = recommend_frame(predictor, quotes, costs, source=source,
                                  model_version=served)
    except ValueError as exc:
        raise _fail(f"cannot recommend: {exc}") from None
    output.parent.mkdir(parents=True, exist_ok=True)
    choices.to_csv(output, index=False)
    typer.echo(json.dumps({"shipments": len(choices), "quotes": len(quotes),
                           "source": source, "version": served, "output": str(output)}))


if __name__ == "__main__":
    simulate_app()
