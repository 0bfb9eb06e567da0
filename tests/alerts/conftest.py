"""Alerting fixtures: the tracking tests' rig (served app, Odoo and carrier sandboxes)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_lib

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tracking"))

from track_env import TrackEnv, tracking_rig

from app.core.db import Database


@pytest.fixture
def aenv(db: Database, redis_conn: redis_lib.Redis) -> Iterator[TrackEnv]:
    """Waybill on loopback with Odoo 18 and the EasyPost-wire carrier sandbox pushing webhooks."""
    with tracking_rig(db, redis_conn) as env:
        yield env
