"""Per-key token buckets on the real Redis (and fakeredis with Lua), and 429s through the app."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Annotated

import fakeredis
import pytest
import redis as redis_lib
from fastapi import Depends
from fastapi.testclient import TestClient

from app.core.context import AppContext
from app.core.db import Database
from app.core.ratelimit import TokenBucket, per_key_rate_limit

from .conftest import READ, build_demo_app, mint_keys


@pytest.fixture(params=["redis", "fakeredis"])
def conn(request: pytest.FixtureRequest) -> redis_lib.Redis:
    if request.param == "redis":
        return request.getfixturevalue("redis_conn")  # type: ignore[no-any-return]
    return fakeredis.FakeRedis()


def test_bucket_allows_the_burst_then_refuses_with_a_wait(conn: redis_lib.Redis) -> None:
    bucket = TokenBucket(conn)
    decisions = [bucket.take("k1", capacity=3, per_second=0.5) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    refused = decisions[-1]
    assert 1.9 < refused.retry_after <= 2.0  # one token at 0.5/s
    assert refused.retry_after_header == "2"
    assert bucket.take("k2", capacity=3, per_second=0.5).allowed  # keys are independent
    ttl = conn.pttl("waybill:ratelimit:k1")
    assert 0 < ttl <= 7000  # idle buckets expire once full again


def test_bucket_refills_over_time(conn: redis_lib.Redis) -> None:
    bucket = TokenBucket(conn)
    assert bucket.take("fast", capacity=1, per_second=20).allowed
    assert not bucket.take("fast", capacity=1, per_second=20).allowed
    time.sleep(0.08)
    assert bucket.take("fast", capacity=1, per_second=20).allowed


def test_bucket_is_atomic_under_concurrency(conn: redis_lib.Redis) -> None:
    bucket = TokenBucket(conn)
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            ok = bucket.take("shared", capacity=25, per_second=0.001).allowed
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(allowed) == 80 and sum(allowed) == 25


def test_api_answers_429_with_retry_after_per_key(
    redis_conn: redis_lib.Redis, sqlite_db: Database, ctx_factory: Callable[..., AppContext]
) -> None:
    ctx = ctx_factory(sqlite_db, redis_conn, rate_limit_per_minute=6, rate_limit_burst=3)
    keys = mint_keys(ctx, ["support", "dispatcher"])
    client = TestClient(build_demo_app(ctx))
    support = {"Authorization": f"Bearer {keys['support']}"}
    assert [client.get("/v1/things", headers=support).status_code for _ in range(3)] == [200] * 3
    r = client.get("/v1/things", headers=support)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "10"  # one token at 6/min
    assert r.json() == {
        "code": "rate_limited",
        "message": "too many requests for this API key; retry later",
        "details": {"retry_after": 10, "limit": 3},
    }
    other = {"X-API-Key": keys["dispatcher"]}
    assert client.get("/v1/things", headers=other).status_code == 200
    assert client.get("/v1/audit", headers=support).status_code == 429  # counted before roles
    assert client.get("/v1/things").status_code == 401  # no key: no bucket spent
    assert redis_conn.exists(f"waybill:ratelimit:key:{keys['support'].split('_')[2]}")


def test_per_key_override_and_zero_disables(
    redis_conn: redis_lib.Redis, sqlite_db: Database, ctx_factory: Callable[..., AppContext]
) -> None:
    from app.core.security import security_config
    from app.core.security_keys import create_api_key

    ctx = ctx_factory(sqlite_db, redis_conn, rate_limit_per_minute=0)
    client = TestClient(build_demo_app(ctx))
    key = mint_keys(ctx, ["support"])["support"]
    assert all(
        client.get("/v1/things", headers={"X-API-Key": key}).status_code == 200 for _ in range(20)
    )
    tight = create_api_key(
        ctx.db,
        pepper=security_config(ctx.settings).pepper,
        name="tight",
        roles=["support"],
        created_by="t",
        rate_limit_per_minute=1,
    ).key
    codes = [client.get("/v1/things", headers={"X-API-Key": tight}).status_code for _ in range(2)]
    assert codes == [200, 429]


def test_route_budget_on_top_of_the_key_limit(
    redis_conn: redis_lib.Redis, sqlite_db: Database, ctx_factory: Callable[..., AppContext]
) -> None:
    ctx = ctx_factory(sqlite_db, redis_conn)
    app = build_demo_app(ctx)

    @app.get(
        "/v1/quotes",
        dependencies=[Depends(READ), Depends(per_key_rate_limit("quotes", per_minute=2))],
    )
    async def quotes(principal: Annotated[object, Depends(READ)]) -> dict[str, str]:
        return {}

    client = TestClient(app)
    keys = mint_keys(ctx, ["support"])
    headers = {"X-API-Key": keys["support"]}
    codes = [client.get("/v1/quotes", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/v1/things", headers=headers).status_code == 200


def test_redis_down_lets_requests_through(
    sqlite_db: Database, ctx_factory: Callable[..., AppContext]
) -> None:
    dead = redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    ctx = ctx_factory(sqlite_db, dead)
    client = TestClient(build_demo_app(ctx))
    key = mint_keys(ctx, ["support"])["support"]
    assert client.get("/v1/things", headers={"X-API-Key": key}).status_code == 200
