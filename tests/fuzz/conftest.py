"""Fuzzing fixtures: the project's own log configuration while these tests run.

Unconfigured, structlog renders each crash's traceback with every frame's locals, which takes
seconds per 500; the fuzzer provokes many errors, so it logs the way the service does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from app.core.logging import configure_logging


@pytest.fixture(autouse=True, scope="module")
def _service_logging() -> Iterator[None]:
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("WARNING", json=True)
    try:
        yield
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)
