"""Serving: rank one shipment's quotes with an explanation; the batch CLI; and the whole path
simulate -> train -> promote -> the service serves the promoted version."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.core.config import Settings
from app.core.security import DEV_API_KEY
from app.triage.models import ModelManager
from app.triage.recommender import Recommender, baseline_predictor
from app.triage.recommender_features import QUOTE_COLUMNS
from app.triage.router import router
from training.cli import models_app, recommend_app, train_app
from training.platform.specs import register_spec, unregister_spec
from training.recommender.spec import RecommenderSpec

CONTEXT = {"shipment_id": "WH/OUT/00042", "customer_tier": "vip", "warehouse": "WH-DE1",
           "origin_zone": "DE-W", "destination_zone": "DE-S", "destination_country": "DE",
           "distance_class": "domestic", "requested_service_level": "standard",
           "weight_kg": 2.0, "created_at": "2024-10-15T09:30:00Z"}
RATES = [
    {"carrier": "postnova", "carrier_account": "postnova-WH-DE1", "service": "PN_PARCEL",
     "total": {"amount": "4.90", "currency": "EUR"}, "transit_days": 2,
     "estimated_delivery": "2024-10-17", "extra": {"service_level": "ground"}},
    {"carrier": "parcelo", "carrier_account": "parcelo-WH-DE1", "service": "PARCELO_CLASSIC",
     "total": {"amount": "5.60", "currency": "EUR"}, "transit_days": 1,
     "estimated_delivery": "2024-10-16", "extra": {"service_level": "ground"}},
    {"carrier": "swiftair", "carrier_account": "swiftair-WH-DE1",
     "service": "SWA_DOMESTIC_EXPRESS", "total": {"amount": "16.20", "currency": "EUR"},
     "transit_days": 1, "estimated_delivery": "2024-10-16",
     "extra": {"service_level": "express"}},
]


def test_rank_explains_the_choice_against_cheapest_and_fastest(fitted) -> None:
    _, _, predictor = fitted
    ranking = Recommender(predictor, source="registry", model_version="4").rank(RATES, CONTEXT)
    assert ranking.shipment_id == "WH/OUT/00042"
    assert [q.rank for q in ranking.quotes] == [1, 2, 3]
    assert ranking.cheapest.carrier == "postnova"
    assert ranking.fastest.carrier == "parcelo"  # express is not eligible for a standard order
    assert not next(q for q in ranking.quotes if q.carrier == "swiftair").eligible
    c = ranking.choice
    assert 0 < c.p_on_time < 1 and 0 < c.p_exception < 1
    text = ranking.explanation
    assert text.startswith(f"Book {c.carrier} {c.service}: €{c.price:.2f}, ")
    assert f"{round(100 * c.p_on_time)} % on time" in text
    assert "cheapest" in text and "fastest" in text
    assert ranking.model_version == "4" and ranking.source == "registry"


def test_baseline_ranking_is_the_cheapest_eligible_quote() -> None:
    ranking = Recommender(baseline_predictor()).rank(RATES, CONTEXT)
    assert ranking.choice.carrier == "postnova" and ranking.source == "baseline"
    assert ranking.explanation == ("Book postnova PN_PARCEL: €4.90 - the cheapest eligible "
                                   "quote (no risk model registered yet).")


def small_spec() -> RecommenderSpec:
    return RecommenderSpec(num_boost_round=100)


def _cli() -> typer.Typer:
    cli = typer.Typer()
    cli.add_typer(train_app, name="train")
    cli.add_typer(models_app, name="models")
    cli.add_typer(recommend_app, name="recommend")
    return cli


def test_simulate_train_promote_serve(history_dir: Path, quote_data, tracking_uri: str,
                                      tmp_path: Path) -> None:
    settings = Settings(env="dev", allow_dev_api_key=True, rate_limit_per_minute=0,
                        database_url=f"sqlite:///{tmp_path / 'w.db'}",
                        mlflow_tracking_uri=tracking_uri, _env_file=None)  # type: ignore[call-arg]
    app = FastAPI()
    app.state.ctx = SimpleNamespace(settings=settings, db=None, extras={})
    app.include_router(router)
    client = TestClient(app, headers={"X-API-Key": DEV_API_KEY})
    models = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    assert models["recommender"]["source"] == "baseline"  # empty registry: still answers

    register_spec(small_spec())
    try:
        cli, runner = _cli(), CliRunner()
        trained = runner.invoke(cli, ["train", "recommender", "--data", str(history_dir)])
        assert trained.exit_code == 0, trained.output
        summary = json.loads(trained.stdout.strip().splitlines()[-1])
        assert summary["version"] == "1" and summary["beats_baseline"]
        assert "odoo_default" in trained.output and "model_value" in trained.output

        promoted = runner.invoke(cli, ["models", "promote", "recommender", "1"])
        assert promoted.exit_code == 0, promoted.output
        assert "promoted waybill-recommender v1 to @champion" in promoted.output
        assert "baseline" in promoted.output

        listed = runner.invoke(cli, ["models", "list"])
        assert json.loads(listed.stdout.strip().splitlines()[-1])["models"][0]["aliases"] == [
            "champion"]

        body = client.post("/v1/admin/models/reload").json()
        models = {m["name"]: m for m in body["models"]}
        assert (models["recommender"]["source"], models["recommender"]["version"]) == (
            "registry", "1")
        manager = app.state.ctx.extras["models"]
        assert isinstance(manager, ModelManager)
        ranking = Recommender.from_manager(manager).rank(RATES, CONTEXT)
        assert ranking.model_version == "1" and ranking.choice.p_on_time is not None

        quotes = _write_quotes(quote_data, tmp_path / "quotes.csv")
        out = tmp_path / "choices.csv"
        batch = runner.invoke(cli, ["recommend", "--input", str(tmp_path / "quotes.csv"),
                                    "--output", str(out)])
        assert batch.exit_code == 0, batch.output
        choices = pd.read_csv(out, dtype={"shipment_id": str})
        assert len(choices) == quotes["shipment_id"].nunique() == 25
        assert set(choices["shipment_id"]) == set(quotes["shipment_id"])
        assert (choices["source"] == "registry").all() and (choices["model_version"] == 1).all()
        assert choices["explanation"].str.startswith("Book ").all()
    finally:
        unregister_spec("recommender")


def _write_quotes(quote_data, path: Path, shipments: int = 25) -> pd.DataFrame:
    q = quote_data.quotes
    ids = q["shipment_id"].drop_duplicates().tail(shipments)
    frame = q.loc[q["shipment_id"].isin(ids), list(QUOTE_COLUMNS)]
    frame.to_csv(path, index=False)
    return frame
