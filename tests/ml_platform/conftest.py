"""Temporary MLflow stores (``ml_platform.fixtures``), toy data and the toy spec."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ml_platform.fixtures import mlflow_template, tracking_uri
from ml_platform.toy import ToySpec, write_toy_data
from training.platform.specs import register_spec, unregister_spec

__all__ = ["mlflow_template", "tracking_uri"]


@pytest.fixture
def toy_data(tmp_path: Path) -> Path:
    return write_toy_data(tmp_path / "toy")


@pytest.fixture
def toy_spec() -> Iterator[ToySpec]:
    spec = register_spec(ToySpec())
    yield spec  # type: ignore[misc]
    unregister_spec("toy")
