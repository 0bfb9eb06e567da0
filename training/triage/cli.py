"""``triage_app``: exception-triage commands, mounted by ``waybill`` as ``waybill triage``.

* ``evaluate`` — the leave-one-family-out table (baseline vs model per held-out family, pooled,
  and trained on no real text at all); ``--log-mlflow`` logs it beside the baseline.
* ``classify --input events.csv --output out.csv`` — batch classification with the registered
  champion (through ``app.triage.models.ModelManager``) or, without one, the baseline; each
  row gets ``status, category, confidence, needs_review, source`` and its routing ``team,
  priority, suggested_action`` (context columns such as ``order_value`` are used when present).
* ``bench`` — single-event latency percentiles and 10,000-event batch time.

Each command ends with one JSON line for scripts.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

triage_app = typer.Typer(
    help="Exception triage: evaluate, classify, benchmark.", no_args_is_help=True
)

TRACKING_HELP = (
    "MLflow tracking/registry URI (default: MLFLOW_TRACKING_URI, else "
    "WAYBILL_MLFLOW_TRACKING_URI, else sqlite:///./var/mlflow.db)."
)


@triage_app.callback()
def _group() -> None:
    """Exception triage commands."""


@triage_app.command("evaluate")
def evaluate_cmd(
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        help="Where carrier-events-dev.csv lies (default ../shared/data beside the repository).",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed of the fits."),
    per_class: bool = typer.Option(False, "--per-class", help="Also print F1 per label."),
    no_real_row: bool = typer.Option(
        True, "--no-real-row/--skip-no-real-row", help="Also train on no real text at all."
    ),
    log_mlflow: bool = typer.Option(False, "--log-mlflow", help="Log the run to MLflow."),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
) -> None:
    """Leave-one-family-out evaluation on the real carrier texts: baseline vs model."""
    from training.triage.dataset import build_dataset
    from training.triage.evaluate import leave_one_family_out
    from training.triage.evaluate import per_class as per_class_table
    from training.triage.spec import default_config

    t0 = time.perf_counter()
    dataset = build_dataset(data_dir)
    if not dataset.families:
        typer.echo(
            "no real carrier texts found (carrier-events-dev.csv): nothing to hold out", err=True
        )
        raise typer.Exit(code=2)
    config = default_config()
    report = leave_one_family_out(dataset, config, seed=seed, synthetic_only=no_real_row)
    typer.echo(
        f"training rows: {dataset.describe()}; families held out: {', '.join(dataset.families)}"
    )
    typer.echo(report.table())
    if per_class and report.pooled is not None and report.pooled.predictions is not None:
        preds = report.pooled.predictions
        model_pc, base_pc = per_class_table(preds), per_class_table(preds, "baseline")
        table = model_pc[["f1"]].assign(f1_baseline=base_pc["f1"], support=model_pc["support"])
        typer.echo(table.round(3).to_string())
    summary = report.summary()
    run_id = None
    if log_mlflow:
        run_id = _log_evaluation(report, dataset.describe(), tracking_uri)
        typer.echo(f"logged to MLflow run {run_id}")
    typer.echo(
        json.dumps(
            {
                "unseen_family_macro_f1": round(summary["unseen_family_macro_f1"], 4),
                "unseen_family_exception_f1": round(summary["unseen_family_exception_f1"], 4),
                "unseen_family_accuracy": round(summary["unseen_family_accuracy"], 4),
                "baseline_unseen_family_macro_f1": round(
                    summary["baseline_unseen_family_macro_f1"], 4
                ),
                "baseline_unseen_family_exception_f1": round(
                    summary["baseline_unseen_family_exception_f1"], 4
                ),
                "per_family": {f.name: round(f.model["macro_f1"], 4) for f in report.folds},
                "run_id": run_id,
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
    )


def _log_evaluation(report: Any, sources: dict[str, int], uri: str | None) -> str:
    import mlflow

    from app.triage.registry_pyfunc import tracking as tracking_scope
    from training.platform import tracking

    resolved = tracking.tracking_uri(uri)
    with tracking_scope(resolved):
        client = tracking.client(resolved)
        exp = tracking.experiment_id(client, "triage", resolved)
        with mlflow.start_run(experiment_id=exp, run_name="triage-leave-one-family-out") as run:
            mlflow.set_tags(
                {
                    "waybill.model": "triage",
                    "waybill.kind": "evaluation",
                    "waybill.protocol": "leave-one-family-out",
                }
            )
            params = {k: str(v) for k, v in report.config.items()}
            params.update({f"rows_{k}": str(v) for k, v in sources.items()})
            mlflow.log_params(params)
            mlflow.log_metrics(report.summary())
            mlflow.log_text(report.table(), "evaluation/leave_one_family_out.txt")
            return str(run.info.run_id)


def load_classifier(tracking_uri: str | None = None, *, baseline: bool = False) -> tuple[Any, str]:
    """The serving classifier: champion via ``ModelManager`` when registered, else baseline."""
    from app.triage.classifier import ExceptionClassifier

    if baseline:
        return ExceptionClassifier(), "baseline (forced)"
    try:
        from app.triage.models import ModelManager
        from app.triage.registry import resolve_tracking_uri
    except ImportError:  # serving registry not available: no model to load
        return ExceptionClassifier(), "baseline (no model registry)"
    manager = ModelManager(
        resolve_tracking_uri(tracking_uri), names=("triage",), refresh_seconds=None
    )
    served = manager.get("triage")
    classifier = ExceptionClassifier(served.predictor)
    if not classifier.uses_model:
        return classifier, "baseline (nothing registered as champion)"
    return classifier, f"waybill-triage v{served.version} ({served.source})"


@triage_app.command("classify")
def classify_cmd(
    input_path: Path = typer.Option(
        ...,
        "--input",
        exists=True,
        dir_okay=False,
        help="CSV of events: carrier, code, description "
        "(raw_code/raw_description accepted), status_so_far.",
    ),
    output: Path = typer.Option(..., "--output", help="CSV to write (input + predictions)."),
    explain: bool = typer.Option(False, "--explain", help="Add an explanation per row."),
    baseline: bool = typer.Option(False, "--baseline", help="Use the baseline, not the model."),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
) -> None:
    """Classify a CSV of tracking events in one batch and route each (team, priority)."""
    import pandas as pd

    from app.triage.routing import route_frame

    frame = pd.read_csv(input_path, dtype=str, keep_default_na=False).replace("", None)
    if not ({"description", "raw_description"} & set(frame.columns)):
        typer.echo("input needs a description (or raw_description) column", err=True)
        raise typer.Exit(code=2)
    classifier, source = load_classifier(tracking_uri, baseline=baseline)
    t0 = time.perf_counter()
    result = classifier.classify_batch(frame, explain=explain)
    result = pd.concat([result, route_frame(result, frame)], axis=1)
    seconds = time.perf_counter() - t0
    out = frame.copy()
    for col in result.columns:
        if col == "label":
            continue
        out[col if col not in out.columns else f"predicted_{col}"] = result[col].to_numpy()
    output.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(output, index=False)
    typer.echo(f"classified {len(frame)} events with {source} in {seconds:.3f}s -> {output}")
    typer.echo(
        json.dumps(
            {
                "rows": len(frame),
                "classifier": source,
                "seconds": round(seconds, 4),
                "needs_review": int(result["needs_review"].sum()),
                "by_source": {str(k): int(v) for k, v in result["source"].value_counts().items()},
                "output": str(output),
            }
        )
    )


@triage_app.command("bench")
def bench_cmd(
    n_single: int = typer.Option(2000, "--single", help="Single-event calls to time."),
    n_batch: int = typer.Option(10_000, "--batch", help="Events in the batch."),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help=TRACKING_HELP),
    baseline: bool = typer.Option(False, "--baseline", help="Time the baseline instead."),
) -> None:
    """Latency: single-event classify p50/p99 and one batch of distinct simulated events."""
    import numpy as np
    import pandas as pd

    from app.triage.classifier import latency_probe
    from training.triage.dataset import simulator_events
    from training.triage.synth import synthetic_wording

    classifier, source = load_classifier(tracking_uri, baseline=baseline)
    events = simulator_events(seed=3, days=365, shipments_per_day=200)
    synth = synthetic_wording(seed=3)
    pool = pd.concat([events, synth], ignore_index=True)
    pool = pool.assign(
        carrier=np.where(np.arange(len(pool)) % 2 == 0, pool["carrier"], "unseen-carrier")
    )
    rng = np.random.default_rng(0)
    single = pool.iloc[rng.integers(0, len(pool), n_single)].to_dict("records")
    for ev in single[:50]:  # warm-up (caches, lazy imports)
        classifier.classify(ev)
    lat = latency_probe(classifier, single)
    batch = pool.iloc[rng.integers(0, len(pool), n_batch)].reset_index(drop=True)
    unique = pool.drop_duplicates("description")
    distinct = unique.sample(n=n_batch, replace=True, random_state=0).reset_index(drop=True)
    # A made-up reference word per row: every text distinct, so no de-duplication can help.
    refs = ["".join(chr(97 + (i // 26**p) % 26) for p in range(4)) for i in range(n_batch)]
    distinct = distinct.assign(description=distinct["description"] + " ref " + pd.Series(refs))
    t0 = time.perf_counter()
    classifier.classify_batch(batch)
    t_batch = time.perf_counter() - t0
    t0 = time.perf_counter()
    classifier.classify_batch(distinct)
    t_distinct = time.perf_counter() - t0
    typer.echo(f"classifier: {source}")
    typer.echo(
        f"single event: p50 {lat['p50_ms']:.2f} ms, p99 {lat['p99_ms']:.2f} ms, "
        f"max {lat['max_ms']:.2f} ms over {int(lat['n'])} calls (CPU time: p50 "
        f"{lat['cpu_p50_ms']:.2f} ms, p99 {lat['cpu_p99_ms']:.2f} ms)"
    )
    typer.echo(
        f"batch of {n_batch}: {t_batch:.3f} s (event stream, repeats) / "
        f"{t_distinct:.3f} s (all {n_batch} descriptions distinct)"
    )
    typer.echo(
        json.dumps(
            {
                "classifier": source,
                **{k: round(v, 3) for k, v in lat.items()},
                "batch_rows": n_batch,
                "batch_seconds": round(t_batch, 3),
                "batch_distinct_seconds": round(t_distinct, 3),
            }
        )
    )


if __name__ == "__main__":
    triage_app()
