"""Exception triage at volume: classification + routing + ETA for a batch of events, and the
single-event latency of the same three steps as the service runs them per event.

``python -m benchmarks.triage_throughput [--size 100000] [--single 300]``

It reuses the code paths of ``waybill triage bench`` and ``waybill eta bench``: the serving
classifier (registry champion, else the keyword/code-table baseline), the batch router
(``routing.route_frame``: team, priority and action, what ``waybill triage classify`` writes)
and the ETA batch path (``predict_frame``) on simulated shipments. The single-event path
is the one the service runs on a status change: ``classify``, ``route`` and
``predict_for_shipment``. The baseline is that per-event path applied one event at a time; its
rate is measured on ``--single`` events.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

import numpy as np
import pandas as pd

from app.triage.routing import route, route_frame
from benchmarks.harness import (
    ResourceMeter,
    emit,
    exit_on_sigterm,
    percentiles,
    quiet_logs,
    ratio,
)


def event_pool(seed: int = 3) -> pd.DataFrame:
    """Simulated carrier events plus synthetic wording; half of them from an unseen carrier."""
    from training.triage.dataset import simulator_events
    from training.triage.synth import synthetic_wording

    pool = pd.concat(
        [simulator_events(seed=seed, days=365, shipments_per_day=200), synthetic_wording(seed)],
        ignore_index=True,
    )
    unseen = np.arange(len(pool)) % 2 == 1
    return pool.assign(carrier=np.where(unseen, "unseen-carrier", pool["carrier"]))


def contexts_for(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    values = rng.gamma(2.0, 60.0, n).round(2)
    tiers = rng.choice(["standard", "gold", "platinum"], n, p=[0.8, 0.15, 0.05])
    return [
        {"order_value": float(v), "currency": "EUR", "customer_tier": str(t)}
        for v, t in zip(values, tiers, strict=True)
    ]


def run(size: int = 100_000, single: int = 300, *, baseline_classifier: bool = False) -> dict:
    from app.triage.eta import predict_for_shipment
    from training.eta.bench import bench_model, bench_shipments
    from training.eta.cli import predict_frame
    from training.triage.cli import load_classifier

    t_setup = time.perf_counter()
    classifier, source = load_classifier(None, baseline=baseline_classifier)
    pool = event_pool()
    rng = np.random.default_rng(0)
    events = pool.iloc[rng.integers(0, len(pool), size)].reset_index(drop=True)
    contexts = contexts_for(size)
    context_frame = pd.DataFrame(contexts)  # the batch's input columns, as a CSV would give
    eta_model = bench_model()
    shipments = bench_shipments(size)
    setup = time.perf_counter() - t_setup

    with ResourceMeter() as meter:
        t0 = time.perf_counter()
        classified = classifier.classify_batch(events)
        t1 = time.perf_counter()
        routed = route_frame(classified, context_frame)
        t2 = time.perf_counter()
        etas = predict_frame(eta_model, shipments, "waybill")
        t3 = time.perf_counter()
    batch_wall = t3 - t0
    assert len(classified) == len(routed) == len(etas) == size
    categories = classified["category"].value_counts().head(6).to_dict()

    # The service classifies one event in a worker whose heap holds its models, not the
    # 100,000-row frames of the batch above: drop them, so that the collector's passes over
    # them are not timed as classification, and freeze what is left, as a worker does
    # (``app.core.worker``) before it takes jobs.
    records = events.iloc[:single].to_dict("records")
    singles = shipments.iloc[: single + 50].to_dict("records")
    del classified, routed, etas, events, shipments, context_frame
    for i, ev in enumerate(records[:50]):  # warm-up: caches and lazy imports, as a service has
        route(classifier.classify(ev), contexts[i])
        predict_for_shipment(singles[single + i], [], model=eta_model)
    gc.collect()
    gc.freeze()
    latencies: list[float] = []
    steps: dict[str, list[float]] = {"classify": [], "route": [], "eta": []}
    for i, ev in enumerate(records):
        t = time.perf_counter()
        classification = classifier.classify(ev)
        ta = time.perf_counter()
        route(classification, contexts[i])
        tb = time.perf_counter()
        predict_for_shipment(singles[i], [], model=eta_model)
        tc = time.perf_counter()
        latencies.append(tc - t)
        steps["classify"].append(ta - t)
        steps["route"].append(tb - ta)
        steps["eta"].append(tc - tb)
    gc.unfreeze()
    single_rate = len(latencies) / sum(latencies)
    batch_rate = size / batch_wall
    return {
        "benchmark": "triage_throughput",
        "settings": {"size": size, "single": single, "classifier": source, "setup_s": round(setup)},
        "batch": {
            "wall_seconds": round(batch_wall, 2),
            "events_per_second": round(batch_rate),
            "classify_seconds": round(t1 - t0, 2),
            "route_seconds": round(t2 - t1, 2),
            "eta_seconds": round(t3 - t2, 2),
            "categories": categories,
            "resources": meter.report(),
        },
        "single_event_ms": percentiles(latencies, scale=1000, digits=2),
        "single_event_ms_by_step": {
            k: percentiles(v, scale=1000, digits=2) for k, v in steps.items()
        },
        "baseline_one_at_a_time": {"events_per_second": round(single_rate)},
        "batch_vs_one_at_a_time": ratio(batch_rate, single_rate),
        "targets": {"batch_events_per_second_min": 20_000, "single_p99_ms_max": 5},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=300)
    parser.add_argument("--baseline-classifier", action="store_true")
    args = parser.parse_args(argv)
    quiet_logs()
    exit_on_sigterm()
    emit(run(args.size, args.single, baseline_classifier=args.baseline_classifier))


if __name__ == "__main__":
    main()
