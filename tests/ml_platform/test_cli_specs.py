"""Spec lookup and the ML commands as the ``waybill`` CLI mounts them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ml_platform.toy import ToySpec
from training.cli import export_app, models_app, recommend_app, train_app
from training.platform import specs
from training.platform.spec import ModelSpec
from training.platform.specs import SpecNotAvailable, get_spec


def _cli() -> typer.Typer:
    cli = typer.Typer()
    for app, name in ((train_app, "train"), (models_app, "models"), (export_app, "export"),
                      (recommend_app, "recommend")):
        cli.add_typer(app, name=name)
    return cli


def _json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_unknown_and_missing_specs_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SpecNotAvailable, match=r"unknown model 'nope'; known models: .*recomm"):
        get_spec("nope")
    monkeypatch.setitem(specs.BUILTIN, "ghost", "training.ghost_model.spec:GhostSpec")
    with pytest.raises(SpecNotAvailable, match=r"is not available yet: its spec module "
                       r"training\.ghost_model\.spec does not exist"):
        get_spec("ghost")
    result = CliRunner().invoke(_cli(), ["train", "ghost", "--data", "."])
    assert result.exit_code == 2
    assert "model 'ghost' is not available yet" in result.output


def test_the_recommender_spec_is_built_in() -> None:
    spec = get_spec("recommender")
    assert isinstance(spec, ModelSpec)
    assert (spec.registered_name, spec.primary_metric, spec.greater_is_better) == (
        "waybill-recommender", "realized_cost_per_shipment", False)


def test_train_promote_refuse_list_via_cli(toy_data: Path, tracking_uri: str,
                                           toy_spec: ToySpec) -> None:
    runner, cli = CliRunner(), _cli()
    first = runner.invoke(cli, ["train", "toy", "--data", str(toy_data),
                                "--promote-if-better"])
    assert first.exit_code == 0, first.output
    assert "* mae" in first.stdout and "promoted waybill-toy v1" in first.stdout
    assert _json(first.stdout)["promoted"] is True

    specs.register_spec(ToySpec(quality=0.3))  # the next fit is worse
    second = runner.invoke(cli, ["train", "toy", "--data", str(toy_data)])
    assert _json(second.stdout)["version"] == "2"
    refused = runner.invoke(cli, ["models", "promote", "toy", "2"])
    assert refused.exit_code == 1
    assert "refused: waybill-toy v2 does not beat the champion v1" in refused.stdout
    assert "challenger v2" in refused.stdout and "champion v1" in refused.stdout
    assert _json(refused.stdout)["promoted"] is False

    missing = runner.invoke(cli, ["models", "promote", "toy", "9"])
    assert missing.exit_code == 2 and "no version 9" in missing.output

    listed = _json(runner.invoke(cli, ["models", "list"]).stdout)["models"]
    assert [(m["version"], m["aliases"]) for m in listed] == [("1", ["champion"]), ("2", [])]

    ui = runner.invoke(cli, ["models", "ui", "--print"])
    assert ui.stdout.startswith(f"mlflow ui --backend-store-uri {tracking_uri}")
    assert "--default-artifact-root file://" in ui.stdout


def test_recommend_with_the_baseline_needs_no_registry(tmp_path: Path) -> None:
    quotes = tmp_path / "quotes.csv"
    quotes.write_text("shipment_id,carrier,service,price,service_level\n"
                      "s1,postnova,PN_PARCEL,4.6,ground\ns1,lowlands,LL_STANDARD,5.1,ground\n"
                      "s2,velox,VLX_CITY_ECO,3.9,ground\n")
    out = tmp_path / "choices.csv"
    result = CliRunner().invoke(_cli(), ["recommend", "--input", str(quotes), "--output",
                                         str(out), "--baseline"])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "s1,postnova,postnova,PN_PARCEL,4.6" in text and "s2,velox" in text
    assert _json(result.stdout) == {"shipments": 2, "quotes": 3, "source": "baseline",
                                    "version": None, "output": str(out)}


def test_export_history_command(sqlite_db, tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = CliRunner().invoke(_cli(), ["export", "history", "--out", str(out),
                                         "--database-url", sqlite_db.url])
    assert result.exit_code == 0, result.output
    assert _json(result.stdout)["valid"] is True
    assert (out / "shipments.parquet").exists()
