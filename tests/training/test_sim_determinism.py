"""Same seed, same tables; different seed, different tables; files round-trip unchanged."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from training.schemas import validate_tables
from training.simulator.generate import SimulationConfig, simulate_history
from training.simulator.io import Format, read_manifest, read_tables, write_tables


def test_same_seed_gives_identical_tables(small_config: SimulationConfig) -> None:
    a = simulate_history(small_config).tables()
    b = simulate_history(small_config).tables()
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


def test_different_seed_gives_different_tables(small_config: SimulationConfig) -> None:
    a = simulate_history(small_config)
    b = simulate_history(replace(small_config, seed=small_config.seed + 1))
    assert not a.shipments.equals(b.shipments)
    assert not a.events["raw_description"].equals(b.events["raw_description"])


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_files_round_trip_and_validate(
    small_config: SimulationConfig, tmp_path: Path, fmt: Format
) -> None:
    hist = simulate_history(small_config)
    write_tables(hist.tables(), tmp_path, fmt, hist.manifest())
    back = read_tables(tmp_path)
    assert set(back) == set(hist.tables())
    for name, df in hist.tables().items():
        assert len(back[name]) == len(df)
        assert list(back[name].columns) == list(df.columns)
    if fmt == "parquet":
        for name, df in hist.tables().items():
            pd.testing.assert_frame_equal(back[name], df, obj=name)
    assert validate_tables(tmp_path).ok
    manifest = read_manifest(tmp_path)
    assert manifest["config"] == hist.manifest()["config"]
    assert manifest["counts"] == {k: len(v) for k, v in hist.tables().items()}


def test_volume_follows_shipments_per_day(small_config: SimulationConfig) -> None:
    hist = simulate_history(small_config)
    outbound = int((~hist.shipments["is_return"]).sum())
    expected = small_config.days * small_config.shipments_per_day
    assert abs(outbound - expected) < 0.1 * expected


def test_a_window_without_working_days_gives_empty_valid_tables() -> None:
    hist = simulate_history(
        SimulationConfig(days=1, start=date(2024, 1, 7), seed=1, shipments_per_day=5)
    )  # a Sunday
    assert len(hist.shipments) == 0 and len(hist.events) == 0
    assert validate_tables(hist.tables()).ok
