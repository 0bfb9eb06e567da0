"""Short-lived signed sessions for the operations page, and CSRF tokens bound to them.

A browser cannot add an ``Authorization`` header to a page load, so ``POST /ops/login`` trades
an API key for a session cookie. The cookie names the key, never carries it::

    <payload>.<signature>   payload = base64url(JSON {"k": key id, "n": nonce, "e": expiry,
                                                      "f": fingerprint of the key})
                            signature = base64url(HMAC-SHA256(session key, "session." + payload))

The session key is derived from the API-key pepper (``security_config(settings).pepper``) with a
purpose label, so a session signature can never be mistaken for a key hash, and rotating the
pepper ends every session along with every key. The key is looked up again on every request
(``app.api.routes.ops``), so revoking it ends its sessions too; the fingerprint lets a session
of the bootstrap admin (which has no row) end when that key is changed.

CSRF: the double-submit token is ``HMAC(session key, "csrf." + nonce)``. It is sent once as a
cookie and once in each form; both must match each other *and* the session's nonce, so a token
planted by another site (or taken from another session) is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

SESSION_COOKIE = "wb_ops_session"
CSRF_COOKIE = "wb_ops_csrf"
CSRF_FIELD = "csrf_token"
COOKIE_PATH = "/ops"
SESSION_TTL_SECONDS = 3600
MAX_COOKIE_LENGTH = 512
_PURPOSE = b"waybill-ops-session-v1"


def session_key(pepper: bytes) -> bytes:
    """The signing key for sessions and CSRF tokens, derived from the API-key pepper."""
    return hmac.new(pepper, _PURPOSE, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, label: str, message: str) -> str:
    return _b64(hmac.new(key, f"{label}.{message}".encode(), hashlib.sha256).digest())


def key_fingerprint(key: bytes, presented: str) -> str:
    """A short keyed digest of an API key: equal for the same key, useless without ``key``."""
    return _mac(key, "key", presented)[:22]


@dataclass(frozen=True)
class OpsSession:
    key_id: str
    nonce: str
    expires_at: float
    fingerprint: str

    def csrf_token(self, key: bytes) -> str:
        return _mac(key, "csrf", self.nonce)


def issue(
    key: bytes,
    key_id: str,
    fingerprint: str,
    *,
    now: float | None = None,
    ttl: int = SESSION_TTL_SECONDS,
) -> tuple[str, OpsSession]:
    """A new session for ``key_id``: the cookie value and the session it encodes."""
    now = time.time() if now is None else now
    session = OpsSession(
        key_id=key_id,
        nonce=secrets.token_urlsafe(18),
        expires_at=int(now + ttl),
        fingerprint=fingerprint,
    )
    body = json.dumps(
        {"k": session.key_id, "n": session.nonce, "e": session.expires_at, "f": fingerprint},
        separators=(",", ":"),
    )
    payload = _b64(body.encode())
    return f"{payload}.{_mac(key, 'session', payload)}", session


def verify(key: bytes, cookie: str | None, *, now: float | None = None) -> OpsSession | None:
    """The session a cookie carries, or None if it is missing, forged, malformed or expired."""
    if not cookie or len(cookie) > MAX_COOKIE_LENGTH or cookie.count(".") != 1:
        return None
    payload, signature = cookie.split(".")
    if not hmac.compare_digest(signature.encode(), _mac(key, "session", payload).encode()):
        return None
    try:
        data = json.loads(_unb64(payload))
        session = OpsSession(
            key_id=str(data["k"]), nonce=str(data["n"]), expires_at=data["e"], fingerprint=data["f"]
        )
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(session.expires_at, int | float) or not isinstance(session.fingerprint, str):
        return None
    now = time.time() if now is None else now
    if session.expires_at <= now or not session.key_id or not session.nonce:
        return None
    return session


def csrf_ok(
    key: bytes, session: OpsSession, cookie_token: str | None, form_token: str | None
) -> bool:
    """Double submit: the form's token equals the cookie's, and both belong to this session."""
    if not cookie_token or not form_token:
        return False
    expected = session.csrf_token(key).encode()
    same = hmac.compare_digest(cookie_token.encode(), form_token.encode())
    return same and hmac.compare_digest(form_token.encode(), expected)
