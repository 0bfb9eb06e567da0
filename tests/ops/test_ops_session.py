"""Session cookies and CSRF tokens: signed, bounded in time, bound to each other."""

from __future__ import annotations

import json

from app.ops import session

KEY = session.session_key(b"pepper-for-tests-0123456789abcdef0123")
OTHER = session.session_key(b"another-pepper-0123456789abcdef012345")


def test_a_fresh_session_verifies_until_it_expires() -> None:
    cookie, issued = session.issue(KEY, "abc123", "fp", now=1000.0, ttl=60)
    got = session.verify(KEY, cookie, now=1059.0)
    assert got == issued and got.key_id == "abc123" and got.fingerprint == "fp"
    assert session.verify(KEY, cookie, now=1060.0) is None


def test_the_cookie_names_the_key_but_does_not_carry_it() -> None:
    cookie, _ = session.issue(KEY, "abc123", session.key_fingerprint(KEY, "wb_live_secret"))
    assert "wb_live_secret" not in cookie
    payload = json.loads(session._unb64(cookie.split(".")[0]))
    assert set(payload) == {"k", "n", "e", "f"}


def test_forged_tampered_and_malformed_cookies_are_refused() -> None:
    cookie, _ = session.issue(KEY, "abc123", "fp", now=1000.0)
    payload, signature = cookie.split(".")
    body = json.loads(session._unb64(payload))
    body["k"] = "someone-else"
    forged = session._b64(json.dumps(body).encode()) + "." + signature
    for bad in (
        forged,
        payload + "." + signature[:-2] + "AA",
        payload,
        "",
        None,
        "a.b.c",
        "x" * 600,
        "%%%.%%%",
    ):
        assert session.verify(KEY, bad, now=1001.0) is None, bad
    assert session.verify(OTHER, cookie, now=1001.0) is None  # a rotated pepper ends sessions


def test_a_signed_but_malformed_payload_is_refused() -> None:
    payload = session._b64(b'{"k": "a", "n": "b", "e": "soon", "f": "x"}')
    cookie = f"{payload}.{session._mac(KEY, 'session', payload)}"
    assert session.verify(KEY, cookie, now=0) is None


def test_csrf_double_submit_is_bound_to_the_session() -> None:
    _, mine = session.issue(KEY, "abc123", "fp")
    _, theirs = session.issue(KEY, "abc123", "fp")
    token = mine.csrf_token(KEY)
    assert session.csrf_ok(KEY, mine, token, token)
    assert not session.csrf_ok(KEY, mine, token, None)
    assert not session.csrf_ok(KEY, mine, None, token)
    assert not session.csrf_ok(KEY, mine, token, token[:-1] + "x")
    planted = theirs.csrf_token(KEY)  # a valid token of another session, in cookie and form
    assert not session.csrf_ok(KEY, mine, planted, planted)


def test_fingerprints_are_keyed() -> None:
    assert session.key_fingerprint(KEY, "k1") == session.key_fingerprint(KEY, "k1")
    assert session.key_fingerprint(KEY, "k1") != session.key_fingerprint(KEY, "k2")
    assert session.key_fingerprint(KEY, "k1") != session.key_fingerprint(OTHER, "k1")
