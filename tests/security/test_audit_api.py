"""Audit log reads: every filter and keyset pagination on both engines; the route is admin-only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.core.db import Database
from app.core.errors import BadRequest
from app.core.security_audit import AuditFilters, decode_cursor, encode_cursor, query_audit
from app.store.tables import AuditRow

T0 = datetime(2030, 3, 1, 12, tzinfo=UTC)


def seed(db: Database) -> None:
    with db.session() as s:
        for i in range(12):
            s.add(
                AuditRow(
                    at=T0 + timedelta(minutes=i),
                    actor="key:aaa" if i % 2 == 0 else "system:booking",
                    action="shipment.book" if i % 3 == 0 else "shipment.cancel",
                    target_type="shipment" if i < 10 else "api_key",
                    target_id=f"shp_{i % 4}",
                    before=None,
                    after={"i": i},
                    correlation_id=f"wb-{i % 5}",
                )
            )


def ids(page: object) -> list[int]:
    return [e.after["i"] for e in page.items]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (AuditFilters(), list(range(11, -1, -1))),
        (AuditFilters(actor="key:aaa"), [10, 8, 6, 4, 2, 0]),
        (AuditFilters(action="shipment.book"), [9, 6, 3, 0]),
        (AuditFilters(target_type="api_key"), [11, 10]),
        (AuditFilters(target_type="shipment", target_id="shp_1"), [9, 5, 1]),
        (AuditFilters(correlation_id="wb-0"), [10, 5, 0]),
        (AuditFilters(since=T0 + timedelta(minutes=9)), [11, 10, 9]),
        (AuditFilters(until=T0 + timedelta(minutes=2)), [1, 0]),
        (
            AuditFilters(
                since=T0 + timedelta(minutes=2),
                until=T0 + timedelta(minutes=8),
                actor="system:booking",
            ),
            [7, 5, 3],
        ),
        (AuditFilters(since=datetime(2030, 3, 1, 12, 10)), [11, 10]),  # naive means UTC
        (AuditFilters(actor="nobody"), []),
    ],
)
def test_filters(db: Database, filters: AuditFilters, expected: list[int]) -> None:
    seed(db)
    assert ids(query_audit(db, filters, limit=100)) == expected


def test_keyset_pagination_walks_every_row_once(db: Database) -> None:
    seed(db)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = query_audit(db, AuditFilters(target_type="shipment"), limit=3, cursor=cursor)
        seen += ids(page)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        with db.session() as s:  # rows written while paging do not shift later pages
            s.add(AuditRow(actor="x", action="y", target_type="shipment", target_id="z"))
    assert seen == list(range(9, -1, -1))
    assert pages == 4


def test_exact_page_boundary_has_no_next_cursor(db: Database) -> None:
    seed(db)
    page = query_audit(db, AuditFilters(), limit=12)
    assert len(page.items) == 12 and page.next_cursor is None


def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor(42)) == 42
    for bad in ("", "42", "not base64!", encode_cursor(0), "YXVkaXQ6djE6eA"):
        with pytest.raises(BadRequest):
            decode_cursor(bad)


def test_audit_route(client: TestClient, role_keys: dict[str, str], sqlite_db: Database) -> None:
    seed(sqlite_db)
    admin = {"Authorization": f"Bearer {role_keys['admin']}"}
    r = client.get(
        "/v1/audit",
        params={"actor": "key:aaa", "target_type": "shipment", "limit": 2},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [e["after"]["i"] for e in body["items"]] == [8, 6]
    assert set(body["items"][0]) == {
        "id", "at", "actor", "action", "target_type", "target_id", "before", "after",
        "correlation_id",
    }  # fmt: skip
    nxt = client.get(
        "/v1/audit",
        params={"actor": "key:aaa", "target_type": "shipment", "limit": 2,
                "cursor": body["next_cursor"]},
        headers=admin,
    ).json()  # fmt: skip
    assert [e["after"]["i"] for e in nxt["items"]] == [4, 2]
    r = client.get(
        "/v1/audit",
        params={"since": "2030-03-01T13:09:00+01:00", "until": "2030-03-01T12:11:00Z"},
        headers=admin,
    )
    assert [e["after"]["i"] for e in r.json()["items"]] == [10, 9]
    bad = client.get("/v1/audit", params={"cursor": "zzz"}, headers=admin)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"
    assert client.get("/v1/audit", params={"limit": 0}, headers=admin).status_code == 422
    support = {"X-API-Key": role_keys["support"]}
    assert client.get("/v1/audit", headers=support).status_code == 403
