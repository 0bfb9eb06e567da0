"""Redis connections: a real server by URL, or an in-process one for the embedded defaults."""

from __future__ import annotations

from functools import lru_cache

import fakeredis
import redis

from app.core.config import Settings


@lru_cache(maxsize=1)
def _embedded_server() -> fakeredis.FakeServer:
    return fakeredis.FakeServer()


def redis_from_settings(settings: Settings) -> redis.Redis:
    """``embedded`` gives a process-local Redis so one command runs everything on a laptop."""
    if settings.redis_embedded:
        return fakeredis.FakeRedis(server=_embedded_server())
    return redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
