"""Logs carry the correlation id and never personal data or secrets."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.logging import REDACTED, configure_logging, correlation, get_logger, redact


def test_pii_keys_and_patterns_are_redacted() -> None:
    data = {
        "recipient": {"street": "1 Main St"},
        "note": "call +49 30 1234567 or mail ada@example.com",
        "carrier": "ups",
        "api_key": "abc",
    }
    out = redact(data)
    assert out["recipient"] == REDACTED
    assert out["api_key"] == REDACTED
    assert out["carrier"] == "ups"
    assert "ada@example.com" not in out["note"] and "1234567" not in out["note"]


@given(st.emails())
def test_any_email_in_text_is_masked(email: str) -> None:
    assert email not in redact(f"contact: {email} please")


def test_json_log_line_has_correlation_and_no_pii(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True)
    with correlation("wb-abc"):
        get_logger("t").info("booked", email="ada@example.com", picking_id=7)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["correlation_id"] == "wb-abc"
    assert record["email"] == REDACTED
    assert record["picking_id"] == 7
    logging.getLogger().handlers.clear()
