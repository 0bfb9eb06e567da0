"""Tracking fixtures: Waybill served on loopback, real Redis event log, both sandboxes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis as redis_lib
from track_env import TrackEnv, tracking_rig

from app.core.db import Database


def redis_url_of(conn: redis_lib.Redis) -> str:
    """The test Redis database as a URL, for settings that connect on their own."""
    kwargs = conn.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}"


@pytest.fixture
def tenv(db: Database, redis_conn: redis_lib.Redis) -> Iterator[TrackEnv]:
    with tracking_rig(
        db,
        redis_conn,
        redis_url=redis_url_of(redis_conn),
        webhook_max_body_bytes=1024 * 1024,
        webhook_platform_secrets='{"aftership": "as-secret", "sendcloud": "sc-secret"}',
    ) as env:
        yield env
