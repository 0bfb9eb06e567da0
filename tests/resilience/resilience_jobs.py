"""Jobs the shutdown tests run in real worker subprocesses (found through PYTHONPATH)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def slow(marker: str, seconds: float) -> str:
    """Leaves ``<marker>.started`` (holding the running process's id) at once and
    ``<marker>.done`` when it ends normally."""
    Path(f"{marker}.started").write_text(str(os.getpid()))
    time.sleep(seconds)
    Path(f"{marker}.done").write_text("1")
    return marker
