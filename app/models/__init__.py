"""Canonical model: pydantic types and enums only; no I/O, no carrier names."""

from app.models.carrier_ops import (
    BookingResult,
    CancelResult,
    CancelStatus,
    CarrierCapabilities,
)
from app.models.enums import (
    DimensionUnit,
    ExceptionCategory,
    LabelFormat,
    ShipmentState,
    TrackingStatus,
    WeightUnit,
)
from app.models.shipment import (
    Address,
    Customs,
    CustomsItem,
    Label,
    Money,
    Parcel,
    Rate,
    Shipment,
    ShipmentRequest,
)
from app.models.tracking import EventLocation, TrackingEvent

__all__ = [
    "Address",
    "BookingResult",
    "CancelResult",
    "CancelStatus",
    "CarrierCapabilities",
    "Customs",
    "CustomsItem",
    "DimensionUnit",
    "EventLocation",
    "ExceptionCategory",
    "Label",
    "LabelFormat",
    "Money",
    "Parcel",
    "Rate",
    "Shipment",
    "ShipmentRequest",
    "ShipmentState",
    "TrackingEvent",
    "TrackingStatus",
    "WeightUnit",
]
