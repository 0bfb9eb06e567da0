"""karrio's per-call optional tracer import must fail fast, and the way karrio expects."""

from __future__ import annotations

import importlib
import sys

import pytest

from app.carriers.karrio_support import runtime


def test_a_missing_tracer_fails_to_import_at_once_with_the_usual_error() -> None:
    runtime.install()
    if sys.modules.get("sentry_sdk") is not None:
        pytest.skip("the tracer is installed here: nothing is short-circuited")
    assert "sentry_sdk" in sys.modules  # remembered as missing, no path search per call
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("sentry_sdk")
