"""The benchmarks' ``main`` quiets logging and takes over SIGTERM for the process it owns; in
the test process both are put back after each test, so later tests log (and stop) as before."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def _restore_process_settings() -> Iterator[None]:
    saved_structlog = structlog.get_config()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_sigterm = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        structlog.configure(**saved_structlog)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        signal.signal(signal.SIGTERM, saved_sigterm)
