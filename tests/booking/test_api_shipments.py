"""The shipments API: book with an Idempotency-Key, quote, cancel, fetch labels, clear 4xx."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from booking_env import BookingEnv
from fastapi.testclient import TestClient

US = {
    "name": "Ada Buyer",
    "street1": "500 Market St",
    "city": "San Francisco",
    "state_code": "CA",
    "postal_code": "94105",
    "country_code": "US",
}
WAREHOUSE = {
    "name": "Waybill Demo Co.",
    "street1": "1 Dock Rd",
    "city": "Oakland",
    "state_code": "CA",
    "postal_code": "94607",
    "country_code": "US",
}
REQUEST: dict[str, Any] = {
    "reference": "API-1",
    "shipper": WAREHOUSE,
    "recipient": US,
    "parcels": [{"weight": 2.5, "weight_unit": "kg"}],
}


def book(api: TestClient, body: dict[str, Any], key: str | None = "key-1") -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    return api.post("/v1/shipments", json=body, headers=headers)


def test_book_then_replay_with_the_same_key(benv: BookingEnv, api: TestClient) -> None:
    first = book(api, REQUEST)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["state"] == "booked" and body["labels"]
    again = book(api, REQUEST)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == body["id"]
    assert benv.buys() == 1

    label = body["labels"][0]
    pdf = api.get(f"/v1/shipments/{body['id']}/labels/{label['id']}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_idempotency_key_rules(api: TestClient) -> None:
    missing = book(api, REQUEST, key=None)
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_missing"
    assert book(api, REQUEST, key="k-2").status_code == 201
    other = copy.deepcopy(REQUEST)
    other["reference"] = "API-2"
    reused = book(api, other, key="k-2")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b["parcels"][0].update(weight=-1), "parcels.0.weight"),
        (lambda b: b["recipient"].pop("country_code"), "recipient.country_code"),
        (lambda b: b.update(carrier_account="no-such-carrier"), "carrier_account"),
    ],
)
def test_invalid_requests_name_the_field(api: TestClient, mutate: Any, field: str) -> None:
    body = copy.deepcopy(REQUEST)
    mutate(body)
    response = book(api, body, key=f"bad-{field}")
    assert response.status_code == 422, response.text
    fields = [f["field"] for f in response.json()["details"]["fields"]]
    assert field in fields


def test_carrier_rejection_is_a_422_naming_the_field(benv: BookingEnv, api: TestClient) -> None:
    body = copy.deepcopy(REQUEST)
    body["recipient"]["postal_code"] = "00000"
    response = book(api, body, key="bad-zip")
    assert response.status_code == 422
    assert response.json()["code"] == "carrier_address_invalid"
    assert [f["field"] for f in response.json()["details"]["fields"]] == ["recipient.postal_code"]
    assert benv.buys() == 0


def test_quotes_and_cancel(benv: BookingEnv, api: TestClient) -> None:
    quotes = api.post("/v1/rates", json=REQUEST)
    assert quotes.status_code == 200
    amounts = [q["amount"] for q in quotes.json()["quotes"]]
    assert amounts and amounts == sorted(amounts, key=float)
    assert benv.buys() == 0

    booked = book(api, REQUEST, key="to-cancel").json()
    stored = api.get("/v1/rates", params={"shipment_id": booked["id"]})
    assert stored.status_code == 200 and stored.json()["quotes"]
    cancelled = api.post(f"/v1/shipments/{booked['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["accepted"] is True
    assert api.get(f"/v1/shipments/{booked['id']}").json()["state"] == "cancelled"
    assert api.post("/v1/shipments/shp_missing/cancel").status_code == 404


def test_cancel_refused_by_the_carrier_is_409(benv: BookingEnv, api: TestClient) -> None:
    booked = book(api, REQUEST, key="late-cancel").json()
    benv.carrier_box.advance(booked["labels"][0]["tracking_number"], 2)
    response = api.post(f"/v1/shipments/{booked['id']}/cancel")
    assert response.status_code == 409
    assert response.json()["code"] == "cancel_rejected"
    assert response.json()["details"]["policy"]
