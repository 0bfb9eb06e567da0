"""Throughput of the history simulator: ``python -m training.simulator.bench``.

Simulates a year of about 100,000 shipments (outbound plus customer returns) several times
and prints shipments/s and rows/s (all tables) for the best run, then the Parquet write time.
Run it as a module from the repository root: executing this file directly would put the
package directory on ``sys.path``, where ``io.py`` shadows the standard library.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

from training.simulator.generate import SimulationConfig, simulate_history
from training.simulator.io import write_tables

RETURN_SHARE = 0.08  # customer returns add about this share on top of outbound shipments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the history simulator.")
    parser.add_argument("--shipments", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    per_day = args.shipments / args.days / (1 + RETURN_SHARE)
    config = SimulationConfig(days=args.days, seed=args.seed, shipments_per_day=per_day)
    simulate_history(SimulationConfig(days=7, seed=args.seed, shipments_per_day=50))  # warm-up
    best = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        hist = simulate_history(config)
        elapsed = time.perf_counter() - t0
        if best is None or elapsed < best[0]:
            best = (elapsed, hist)
    assert best is not None
    elapsed, hist = best
    rows = sum(len(df) for df in hist.tables().values())
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_tables(hist.tables(), tmp, "parquet", hist.manifest())
        write_s = time.perf_counter() - t0
    n = len(hist.shipments)
    print(json.dumps({
        "shipments": n,
        "rows_all_tables": rows,
        "seconds_simulate": round(elapsed, 3),
        "shipments_per_second": round(n / elapsed),
        "rows_per_second": round(rows / elapsed),
        "seconds_write_parquet": round(write_s, 3),
        **{f"rows_{k}": len(v) for k, v in hist.tables().items()},
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
