"""Properties of the domain evaluator, checked against the seeded transfers."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.sync.odoo_sandbox import OdooSandbox
from app.sync.odoo_sandbox.orm import Env

from .conftest import fixed_clock

SANDBOX = OdooSandbox(version="17.0", seed=3, clock=fixed_clock)
STATES = ["draft", "waiting", "confirmed", "assigned", "done", "cancel"]

#: Terms whose negation is their complement: equality, membership and pattern operators
#: (their inverse operators also match unset values, reference behaviour of ``distribute_not``).
complement_leaves = st.one_of(
    st.tuples(st.just("state"), st.sampled_from(["=", "!="]), st.sampled_from([*STATES, False])),
    st.tuples(
        st.just("state"),
        st.sampled_from(["in", "not in"]),
        st.lists(st.sampled_from(STATES), max_size=3),
    ),
    st.tuples(
        st.just("carrier_id"), st.sampled_from(["=", "!="]), st.sampled_from([False, 1, 2, 3])
    ),
    st.tuples(
        st.sampled_from(["origin", "name"]),
        st.sampled_from(["like", "ilike", "not like", "not ilike"]),
        st.sampled_from(["S0001", "s000", "WH/", "OUT", "P0", ""]),
    ),
    st.tuples(st.just("partner_id.country_id.code"), st.just("="), st.sampled_from(["US", "DE"])),
    st.tuples(st.just("priority"), st.sampled_from(["=", "!="]), st.sampled_from(["0", "1"])),
)
leaves = st.one_of(
    complement_leaves,
    st.tuples(
        st.just("weight"),
        st.sampled_from(["<", "<=", ">", ">="]),
        st.floats(min_value=0, max_value=60, allow_nan=False),
    ),
    st.tuples(
        st.sampled_from(["date_done", "scheduled_date"]),
        st.sampled_from(["<", ">="]),
        st.sampled_from(["2025-03-01", "2025-03-10 12:00:00"]),
    ),
)


def search(domain: list[Any]) -> set[int]:
    def run(env: Env) -> set[int]:
        return set(env.search("stock.picking", domain))

    result: set[int] = SANDBOX.run(run)
    return result


ALL = search([])
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROFILE
@given(complement_leaves)
def test_not_is_the_complement(leaf: tuple[Any, ...]) -> None:
    assert search(["!", leaf]) == ALL - search([leaf])


@PROFILE
@given(leaves, leaves)
def test_or_is_union_and_and_is_intersection(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    assert search(["|", a, b]) == search([a]) | search([b])
    assert search([a, b]) == search(["&", a, b]) == search([a]) & search([b])


@PROFILE
@given(leaves, leaves)
def test_de_morgan(a: tuple[Any, ...], b: tuple[Any, ...]) -> None:
    assert search(["!", "|", a, b]) == search(["&", "!", a, "!", b])
    assert search(["!", "&", a, b]) == search(["|", "!", a, "!", b])


def test_negated_comparison_skips_unset_values() -> None:
    """``distribute_not`` turns ``!(date_done < d)`` into ``date_done >= d``: no NULLs."""
    negated = search(["!", ("date_done", "<", "2030-01-01")])
    assert negated == search([("date_done", ">=", "2030-01-01")]) == set()
    assert search([("date_done", "=", False)])  # unset dates exist, and are not in `negated`
