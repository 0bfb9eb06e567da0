"""Batch-prediction benchmark: ``python -m training.eta.bench`` (or ``waybill eta bench``).

Simulates a year of shipments, takes ``rows`` of them at booking and times the whole batch path
of ``waybill eta predict`` - features (calendars, history look-ups), the four quantile models,
the business-clock conversion and the local dates - best of ``repeat``. Without ``--model`` a
model with the production settings is first fitted on a small simulated history.
"""

from __future__ import annotations

import json
import os
import time
from datetime import date
from typing import Any

import numpy as np
import pandas as pd


def bench_model(seed: int = 0) -> Any:
    from training.eta.datasets import from_tables
    from training.eta.spec import FORMAT_PARAMS
    from training.eta.train import fit_eta
    from training.simulator.generate import SimulationConfig, simulate_history

    hist = simulate_history(SimulationConfig(days=90, seed=seed + 1, start=date(2024, 1, 1),
                                             shipments_per_day=80))
    ds = from_tables(hist.shipments, hist.deliveries, hist.events)
    return fit_eta(ds, FORMAT_PARAMS["waybill"], seed=seed)


def bench_shipments(rows: int, seed: int = 0) -> pd.DataFrame:
    from training.eta.datasets import OUTCOME_COLUMNS
    from training.simulator.generate import SimulationConfig, simulate_history

    per_day = max(10.0, rows / 330.0)
    hist = simulate_history(SimulationConfig(days=365, seed=seed + 2, start=date(2024, 4, 1),
                                             shipments_per_day=per_day, returns=False))
    ships = hist.shipments.drop(columns=[c for c in OUTCOME_COLUMNS if c in hist.shipments])
    if len(ships) < rows:
        ships = ships.iloc[np.resize(np.arange(len(ships)), rows)]
    return ships.head(rows).reset_index(drop=True)


def run_bench(rows: int = 100_000, model_path: str | None = None, repeat: int = 3
              ) -> dict[str, Any]:
    from app.triage.eta import load_model
    from training.eta.cli import predict_frame

    t0 = time.perf_counter()
    model = load_model(model_path) if model_path else bench_model()
    frame = bench_shipments(rows)
    setup = time.perf_counter() - t0
    times, cpu = [], []
    out = None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = predict_frame(model, frame, "waybill")
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    assert out is not None and len(out) == rows
    best = min(times)
    return {"rows": rows, "best_seconds": round(best, 3),
            "seconds": [round(t, 3) for t in times],
            "cpu_seconds": round(min(cpu), 3),  # CPU time: unaffected by other processes
            "load_average": round(os.getloadavg()[0], 2),
            "rows_per_second": round(rows / best), "setup_seconds": round(setup, 1),
            "trees_per_quantile": int(model.boosters["p50"].num_trees())
            if hasattr(model, "boosters") else 0}


if __name__ == "__main__":  # pragma: no cover
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(json.dumps(run_bench(n)))
