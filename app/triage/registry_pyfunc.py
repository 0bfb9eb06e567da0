"""The MLflow pyfunc wrapper of a Waybill predictor, and loading one back from the registry.

Kept apart from ``app.triage.registry`` because importing MLflow takes about a second: code
that only needs names or baselines should not pay for it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mlflow
import pandas as pd

from app.triage.registry import Predictor, registered_name

_uri_lock = threading.RLock()
ENV_KEYS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


class PredictorModel(mlflow.pyfunc.PythonModel):
    """A ``Predictor`` as an MLflow python model; ``mlflow.pyfunc.load_model`` gives it back."""

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor

    # ``pd.DataFrame`` is the one input hint MLflow takes as is (no schema inference of its
    # own, no warning): the signature comes from the input example.
    def predict(self, context: Any, model_input: pd.DataFrame,
                params: dict[str, Any] | None = None) -> pd.DataFrame:
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(
            model_input)
        return self.predictor.predict(frame)


@contextmanager
def tracking(uri: str) -> Iterator[None]:
    """Point MLflow's process-wide tracking and registry URIs at ``uri`` for a block.

    MLflow resolves ``models:/`` URIs through its global registry URI, and ``set_tracking_uri``
    also writes ``MLFLOW_TRACKING_URI`` into the environment; both are put back afterwards. The
    lock keeps two users in one process (the service's refresh thread, a CLI) from crossing.
    """
    with _uri_lock:
        env = {k: os.environ.get(k) for k in ENV_KEYS}
        before_tracking, before_registry = _current_uris()
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        try:
            yield
        finally:
            mlflow.set_tracking_uri(before_tracking)  # type: ignore[arg-type]
            mlflow.set_registry_uri(before_registry)  # type: ignore[arg-type]
            for key, value in env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _current_uris() -> tuple[str | None, str | None]:
    """The URIs *as set* (None: MLflow resolves them from the environment on each use).

    Restoring what ``get_tracking_uri()`` resolved would pin a value that was only an
    environment default, so read the set values where MLflow keeps them.
    """
    try:
        from mlflow.tracking._model_registry import utils as registry_utils
        from mlflow.tracking._tracking_service import utils as tracking_utils

        return tracking_utils._tracking_uri, registry_utils._registry_uri
    except (ImportError, AttributeError):  # a future MLflow: fall back to the resolved values
        return mlflow.get_tracking_uri(), mlflow.get_registry_uri()


def unwrap(model: Any) -> Predictor:
    """The Waybill predictor inside a loaded pyfunc model (or the model itself if foreign)."""
    inner = model.unwrap_python_model() if hasattr(model, "unwrap_python_model") else model
    predictor = getattr(inner, "predictor", None)
    if predictor is not None:
        return predictor  # type: ignore[no-any-return]
    return _PyfuncPredictor(model)


class _PyfuncPredictor:
    """Adapter for a registered model that is not a ``PredictorModel`` (e.g. a sklearn flavor)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = self.model.predict(frame)
        return out if isinstance(out, pd.DataFrame) else pd.DataFrame({"prediction": out})


def load_version(uri: str, name: str, version: str | int) -> Predictor:
    """Load version ``version`` of model ``name`` (``triage`` or ``waybill-triage``)."""
    with tracking(uri):
        model = mlflow.pyfunc.load_model(f"models:/{registered_name(name)}/{version}")
    return unwrap(model)
