"""API keys: format, keyed hashing, creation, listing, revocation and verification.

A key reads ``wb_<tag>_<id>_<secret>``:

* ``tag`` is ``live`` (staging, prod) or ``test`` (dev, test), so a leaked key says where it
  works and secret scanners can match the ``wb_`` prefix;
* ``id`` is 12 Crockford base32 characters (60 random bits): the public lookup id, shown in
  listings, logs and the audit trail (actor ``key:<id>``);
* ``secret`` is 52 Crockford base32 characters carrying 256 random bits.

Only ``HMAC-SHA256(pepper, full key)`` is stored. The pepper comes from the settings (env or the
secrets directory), never from the database, so a stolen database dump alone cannot be used to
confirm a guessed key. A slow password hash (bcrypt, scrypt, Argon2) would add nothing here: it
exists to make guessing *low-entropy* passwords expensive, and no amount of hashing speed makes
a 256-bit random secret guessable. It would, however, cost 50-300 ms of CPU on every API call,
turning each unauthenticated request into a cheap denial-of-service lever (and bcrypt silently
ignores input beyond 72 bytes). The lookup id makes verification one primary-key read and one
constant-time comparison.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import or_, select, update

from app.core.audit import record_audit
from app.core.db import Database
from app.core.errors import NotFound, Unprocessable
from app.store.security_tables import ApiKeyRow


class Role(StrEnum):
    ADMIN = "admin"  # keys, audit log; implied on every guarded route
    DISPATCHER = "dispatcher"  # books, re-books and cancels shipments
    SUPPORT = "support"  # reads shipments, tracking and labels to answer customers
    INTEGRATION = "integration"  # machine callers: Odoo, carriers' callbacks over the REST API
    DATA_SCIENTIST = "data_scientist"  # reads data without personal details
    MONITORING = "monitoring"  # scrapes /metrics and /ready, nothing else


ALL_ROLES: frozenset[str] = frozenset(r.value for r in Role)

KeyTag = Literal["live", "test", "dev"]
HASH_SCHEME = "hmac-sha256"
ID_LENGTH = 12
SECRET_BYTES = 32
SECRET_LENGTH = 52  # ceil(256 / 5)
MAX_PRESENTED_LENGTH = 256
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
_KEY_RE = re.compile(
    rf"^wb_(?:live|test|dev)_([0-9a-hjkmnp-tv-z]{{{ID_LENGTH}}})_([0-9a-hjkmnp-tv-z]{{{SECRET_LENGTH}}})$"
)
_DUMMY_HASH = "0" * 64


def _encode(data: bytes, length: int) -> str:
    value = int.from_bytes(data, "big")
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def generate_key(tag: KeyTag = "live") -> tuple[str, str]:
    """A new ``(key_id, key)``; the key is returned once and never stored."""
    key_id = _encode(secrets.token_bytes(8), ID_LENGTH)  # 64 bits drawn, 60 kept
    secret = _encode(secrets.token_bytes(SECRET_BYTES), SECRET_LENGTH)
    return key_id, f"wb_{tag}_{key_id}_{secret}"


def parse_key_id(presented: str) -> str | None:
    """The lookup id of a well-formed key, else ``None`` (nothing else is read from it)."""
    if len(presented) > MAX_PRESENTED_LENGTH:
        return None
    match = _KEY_RE.match(presented)
    return match.group(1) if match else None


def hash_key(pepper: bytes, key: str) -> str:
    return hmac.new(pepper, key.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_key_hash(pepper: bytes, presented: str, stored: str) -> bool:
    """Constant-time: the time taken does not depend on how much of the hash matched."""
    return hmac.compare_digest(hash_key(pepper, presented).encode(), stored.encode())


def normalize_roles(roles: Iterable[str]) -> tuple[str, ...]:
    wanted = sorted({str(r).strip().lower() for r in roles if str(r).strip()})
    unknown = [r for r in wanted if r not in ALL_ROLES]
    if unknown or not wanted:
        raise Unprocessable(
            "roles must be one or more of: " + ", ".join(sorted(ALL_ROLES)),
            code="invalid_roles",
            details={"unknown": unknown, "allowed": sorted(ALL_ROLES)},
        )
    return tuple(wanted)


KeyStatus = Literal["active", "expired", "revoked"]


@dataclass(frozen=True)
class ApiKeyInfo:
    """Everything about a key that may be shown: never the key or its hash."""

    id: str
    name: str
    roles: tuple[str, ...]
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None
    last_used_at: datetime | None
    rate_limit_per_minute: int | None

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> ApiKeyInfo:
        return cls(
            id=row.id,
            name=row.name,
            roles=tuple(row.roles or ()),
            created_at=row.created_at,
            created_by=row.created_by,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            revoked_by=row.revoked_by,
            last_used_at=row.last_used_at,
            rate_limit_per_minute=row.rate_limit_per_minute,
        )

    def status(self, now: datetime | None = None) -> KeyStatus:
        now = now or datetime.now(UTC)
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "name": self.name,
            "roles": list(self.roles),
            "status": self.status(now),
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
            "revoked_by": self.revoked_by,
            "last_used_at": iso(self.last_used_at),
            "rate_limit_per_minute": self.rate_limit_per_minute,
        }


@dataclass(frozen=True)
class CreatedKey:
    """A freshly made key: ``key`` exists only here, for the one time it is shown."""

    key: str = field(repr=False)
    info: ApiKeyInfo


def create_api_key(
    db: Database,
    *,
    pepper: bytes,
    name: str,
    roles: Iterable[str],
    created_by: str,
    expires_at: datetime | None = None,
    tag: KeyTag = "live",
    rate_limit_per_minute: int | None = None,
    now: datetime | None = None,
) -> CreatedKey:
    now = now or datetime.now(UTC)
    name = name.strip()
    if not name or len(name) > 128:
        raise Unprocessable("name must be 1 to 128 characters", code="invalid_key_name")
    role_list = normalize_roles(roles)
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise Unprocessable("expires_at must carry a time zone", code="invalid_expiry")
        if expires_at <= now:
            raise Unprocessable("expires_at must be in the future", code="invalid_expiry")
    if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
        raise Unprocessable("rate_limit_per_minute must be at least 1", code="invalid_rate_limit")
    key_id, key = generate_key(tag)
    row = ApiKeyRow(
        id=key_id,
        name=name,
        roles=list(role_list),
        secret_hash=hash_key(pepper, key),
        hash_scheme=HASH_SCHEME,
        rate_limit_per_minute=rate_limit_per_minute,
        created_at=now,
        created_by=created_by,
        expires_at=expires_at,
    )
    info = ApiKeyInfo.from_row(row)
    with db.session() as session:
        session.add(row)
        record_audit(
            session,
            actor=created_by,
            action="api_key.create",
            target_type="api_key",
            target_id=key_id,
            after={
                "name": name,
                "roles": list(role_list),
                "expires_at": expires_at.isoformat() if expires_at else None,
                "rate_limit_per_minute": rate_limit_per_minute,
            },
        )
    return CreatedKey(key=key, info=info)


def list_api_keys(
    db: Database, *, include_inactive: bool = False, now: datetime | None = None
) -> list[ApiKeyInfo]:
    now = now or datetime.now(UTC)
    query = select(ApiKeyRow).order_by(ApiKeyRow.created_at.desc(), ApiKeyRow.id)
    if not include_inactive:
        query = query.where(ApiKeyRow.revoked_at.is_(None)).where(
            or_(ApiKeyRow.expires_at.is_(None), ApiKeyRow.expires_at > now)
        )
    with db.session() as session:
        return [ApiKeyInfo.from_row(r) for r in session.scalars(query).all()]


def get_api_key(db: Database, key_id: str) -> ApiKeyInfo:
    with db.session() as session:
        row = session.get(ApiKeyRow, key_id)
        if row is None:
            raise NotFound(f"no API key {key_id!r}", code="api_key_not_found")
        return ApiKeyInfo.from_row(row)


def revoke_api_key(
    db: Database, key_id: str, *, actor: str, reason: str | None = None, now: datetime | None = None
) -> ApiKeyInfo:
    """Revoke at once (the next request with it gets 401); revoking twice changes nothing."""
    now = now or datetime.now(UTC)
    with db.session() as session:
        row = session.get(ApiKeyRow, key_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no API key {key_id!r}", code="api_key_not_found")
        if row.revoked_at is None:
            row.revoked_at = now
            row.revoked_by = actor
            record_audit(
                session,
                actor=actor,
                action="api_key.revoke",
                target_type="api_key",
                target_id=key_id,
                before={"name": row.name, "roles": list(row.roles or ())},
                after={"revoked_at": now.isoformat(), "reason": reason},
            )
        return ApiKeyInfo.from_row(row)


Outcome = Literal["ok", "invalid", "revoked", "expired"]


@dataclass(frozen=True)
class KeyCheck:
    outcome: Outcome
    key_id: str | None = None
    info: ApiKeyInfo | None = None


def verify_api_key(
    db: Database,
    pepper: bytes,
    presented: str,
    *,
    now: datetime | None = None,
    touch_every: timedelta = timedelta(seconds=60),
) -> KeyCheck:
    """Check a presented key against the store.

    ``revoked``/``expired`` are only reported for a key whose secret matched, so the answer to
    a forged key never tells whether its id exists. ``last_used_at`` is written at most once per
    ``touch_every`` per key: one write per request would turn every read into a write.
    """
    now = now or datetime.now(UTC)
    key_id = parse_key_id(presented)
    if key_id is None:
        return KeyCheck("invalid")
    with db.session() as session:
        row = session.get(ApiKeyRow, key_id)
        stored = row.secret_hash if row is not None else _DUMMY_HASH
        matched = verify_key_hash(pepper, presented, stored)
        if row is None or not matched or row.hash_scheme != HASH_SCHEME:
            return KeyCheck("invalid", key_id=key_id)
        info = ApiKeyInfo.from_row(row)
        status = info.status(now)
        if status != "active":
            return KeyCheck(status, key_id=key_id, info=info)
        if row.last_used_at is None or row.last_used_at <= now - touch_every:
            session.execute(
                update(ApiKeyRow)
                .where(ApiKeyRow.id == key_id)
                .where(
                    or_(
                        ApiKeyRow.last_used_at.is_(None),
                        ApiKeyRow.last_used_at <= now - touch_every,
                    )
                )
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
    return KeyCheck("ok", key_id=key_id, info=info)
