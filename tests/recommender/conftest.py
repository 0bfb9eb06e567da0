"""One small simulated history (four months, ~3,700 shipments) and one fitted recommender,
shared by the recommender tests; MLflow stores come from the platform tests' fixtures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from ml_platform.fixtures import mlflow_template, tracking_uri

from training.platform.spec import Split
from training.recommender.data import QuoteData, load_quotes
from training.recommender.spec import RecommenderSpec
from training.simulator import SimulationConfig, simulate_history
from training.simulator.io import write_tables

SMALL = SimulationConfig(days=120, seed=2, start=date(2024, 7, 1), shipments_per_day=30)

__all__ = ["mlflow_template", "tracking_uri"]


@pytest.fixture(scope="session")
def history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rec-history")
    hist = simulate_history(SMALL)
    write_tables(hist.tables(), out, "parquet", hist.manifest())
    return out


@pytest.fixture(scope="session")
def quote_data(history_dir: Path) -> QuoteData:
    return load_quotes(history_dir)


@pytest.fixture(scope="session")
def fitted(quote_data: QuoteData) -> tuple[RecommenderSpec, Split, object]:
    spec = RecommenderSpec(num_boost_round=100)
    split = spec.split(quote_data)
    return spec, split, spec.fit(split.train, seed=0)
