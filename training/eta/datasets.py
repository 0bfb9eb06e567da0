"""ETA data sets: contract tables (simulator / Waybill export) and Olist, as one frame per
shipment with its outcome, and the *snapshots* the model learns from and is judged on.

A snapshot is a shipment seen at one prediction time ``as_of`` with the tracking state known
then (``ev_*`` columns, :func:`app.triage.eta_features.event_state`):

* ``booking`` - at booking (``booked_at``; Olist: the purchase), before any carrier scan;
* ``first_scan`` - right after the first carrier scan;
* ``out_for_delivery`` - right after the first out-for-delivery (or pickup-point) event;
* ``extra`` (training only) - the first exception and one random later scan, so the model also
  learns to re-predict on the events in between.

Only delivered shipments have a delivery time to learn; returned, lost and cancelled ones still
feed the exception-rate history but are neither training targets nor evaluated.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from app.triage.eta_features import (
    EVENT_COLUMNS,
    anchor_times,
    event_history,
    event_state,
    prediction_times,
    to_utc_timestamps,
)

OUTCOME_COLUMNS: tuple[str, ...] = (
    "handed_over_at", "delivered_at", "transit_hours", "on_time", "days_late", "final_status",
    "returned", "returned_at", "n_exceptions", "first_exception_category",
)
EVAL_STAGES: tuple[str, ...] = ("booking", "first_scan", "out_for_delivery")
OLIST_TZ = "America/Sao_Paulo"


@dataclass(eq=False)
class EtaDataset:
    """Shipments with their outcomes (one row each) and, when tracked, their events."""

    kind: str  # "waybill" or "olist"
    shipments: pd.DataFrame
    events: pd.DataFrame | None = None
    description: str = ""

    def __len__(self) -> int:
        return len(self.shipments)

    @property
    def prediction_time(self) -> pd.Series:
        """When the first (booking / purchase) prediction is made for each shipment."""
        return prediction_times(self.shipments, self.kind)

    def subset(self, mask: np.ndarray | pd.Series, description: str = "") -> EtaDataset:
        ships = self.shipments.loc[np.asarray(mask, dtype=bool)].reset_index(drop=True)
        events = None
        if self.events is not None:
            keep = self.events["shipment_id"].isin(set(ships["shipment_id"]))
            events = self.events.loc[keep.to_numpy()].reset_index(drop=True)
        return replace(self, shipments=ships, events=events,
                       description=description or self.description)

    def delivered(self) -> pd.Series:
        delivered = to_utc_timestamps(self.shipments["delivered_at"])
        return delivered.notna() & (delivered > anchor_times(self.shipments, self.kind))


# -- loading -----------------------------------------------------------------------------------
def load_waybill(data_dir: str | Path) -> EtaDataset:
    """Contract tables (``shipments``, ``deliveries``, optional ``events``) from a directory
    written by ``waybill simulate history`` or Waybill's export (Parquet or CSV)."""
    from training.simulator.io import read_tables

    tables = read_tables(data_dir, ("shipments", "events", "deliveries"))
    if "shipments" not in tables or "deliveries" not in tables:
        raise FileNotFoundError(f"{data_dir}: needs shipments and deliveries tables")
    return from_tables(tables["shipments"], tables["deliveries"], tables.get("events"),
                       description=str(data_dir))


def from_tables(shipments: pd.DataFrame, deliveries: pd.DataFrame,
                events: pd.DataFrame | None = None, description: str = "") -> EtaDataset:
    outcome = deliveries[["shipment_id", *[c for c in OUTCOME_COLUMNS if c in deliveries]]]
    ships = shipments.drop(columns=[c for c in OUTCOME_COLUMNS if c in shipments])
    frame = ships.merge(outcome, on="shipment_id", how="left")
    for col in ("created_at", "booked_at", "ship_at", "handed_over_at", "delivered_at",
                "returned_at"):
        if col in frame:
            frame[col] = to_utc_timestamps(frame[col])
    frame = frame.sort_values("created_at", kind="stable").reset_index(drop=True)
    return EtaDataset("waybill", frame, events, description)


