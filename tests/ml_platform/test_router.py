"""``GET /v1/models`` and ``POST /v1/admin/models/reload`` on a minimal app."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from fastapi import FastAPI
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from app.api.errors import install_error_handlers
from app.core.config import Settings
from app.core.security import DEV_API_KEY
from app.triage.models import ModelManager
from app.triage.router import EXTRAS_KEY, router
from ml_platform.toy import ToySpec, ZeroPredictor
from training.platform.pipeline import train


def _app(settings: Settings, manager: ModelManager | None = None) -> FastAPI:
    app = FastAPI()
    extras = {} if manager is None else {EXTRAS_KEY: manager}
    app.state.ctx = SimpleNamespace(settings=settings, db=None, extras=extras)
    install_error_handlers(app)
    app.include_router(router)
    return app


def _settings(tmp_path: Path, uri: str) -> Settings:
    # the public dev key (every role), no rate limiting: nothing here needs the database
    return Settings(env="dev", allow_dev_api_key=True, rate_limit_per_minute=0,
                    database_url=f"sqlite:///{tmp_path / 'w.db'}", mlflow_tracking_uri=uri,
                    _env_file=None)  # type: ignore[call-arg]


KEY = {"X-API-Key": DEV_API_KEY}


def test_default_manager_answers_with_baselines_on_an_empty_registry(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = f"sqlite:///{tmp_path / 'var' / 'mlflow.db'}"
    app = _app(_settings(tmp_path, uri))
    with TestClient(app) as client:  # the router's lifespan loads on start
        assert client.get("/v1/models").status_code == 401
        body = client.get("/v1/models", headers=KEY).json()
    assert body["alias"] == "champion"
    models = {m["name"]: m for m in body["models"]}
    assert set(models) == {"triage", "eta", "recommender"}
    assert models["recommender"]["source"] == "baseline"
    assert models["recommender"]["registered_name"] == "waybill-recommender"
    assert models["recommender"]["version"] is None
    for m in models.values():  # the colleagues' baselines may not exist yet: then it says why
        assert m["source"] == "baseline" or m["error"]
    assert isinstance(app.state.ctx.extras[EXTRAS_KEY], ModelManager)


def test_reload_after_promotion_reports_the_serving_version(
        tmp_path: Path, toy_data: Path, tracking_uri: str) -> None:
    manager = ModelManager(tracking_uri, names=("toy",), baselines={"toy": ZeroPredictor},
                           refresh_seconds=None)
    app = _app(_settings(tmp_path, tracking_uri), manager)
    client = TestClient(app, headers=KEY)
    [toy] = client.get("/v1/models").json()["models"]
    assert (toy["source"], toy["version"]) == ("baseline", None)

    result = train(ToySpec(), toy_data, tracking_uri=tracking_uri)
    MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri).set_registered_model_alias(
        "waybill-toy", "champion", result.version or "")
    [toy] = client.get("/v1/models").json()["models"]
    assert toy["source"] == "baseline"  # not re-read until a reload (or the periodic refresh)
    reloaded = client.post("/v1/admin/models/reload")
    assert reloaded.status_code == 200
    [toy] = reloaded.json()["models"]
    assert (toy["source"], toy["version"], toy["run_id"]) == ("registry", "1", result.run_id)
    [toy] = client.get("/v1/models").json()["models"]
    assert toy["version"] == "1" and toy["error"] is None
