"""The serving side: champion by alias, baseline when nothing is registered, the previous model
kept when a load fails, periodic refresh, metrics."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from prometheus_client import REGISTRY

from app.triage.models import ModelManager, ModelUnavailable
from ml_platform.toy import LinePredictor, ToySpec, ZeroPredictor
from training.platform.pipeline import train

FRAME = pd.DataFrame({"x": [1.0, 2.0]})


def _manager(uri: str, **kw: object) -> ModelManager:
    kw.setdefault("refresh_seconds", None)
    return ModelManager(uri, names=("toy",), baselines={"toy": ZeroPredictor},
                        **kw)  # type: ignore[arg-type]


def _champion(uri: str, version: str) -> None:
    MlflowClient(tracking_uri=uri, registry_uri=uri).set_registered_model_alias(
        "waybill-toy", "champion", version)


def _sample(name: str, labels: dict[str, str]) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_no_registry_at_all_serves_the_baseline(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'missing' / 'mlflow.db'}"
    manager = _manager(uri)
    served = manager.get("toy")
    assert served.source == "baseline" and served.version is None
    assert served.predict(FRAME)["y_hat"].tolist() == [0.0, 0.0]
    [status] = manager.status()
    assert status["source"] == "baseline" and status["error"] is None
    assert status["loaded_at"] is not None
    assert not (tmp_path / "missing").exists()  # serving never creates a registry
    assert _sample("waybill_model_version", {"model": "toy"}) == 0


def test_empty_registry_serves_the_baseline(tracking_uri: str) -> None:
    manager = _manager(tracking_uri)
    assert manager.get("toy").source == "baseline"


def test_serves_the_promoted_version_and_follows_the_alias(toy_data: Path, tracking_uri: str
                                                           ) -> None:
    v1 = train(ToySpec(quality=0.5), toy_data, tracking_uri=tracking_uri)
    v2 = train(ToySpec(quality=1.0), toy_data, tracking_uri=tracking_uri)
    manager = _manager(tracking_uri)
    assert manager.get("toy").source == "baseline"  # registered but not promoted
    _champion(tracking_uri, v1.version or "")
    [status] = manager.reload()
    assert (status["source"], status["version"], status["run_id"]) == ("registry", "1",
                                                                       v1.run_id)
    served = manager.get("toy")
    assert isinstance(served.predictor, LinePredictor)
    before = _sample("waybill_model_predictions_total", {"model": "toy", "source": "registry"})
    served.predict(FRAME)
    after = _sample("waybill_model_predictions_total", {"model": "toy", "source": "registry"})
    assert after == (before or 0) + 2
    assert _sample("waybill_model_version", {"model": "toy"}) == 1

    _champion(tracking_uri, v2.version or "")
    manager.reload()
    assert manager.get("toy").version == "2"
    assert _sample("waybill_model_version", {"model": "toy"}) == 2


def test_keeps_the_previous_model_when_loading_fails(toy_data: Path, tracking_uri: str) -> None:
    v1 = train(ToySpec(quality=0.5), toy_data, tracking_uri=tracking_uri)
    v2 = train(ToySpec(quality=1.0), toy_data, tracking_uri=tracking_uri)
    _champion(tracking_uri, "1")
    manager = _manager(tracking_uri)
    assert manager.get("toy").version == "1"

    # version 2's files are gone (a broken artifact store): promoting it must not take the
    # service down
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    model_id = client.get_model_version("waybill-toy", "2").source.removeprefix("models:/")
    shutil.rmtree(client.get_logged_model(model_id).artifact_location.removeprefix("file://"))
    _champion(tracking_uri, "2")
    [status] = manager.reload()
    assert status["version"] == "1" and status["source"] == "registry"
    assert "loading version 2 failed" in status["error"]
    assert manager.get("toy").predict(FRAME)["y_hat"].notna().all()
    assert v1.run_id != v2.run_id


def test_broken_registry_first_time_falls_back_to_baseline(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database")
    manager = _manager(f"sqlite:///{path}")
    served = manager.get("toy")
    assert served.source == "baseline"
    assert "registry unavailable" in manager.status()[0]["error"]


def test_without_baseline_the_model_is_unavailable(tmp_path: Path) -> None:
    manager = ModelManager(f"sqlite:///{tmp_path / 'none.db'}", names=("nobody",),
                           refresh_seconds=None)
    with pytest.raises(ModelUnavailable, match="no baseline"):
        manager.get("nobody")
    assert manager.status()[0]["source"] == "none"
    with pytest.raises(ModelUnavailable, match="unknown model"):
        manager.get("other")


def test_periodic_refresh_picks_up_a_promotion(toy_data: Path, tracking_uri: str) -> None:
    train(ToySpec(), toy_data, tracking_uri=tracking_uri)
    with _manager(tracking_uri, refresh_seconds=0.2).start() as manager:
        assert manager.get("toy").source == "baseline"
        _champion(tracking_uri, "1")
        deadline = time.monotonic() + 10
        while manager.get("toy").version != "1" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert manager.get("toy").version == "1"


def test_without_the_thread_get_rechecks_when_stale(toy_data: Path, tracking_uri: str) -> None:
    train(ToySpec(), toy_data, tracking_uri=tracking_uri)
    manager = _manager(tracking_uri, refresh_seconds=0.2)  # never started: a job worker
    assert manager.get("toy").source == "baseline"
    _champion(tracking_uri, "1")
    assert manager.get("toy").source == "baseline"  # checked moments ago
    time.sleep(0.3)
    assert manager.get("toy").version == "1"
