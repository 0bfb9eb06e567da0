"""Jobs the shutdown tests run in real worker subprocesses (found through PYTHONPATH)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def slow(marker: str, seconds: float) -> str:
    """Leaves ``<marker>.started`` (holding the running process's id and CPU niceness) at once
    and ``<marker>.done`` when it ends normally."""
    Path(f"{marker}.started").write_text(f"{os.getpid()} {os.nice(0)}")
    time.sleep(seconds)
    Path(f"{marker}.done").write_text("1")
    return marker
