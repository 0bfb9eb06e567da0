"""A small simulated history (autumn into the peak) and one ETA model fitted on it per session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import pytest

from app.triage.eta import EtaBaseline, EtaModel
from training.eta.datasets import EtaDataset, from_tables, month_cut, time_split
from training.eta.evaluate import eval_frame
from training.eta.train import EtaParams, fit_eta
from training.simulator.generate import History, SimulationConfig, simulate_history

# May to mid-November: the model trains on spring and summer and is judged on the autumn
# months and the run-up to the peak (about 5,800 training and 1,800 held-out shipments).
CONFIG = SimulationConfig(days=200, seed=21, start=date(2024, 5, 1), shipments_per_day=35)
FAST = EtaParams(n_estimators=80, learning_rate=0.1, num_leaves=31, min_data_in_leaf=30)


@dataclass
class Fitted:
    history: History
    dataset: EtaDataset
    train: EtaDataset
    holdout: EtaDataset
    model: EtaModel
    promise: EtaBaseline
    snaps: pd.DataFrame


@pytest.fixture(scope="session")
def sim_history() -> History:
    return simulate_history(CONFIG)


@pytest.fixture(scope="session")
def fitted(sim_history: History) -> Fitted:
    ds = from_tables(sim_history.shipments, sim_history.deliveries, sim_history.events)
    train, holdout = time_split(ds, month_cut(ds.prediction_time, 2))
    model = fit_eta(train, FAST, seed=0)
    promise = EtaBaseline("waybill", "promise").fit(train.shipments)
    return Fitted(sim_history, ds, train, holdout, model, promise, eval_frame(holdout))
