"""Canonical shipment model: what Waybill books, whatever carrier sells it.

Validation rejects impossible values at the edge (negative weight, unknown country, a parcel
heavier than any parcel network accepts) with messages that name the field, so a dispatcher sees
"parcels.0.weight: must be greater than 0" rather than a carrier's error an hour later.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from app.models.countries import ISO_COUNTRIES
from app.models.enums import DimensionUnit, LabelFormat, ShipmentState, WeightUnit
from app.models.units import to_cm, to_kg

MAX_PARCEL_KG = Decimal("1000")  # beyond this it is freight, not a parcel
MAX_SIDE_CM = Decimal("400")

Positive = Annotated[Decimal, Field(gt=0)]
NonNegative = Annotated[Decimal, Field(ge=0)]
Base64Bytes = Annotated[
    bytes, PlainSerializer(lambda b: base64.b64encode(b).decode("ascii"), return_type=str)
]


class CanonicalModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=False)


def _country(value: str) -> str:
    code = value.strip().upper()
    if code not in ISO_COUNTRIES:
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code")
    return code


CountryCode = Annotated[str, BeforeValidator(lambda v: _country(str(v)))]


class Address(CanonicalModel):
    name: str = Field(min_length=1, max_length=128)
    company: str | None = Field(default=None, max_length=128)
    street1: str = Field(min_length=1, max_length=128)
    street2: str | None = Field(default=None, max_length=128)
    city: str = Field(min_length=1, max_length=64)
    state_code: str | None = Field(default=None, max_length=16)
    postal_code: str | None = Field(default=None, max_length=16)
    country_code: CountryCode
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    residential: bool = False

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str | None) -> str | None:
        if value and ("@" not in value or value.startswith("@") or value.endswith("@")):
            raise ValueError("is not an e-mail address")
        return value or None


class Money(CanonicalModel):
    amount: NonNegative
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class Parcel(CanonicalModel):
    weight: Positive
    weight_unit: WeightUnit = WeightUnit.KG
    length: Positive | None = None
    width: Positive | None = None
    height: Positive | None = None
    dimension_unit: DimensionUnit = DimensionUnit.CM
    reference: str | None = Field(default=None, max_length=64)
    packaging: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _physically_possible(self) -> Parcel:
        if self.weight_kg > MAX_PARCEL_KG:
            raise ValueError(
                f"weight {self.weight} {self.weight_unit} exceeds the parcel limit of "
                f"{MAX_PARCEL_KG} kg"
            )
        dims = (self.length, self.width, self.height)
        if any(d is not None for d in dims) and not all(d is not None for d in dims):
            raise ValueError("give all three dimensions (length, width, height) or none")
        for side in self.dims_cm or ():
            if side > MAX_SIDE_CM:
                raise ValueError(f"a side of {side} cm exceeds the parcel limit of {MAX_SIDE_CM}")
        return self

    @property
    def weight_kg(self) -> Decimal:
        return to_kg(self.weight, self.weight_unit)

    @property
    def dims_cm(self) -> tuple[Decimal, Decimal, Decimal] | None:
        if self.length is None or self.width is None or self.height is None:
            return None
        u = self.dimension_unit
        return (to_cm(self.length, u), to_cm(self.width, u), to_cm(self.height, u))


class CustomsItem(CanonicalModel):
    description: str = Field(min_length=1, max_length=256)
    quantity: int = Field(gt=0)
    unit_value: Money
    hs_code: str | None = Field(default=None, pattern=r"^\d{6,10}$")
    origin_country: CountryCode
    weight: Positive | None = None
    weight_unit: WeightUnit = WeightUnit.KG


class Customs(CanonicalModel):
    contents_type: str = Field(default="merchandise", max_length=32)
    incoterm: str = Field(default="DAP", pattern=r"^[A-Z]{3}$")
    items: list[CustomsItem] = Field(min_length=1)


class ShipmentRequest(CanonicalModel):
    """What must be shipped: everything a carrier needs to quote and sell a label."""

    reference: str = Field(min_length=1, max_length=64)
    shipper: Address
    recipient: Address
    parcels: list[Parcel] = Field(min_length=1, max_length=50)
    ship_date: date | None = None
    promised_date: date | None = None
    carrier_preference: str | None = Field(default=None, max_length=64)
    service_preference: str | None = Field(default=None, max_length=64)
    declared_value: Money | None = None
    customs: Customs | None = None
    is_return: bool = False
    odoo_picking_id: int | None = Field(default=None, gt=0)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_international(self) -> bool:
        return self.shipper.country_code != self.recipient.country_code

    @property
    def total_weight_kg(self) -> Decimal:
        return sum((p.weight_kg for p in self.parcels), Decimal("0"))

    @model_validator(mode="after")
    def _dates_in_order(self) -> ShipmentRequest:
        if self.ship_date and self.promised_date and self.promised_date < self.ship_date:
            raise ValueError("promised_date is before ship_date")
        return self


class Rate(CanonicalModel):
    """One quote: a carrier account's offer for a service, with its cost and promise."""

    carrier: str = Field(min_length=1)
    carrier_account: str = Field(min_length=1)
    service: str = Field(min_length=1)
    total: Money
    transit_days: int | None = Field(default=None, ge=0, le=120)
    estimated_delivery: date | None = None
    rate_id: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Label(CanonicalModel):
    tracking_number: str = Field(min_length=1, max_length=64)
    format: LabelFormat
    data: Base64Bytes
    parcel_index: int = Field(default=0, ge=0)

    @field_validator("data", mode="before")
    @classmethod
    def _decode(cls, value: Any) -> Any:
        """Accept raw bytes or base64 text (how labels travel in JSON)."""
        if isinstance(value, str):
            return base64.b64decode(value, validate=True)
        return value


class Shipment(CanonicalModel):
    """A shipment Waybill knows about, with what it bought and where it stands."""

    id: str
    request: ShipmentRequest
    state: ShipmentState = ShipmentState.INTENT
    rate: Rate | None = None
    tracking_numbers: list[str] = Field(default_factory=list)
    labels: list[Label] = Field(default_factory=list)
    carrier_shipment_id: str | None = None
    created_at: datetime
    updated_at: datetime
