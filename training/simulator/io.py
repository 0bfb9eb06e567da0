"""Write and read the history tables: Parquet by default, CSV when a spreadsheet must open them.

A directory holds one file per table (``shipments.parquet`` ...) and ``manifest.json`` (the
configuration, row counts, world summary and contract version), so a data set says how it was
made. Reading restores the contract's types from CSV too (UTC timestamps, dates, nullable
booleans), so validation and feature code see the same frames either way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pandas as pd

Format = Literal["parquet", "csv"]
TABLE_NAMES = ("shipments", "quotes", "events", "deliveries", "weather_events")
MANIFEST = "manifest.json"


def write_tables(tables: Mapping[str, pd.DataFrame], out_dir: str | Path,
                 fmt: Format = "parquet", manifest: Mapping[str, object] | None = None
                 ) -> dict[str, Path]:
    """Write each table to ``out_dir/<name>.<fmt>``; returns the paths written."""
    from training.schemas import SCHEMA_VERSION

    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown format {fmt!r}: use 'parquet' or 'csv'")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, df in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            df.to_parquet(path, index=False, compression="zstd")
        else:
            df.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
        paths[name] = path
    meta = {"schema_version": SCHEMA_VERSION, "format": fmt, **(manifest or {})}
    (out / MANIFEST).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")
    return paths


def read_tables(in_dir: str | Path, names: tuple[str, ...] | None = None
                ) -> dict[str, pd.DataFrame]:
    """Read the tables present in ``in_dir`` (Parquet preferred over CSV when both exist)."""
    base = Path(in_dir)
    if not base.is_dir():
        raise FileNotFoundError(f"{base} is not a directory")
    out: dict[str, pd.DataFrame] = {}
    for name in names or TABLE_NAMES:
        pq, csv = base / f"{name}.parquet", base / f"{name}.csv"
        if pq.exists():
            out[name] = pd.read_parquet(pq)
        elif csv.exists():
            out[name] = _read_csv(name, csv)
    if not out:
        raise FileNotFoundError(f"no tables ({', '.join(TABLE_NAMES)}) found in {base}")
    return out


def _read_csv(name: str, path: Path) -> pd.DataFrame:
    from training.schemas import TABLES

    specs = {c.name: c for c in TABLES.get(name, ())}
    string_cols = {c for c, s in specs.items() if s.kind == "string"}
    df = pd.read_csv(path, dtype={c: "str" for c in string_cols}, keep_default_na=True)
    for col, spec in specs.items():
        if col not in df.columns:
            continue
        if spec.kind == "timestamp":
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601").astype(
                "datetime64[us, UTC]")
        elif spec.kind == "date":
            df[col] = pd.to_datetime(df[col], format="ISO8601").astype("datetime64[us]")
        elif spec.kind == "bool":
            df[col] = _bool(df[col], spec.nullable)
        elif spec.kind == "int" and not spec.nullable:
            df[col] = df[col].astype("int64")
    return df


def _bool(s: pd.Series, nullable: bool) -> pd.Series:
    if pd.api.types.is_bool_dtype(s.dtype) and not nullable:
        return s
    mapped = s.map({True: True, False: False, "True": True, "False": False, "true": True,
                    "false": False})
    return mapped.astype("boolean") if nullable or mapped.isna().any() else mapped.astype(bool)


def read_manifest(in_dir: str | Path) -> dict[str, object]:
    path = Path(in_dir) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {}
