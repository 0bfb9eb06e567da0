"""``waybill train triage`` without arguments, then ``waybill triage classify`` on its champion."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from app.triage.classifier_model import ModelConfig
from training.cli import train_app
from training.platform import specs
from training.triage import spec as spec_module
from training.triage.cli import triage_app
from training.triage.dataset import REAL_FILE
from training.triage.spec import TriageSpec


def _cli() -> typer.Typer:
    cli = typer.Typer()
    cli.add_typer(train_app, name="train")
    cli.add_typer(triage_app, name="triage")
    return cli


def _json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


@pytest.fixture
def small_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TriageSpec]:
    """A quick triage spec (no embedding, no calibration, a short history), no real texts."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(spec_module, "DEFAULT_DATA_DIR", tmp_path / "no-shared-data")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'ml' / 'mlflow.db'}")
    spec = TriageSpec(ModelConfig(use_embedding=False, calibrate=False), sim_days=20)
    specs.register_spec(spec)
    yield spec
    specs.unregister_spec("triage")


def test_train_triage_without_arguments_promotes_the_first_version(
    small_spec: TriageSpec, tmp_path: Path
) -> None:
    runner, cli = CliRunner(), _cli()
    first = runner.invoke(cli, ["train", "triage"])
    assert first.exit_code == 0, first.output
    summary = _json(first.stdout)
    assert summary["version"] == "1" and summary["beats_baseline"] is True
    assert summary["promoted"] is True
    assert (tmp_path / "ml" / "mlflow.db").exists()  # MLFLOW_TRACKING_URI is honoured
    assert (tmp_path / "var" / "data" / "triage").is_dir()  # the empty default directory

    events = tmp_path / "events.csv"
    pd.DataFrame(
        {
            "carrier": ["newco", "newco"],
            "code": ["", "Z9"],
            "description": ["Parcel damaged in transit", "Refused by the consignee"],
        }
    ).to_csv(events, index=False)
    out = tmp_path / "out.csv"
    classified = runner.invoke(
        cli, ["triage", "classify", "--input", str(events), "--output", str(out)]
    )
    assert classified.exit_code == 0, classified.output
    assert _json(classified.stdout)["classifier"].startswith("waybill-triage v1")
    frame = pd.read_csv(out)
    assert {"status", "category", "confidence", "team", "priority"} <= set(frame.columns)
    assert set(frame["source"]) == {"model"}

    # A champion exists now: a second run registers a version but leaves the champion alone.
    second = runner.invoke(cli, ["train", "triage"])
    assert second.exit_code == 0, second.output
    assert _json(second.stdout)["version"] == "2"
    assert _json(second.stdout)["promoted"] is None


def test_default_data_is_the_real_texts_directory_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setattr(spec_module, "DEFAULT_DATA_DIR", shared)
    assert TriageSpec().default_data_dir() == Path("var") / "data" / "triage"
    (shared / REAL_FILE).write_text(
        "carrier,code,description,category,label_confidence\nACME,1,Parcel damaged,damaged,high\n"
    )
    assert TriageSpec().default_data_dir() == shared
    dataset = TriageSpec(sim_days=5).load(shared)
    real = dataset.real
    assert len(real) == 1 and real["label_confidence"].tolist() == ["high"]
