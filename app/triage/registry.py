"""What serving and training agree on about models: names, the predictor shape, baselines, URIs.

Serving never imports ``training``; training imports this module. Every model Waybill serves is
a *predictor* - an object with ``predict(frame) -> frame`` that pickles with cloudpickle - logged
to MLflow wrapped in a pyfunc (``app.triage.registry_pyfunc.PredictorModel``) and registered as
``waybill-<name>``. The class of a predictor must live under ``app/`` so that the service can
unpickle it without the training code.

Each model also has a *baseline* predictor that the service uses while nothing is registered
under the served alias. Baselines are found by name: either registered with
``register_baseline(name, factory)`` or, by convention, the zero-argument callable
``baseline_predictor`` of the serving module listed in ``BASELINE_FACTORIES``.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

MODEL_NAMES: tuple[str, ...] = ("triage", "eta", "recommender")
REGISTERED_PREFIX = "waybill-"
DEFAULT_ALIAS = "champion"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"

# "module:attribute" of each model's serving-side baseline factory (imported on first use).
BASELINE_FACTORIES: dict[str, str] = {
    "triage": "app.triage.classifier:baseline_predictor",
    "eta": "app.triage.eta:baseline_predictor",
    "recommender": "app.triage.recommender:baseline_predictor",
}


@runtime_checkable
class Predictor(Protocol):
    """A fitted model (or a baseline): a frame of inputs in, a frame of predictions out."""

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame: ...


class BaselineUnavailable(LookupError):
    """No baseline predictor is known for a model name."""


def registered_name(name: str) -> str:
    """``triage`` -> ``waybill-triage`` (the MLflow registered model)."""
    return name if name.startswith(REGISTERED_PREFIX) else f"{REGISTERED_PREFIX}{name}"


# -- baselines ---------------------------------------------------------------------------------
_baselines: dict[str, Callable[[], Predictor]] = {}
_baselines_lock = threading.Lock()


def register_baseline(name: str, factory: Callable[[], Predictor]) -> None:
    """Make ``factory()`` the baseline predictor of ``name`` (overrides the convention)."""
    with _baselines_lock:
        _baselines[name] = factory


def baseline_factory(name: str) -> Callable[[], Predictor]:
    """The factory of ``name``'s baseline; ``BaselineUnavailable`` says why there is none."""
    with _baselines_lock:
        if name in _baselines:
            return _baselines[name]
    target = BASELINE_FACTORIES.get(name)
    if target is None:
        raise BaselineUnavailable(f"no baseline is registered for model {name!r}")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BaselineUnavailable(
            f"baseline of {name!r} not available: cannot import {module_name} ({exc})"
        ) from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise BaselineUnavailable(f"baseline of {name!r} not available: {target} is missing")
    return factory  # type: ignore[no-any-return]


def baseline_predictor(name: str) -> Predictor:
    return baseline_factory(name)()


# -- tracking URI --------------------------------------------------------------------------------
def resolve_tracking_uri(explicit: str | None = None, settings: Any = None) -> str:
    """Where MLflow's tracking store and registry live.

    Precedence: the explicit argument, then ``MLFLOW_TRACKING_URI`` (MLflow's own variable, so
    ``mlflow ui`` and Waybill agree), then ``settings.mlflow_tracking_uri``
    (``WAYBILL_MLFLOW_TRACKING_URI``, default ``sqlite:///./var/mlflow.db``).
    """
    if explicit:
        return explicit
    env = os.environ.get(TRACKING_URI_ENV, "").strip()
    if env:
        return env
    if settings is None:
        from app.core.config import get_settings

        settings = get_settings()
    return str(settings.mlflow_tracking_uri)


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///...`` URI (None for other stores or in-memory)."""
    if not uri.startswith("sqlite:///"):
        return None
    raw = uri[len("sqlite:///") :].split("?", 1)[0]
    if not raw or raw == ":memory:":
        return None
    return Path(raw)


def redact_uri(uri: str) -> str:
    """Drop credentials from a URI before showing it (``https://user:pw@host`` -> ``host``)."""
    parts = urlsplit(uri)
    if parts.password is None and parts.username is None:
        return uri
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))
