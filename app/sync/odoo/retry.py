"""Client-side retry policy (§5 "Client-side policy"), built on tenacity.

* Only :class:`~app.sync.odoo.errors.OdooRetryableError` is retried; auth and every other
  rejection fail at once — repeated failed logins lock the IP out (§1.4).
* Bounded attempts with exponential backoff and full jitter, so many workers hitting one busy
  Odoo do not retry in lockstep. Odoo already retried concurrency errors 5 times server-side
  with up to 16 s between tries, so ours are few.
* A call that may already have committed (read timeout, 502/504) is retried only when the
  method is idempotent: Odoo runs a method up to 5 times per call and a blind re-send of
  ``create`` or ``message_post`` duplicates records, chatter or — via ``button_validate`` — a
  carrier booking. Such errors reach the caller, which must re-read state first (§5).
"""

from __future__ import annotations

from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.wait import wait_base

from app.sync.odoo.errors import OdooRetryableError

# Reading, or writing the same values again, leaves Odoo in the same state: safe to re-send.
IDEMPOTENT_METHODS = frozenset(
    {
        "version",
        "authenticate",
        "context_get",
        "search",
        "search_read",
        "search_count",
        "read",
        "fields_get",
        "name_search",
        "read_group",
        "web_read_group",
        "formatted_read_group",
        "web_search_read",
        "web_read",
        "default_get",
        "check_access_rights",
        "check_object_reference",
        "write",
        "unlink",
    }
)


def default_wait() -> wait_base:
    """0…0.5·2ⁿ s, capped at 8 s ("full jitter")."""
    return wait_random_exponential(multiplier=0.5, max=8.0)


def should_retry(method: str) -> Callable[[BaseException], bool]:
    def predicate(exc: BaseException) -> bool:
        if not isinstance(exc, OdooRetryableError):
            return False
        return method in IDEMPOTENT_METHODS or not exc.maybe_committed

    return predicate


def build_retrying(
    method: str,
    *,
    attempts: int,
    wait: wait_base | None = None,
    before_sleep: Callable[[RetryCallState], None] | None = None,
) -> Retrying:
    """A fresh ``Retrying`` per call (it carries per-call statistics)."""
    return Retrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait if wait is not None else default_wait(),
        retry=retry_if_exception(should_retry(method)),
        reraise=True,
        before_sleep=before_sleep,
    )
