"""API keys on SQLite and PostgreSQL: format, keyed hashing, expiry, revocation, last use."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.core import security_keys
from app.core.db import Database
from app.core.errors import NotFound, Unprocessable
from app.core.security_keys import (
    HASH_SCHEME,
    create_api_key,
    generate_key,
    get_api_key,
    hash_key,
    list_api_keys,
    parse_key_id,
    revoke_api_key,
    verify_api_key,
    verify_key_hash,
)
from app.store.security_tables import ApiKeyRow
from app.store.tables import AuditRow

PEPPER = b"pepper-for-key-tests-0123456789abcdef"


def make(db: Database, **kw: Any) -> security_keys.CreatedKey:
    values: dict[str, Any] = {
        "pepper": PEPPER,
        "name": "odoo-prod",
        "roles": ["integration"],
        "created_by": "test",
    }
    return create_api_key(db, **{**values, **kw})


def test_key_format_and_lookup_id() -> None:
    key_id, key = generate_key("live")
    assert key.startswith(f"wb_live_{key_id}_")
    assert len(key.rsplit("_", 1)[1]) == 52
    assert parse_key_id(key) == key_id
    assert generate_key("live")[1] != key
    for bad in ("", "wb_live_short_x", key + "x", key.upper(), "Bearer " + key, key[:-1] + "I"):
        assert parse_key_id(bad) is None
    assert parse_key_id("wb_live_" + "a" * 300) is None


def test_hash_is_keyed_by_the_pepper() -> None:
    _, key = generate_key()
    assert hash_key(PEPPER, key) == hmac.new(PEPPER, key.encode(), "sha256").hexdigest()
    assert hash_key(b"another pepper", key) != hash_key(PEPPER, key)
    assert verify_key_hash(PEPPER, key, hash_key(PEPPER, key))
    assert not verify_key_hash(PEPPER, key[:-1] + "0", hash_key(PEPPER, key))
    assert not verify_key_hash(b"another pepper", key, hash_key(PEPPER, key))


def test_verification_compares_in_constant_time_even_for_unknown_ids(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = make(sqlite_db)
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security_keys.hmac, "compare_digest", spy)
    assert verify_api_key(sqlite_db, PEPPER, created.key).outcome == "ok"
    assert len(calls) == 1 and len(calls[0][0]) == len(calls[0][1]) == 64
    unknown = generate_key()[1]  # well-formed, id not stored: still one full comparison
    assert verify_api_key(sqlite_db, PEPPER, unknown).outcome == "invalid"
    assert len(calls) == 2 and len(calls[1][0]) == len(calls[1][1])


def test_create_stores_only_the_hash_and_audits(db: Database) -> None:
    created = make(db, roles=["support", "dispatcher", "support"])
    assert created.key not in repr(created)
    with db.session() as s:
        row = s.get(ApiKeyRow, created.info.id)
        assert row is not None
        stored = [str(getattr(row, c.key)) for c in ApiKeyRow.__table__.columns]
        assert all(created.key not in v for v in stored)
        assert row.secret_hash == hash_key(PEPPER, created.key)
        assert row.hash_scheme == HASH_SCHEME
        assert row.roles == ["dispatcher", "support"]
        audit = s.scalars(select(AuditRow)).one()
        assert (audit.actor, audit.action, audit.target_id) == (
            "test",
            "api_key.create",
            created.info.id,
        )
        assert created.key not in str(audit.after)


def test_verify_ok_and_wrong_secret(db: Database) -> None:
    created = make(db)
    check = verify_api_key(db, PEPPER, created.key)
    assert check.outcome == "ok" and check.info is not None
    assert check.info.roles == ("integration",)
    key_id = created.info.id
    forged = f"wb_live_{key_id}_" + "0" * 52
    assert verify_api_key(db, PEPPER, forged).outcome == "invalid"
    assert verify_api_key(db, b"rotated pepper", created.key).outcome == "invalid"


def test_last_used_is_written_at_most_once_a_minute(db: Database) -> None:
    created = make(db)
    t0 = datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert get_api_key(db, created.info.id).last_used_at is None
    verify_api_key(db, PEPPER, created.key, now=t0)
    assert get_api_key(db, created.info.id).last_used_at == t0
    verify_api_key(db, PEPPER, created.key, now=t0 + timedelta(seconds=30))
    assert get_api_key(db, created.info.id).last_used_at == t0
    verify_api_key(db, PEPPER, created.key, now=t0 + timedelta(seconds=61))
    assert get_api_key(db, created.info.id).last_used_at == t0 + timedelta(seconds=61)


def test_expiry(db: Database) -> None:
    now = datetime.now(UTC)
    created = make(db, expires_at=now + timedelta(hours=1))
    assert verify_api_key(db, PEPPER, created.key, now=now).outcome == "ok"
    later = now + timedelta(hours=1, seconds=1)
    check = verify_api_key(db, PEPPER, created.key, now=later)
    assert check.outcome == "expired"
    assert [k.id for k in list_api_keys(db, now=later)] == []
    assert [k.id for k in list_api_keys(db, include_inactive=True, now=later)] == [created.info.id]
    with pytest.raises(Unprocessable):
        make(db, expires_at=now - timedelta(seconds=1))
    with pytest.raises(Unprocessable):
        make(db, expires_at=datetime(2099, 1, 1))  # naive


def test_revocation_is_immediate_idempotent_and_audited(db: Database) -> None:
    created = make(db)
    other = make(db, name="support-desk", roles=["support"])
    info = revoke_api_key(db, created.info.id, actor="key:adm1", reason="leaked")
    assert info.revoked_by == "key:adm1" and info.status() == "revoked"
    assert verify_api_key(db, PEPPER, created.key).outcome == "revoked"
    assert verify_api_key(db, PEPPER, other.key).outcome == "ok"
    again = revoke_api_key(db, created.info.id, actor="key:someone-else")
    assert again.revoked_by == "key:adm1"
    assert [k.id for k in list_api_keys(db)] == [other.info.id]
    with db.session() as s:
        actions = s.scalars(select(AuditRow.action).order_by(AuditRow.id)).all()
    assert actions == ["api_key.create", "api_key.create", "api_key.revoke"]
    with pytest.raises(NotFound):
        revoke_api_key(db, "nosuchkey0000", actor="x")


def test_forged_key_for_a_revoked_id_says_invalid_not_revoked(db: Database) -> None:
    created = make(db)
    revoke_api_key(db, created.info.id, actor="x")
    forged = f"wb_live_{created.info.id}_" + "1" * 52
    assert verify_api_key(db, PEPPER, forged).outcome == "invalid"


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"roles": []}, "invalid_roles"),
        ({"roles": ["root"]}, "invalid_roles"),
        ({"name": "  "}, "invalid_key_name"),
        ({"rate_limit_per_minute": 0}, "invalid_rate_limit"),
    ],
)
def test_create_refuses_bad_input(sqlite_db: Database, kw: dict[str, Any], code: str) -> None:
    with pytest.raises(Unprocessable) as err:
        make(sqlite_db, **kw)
    assert err.value.code == code
