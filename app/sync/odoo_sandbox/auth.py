"""Credentials, API keys and the login cooldown (reference §1.4).

* XML-RPC and JSON-RPC accept the password *or* an API key wherever a password goes (a
  non-interactive login tries the password, then the keys); JSON-2 accepts only the key.
* After ``login_cooldown_after`` failures (default 5) from one remote address, further attempts
  within ``login_cooldown_duration`` seconds (default 60) are refused with
  ``AccessDenied("Too many login failures, please wait a bit before trying again.")``, even
  with good credentials. A success clears the address's counter.
* Object calls authenticate on every call; a ``(uid, password)`` pair that already succeeded is
  cached (``res.users.check``), so a client that is already authenticated is not locked out by
  another client's failures.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .errors import AccessDenied

COOLDOWN_MESSAGE = "Too many login failures, please wait a bit before trying again."


class Authenticator:
    """The one user of the sandbox database and its credentials."""

    def __init__(
        self,
        *,
        login: str,
        password: str,
        api_key: str,
        uid: int,
        cooldown_after: int = 5,
        cooldown_duration: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.login = login
        self.password = password
        self.api_key = api_key
        self.uid = uid
        self.cooldown_after = cooldown_after
        self.cooldown_duration = cooldown_duration
        self._monotonic = monotonic
        self._failures: dict[str, tuple[int, float]] = {}
        self._checked: set[tuple[int, str]] = set()
        self._lock = threading.Lock()

    def reset_failures(self) -> None:
        """Forget every failed attempt (tests, demos)."""
        with self._lock:
            self._failures.clear()

    def failures(self, source: str) -> int:
        with self._lock:
            return self._failures.get(source, (0, 0.0))[0]

    @contextmanager
    def _assert_can_auth(self, source: str) -> Iterator[None]:
        with self._lock:
            count, previous = self._failures.get(source, (0, 0.0))
        if (
            self.cooldown_after
            and count >= self.cooldown_after
            and self._monotonic() - previous < self.cooldown_duration
        ):
            raise AccessDenied(COOLDOWN_MESSAGE)
        try:
            yield
        except AccessDenied:
            with self._lock:
                count, _previous = self._failures.get(source, (0, 0.0))
                self._failures[source] = (count + 1, self._monotonic())
            raise
        with self._lock:
            self._failures.pop(source, None)

    def _secret_ok(self, secret: object) -> bool:
        if not isinstance(secret, str) or not secret:
            return False
        return hmac.compare_digest(secret, self.password) or self.key_ok(secret)

    def key_ok(self, key: object) -> bool:
        return isinstance(key, str) and bool(key) and hmac.compare_digest(key, self.api_key)

    def authenticate(self, login: object, password: object, source: str) -> int:
        """``res.users.authenticate``: the uid, or ``AccessDenied``."""
        with self._assert_can_auth(source):
            if login != self.login or not self._secret_ok(password):
                raise AccessDenied()
        return self.uid

    def check(self, uid: object, password: object, source: str) -> None:
        """``res.users.check`` for an object call (empty password: always refused)."""
        if not password:
            raise AccessDenied()
        if isinstance(uid, int) and isinstance(password, str):
            with self._lock:
                if (uid, password) in self._checked:
                    return
        with self._assert_can_auth(source):
            if uid != self.uid or not self._secret_ok(password):
                raise AccessDenied()
        with self._lock:
            self._checked.add((self.uid, str(password)))
