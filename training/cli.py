"""Command line of the training data steps, mounted by ``waybill`` as ``waybill simulate``.

``waybill simulate history --days 365 --seed 7 --out var/history`` writes the simulated tables
(see ``training/README.md``), validates them against the contract and prints one JSON line:
row counts and seconds, so scripts and CI logs can read it.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import typer

simulate_app = typer.Typer(
    help="Simulate shipment history (shipments, quotes, events, deliveries) for training.",
    no_args_is_help=True,
)


class TableFormat(StrEnum):
    PARQUET = "parquet"
    CSV = "csv"


@simulate_app.callback()
def _group() -> None:
    """Simulation commands."""


@simulate_app.command("history")
def history(
    out: Path = typer.Option(..., "--out", help="Directory to write the tables to."),
    days: int = typer.Option(365, "--days", min=1, help="Days of history from --start."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same "
                             "tables."),
    fmt: TableFormat = typer.Option(TableFormat.PARQUET, "--format", help="parquet or csv."),
    shipments_per_day: float = typer.Option(
        275.0, "--shipments-per-day", min=0.01,
        help="Mean outbound shipments per calendar day (customer returns come on top)."),
    start: datetime = typer.Option(
        datetime(2024, 1, 1), "--start", formats=["%Y-%m-%d"], help="First day of history."),
    validate: bool = typer.Option(True, "--validate/--no-validate",
                                  help="Check the tables against the training contract."),
) -> None:
    """Simulate history and write it; prints a one-line JSON summary."""
    from training.schemas import validate_tables
    from training.simulator.generate import SimulationConfig, simulate_history
    from training.simulator.io import write_tables

    t0 = time.perf_counter()
    config = SimulationConfig(days=days, seed=seed, start=start.date(),
                              shipments_per_day=shipments_per_day)
    hist = simulate_history(config)
    t_sim = time.perf_counter()
    valid = None
    if validate:
        report = validate_tables(hist.tables())
        valid = report.ok
        if not report.ok:
            for err in report.errors:
                typer.echo(f"contract violation: {err}", err=True)
    write_tables(hist.tables(), out, fmt.value, hist.manifest())
    t_end = time.perf_counter()
    summary = {
        **{name: len(df) for name, df in hist.tables().items()},
        "seed": seed,
        "days": days,
        "format": fmt.value,
        "out": str(out),
        "valid": valid,
        "seconds_simulate": round(t_sim - t0, 3),
        "seconds": round(t_end - t0, 3),
    }
    typer.echo(json.dumps(summary))
    if valid is False:
        raise typer.Exit(code=1)


if __name__ == "__main__":
    simulate_app()
