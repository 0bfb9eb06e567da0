"""Tables of the security layer: API keys.

Only a keyed hash of each key is stored (see ``app.core.security_keys``); the key itself is shown
once, when it is created. A key is never deleted: revocation stamps ``revoked_at`` so the audit
trail can still name the key that did something a year ago.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.store.types import JSONType, UTCDateTime, utcnow


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_revoked_expires", "revoked_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the lookup id in the key
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    roles: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(128), nullable=False)
    hash_scheme: Mapped[str] = mapped_column(String(32), nullable=False)
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