def olist_extras(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Order-level columns the contract does not carry: item and seller counts, and the median
    coordinates of the customer's and the seller's zip prefix."""
    from training.datasets.olist import FILES

    base = Path(path)
    items = pd.read_csv(base / FILES["items"], encoding="utf-8-sig",
                        usecols=["order_id", "order_item_id", "seller_id"])
    agg = items.groupby("order_id").agg(n_items=("order_item_id", "size"),
                                        n_sellers=("seller_id", "nunique"))
    geo = pd.read_csv(base / FILES["geo"], encoding="utf-8-sig",
                      dtype={"zip_code_prefix_5": str})
    geo = geo.drop_duplicates("zip_code_prefix_5").set_index("zip_code_prefix_5")[["lat", "lng"]]
    return agg.rename_axis("shipment_id").reset_index(), geo


def _olist_frame(shipments: pd.DataFrame, path: Path) -> pd.DataFrame:
    counts, geo = olist_extras(path)
    frame = shipments.merge(counts, on="shipment_id", how="left")
    cust = geo.reindex(frame["destination_postal_prefix"].astype(str).to_numpy())
    sell = geo.reindex(frame["origin_postal_prefix"].astype(str).to_numpy())
    frame["customer_lat"], frame["customer_lng"] = cust["lat"].to_numpy(), cust["lng"].to_numpy()
    frame["seller_lat"], frame["seller_lng"] = sell["lat"].to_numpy(), sell["lng"].to_numpy()
    return frame


def load_olist_dataset(data_dir: str | Path | None = None) -> EtaDataset:
    """Olist orders with their outcomes, for training and evaluation (``load_olist``)."""
    from training.datasets.olist import DEFAULT_OLIST_DIR, load_olist

    base = Path(data_dir) if data_dir else DEFAULT_OLIST_DIR
    tables = load_olist(base)
    deliveries = tables.deliveries.drop(columns=["carrier", "promised_date"])
    frame = tables.shipments.merge(deliveries, on="shipment_id", how="left")
    frame = _olist_frame(frame, base)
    frame = frame.sort_values("created_at", kind="stable").reset_index(drop=True)
    return EtaDataset("olist", frame, None, str(base))


@contextmanager
def _blind_orders_dir(base: Path) -> Iterator[Path]:
    """A directory that shows the Olist tables with the orders' delivery dates and status
    removed (symlinks for the other files), so prediction cannot see outcomes."""
    from training.datasets.olist import FILES

    with tempfile.TemporaryDirectory(prefix="olist-blind-") as tmp:
        out = Path(tmp)
        for key, name in FILES.items():
            if key == "orders":
                orders = pd.read_csv(base / name, encoding="utf-8-sig", dtype=str)
                for col in ("order_delivered_carrier_date", "order_delivered_customer_date",
                            "order_status"):
                    if col in orders:
                        orders[col] = None
                orders.to_csv(out / name, index=False)
            else:
                try:
                    (out / name).symlink_to((base / name).resolve())
                except OSError:
                    shutil.copyfile(base / name, out / name)
        yield out


def olist_prediction_frame(data_dir: str | Path) -> pd.DataFrame:
    """Every order of an Olist directory with only what is known at purchase: the adapter's
    shipment columns minus status, plus item counts and coordinates. Delivery dates and status
    are blanked before the adapter reads the files."""
    from training.datasets.olist import load_olist

    base = Path(data_dir)
    with _blind_orders_dir(base) as blind:
        shipments = load_olist(blind).shipments
    shipments = shipments.drop(columns=["olist_order_status"], errors="ignore")
    return _olist_frame(shipments, base)


def load_dataset(data_dir: str | Path | None, fmt: str = "waybill") -> EtaDataset:
    if fmt == "olist":
        return load_olist_dataset(data_dir)
    if fmt == "waybill":
        if data_dir is None:
            raise ValueError("the waybill format needs a data directory")
        return load_waybill(data_dir)
    raise ValueError(f"unknown format {fmt!r} (waybill or olist)")


# -- splitting ---------------------------------------------------------------------------------
def month_cut(times: pd.Series, holdout_months: int, tz: str = "UTC") -> pd.Timestamp:
    """First instant of the holdout: the start of the ``holdout_months``-th last calendar month
    (in ``tz``) of the data."""
    local_last = times.max().tz_convert(tz)
    first_of_last = pd.Timestamp(year=local_last.year, month=local_last.month, day=1, tz=tz)
    return (first_of_last - pd.DateOffset(months=holdout_months - 1)).tz_convert("UTC")


def time_split(ds: EtaDataset, cut: pd.Timestamp) -> tuple[EtaDataset, EtaDataset]:
    """Earlier shipments (predicted before ``cut``) train, later ones are held out."""
    t = ds.prediction_time
    before = (t < cut).to_numpy()
    return (ds.subset(before, f"{ds.description} before {cut:%Y-%m-%d}"),
            ds.subset(~before, f"{ds.description} from {cut:%Y-%m-%d}"))


# -- snapshots ---------------------------------------------------------------------------------
def snapshots(ds: EtaDataset, *, training: bool = False, seed: int = 0,
              delivered_only: bool = True) -> pd.DataFrame:
    """Shipment rows at their prediction times, with the tracking state then (see module doc).

    Columns: the shipment's, ``as_of``, ``eval_stage`` and ``ev_*``. Only snapshots strictly
    before the delivery are kept.
    """
    ships = ds.shipments
    if delivered_only:
        ships = ships.loc[ds.delivered().to_numpy()].reset_index(drop=True)
    booking = ships.assign(as_of=prediction_times(ships, ds.kind), eval_stage="booking")
    parts = [booking]
    hist = None
    if ds.events is not None and len(ds.events) and ds.kind == "waybill":
        ids = set(ships["shipment_id"].astype(str))
        ev = ds.events.loc[ds.events["shipment_id"].astype(str).isin(ids).to_numpy()]
        hist = event_history(ev)
        before_delivery = hist["ev_status"] != "delivered"
        first_scan = hist.loc[before_delivery & (hist["ev_scans"] == 1)].drop_duplicates(
            "shipment_id")
        ofd = hist.loc[before_delivery & (hist["ev_rank"] >= 2)].drop_duplicates("shipment_id")
        times = {"first_scan": first_scan, "out_for_delivery": ofd}
        if training:
            exc = hist.loc[before_delivery & (hist["ev_status"] == "exception")].drop_duplicates(
                "shipment_id")
            rng = np.random.default_rng(seed)
            mid = hist.loc[before_delivery & (hist["ev_scans"] >= 2)]
            mid = mid.iloc[np.argsort(rng.random(len(mid)))].drop_duplicates("shipment_id")
            times["extra"] = pd.concat([exc, mid], ignore_index=True)
        by_id = ships.set_index(ships["shipment_id"].astype(str))
        for stage, rows in times.items():
            part = by_id.loc[rows["shipment_id"].to_numpy()].reset_index(drop=True)
            part["as_of"] = rows["occurred_at"].to_numpy()
            part["eval_stage"] = stage
            parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["as_of"] = to_utc_timestamps(out["as_of"])
    if hist is not None:
        state = event_state(hist, out[["shipment_id", "as_of"]])
        for col in EVENT_COLUMNS:
            out[col] = state[col].to_numpy()
    if "delivered_at" in out:
        delivered = to_utc_timestamps(out["delivered_at"])
        out = out.loc[(delivered > out["as_of"]).to_numpy() | delivered.isna().to_numpy()]
    return out.reset_index(drop=True)
