"""The process's shared resources, built once from settings and handed to services.

Jobs run in RQ workers that share no memory with the API, so they reach the same resources by
calling ``get_context()``, which builds them from the environment on first use. Tests and the
demo install their own context with ``set_context``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis

from app.core.config import Settings, get_settings
from app.core.db import Database
from app.core.queue import InProcessJobQueue, JobQueue, RQJobQueue
from app.core.redis import redis_from_settings

if TYPE_CHECKING:
    from app.sync.odoo import OdooClient


@dataclass
class AppContext:
    settings: Settings
    db: Database
    redis: redis.Redis
    queue: JobQueue
    _odoo: OdooClient | None = None
    _odoo_fast: OdooClient | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    extras: dict[str, Any] = field(default_factory=dict)  # lazily built per-process services

    @classmethod
    def from_settings(cls, settings: Settings, *, queue: JobQueue | None = None) -> AppContext:
        conn = redis_from_settings(settings)
        if queue is None:
            queue = InProcessJobQueue() if settings.redis_embedded else RQJobQueue(conn)
        return cls(settings=settings, db=Database(settings.database_url), redis=conn, queue=queue)

    @property
    def odoo(self) -> OdooClient:
        with self._lock:
            if self._odoo is None:
                from app.sync.odoo import OdooClient

                self._odoo = OdooClient.from_settings(self.settings)
            return self._odoo

    @property
    def odoo_fast(self) -> OdooClient:
        """A client for answering while Odoo waits on us: one attempt, a sub-second budget."""
        with self._lock:
            if self._odoo_fast is None:
                from app.sync.odoo import OdooClient

                s = self.settings
                self._odoo_fast = OdooClient(
                    url=s.odoo_url,
                    db=s.odoo_db,
                    username=s.odoo_username,
                    api_key=s.odoo_api_key.get_secret_value(),
                    protocol=s.odoo_protocol,
                    timeout=s.odoo_webhook_timeout_seconds,
                    retry_attempts=1,
                    page_size=s.odoo_page_size,
                )
            return self._odoo_fast

    def use_odoo(self, client: OdooClient, fast: OdooClient | None = None) -> None:
        with self._lock:
            self._odoo = client
            self._odoo_fast = fast  # None: built from settings on first use

    def close(self) -> None:
        self.queue.close()
        for client in {id(c): c for c in (self._odoo, self._odoo_fast) if c}.values():
            client.close()
        self.db.dispose()


_current: AppContext | None = None
_current_lock = threading.Lock()


def get_context() -> AppContext:
    global _current
    with _current_lock:
        if _current is None:
            _current = AppContext.from_settings(get_settings())
        return _current


def set_context(ctx: AppContext | None) -> None:
    global _current
    with _current_lock:
        _current = ctx
