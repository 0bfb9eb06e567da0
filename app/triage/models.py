"""The models the service answers with: each loaded by alias from the MLflow registry.

``ModelManager`` keeps one slot per model (``triage``, ``eta``, ``recommender``):

* on start and on ``reload()`` (``POST /v1/admin/models/reload``, and every
  ``refresh_seconds`` in a background thread - or, in a process that never called ``start()``
  such as a job worker, on the first ``get`` after that long) it asks the registry which version
  carries the served alias (``champion``) and loads it when it changed;
* a load that fails keeps the model that was serving (and reports the error);
* with nothing registered under the alias - or no registry at all - it serves the model's
  baseline, so the service answers from the first minute of a fresh installation;
* ``status()`` says, per model, which version serves and where it came from.

``get(name)`` returns the serving predictor wrapped so each prediction is counted in
``waybill_model_predictions_total{model,source}``; ``waybill_model_version{model}`` is the
serving version (0 for a baseline).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import pandas as pd
import structlog
from prometheus_client import Counter, Gauge

from app.triage.registry import (
    DEFAULT_ALIAS,
    MODEL_NAMES,
    Predictor,
    baseline_factory,
    redact_uri,
    registered_name,
    sqlite_path,
)

log = structlog.get_logger(__name__)

Source = Literal["registry", "baseline", "none"]

MODEL_VERSION = Gauge(
    "waybill_model_version",
    "Registry version serving each model (0: the baseline, -1: nothing can serve).",
    ["model"],
)
MODEL_PREDICTIONS = Counter(
    "waybill_model_predictions_total",
    "Rows predicted, by model and by where the serving model came from (registry, baseline).",
    ["model", "source"],
)
MODEL_RELOAD_FAILURES = Counter(
    "waybill_model_reload_failures_total",
    "Registry look-ups or model loads that failed (the previous model kept serving).",
    ["model"],
)

Loader = Callable[[str, str, str], Predictor]


class ModelUnavailable(RuntimeError):
    """Neither a registered model nor a baseline can serve this model name."""


@dataclass
class _Slot:
    name: str
    predictor: Predictor | None = None
    source: Source = "none"
    version: str | None = None
    run_id: str | None = None
    loaded_at: datetime | None = None
    checked_at: datetime | None = None
    error: str | None = None


class ServedModel:
    """The predictor that serves a model, counting what it predicts."""

    def __init__(self, name: str, predictor: Predictor, source: Source, version: str | None
                 ) -> None:
        self.name = name
        self.predictor = predictor
        self.source = source
        self.version = version

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = self.predictor.predict(frame)
        MODEL_PREDICTIONS.labels(self.name, self.source).inc(len(frame))
        return out

    def __getattr__(self, item: str) -> Any:  # model-specific helpers (e.g. class lists)
        return getattr(self.predictor, item)


def _default_loader(uri: str, name: str, version: str) -> Predictor:
    from app.triage.registry_pyfunc import load_version

    return load_version(uri, name, version)


class ModelManager:
    """Loads each model by alias, falls back to baselines, keeps the last good one on failure."""

    def __init__(
        self,
        tracking_uri: str,
        alias: str = DEFAULT_ALIAS,
        *,
        names: Iterable[str] = MODEL_NAMES,
        baselines: Mapping[str, Callable[[], Predictor]] | None = None,
        refresh_seconds: float | None = 300.0,
        loader: Loader | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.alias = alias
        self.names = tuple(names)
        self.refresh_seconds = refresh_seconds
        self._baselines = dict(baselines or {})
        self._loader = loader or _default_loader
        self._slots = {n: _Slot(n) for n in self.names}
        self._lock = threading.RLock()
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: Any = None

    # -- serving -------------------------------------------------------------------------------
    def get(self, name: str) -> ServedModel:
        """The predictor serving ``name`` (the registered champion, else the baseline)."""
        slot = self._slot(name)
        if slot.checked_at is None or self._stale(slot):
            self.reload([name])
        with self._lock:
            if slot.predictor is None:
                raise ModelUnavailable(
                    f"model {name!r} cannot serve: {slot.error or 'nothing loaded'}")
            return ServedModel(name, slot.predictor, slot.source, slot.version)

    def _stale(self, slot: _Slot) -> bool:
        """Without the refresh thread (a job worker that never called ``start``), ``get``
        re-checks the registry itself once ``refresh_seconds`` have passed."""
        if self._thread is not None or not self.refresh_seconds or slot.checked_at is None:
            return False
        age = (datetime.now(UTC) - slot.checked_at).total_seconds()
        return age > self.refresh_seconds

    def status(self) -> list[dict[str, Any]]:
        with self._lock:
            return [self._describe(self._slots[n]) for n in self.names]

    def describe(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "tracking_uri": redact_uri(self.tracking_uri),
            "refresh_seconds": self.refresh_seconds,
            "models": self.status(),
        }

    # -- loading -------------------------------------------------------------------------------
    def reload(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Check the registry for every model (or ``names``) and load what changed."""
        with self._reload_lock:
            for name in names or self.names:
                self._refresh(self._slot(name))
        return self.status()

    def start(self) -> ModelManager:
        """Load now, then re-check every ``refresh_seconds`` in a daemon thread."""
        self.reload()
        if self.refresh_seconds and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="model-refresh", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        assert self.refresh_seconds
        while not self._stop.wait(self.refresh_seconds):
            try:
                self.reload()
            except Exception:  # the loop must survive anything a registry can throw
                log.exception("model_refresh_failed")

    def _slot(self, name: str) -> _Slot:
        try:
            return self._slots[name]
        except KeyError:
            raise ModelUnavailable(
                f"unknown model {name!r}; served models: {', '.join(self.names)}") from None

    def _refresh(self, slot: _Slot) -> None:
        now = datetime.now(UTC)
        try:
            found = self._champion(slot.name)
        except Exception as exc:
            self._failed(slot, f"registry unavailable: {_brief(exc)}", now)
            return
        if found is None:
            self._serve_baseline(slot, now)
            return
        version, run_id = found
        if slot.source == "registry" and slot.version == version:
            with self._lock:
                slot.checked_at, slot.error = now, None
            return
        try:
            predictor = self._loader(self.tracking_uri, slot.name, version)
        except Exception as exc:
            self._failed(slot, f"loading version {version} failed: {_brief(exc)}", now)
            return
        with self._lock:
            slot.predictor, slot.source, slot.version, slot.run_id = (
                predictor, "registry", version, run_id)
            slot.loaded_at = slot.checked_at = now
            slot.error = None
        MODEL_VERSION.labels(slot.name).set(_as_number(version))
        log.info("model_loaded", model=slot.name, version=version, alias=self.alias)

    def _serve_baseline(self, slot: _Slot, now: datetime) -> None:
        """Nothing registered under the alias: the baseline serves (built once)."""
        if slot.source == "baseline":
            with self._lock:
                slot.checked_at, slot.error = now, None
            return
        predictor, why = self._baseline(slot.name)
        if predictor is None:  # keep whatever serves, say why nothing better can
            with self._lock:
                slot.checked_at = now
                slot.error = f"no registered model and no baseline: {why}"
                if slot.predictor is None:
                    MODEL_VERSION.labels(slot.name).set(-1)
            return
        with self._lock:
            slot.predictor, slot.source, slot.version, slot.run_id = (
                predictor, "baseline", None, None)
            slot.loaded_at = slot.checked_at = now
            slot.error = None
        MODEL_VERSION.labels(slot.name).set(0)
        log.info("model_baseline_serving", model=slot.name, alias=self.alias)

    def _failed(self, slot: _Slot, message: str, now: datetime) -> None:
        """Keep whatever serves; if nothing does yet, a baseline beats no answer."""
        MODEL_RELOAD_FAILURES.labels(slot.name).inc()
        with self._lock:
            slot.checked_at, slot.error = now, message
            serving = slot.predictor is not None
        log.warning("model_reload_failed", model=slot.name, error=message, kept_previous=serving)
        if serving:
            return
        predictor, why = self._baseline(slot.name)
        with self._lock:
            if predictor is None:
                slot.error = f"{message}; no baseline either: {why}"
            else:
                slot.predictor, slot.source, slot.version, slot.run_id = (
                    predictor, "baseline", None, None)
                slot.loaded_at = now
        MODEL_VERSION.labels(slot.name).set(-1 if predictor is None else 0)

    def _baseline(self, name: str) -> tuple[Predictor | None, str | None]:
        try:
            factory = self._baselines.get(name) or baseline_factory(name)
            return factory(), None
        except Exception as exc:  # BaselineUnavailable, or a baseline that cannot build
            return None, _brief(exc)

    def _champion(self, name: str) -> tuple[str, str | None] | None:
        """(version, run id) under the alias; None when nothing is registered there."""
        path = sqlite_path(self.tracking_uri)
        if path is not None and not path.exists():
            return None  # no registry yet: do not create one from the service
        from mlflow.exceptions import MlflowException

        client = self._mlflow()
        try:
            model = client.get_registered_model(registered_name(name))
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        version = (model.aliases or {}).get(self.alias)
        if version is None:
            return None
        mv = client.get_model_version(registered_name(name), str(version))
        return str(version), mv.run_id

    def _mlflow(self) -> Any:
        if self._client is None:
            from mlflow import MlflowClient

            self._client = MlflowClient(tracking_uri=self.tracking_uri,
                                        registry_uri=self.tracking_uri)
        return self._client

    def _describe(self, slot: _Slot) -> dict[str, Any]:
        return {
            "name": slot.name,
            "registered_name": registered_name(slot.name),
            "alias": self.alias,
            "version": slot.version,
            "source": slot.source,
            "run_id": slot.run_id,
            "loaded_at": slot.loaded_at.isoformat() if slot.loaded_at else None,
            "checked_at": slot.checked_at.isoformat() if slot.checked_at else None,
            "error": slot.error,
        }

    def __enter__(self) -> ModelManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _as_number(version: str) -> float:
    try:
        return float(version)
    except ValueError:
        return 0.0


def _brief(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def manager_from_settings(settings: Any, *, tracking_uri: str | None = None) -> ModelManager:
    """The service's manager: URI per ``resolve_tracking_uri``, alias from settings."""
    from app.triage.registry import resolve_tracking_uri

    refresh = getattr(settings, "model_refresh_seconds", 300.0)
    return ModelManager(resolve_tracking_uri(tracking_uri, settings),
                        alias=str(getattr(settings, "model_alias", DEFAULT_ALIAS)),
                        refresh_seconds=refresh)
