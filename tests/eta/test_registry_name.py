"""Olist-trained ETA models never register as the served ``waybill-eta``: each data format has
its own registered model, and ``eta-olist`` is a platform model of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from ml_platform.fixtures import mlflow_template, tracking_uri

from training.eta.datasets import load_olist_dataset
from training.eta.spec import EtaSpec, OlistEtaSpec, registered_name_for
from training.eta.train import EtaParams
from training.platform.pipeline import train
from training.platform.specs import get_spec

from .olist_fake import write_fake_olist

__all__ = ["mlflow_template", "tracking_uri"]
TINY = EtaParams(
    n_estimators=20,
    learning_rate=0.2,
    num_leaves=7,
    min_data_in_leaf=10,
    refit=False,
    promise_alpha=0.9,
    promise_late="reference",
)


def test_registered_name_follows_the_data_format(tmp_path: Path) -> None:
    spec = EtaSpec()
    assert spec.registered_name == "waybill-eta"  # the served model, before any load
    spec.load(write_fake_olist(tmp_path / "olist", n_orders=200), fmt="olist")
    assert spec.registered_name == "waybill-eta-olist"
    assert registered_name_for("waybill") == "waybill-eta"
    with pytest.raises(ValueError):
        registered_name_for("csv")
    olist = get_spec("eta-olist")
    assert isinstance(olist, OlistEtaSpec) and olist.registered_name == "waybill-eta-olist"


def test_a_spec_refuses_to_fit_another_format_than_it_loaded(tmp_path: Path) -> None:
    data = load_olist_dataset(write_fake_olist(tmp_path / "olist", n_orders=200))
    spec = EtaSpec(params=TINY)  # format "waybill" until told otherwise
    with pytest.raises(ValueError, match="olist"):
        spec.fit(data)


@pytest.mark.parametrize("spec_name", ["eta", "eta-olist"])
def test_training_on_olist_registers_and_promotes_apart(
    tmp_path: Path, tracking_uri: str, spec_name: str
) -> None:
    from mlflow import MlflowClient

    data = write_fake_olist(tmp_path / "olist", n_orders=500)
    spec = EtaSpec(params=TINY) if spec_name == "eta" else OlistEtaSpec(params=TINY)
    result = train(spec, data, fmt="olist", tracking_uri=tracking_uri, promote_if_better=True)
    assert result.registered_name == "waybill-eta-olist" and result.version == "1"
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    names = {m.name for m in client.search_registered_models()}
    assert names == {"waybill-eta-olist"}  # nothing under the served name
    assert result.promotion is not None and result.promotion.registered_name == (
        "waybill-eta-olist"
    )


def test_format_bound_spec_logs_the_format_it_read(tmp_path: Path, tracking_uri: str) -> None:
    """``waybill train eta-olist`` passes the CLI's default format ("waybill"); the run must
    still say it was trained on Olist data, or a later ``promote`` re-reads the wrong way."""
    from mlflow import MlflowClient

    data = write_fake_olist(tmp_path / "olist", n_orders=500)
    result = train(OlistEtaSpec(params=TINY), data, fmt="waybill", tracking_uri=tracking_uri)
    run = MlflowClient(tracking_uri=tracking_uri).get_run(result.run_id)
    assert run.data.params["data_format"] == "olist"
