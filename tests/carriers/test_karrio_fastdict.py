"""The C-encoder ``to_dict`` gives exactly the dicts karrio's own gives, key order included."""

from __future__ import annotations

import enum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from karrio.core import models as kmodels
from karrio.core.utils.dict import DICTPARSE

from app.carriers.karrio_support import convert, fastdict, runtime
from tests.carriers.conftest import intl_request, us_request


@pytest.fixture(scope="module")
def karrio_to_dict() -> Any:
    """karrio's unpatched ``to_dict``, whatever has been installed in this process."""
    runtime.install()
    original = fastdict._STATE["original"]
    assert original is not None and DICTPARSE.to_dict is not original
    return original


class Colour(enum.Enum):
    RED = "red"


def _same(original: Any, value: Any, clear_empty: bool | None = None) -> None:
    expected = original(value, clear_empty=clear_empty)
    got = DICTPARSE.to_dict(value, clear_empty=clear_empty)
    assert got == expected
    if isinstance(expected, dict):
        assert list(got) == list(expected)


@pytest.mark.parametrize("clear_empty", [None, True, False])
@pytest.mark.parametrize(
    "request_", [us_request(), us_request(parcels=3), intl_request(parcels=2)], ids=str
)
def test_payloads_and_karrio_request_objects_convert_identically(
    karrio_to_dict: Any, request_: Any, clear_empty: bool | None
) -> None:
    rate = convert.rate_request(request_, services=["usps_priority"])
    ship = convert.shipment_request(
        request_, service="usps_priority", label_type="PDF", reference="WH/OUT/1"
    )
    for payload in (rate, ship):
        _same(karrio_to_dict, payload, clear_empty)
    # karrio's typed request objects (attrs) and what the connectors build from them
    objects = [
        DICTPARSE.to_object(kmodels.RateRequest, karrio_to_dict(rate)),
        DICTPARSE.to_object(kmodels.ShipmentRequest, karrio_to_dict(ship)),
    ]
    for obj in objects:
        assert obj is not None
        _same(karrio_to_dict, obj, clear_empty)


def test_enums_and_callables_follow_karrio_rules(karrio_to_dict: Any) -> None:
    value = {"b": Colour.RED, "a": [None, "", [], {"z": 1, "y": None}], "f": len, "t": int}
    _same(karrio_to_dict, value)
    _same(karrio_to_dict, value, clear_empty=False)


def test_strings_still_take_karrios_path(karrio_to_dict: Any) -> None:
    _same(karrio_to_dict, '{"b": 1, "a": [1, 2,\n ], "c": null,\n }')  # trailing commas cleaned
    _same(karrio_to_dict, b'{"b": 1, "c": null, "d": ""}')


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.just(""),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(
    value=st.lists(json_values) | st.dictionaries(st.text(), json_values),
    clear_empty=st.sampled_from([None, True, False]),
)
def test_any_json_value_converts_identically(
    karrio_to_dict: Any, value: Any, clear_empty: bool | None
) -> None:
    _same(karrio_to_dict, value, clear_empty)
