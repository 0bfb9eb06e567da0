"""The platform contract (``EtaSpec``) and the batch CLI (``waybill eta ...``)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from app.triage.eta import PREDICTION_COLUMNS, EtaModel, load_model, save_model
from training.eta.cli import eta_app
from training.eta.spec import EtaSpec
from training.eta.train import EtaParams
from training.simulator.io import write_tables

from .olist_fake import write_fake_olist

TINY = EtaParams(n_estimators=25, learning_rate=0.2, num_leaves=15, min_data_in_leaf=20)
runner = CliRunner()


@pytest.fixture(scope="module")
def history_dir(tmp_path_factory, sim_history):
    out = tmp_path_factory.mktemp("history")
    write_tables(sim_history.tables(), out, "parquet", sim_history.manifest())
    return out


def test_spec_implements_the_platform_contract(history_dir):
    platform = pytest.importorskip("training.platform.spec")
    spec = EtaSpec(params=TINY, holdout_months=2)
    assert isinstance(spec, platform.ModelSpec)
    assert (spec.name, spec.registered_name) == ("eta", "waybill-eta")
    assert (spec.primary_metric, spec.greater_is_better) == ("p50_mae_days", False)
    dataset = spec.load(history_dir, fmt="waybill")
    split = spec.split(dataset)
    assert "time split" in split.description
    assert split.train.prediction_time.max() < split.holdout.prediction_time.min()
    model = spec.fit(split.train, seed=1)
    assert isinstance(model, EtaModel) and type(model).__module__.startswith("app.")
    metrics = spec.evaluate(model, split.holdout)
    base = spec.evaluate(spec.baseline(), split.holdout)
    for key in ("p50_mae_days", "coverage_80", "booking.exact_day",
                "out_for_delivery.p50_mae_days"):
        assert key in metrics and key in base
    example = spec.input_example(dataset)
    pred = model.predict(example)
    assert list(pred.columns) == PREDICTION_COLUMNS and len(pred) == len(example)
    assert {"format", "holdout_months", "n_estimators"} <= set(spec.params())
    from mlflow.models import infer_signature

    infer_signature(example, pred)  # MLflow can describe what goes in and out


def test_batch_predict_on_a_small_csv(tmp_path, fitted):
    model_file = save_model(fitted.model, tmp_path / "eta.pkl")
    assert isinstance(load_model(model_file), EtaModel)
    ships = fitted.holdout.shipments.head(50)
    keep = [c for c in ships.columns if c not in ("delivered_at", "handed_over_at",
                                                  "transit_hours", "final_status")]
    csv = tmp_path / "shipments.csv"
    ships[keep].to_csv(csv, index=False)
    out = tmp_path / "eta.csv"
    result = runner.invoke(eta_app, ["predict", "--input", str(csv), "--output", str(out),
                                     "--model", str(model_file)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 50
    assert list(table.columns[:6]) == ["shipment_id", "stage", *PREDICTION_COLUMNS]
    assert {f"{q}_date" for q in PREDICTION_COLUMNS} <= set(table.columns)
    assert (table["p10"] <= table["p50"]).all() and (table["p90"] <= table["p95"]).all()
    assert json.loads(result.output.strip().splitlines()[-1])["rows"] == 50
    # With events the rows are re-predicted at their latest scan.
    ev = tmp_path / "events.csv"
    fitted.holdout.events.to_csv(ev, index=False)
    out2 = tmp_path / "eta2.csv"
    result = runner.invoke(eta_app, ["predict", "--input", str(csv), "--output", str(out2),
                                     "--model", str(model_file), "--events", str(ev)])
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(out2)["stage"]) - {"booking"}


def test_batch_predict_olist_directory(tmp_path):
    data = write_fake_olist(tmp_path / "olist", n_orders=300)
    out = tmp_path / "olist_eta.csv"
    result = runner.invoke(eta_app, ["predict", "--format", "olist", "--input", str(data),
                                     "--output", str(out), "--tracking-uri",
                                     f"sqlite:///{tmp_path / 'none.db'}"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["order_id", *PREDICTION_COLUMNS]
    assert len(table) == 300
    assert (table["p50"] > 0).all()


def test_bench_command_small(tmp_path, fitted):
    model_file = save_model(fitted.model, tmp_path / "eta.pkl")
    result = runner.invoke(eta_app, ["bench", "--rows", "2000", "--model", str(model_file),
                                     "--repeat", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["rows"] == 2000
