"""Shiplemon's wire models: every field of the documented tracking and shipment answers.

Field names are Shiplemon's own (already snake_case); ``address._id`` is ``id`` here. Every
field is optional, because Shiplemon omits or nulls fields by carrier; each model keeps the
payload it came from in ``raw``, so fields added by Shiplemon later are not lost.

The models are frozen and dict-backed (``slots=False``): the converter builds one by filling
its ``__dict__`` in a single step, which is most of what reading an answer costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from ..export import Exportable
from ..models import Tracking, TrackingEvent
from .status import PROVIDER, STATUS_MAP

__all__ = [
    "Address",
    "Carrier",
    "ChildVoucher",
    "HistoryEntry",
    "Item",
    "Pickup",
    "Rate",
    "RateMetadata",
    "RateProvider",
    "Service",
    "Shipment",
    "ShipmentTracking",
]


def _raw() -> Any:
    """The ``raw`` field: the payload a model came from, outside ``==`` and ``repr``."""
    return attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(slots=False)
class Carrier(Exportable):
    """The carrier moving the shipment (``data.carrier``)."""

    code: str | None = None
    name: str | None = None
    image: str | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class Service(Exportable):
    """The carrier's service (``data.service``, ``rate.service``)."""

    code: str | None = None
    name: str | None = None
    estimated_delivery_in_days: int | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class HistoryEntry(Exportable):
    """One entry of ``tracking_history``.

    Attributes:
        status: ``DELIVERED``, ``TRANSIT``, ``PRE_TRANSIT`` or ``EXCEPTION`` (kept verbatim).
        status_date: When it happened (aware, UTC).
        status_details: The carrier's text (often Greek).
        status_exact: A finer status, or ``None``, kept verbatim. Shiplemon's documentation
            shows one value, ``WITH_COURIER``; others the embedded sandbox serves
            (``PICKED_UP``, ``AT_HUB``, ``OUT_FOR_DELIVERY``...) are the sandbox's own.
    """

    status: str
    status_date: datetime
    status_details: str | None = None
    status_exact: str | None = None
    raw: Mapping[str, Any] = _raw()

    def to_event(self) -> TrackingEvent:
        """This entry as a normalized :class:`~shiptrack_sdk.TrackingEvent`."""
        return TrackingEvent(
            status=STATUS_MAP.normalize(self.status),
            occurred_at=self.status_date,
            description=self.status_details,
            provider_status=self.status,
            provider_status_detail=self.status_exact,
        )


def _events(history: tuple[HistoryEntry, ...]) -> list[TrackingEvent]:
    # Shiplemon's history comes newest first, or unordered (the PUT sample); Tracking sorts.
    return [entry.to_event() for entry in history]


@attrs.frozen(slots=False)
class ShipmentTracking(Exportable):
    """A shipment's tracking: ``GET /public/v1/shipments/{id}/tracking`` (``data``).

    Attributes:
        shipment_id: The id it was asked for (not in Shiplemon's answer; set by the SDK).
        tracking_status: Shiplemon's current status of the shipment.
        tracking_history: Every event, in Shiplemon's order.
    """

    shipment_id: str | None = None
    partner_id: str | None = None
    driver: str | None = None
    carrier: Carrier | None = None
    service: Service | None = None
    tracking_status: str | None = None
    tracking_history: tuple[HistoryEntry, ...] = ()
    tracking_ref: str | None = None
    tracking_url: str | None = None
    country_from: str | None = None
    country_to: str | None = None
    raw: Mapping[str, Any] = _raw()

    def to_tracking(self) -> Tracking:
        """The normalized :class:`~shiptrack_sdk.Tracking`.

        The status is Shiplemon's ``tracking_status``, not guessed from the events.
        """
        carrier = self.carrier.name if self.carrier and self.carrier.name else self.driver
        return Tracking(
            provider=PROVIDER,
            shipment_id=self.shipment_id or "",
            status=STATUS_MAP.normalize(self.tracking_status),
            provider_status=self.tracking_status,
            events=_events(self.tracking_history),
            carrier=carrier,
            tracking_ref=self.tracking_ref or None,
            tracking_url=self.tracking_url or None,
            raw=self.raw,
        )


