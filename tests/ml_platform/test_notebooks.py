"""Every exploration notebook runs top to bottom on a small simulated history and draws."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from training.simulator import SimulationConfig, simulate_history
from training.simulator.io import write_tables

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="module")
def small_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nb-history")
    hist = simulate_history(SimulationConfig(days=60, seed=4, start=date(2024, 9, 1),
                                             shipments_per_day=25))
    write_tables(hist.tables(), out, "parquet", hist.manifest())
    return out


def test_every_model_has_a_notebook() -> None:
    names = {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    assert {"triage_exploration", "eta_exploration", "recommender_exploration"} <= names


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebook_executes(path: Path, small_history: Path, monkeypatch: pytest.MonkeyPatch
                           ) -> None:
    monkeypatch.setenv("WAYBILL_NOTEBOOK_DATA", str(small_history))
    book = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(book, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    images = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) >= 3, f"{path.name} drew {len(images)} figures"
