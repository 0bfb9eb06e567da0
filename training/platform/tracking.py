"""MLflow's location and layout for Waybill: one experiment per model, artifacts beside the DB.

The tracking store and the model registry share one URI, resolved by
``app.triage.registry.resolve_tracking_uri`` (explicit > ``MLFLOW_TRACKING_URI`` > settings;
default ``sqlite:///./var/mlflow.db``). With a SQLite store, artifacts go to ``mlartifacts/``
next to the database file, so ``var/`` holds everything and ``mlflow ui`` finds it.
"""

from __future__ import annotations

from typing import Any

from app.triage.registry import registered_name, resolve_tracking_uri, sqlite_path

EXPERIMENT_PREFIX = "waybill-"


def tracking_uri(explicit: str | None = None) -> str:
    uri = resolve_tracking_uri(explicit)
    path = sqlite_path(uri)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return uri


def artifact_root(uri: str) -> str | None:
    """Where runs of a SQLite store keep artifacts (None: let the tracking server decide)."""
    path = sqlite_path(uri)
    if path is None:
        return None
    return (path.resolve().parent / "mlartifacts").as_uri()


def client(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(mlflow_client: Any, model: str, uri: str) -> str:
    """The experiment of ``model`` (``waybill-<model>``), created on first use."""
    name = f"{EXPERIMENT_PREFIX}{model}"
    found = mlflow_client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    root = artifact_root(uri)
    location = f"{root}/{name}" if root else None
    return str(mlflow_client.create_experiment(
        name, artifact_location=location,
        tags={"waybill.model": model, "waybill.registered_name": registered_name(model)}))


def ui_command(uri: str, port: int = 5000) -> list[str]:
    """The ``mlflow ui`` command line that shows this store (runs, metrics, registry)."""
    cmd = ["mlflow", "ui", "--backend-store-uri", uri, "--port", str(port)]
    root = artifact_root(uri)
    if root:
        cmd += ["--default-artifact-root", root]
    return cmd
