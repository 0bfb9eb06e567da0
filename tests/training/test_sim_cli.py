"""``waybill simulate history`` writes tables and prints a one-line JSON summary."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from training.cli import simulate_app
from training.simulator.io import read_tables


def test_history_command_writes_tables_and_prints_summary(tmp_path: Path) -> None:
    out = tmp_path / "hist"
    result = CliRunner().invoke(
        simulate_app,
        [
            "history",
            "--days",
            "5",
            "--seed",
            "3",
            "--out",
            str(out),
            "--format",
            "csv",
            "--shipments-per-day",
            "30",
            "--start",
            "2024-05-06",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["valid"] is True and summary["seconds"] >= 0
    tables = read_tables(out)
    assert summary["shipments"] == len(tables["shipments"]) > 0
    assert summary["events"] == len(tables["events"])
    assert (out / "shipments.csv").exists() and (out / "manifest.json").exists()


def test_history_command_rejects_bad_options(tmp_path: Path) -> None:
    result = CliRunner().invoke(simulate_app, ["history", "--days", "0", "--out", str(tmp_path)])
    assert result.exit_code != 0
