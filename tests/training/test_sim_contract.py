"""The contract accepts simulator output and rejects broken frames with messages that say why."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from training.schemas import ContractViolation, markdown, validate_tables
from training.simulator.generate import History

Tables = dict[str, pd.DataFrame]


def test_simulator_output_satisfies_the_contract(history: History) -> None:
    report = validate_tables(history.tables())
    assert report.ok, report.errors
    assert report.rows["shipments"] == len(history.shipments)


def _copy(history: History) -> Tables:
    return {k: v.copy() for k, v in history.tables().items()}


def _negative_weight(t: Tables) -> None:
    t["shipments"].loc[3, "weight_kg"] = -1.0


def _drop_country(t: Tables) -> None:
    t["shipments"] = t["shipments"].drop(columns=["origin_country"])


def _bad_status(t: Tables) -> None:
    t["events"]["status"] = t["events"]["status"].astype(object)
    t["events"].loc[5, "status"] = "teleported"


def _naive_timestamp(t: Tables) -> None:
    t["deliveries"]["delivered_at"] = t["deliveries"]["delivered_at"].dt.tz_localize(None)


def _null_key(t: Tables) -> None:
    t["shipments"].loc[0, "shipment_id"] = None


def _duplicate_shipment(t: Tables) -> None:
    t["shipments"] = pd.concat([t["shipments"], t["shipments"].iloc[[0]]], ignore_index=True)


def _orphan_event(t: Tables) -> None:
    t["events"].loc[0, "shipment_id"] = "SHP-NOPE"


def _two_chosen(t: Tables) -> None:
    q = t["quotes"]
    first = q.index[q["shipment_id"] == q["shipment_id"].iloc[0]]
    q.loc[first, "chosen"] = True


def _outcome_mismatch(t: Tables) -> None:
    d = t["deliveries"]
    i = d.index[d["transit_hours"].notna()][0]
    d.loc[i, "transit_hours"] = d.loc[i, "transit_hours"] + 5


def _milestone_backwards(t: Tables) -> None:
    e = t["events"]
    i = e.index[e["status"].astype(object) == "delivered"][0]
    e["status"] = e["status"].astype(object)
    e.loc[i - 1, "status"] = "in_transit"
    e.loc[i - 1, "exception_category"] = None
    e.loc[i - 2, "status"] = "out_for_delivery"
    e.loc[i - 2, "exception_category"] = None


def _exception_without_category(t: Tables) -> None:
    e = t["events"]
    i = e.index[e["status"].astype(object) == "exception"][0]
    e.loc[i, "exception_category"] = None


def _time_runs_backwards(t: Tables) -> None:
    e = t["events"]
    e.loc[1, "occurred_at"] = e.loc[0, "occurred_at"] - pd.Timedelta(hours=1)


CORRUPTIONS: list[tuple[Callable[[Tables], None], str]] = [
    (_negative_weight, "shipments.weight_kg: must be >= 0 - 1 row(s) fail, e.g. row 3: -1.0"),
    (_drop_country, "shipments: required column 'origin_country' is missing"),
    (_bad_status, "events.status: must be one of {info_received"),
    (_naive_timestamp, "deliveries.delivered_at: must be a timezone-aware UTC timestamp"),
    (_null_key, "shipments.shipment_id: must not be null"),
    (_duplicate_shipment, "shipments: key (shipment_id) is not unique"),
    (_orphan_event, "events.shipment_id: 1 row(s) reference unknown shipments, e.g. SHP-NOPE"),
    (_two_chosen, "do not have exactly one chosen quote"),
    (_outcome_mismatch, "transit_hours disagrees with delivered_at - handed_over_at"),
    (_milestone_backwards, "events: a milestone goes backwards"),
    (_exception_without_category, "an exception event has no exception_category"),
    (_time_runs_backwards, "occurred_at goes backwards along seq"),
]


@pytest.mark.parametrize(
    ("corrupt", "expected"), CORRUPTIONS, ids=[c.__name__.strip("_") for c, _ in CORRUPTIONS]
)
def test_corrupted_frames_fail_with_a_clear_message(
    history: History, corrupt: Callable[[Tables], None], expected: str
) -> None:
    tables = _copy(history)
    corrupt(tables)
    report = validate_tables(tables)
    assert not report.ok
    assert any(expected in e for e in report.errors), report.errors
    with pytest.raises(ContractViolation, match="contract violation"):
        report.raise_for_errors()


def test_lifecycle_rules_can_be_warnings_for_raw_feeds(history: History) -> None:
    tables = _copy(history)
    _milestone_backwards(tables)
    report = validate_tables(tables, lifecycle="warn")
    assert report.ok
    assert any("milestone goes backwards" in w for w in report.warnings)


def test_a_subset_of_tables_validates_on_its_own(history: History) -> None:
    tables = {k: history.tables()[k] for k in ("shipments", "deliveries")}
    assert validate_tables(tables).ok
    assert not validate_tables({"deliveries": history.deliveries}).ok


def test_optional_columns_may_be_absent_and_extra_columns_pass(history: History) -> None:
    s = history.shipments.drop(columns=["goods_category", "policy", "n_quotes"]).assign(
        my_feature=1.0
    )
    assert validate_tables({"shipments": s}).ok


def test_contract_documents_every_column(history: History) -> None:
    doc = markdown()
    for name, df in history.tables().items():
        for col in df.columns:
            assert f"`{col}`" in doc, f"{name}.{col} is not documented"
