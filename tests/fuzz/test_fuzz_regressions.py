"""Crashes the fuzzer once found, kept as regression tests on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import fakeredis
import pytest
from auth_support import api_key_for
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.context import AppContext
from app.core.db import Database
from app.core.queue import InProcessJobQueue
from app.main import create_app


@pytest.fixture
def client(db: Database) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = Settings(env="test", database_url=db.url, log_json=False, _env_file=None)  # type: ignore[call-arg]
    ctx = AppContext(
        settings=settings, db=db, redis=fakeredis.FakeRedis(), queue=InProcessJobQueue(workers=1)
    )
    headers = {"X-API-Key": api_key_for(ctx, "admin")}
    try:
        with TestClient(create_app(ctx), raise_server_exceptions=False) as test_client:
            yield test_client, headers
    finally:
        ctx.queue.close()


@pytest.mark.parametrize(
    "label_id",
    [
        pytest.param(2**31, id="int32+1"),
        pytest.param(2**63, id="int64+1"),
        pytest.param(6764772565550575629893632, id="fuzzer-found"),
    ],
)
def test_an_out_of_range_label_id_is_a_client_error(
    client: tuple[TestClient, dict[str, str]], label_id: int
) -> None:
    test_client, headers = client
    response = test_client.get(f"/v1/shipments/shp_x/labels/{label_id}", headers=headers)
    assert 400 <= response.status_code < 500, response.text
