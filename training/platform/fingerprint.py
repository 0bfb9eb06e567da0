"""A data set's fingerprint: SHA-256 over its table files, logged with every run.

Two runs with the same fingerprint saw byte-identical tables, so their metrics are comparable;
``manifest.json`` (which records timings) and hidden files are left out.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

SKIP = frozenset({"manifest.json"})
CHUNK = 1 << 20


def _file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def data_fingerprint(data_dir: str | Path) -> dict[str, Any]:
    """``{"sha256": ..., "files": {relative path: sha256}, "bytes": total}``."""
    base = Path(data_dir)
    files = [base] if base.is_file() else sorted(
        p for p in base.rglob("*")
        if p.is_file() and p.name not in SKIP and not any(
            part.startswith(".") for part in p.relative_to(base).parts))
    digests = {(p.name if p == base else p.relative_to(base).as_posix()): _file_sha(p)
               for p in files}
    total = hashlib.sha256()
    for rel, sha in sorted(digests.items()):
        total.update(f"{rel}\0{sha}\n".encode())
    return {"sha256": total.hexdigest(), "files": digests,
            "bytes": sum(p.stat().st_size for p in files)}