@attrs.frozen(slots=False)
class ChildVoucher(Exportable):
    """A further parcel of a multi-parcel shipment (``child_vouchers[]``)."""

    tracking_ref: str | None = None
    tracking_url: str | None = None
    label_url: str | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class Address(Exportable):
    """A sender or recipient address (``address_from``, ``address_to``)."""

    id: str | None = None
    name: str | None = None
    company: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    country_code: str | None = None
    dial_code: str | None = None
    phone: str | None = None
    email: str | None = None
    notes: str | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class Item(Exportable):
    """A parcel: weight in grams, dimensions in centimetres, declared value."""

    weight: float | None = None
    height: float | None = None
    width: float | None = None
    length: float | None = None
    label: str | None = None
    notes: str | None = None
    value: float | None = None
    currency: str | None = None
    invoice_lines: tuple[Any, ...] = ()
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class Pickup(Exportable):
    """The pick-up slot (``pickup``)."""

    date: date | None = None
    time: str | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class RateProvider(Exportable):
    """The carrier offering a rate (``rate.provider``)."""

    name: str | None = None
    image: str | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class RateMetadata(Exportable):
    """What a rate was quoted for (``rate.metadata``)."""

    items: tuple[Item, ...] = ()
    address_from: Address | None = None
    address_to: Address | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class Rate(Exportable):
    """The rate the shipment was booked at (``rate``)."""

    id: str | None = None
    driver: str | None = None
    provider: RateProvider | None = None
    service: Service | None = None
    total_amount: float | None = None
    total_without_tax_amount: float | None = None
    tax_amount: float | None = None
    currency: str | None = None
    printing_required: bool | None = None
    has_cash_on_delivery: bool | None = None
    has_custom_credentials: bool | None = None
    has_shipment_pickup_combined: bool | None = None
    has_tracking_code_on_pickup: bool | None = None
    has_pickup: bool | None = None
    transportation: str | None = None
    metadata: RateMetadata | None = None
    cash_on_delivery: float | None = None
    logs: tuple[Any, ...] = ()
    tags: tuple[Any, ...] = ()
    notifications: tuple[Any, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class Shipment(Exportable):
    """A shipment, as ``PUT /v1/shipments/{id}/tracking`` answers it (``data``)."""

    id: str | None = None
    partner_id: str | None = None
    invoice_id: str | None = None
    partner_credentials_used: bool | None = None
    related_order_id: str | None = None
    payment_ref: str | None = None
    payment_amount: float | None = None
    state: str | None = None
    driver: str | None = None
    pickup_ref: str | None = None
    tracking_ref: str | None = None
    tracking_url: str | None = None
    tracking_status: str | None = None
    tracking_history: tuple[HistoryEntry, ...] = ()
    tracking_history_last_updated_at: datetime | None = None
    label_url: str | None = None
    invoice_url: str | None = None
    child_vouchers: tuple[ChildVoucher, ...] = ()
    address_from: Address | None = None
    address_to: Address | None = None
    items: tuple[Item, ...] = ()
    pickup: Pickup | None = None
    pickup_at: datetime | None = None
    delivered_at: datetime | None = None
    rate: Rate | None = None
    raw: Mapping[str, Any] = _raw()

    def to_tracking(self) -> Tracking:
        """The normalized :class:`~shiptrack_sdk.Tracking` of this shipment."""
        carrier = None
        if self.rate and self.rate.provider and self.rate.provider.name:
            carrier = self.rate.provider.name
        return Tracking(
            provider=PROVIDER,
            shipment_id=self.id or "",
            status=STATUS_MAP.normalize(self.tracking_status),
            provider_status=self.tracking_status,
            events=_events(self.tracking_history),
            carrier=carrier or self.driver,
            tracking_ref=self.tracking_ref or None,
            tracking_url=self.tracking_url or None,
            raw=self.raw,
        )
