"""Shared simulated histories, generated once per test session (small, but covering the peak)."""

from __future__ import annotations

from datetime import date

import pytest

from training.simulator.generate import History, SimulationConfig, simulate_history

# October to mid-January: off-peak weeks, the whole peak, and the new-year lull.
SEASON = SimulationConfig(days=110, seed=11, start=date(2024, 10, 1), shipments_per_day=110)


@pytest.fixture(scope="session")
def history() -> History:
    return simulate_history(SEASON)


@pytest.fixture(scope="session")
def small_config() -> SimulationConfig:
    return SimulationConfig(days=21, seed=5, start=date(2024, 3, 1), shipments_per_day=60)
