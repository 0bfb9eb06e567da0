"""Train, evaluate against the baseline, log to MLflow, register; promote behind a gate.

``train(spec, data_dir)`` runs one model's steps - dataset -> split -> fit -> evaluate model and
baseline on the same held-out data -> log (params, ``model_*`` and ``baseline_*`` metrics side
by side, the data fingerprint, figures, the pyfunc model with signature and input example) ->
register a new version of ``waybill-<model>``.

``promote(model, version)`` moves the serving alias (``champion``) to a version only if it beats
the current champion - or the baseline when there is none - on the primary metric, both
re-evaluated on the same held-out data; otherwise ``PromotionRefused`` carries the figures.
Each promotion decision is logged as a run of its own (``waybill.kind=promotion``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from app.triage.registry import DEFAULT_ALIAS, Predictor, registered_name
from training.platform import tracking
from training.platform.fingerprint import data_fingerprint
from training.platform.spec import ModelSpec
from training.platform.specs import get_spec

BASE_REQUIREMENTS = ("mlflow", "cloudpickle", "numpy", "pandas", "pydantic", "scikit-learn",
                     "lightgbm")


class PromotionError(RuntimeError):
    """A promotion that cannot even be judged (unknown version, no data, ...)."""


@dataclass
class PromotionResult:
    model: str
    registered_name: str
    version: str
    alias: str
    promoted: bool
    against: str  # "champion v3" or "baseline"
    champion_version: str | None
    primary_metric: str
    greater_is_better: bool
    challenger_metrics: dict[str, float]
    reference_metrics: dict[str, float]
    reason: str
    data_fingerprint: str | None = None
    run_id: str | None = None

    def figures(self) -> str:
        return figures_table({f"challenger v{self.version}": self.challenger_metrics,
                              self.against: self.reference_metrics},
                             self.primary_metric, self.greater_is_better)

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model, "version": self.version, "alias": self.alias,
            "promoted": self.promoted, "against": self.against,
            "primary_metric": self.primary_metric,
            "challenger": self.challenger_metrics.get(self.primary_metric),
            "reference": self.reference_metrics.get(self.primary_metric),
            "reason": self.reason, "data_fingerprint": self.data_fingerprint,
        }


class PromotionRefused(RuntimeError):
    """The challenger does not beat the champion (or baseline); the figures say by how much."""

    def __init__(self, result: PromotionResult) -> None:
        self.result = result
        super().__init__(f"{result.reason}\n{result.figures()}")


@dataclass
class TrainResult:
    model: str
    registered_name: str
    run_id: str
    experiment_id: str
    version: str | None
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    primary_metric: str
    greater_is_better: bool
    data_fingerprint: str
    split: str
    tracking_uri: str
    seconds: float
    promotion: PromotionResult | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def beats_baseline(self) -> bool:
        return is_better(self.metrics.get(self.primary_metric),
                         self.baseline_metrics.get(self.primary_metric), self.greater_is_better)

    def figures(self) -> str:
        return figures_table({"model": self.metrics, "baseline": self.baseline_metrics},
                             self.primary_metric, self.greater_is_better)

    def summary(self) -> dict[str, Any]:
        return {
            "model": self.model, "registered_name": self.registered_name,
            "version": self.version, "run_id": self.run_id,
            "primary_metric": self.primary_metric,
            "model_value": self.metrics.get(self.primary_metric),
            "baseline_value": self.baseline_metrics.get(self.primary_metric),
            "beats_baseline": self.beats_baseline, "data_fingerprint": self.data_fingerprint,
            "promoted": None if self.promotion is None else self.promotion.promoted,
            "seconds": round(self.seconds, 2),
        }


# -- helpers -------------------------------------------------------------------------------------
def is_better(candidate: float | None, reference: float | None, greater_is_better: bool,
              min_improvement: float = 0.0) -> bool:
    """Strictly better by more than ``min_improvement`` (a missing reference is beaten)."""
    if candidate is None or not math.isfinite(candidate):
        return False
    if reference is None or not math.isfinite(reference):
        return True
    gain = candidate - reference if greater_is_better else reference - candidate
    return gain > min_improvement


def _finite(metrics: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for k, v in metrics.items():
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out[str(k)] = f
    return out


def _fmt(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.4f}" if abs(v) < 1000 else f"{v:,.1f}"


def figures_table(columns: Mapping[str, Mapping[str, float]], primary: str,
                  greater_is_better: bool) -> str:
    """Metrics side by side, the primary metric first (marked ``*``), with the difference of the
    first column against the second."""
    names = list(columns)
    keys = sorted({k for m in columns.values() for k in m} - {primary})
    keys = [primary, *keys]
    width = max(len(k) for k in keys) + 2
    cols = [max(14, len(n) + 2) for n in names]
    head = "  " + "metric".ljust(width) + "".join(n.rjust(w) for n, w in zip(names, cols,
                                                                              strict=True))
    if len(names) >= 2:
        head += "delta".rjust(14)
    lines = [head]
    for k in keys:
        vals = [columns[n].get(k) for n in names]
        line = ("* " if k == primary else "  ") + k.ljust(width)
        line += "".join(_fmt(v).rjust(w) for v, w in zip(vals, cols, strict=True))
        if len(names) >= 2 and vals[0] is not None and vals[1] is not None:
            line += f"{vals[0] - vals[1]:+.4f}".rjust(14)
        lines.append(line)
    direction = "higher" if greater_is_better else "lower"
    lines.append(f"(* primary metric {primary}: {direction} is better)")
    return "\n".join(lines)


def _flat(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        text = str(value)
        out[prefix] = text if len(text) <= 500 else text[:497] + "..."


def _requirements() -> list[str]:
    reqs = []
    for dist in BASE_REQUIREMENTS:
        try:
            reqs.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return reqs


def _log_model(mlflow: Any, predictor: Predictor, signature: Any, example: pd.DataFrame,
               spec: ModelSpec, register: bool, fp: Mapping[str, Any]) -> Any:
    from app.triage.registry_pyfunc import PredictorModel

    return mlflow.pyfunc.log_model(
        name="model",
        python_model=PredictorModel(predictor),
        signature=signature,
        input_example=example,
        pip_requirements=_requirements(),
        registered_model_name=spec.registered_name if register else None,
        metadata={"waybill_model": spec.name, "data_fingerprint": fp["sha256"],
                  "primary_metric": spec.primary_metric},
    )


def _spec(spec: ModelSpec | str) -> ModelSpec:
    return get_spec(spec) if isinstance(spec, str) else spec


# -- train ---------------------------------------------------------------------------------------
def train(
    spec: ModelSpec | str,
    data_dir: str | Path,
    *,
    fmt: str = "waybill",
    tracking_uri: str | None = None,
    seed: int = 0,
    register: bool = True,
    promote_if_better: bool = False,
    alias: str = DEFAULT_ALIAS,
    run_name: str | None = None,
) -> TrainResult:
    """One training run of ``spec`` on ``data_dir``, logged to MLflow (and registered)."""
    import mlflow
    from mlflow.models import infer_signature

    from app.triage.registry_pyfunc import tracking as tracking_scope

    spec = _spec(spec)
    data_dir = Path(data_dir)
    uri = tracking.tracking_uri(tracking_uri)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(step: str, start: float) -> float:
        now = time.perf_counter()
        timings[step] = round(now - start, 3)
        return now

    fp = data_fingerprint(data_dir)
    t = time.perf_counter()
    dataset = spec.load(data_dir, fmt=fmt)
    # A spec bound to one format (eta-olist) reads that whatever was asked: log what it read.
    fmt = str(getattr(spec, "fmt", fmt))
    t = lap("load", t)
    split = spec.split(dataset)
    t = lap("split", t)
    predictor = spec.fit(split.train, seed=seed)
    t = lap("fit", t)
    baseline = spec.baseline()
    metrics = _finite(spec.evaluate(predictor, split.holdout))
    baseline_metrics = _finite(spec.evaluate(baseline, split.holdout))
    t = lap("evaluate", t)
    if spec.primary_metric not in metrics:
        raise ValueError(f"{spec.name}: evaluate() returned no {spec.primary_metric!r} "
                         f"(got {sorted(metrics)})")
    example = spec.input_example(dataset)
    signature = infer_signature(example, predictor.predict(example))

    params: dict[str, Any] = {}
    _flat("", spec.params(), params)
    params.update({"seed": seed, "data_format": fmt, "data_dir": str(data_dir.resolve()),
                   "split": split.description[:500]})
    primary = spec.primary_metric
    logged = {f"model_{k}": v for k, v in metrics.items()}
    logged.update({f"baseline_{k}": v for k, v in baseline_metrics.items()})
    if primary in baseline_metrics:
        logged[f"delta_{primary}"] = metrics[primary] - baseline_metrics[primary]
    evaluation = {"primary_metric": primary, "greater_is_better": spec.greater_is_better,
                  "model": metrics, "baseline": baseline_metrics, "split": split.description}
    version: str | None = None
    with tracking_scope(uri):
        client = tracking.client(uri)
        exp_id = tracking.experiment_id(client, spec.name, uri)
        name = run_name or f"{spec.name}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        with mlflow.start_run(experiment_id=exp_id, run_name=name) as run:
            mlflow.set_tags({
                "waybill.model": spec.name, "waybill.kind": "train",
                "waybill.primary_metric": primary, "data_fingerprint": fp["sha256"],
                "waybill.beats_baseline": str(is_better(
                    metrics.get(primary), baseline_metrics.get(primary),
                    spec.greater_is_better)).lower(),
            })
            mlflow.log_params(params)
            mlflow.log_metrics(logged)
            mlflow.log_dict(fp, "data/fingerprint.json")
            mlflow.log_dict(evaluation, "evaluation/metrics.json")
            figures = figures_table({"model": metrics, "baseline": baseline_metrics}, primary,
                                    spec.greater_is_better)
            mlflow.log_text(figures, "evaluation/figures.txt")
            info = _log_model(mlflow, predictor, signature, example, spec, register, fp)
            run_id = run.info.run_id
        if register and info.registered_model_version is not None:
            version = str(info.registered_model_version)
            base_value = baseline_metrics.get(primary, float("nan"))
            for key, value in {"primary_metric": primary, primary: f"{metrics[primary]:.6g}",
                               f"baseline_{primary}": f"{base_value:.6g}",
                               "data_fingerprint": fp["sha256"], "run_id": run_id}.items():
                client.set_model_version_tag(spec.registered_name, version, key, value)
    lap("log", t)
    result = TrainResult(
        model=spec.name, registered_name=spec.registered_name, run_id=run_id,
        experiment_id=exp_id, version=version, metrics=metrics,
        baseline_metrics=baseline_metrics, primary_metric=primary,
        greater_is_better=spec.greater_is_better, data_fingerprint=fp["sha256"],
        split=split.description, tracking_uri=uri, seconds=time.perf_counter() - t0,
        timings=timings)
    if promote_if_better and version is not None:
        try:
            result.promotion = _gate(spec, uri, version, predictor, split.holdout,
                                     alias=alias, fingerprint=fp["sha256"])
        except PromotionRefused as refused:
            result.promotion = refused.result
    return result


# -- promote -------------------------------------------------------------------------------------
def champion_version(model: str, *, tracking_uri: str | None = None,
                     alias: str = DEFAULT_ALIAS) -> str | None:
    """The version ``alias`` points at (None when nothing is registered there)."""
    uri = tracking.tracking_uri(tracking_uri)
    return _alias_version(tracking.client(uri), registered_name(model), alias)


def _alias_version(client: Any, registered: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        model = client.get_registered_model(registered)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = (model.aliases or {}).get(alias)
    return None if version is None else str(version)


def promote(
    model: str,
    version: str | int,
    *,
    data_dir: str | Path | None = None,
    fmt: str | None = None,
    tracking_uri: str | None = None,
    alias: str = DEFAULT_ALIAS,
    min_improvement: float = 0.0,
) -> PromotionResult:
    """Point ``alias`` at ``version`` if it beats the champion (or baseline) on held-out data.

    Both are re-evaluated on the held-out split of ``data_dir`` (default: the data the
    challenger was trained on, from its run). Raises ``PromotionRefused`` with the figures when
    the challenger is not better by more than ``min_improvement``.
    """
    from mlflow.exceptions import MlflowException

    from app.triage.registry_pyfunc import load_version

    spec = get_spec(model)
    uri = tracking.tracking_uri(tracking_uri)
    client = tracking.client(uri)
    version = str(version)
    try:
        mv = client.get_model_version(spec.registered_name, version)
    except MlflowException as exc:
        raise PromotionError(f"{spec.registered_name} has no version {version}: "
                             f"{str(exc).splitlines()[0]}") from exc
    run_params: dict[str, str] = {}
    if mv.run_id:
        try:
            run_params = dict(client.get_run(mv.run_id).data.params)
        except MlflowException:
            run_params = {}
    source = data_dir or run_params.get("data_dir")
    if not source:
        raise PromotionError("no held-out data: pass --data DIR (the challenger's run does not "
                             "record where it was trained)")
    data_path = Path(source)
    if not data_path.exists():
        raise PromotionError(f"held-out data {data_path} does not exist: pass --data DIR")
    fmt = fmt or run_params.get("data_format") or "waybill"
    dataset = spec.load(data_path, fmt=fmt)
    split = spec.split(dataset)
    challenger = load_version(uri, spec.registered_name, version)
    return _gate(spec, uri, version, challenger, split.holdout, alias=alias,
                 fingerprint=data_fingerprint(data_path)["sha256"],
                 min_improvement=min_improvement)


def _gate(spec: ModelSpec, uri: str, version: str, challenger: Predictor, holdout: Any, *,
          alias: str, fingerprint: str | None, min_improvement: float = 0.0
          ) -> PromotionResult:
    import mlflow

    from app.triage.registry_pyfunc import load_version
    from app.triage.registry_pyfunc import tracking as tracking_scope

    client = tracking.client(uri)
    reg = spec.registered_name
    current = _alias_version(client, reg, alias)
    note = ""
    reference: Predictor
    if current is not None and current != version:
        try:
            reference = load_version(uri, reg, current)
            against = f"champion v{current}"
        except Exception as exc:  # a broken champion must not block its replacement
            reference, against = spec.baseline(), "baseline"
            note = f" (champion v{current} could not be loaded: {type(exc).__name__})"
    else:
        reference, against = spec.baseline(), "baseline"
    challenger_metrics = _finite(spec.evaluate(challenger, holdout))
    reference_metrics = _finite(spec.evaluate(reference, holdout))
    primary = spec.primary_metric
    c, r = challenger_metrics.get(primary), reference_metrics.get(primary)
    result = PromotionResult(
        model=spec.name, registered_name=reg, version=version, alias=alias, promoted=False,
        against=against, champion_version=current, primary_metric=primary,
        greater_is_better=spec.greater_is_better, challenger_metrics=challenger_metrics,
        reference_metrics=reference_metrics, reason="", data_fingerprint=fingerprint)
    if current == version:
        result.reason = f"{reg} v{version} already is the {alias}"
        return result
    better = is_better(c, r, spec.greater_is_better, min_improvement)
    word = "higher" if spec.greater_is_better else "lower"
    if better:
        client.set_registered_model_alias(reg, alias, version)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        client.set_model_version_tag(reg, version, "promoted_at", stamp)
        client.set_model_version_tag(reg, version, "promoted_over", against)
        result.promoted = True
        result.reason = (f"promoted {reg} v{version} to @{alias}: {primary} {_fmt(c)} vs "
                         f"{_fmt(r)} for the {against}{note}")
    else:
        result.reason = (f"refused: {reg} v{version} does not beat the {against}{note} on "
                         f"{primary} ({_fmt(c)} vs {_fmt(r)}; {word} is better"
                         + (f", by more than {min_improvement:g}" if min_improvement else "")
                         + ")")
    with tracking_scope(uri):
        exp_id = tracking.experiment_id(client, spec.name, uri)
        with mlflow.start_run(experiment_id=exp_id,
                              run_name=f"promote-v{version}-{'ok' if better else 'refused'}"
                              ) as run:
            mlflow.set_tags({"waybill.model": spec.name, "waybill.kind": "promotion",
                             "waybill.version": version, "waybill.against": against,
                             "waybill.promoted": str(better).lower(),
                             "data_fingerprint": fingerprint or ""})
            mlflow.log_metrics({**{f"challenger_{k}": v for k, v in challenger_metrics.items()},
                                **{f"reference_{k}": v for k, v in reference_metrics.items()}})
            mlflow.log_text(f"{result.reason}\n{result.figures()}\n", "promotion.txt")
            result.run_id = run.info.run_id
    if not better:
        raise PromotionRefused(result)
    return result


# -- listing -------------------------------------------------------------------------------------
def list_models(*, tracking_uri: str | None = None) -> list[dict[str, Any]]:
    """Every version of every ``waybill-*`` model: aliases, primary metric vs baseline."""
    uri = tracking.tracking_uri(tracking_uri)
    client = tracking.client(uri)
    rows = []
    for rm in client.search_registered_models():
        if not rm.name.startswith("waybill-"):
            continue
        by_version: dict[str, list[str]] = {}
        for al, v in (rm.aliases or {}).items():
            by_version.setdefault(str(v), []).append(al)
        for mv in client.search_model_versions(f"name='{rm.name}'"):
            tags = dict(mv.tags or {})
            primary = tags.get("primary_metric", "")
            rows.append({
                "registered_name": rm.name, "version": str(mv.version),
                "aliases": sorted(by_version.get(str(mv.version), [])),
                "created": pd.Timestamp(mv.creation_timestamp, unit="ms", tz="UTC").isoformat(
                    timespec="seconds"),
                "primary_metric": primary, "model": tags.get(primary),
                "baseline": tags.get(f"baseline_{primary}"),
                "data_fingerprint": (tags.get("data_fingerprint") or "")[:12],
                "run_id": mv.run_id,
            })
    rows.sort(key=lambda r: (r["registered_name"], int(r["version"])))
    return rows
