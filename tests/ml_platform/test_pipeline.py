"""The training pipeline logs model and baseline side by side, registers, and the promotion gate
moves @champion only to a better version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow import MlflowClient

from ml_platform.toy import ToySpec, write_toy_data
from training.platform.fingerprint import data_fingerprint
from training.platform.pipeline import PromotionRefused, figures_table, promote, train


def _client(uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_train_logs_metrics_params_artifacts_and_registers(toy_data: Path, tracking_uri: str
                                                           ) -> None:
    result = train(ToySpec(), toy_data, tracking_uri=tracking_uri, seed=3)

    assert result.version == "1"
    assert result.beats_baseline
    assert result.metrics["mae"] < 1.0 < result.baseline_metrics["mae"]
    run = _client(tracking_uri).get_run(result.run_id)
    metrics = run.data.metrics
    assert metrics["model_mae"] == pytest.approx(result.metrics["mae"])
    assert metrics["baseline_mae"] == pytest.approx(result.baseline_metrics["mae"])
    assert metrics["delta_mae"] < 0
    assert run.data.params["quality"] == "1.0"
    assert run.data.params["kind.model"] == "line"
    assert run.data.params["seed"] == "3"
    assert run.data.params["split"].startswith("first 140 rows")
    fp = data_fingerprint(toy_data)["sha256"]
    assert run.data.tags["data_fingerprint"] == fp
    artifacts = {a.path for a in _client(tracking_uri).list_artifacts(result.run_id)}
    assert {"data", "evaluation"} <= artifacts
    mv = _client(tracking_uri).get_model_version("waybill-toy", "1")
    assert mv.tags["primary_metric"] == "mae"
    assert mv.tags["data_fingerprint"] == fp

    from mlflow.models import get_model_info

    info = get_model_info("models:/waybill-toy/1")
    assert info.signature is not None
    assert [c.name for c in info.signature.inputs] == ["x"]
    assert info.saved_input_example_info is not None


def test_figures_put_the_primary_metric_first() -> None:
    text = figures_table({"model": {"mae": 0.5, "rmse": 0.7}, "baseline": {"mae": 2.0}}, "mae",
                         False)
    lines = text.splitlines()
    assert lines[1].startswith("* mae") and "0.5000" in lines[1] and "2.0000" in lines[1]
    assert "-1.5000" in lines[1]
    assert "lower is better" in lines[-1]


def test_promotion_gate(toy_data: Path, tracking_uri: str, toy_spec: ToySpec) -> None:
    first = train(ToySpec(quality=0.7), toy_data, tracking_uri=tracking_uri)
    # no champion yet: the challenger is judged against the baseline
    done = promote("toy", first.version, tracking_uri=tracking_uri)
    assert done.promoted and done.against == "baseline"
    assert _client(tracking_uri).get_registered_model("waybill-toy").aliases == {"champion": 1}

    worse = train(ToySpec(quality=0.4), toy_data, tracking_uri=tracking_uri)
    with pytest.raises(PromotionRefused) as refused:
        promote("toy", worse.version, tracking_uri=tracking_uri)
    result = refused.value.result
    assert not result.promoted and result.against == "champion v1"
    assert result.challenger_metrics["mae"] > result.reference_metrics["mae"]
    message = str(refused.value)
    assert "refused" in message and "challenger v2" in message and "champion v1" in message
    assert f"{result.challenger_metrics['mae']:.4f}" in message
    assert _client(tracking_uri).get_registered_model("waybill-toy").aliases == {"champion": 1}

    better = train(ToySpec(quality=1.0), toy_data, tracking_uri=tracking_uri)
    ok = promote("toy", better.version, data_dir=toy_data, tracking_uri=tracking_uri)
    assert ok.promoted and ok.champion_version == "1"
    assert ok.challenger_metrics["mae"] < ok.reference_metrics["mae"]
    assert _client(tracking_uri).get_registered_model("waybill-toy").aliases == {"champion": 3}
    tags = _client(tracking_uri).get_model_version("waybill-toy", "3").tags
    assert tags["promoted_over"] == "champion v1"

    # each decision is a run of its own
    runs = _client(tracking_uri).search_runs(
        [first.experiment_id], "tags.`waybill.kind` = 'promotion'")
    assert sorted(r.data.tags["waybill.promoted"] for r in runs) == ["false", "true", "true"]


def test_promote_if_better_and_margin(toy_data: Path, tracking_uri: str, toy_spec: ToySpec
                                      ) -> None:
    first = train(ToySpec(), toy_data, tracking_uri=tracking_uri, promote_if_better=True)
    assert first.promotion is not None and first.promotion.promoted
    again = train(ToySpec(), toy_data, tracking_uri=tracking_uri, promote_if_better=True)
    assert again.promotion is not None and not again.promotion.promoted  # equal is not better
    assert "does not beat the champion v1" in again.promotion.reason


def test_promotion_needs_known_version(toy_data: Path, tracking_uri: str, toy_spec: ToySpec
                                       ) -> None:
    from training.platform.pipeline import PromotionError

    train(ToySpec(), toy_data, tracking_uri=tracking_uri)
    with pytest.raises(PromotionError, match="no version 7"):
        promote("toy", 7, tracking_uri=tracking_uri)


def test_fingerprint_follows_the_tables(tmp_path: Path) -> None:
    a = write_toy_data(tmp_path / "a", seed=1)
    b = write_toy_data(tmp_path / "b", seed=1)
    c = write_toy_data(tmp_path / "c", seed=2)
    (b / "manifest.json").write_text(json.dumps({"seconds": 1.23}))
    assert data_fingerprint(a)["sha256"] == data_fingerprint(b)["sha256"]
    assert data_fingerprint(a)["sha256"] != data_fingerprint(c)["sha256"]


def test_tracking_uri_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.config import Settings
    from app.triage.registry import resolve_tracking_uri

    settings = Settings(mlflow_tracking_uri="sqlite:///from-settings.db",
                        _env_file=None)  # type: ignore[call-arg]
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri(None, settings) == "sqlite:///from-settings.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    assert resolve_tracking_uri(None, settings) == "http://mlflow:5000"
    assert resolve_tracking_uri("sqlite:///explicit.db", settings) == "sqlite:///explicit.db"
