"""exporto's wire models: shipments, line items and tours.

Field names are snake_case; exporto's camelCase names appear only in :func:`_register`. Every
model keeps the payload it was built from in ``raw`` and any field it does not know in
``extra``, so nothing exporto adds is lost.

The models are frozen and dict-backed (``slots=False``): the converter builds one by filling
its ``__dict__`` in a single step, which is most of what reading an answer costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import attrs

from ..export import Exportable
from ..models import Tracking, TrackingEvent, TrackingStatus
from .status import PROVIDER, STATUS_MAP

__all__ = ["LineItem", "Shipment", "Tour", "TourDetail"]


def _raw() -> Any:
    return attrs.field(factory=dict, eq=False, repr=False)


def _extra() -> Any:
    return attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(slots=False)
class LineItem(Exportable):
    """One article of a shipment (``lineItems[]``).

    exporto does not publish the line item's fields; the common ones are read here and every
    other field is kept in :attr:`extra`.
    """

    article_id: str | None = None
    sku: str | None = None
    description: str | None = None
    quantity: int | None = None
    value: float | None = None
    currency: str | None = None
    hs_code: str | None = None
    country_of_origin: str | None = None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()


#: The processing chain: (field, wire name, event status, description), in chain order.
_CHAIN: tuple[tuple[str, str, TrackingStatus, str], ...] = (
    ("processed_at", "processedAt", TrackingStatus.TRANSIT, "Processed by exporto"),
    ("declared_at", "declaredAt", TrackingStatus.TRANSIT, "Declared and cleared through customs"),
    (
        "carrier_received_at",
        "carrierReceivedAt",
        TrackingStatus.TRANSIT,
        "Handed over to the last-mile carrier",
    ),
    (
        "carrier_delivered_at",
        "carrierDeliveredAt",
        TrackingStatus.DELIVERED,
        "Delivered by the last-mile carrier",
    ),
)


def _says_processed(status: str | None) -> bool:
    # "processed" is the one value of exporto's status seen publicly; compared as the carrier
    # states are, case-insensitively.
    return isinstance(status, str) and status.strip().lower() == "processed"


@attrs.frozen(slots=False)
class Shipment(Exportable):
    """A shipment as exporto reports it: ``GET shipment/{shipmentId}``.

    Attributes:
        shipment_id: exporto's shipment id (``shipmentId``).
        order_id: The order the shipment belongs to.
        type: ``"outbound"`` (to the customer) or ``"inbound"`` (a return).
        status: exporto's own processing status (``"processed"``...).
        foreign_outbound_tracking_id: The last-mile carrier's tracking number.
        foreign_inbound_tracking_id: The tracking number of a return's foreign leg.
        domestic_inbound_tracking_id: The tracking number of the leg into exporto's hub.
        processed_at: When exporto processed the shipment.
        declared_at: When exporto declared it to customs (the export clearance).
        carrier_state: The last-mile carrier's state (``"delivered"``...), verbatim.
        carrier_received_at: When the last-mile carrier received the parcel.
        carrier_delivered_at: When the last-mile carrier delivered it.
        line_items: The articles shipped.
        extra: Fields exporto sent that this model does not name.
    """

    shipment_id: str | None = None
    order_id: str | None = None
    type: str | None = None
    status: str | None = None
    foreign_outbound_tracking_id: str | None = None
    foreign_inbound_tracking_id: str | None = None
    domestic_inbound_tracking_id: str | None = None
    processed_at: datetime | None = None
    declared_at: datetime | None = None
    carrier_state: str | None = None
    carrier_received_at: datetime | None = None
    carrier_delivered_at: datetime | None = None
    line_items: tuple[LineItem, ...] = ()
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()

    @property
    def is_processed(self) -> bool:
        """Whether exporto has processed the shipment.

        ``processedAt`` is set, or, without it, exporto's ``status`` is ``"processed"``:
        ``processedAt`` is public only as a search filter, and exporto may answer a processed
        shipment with its ``status`` and no timestamp.
        """
        return self.processed_at is not None or _says_processed(self.status)

    @property
    def tracking_ref(self) -> str | None:
        """The last-mile carrier's tracking number.

        ``foreignOutboundTrackingId``; for a return (``type`` ``"inbound"``) that has none,
        ``foreignInboundTrackingId``, the number of the parcel's foreign leg.
        """
        if self.foreign_outbound_tracking_id:
            return self.foreign_outbound_tracking_id
        if self.type == "inbound" and self.foreign_inbound_tracking_id:
            return self.foreign_inbound_tracking_id
        return None

    def events(self) -> list[TrackingEvent]:
        """The processing chain as normalized events, one per timestamp exporto sent.

        Processed by exporto, declared and cleared through customs (``declaredAt``), handed
        over to the last-mile carrier, delivered. ``provider_status`` names the exporto field
        each event comes from.
        """
        events = []
        for field, wire, status, description in _CHAIN:
            when: datetime | None = getattr(self, field)
            if when is not None:
                events.append(
                    TrackingEvent(
                        status=status,
                        occurred_at=when,
                        description=description,
                        provider_status=wire,
                    )
                )
        return events

    def normalized_status(self) -> TrackingStatus:
        """The shipment's normalized status.

        exporto's ``carrierState`` when it sends one, through
        :data:`~shiptrack_sdk.exporto.status.STATUS_MAP` (an unknown value is ``UNKNOWN``).
        Without a carrier state: ``DELIVERED`` when ``carrierDeliveredAt`` is set,
        ``TRANSIT`` once exporto has processed, declared or handed over the shipment (a
        ``status`` of ``"processed"`` counts when no timestamp says so: see
        :attr:`is_processed`), and ``PRE_TRANSIT`` before exporto has processed it.
        """
        if self.carrier_state:
            return STATUS_MAP.normalize(self.carrier_state)
        if self.carrier_delivered_at is not None:
            return TrackingStatus.DELIVERED
        if (
            self.is_processed
            or self.declared_at is not None
            or self.carrier_received_at is not None
        ):
            return TrackingStatus.TRANSIT
        return TrackingStatus.PRE_TRANSIT

    def to_tracking(self) -> Tracking:
        """The normalized :class:`~shiptrack_sdk.Tracking` of this shipment.

        ``provider_status`` is the raw ``carrierState``, or exporto's own ``status`` while
        no carrier has the shipment; ``tracking_ref`` is the last-mile tracking number.
        """
        return Tracking(
            provider=PROVIDER,
            shipment_id=self.shipment_id or "",
            status=self.normalized_status(),
            provider_status=self.carrier_state or self.status,
            events=self.events(),
            tracking_ref=self.tracking_ref,
            raw=self.raw,
        )


@attrs.frozen(slots=False)
class Tour(Exportable):
    """An exporto tour, a daily closing: one entry of ``GET tour``.

    An entry that is a bare tour id (exporto's help center speaks of "a list of available
    tourIDs") is a tour with that ``id`` and nothing else.

    Attributes:
        id: The tour id (``tourId``).
        closing_date: The day the tour was closed, when exporto says.
        shipment_count: How many shipments it holds, when exporto says.
    """

    id: str
    closing_date: date | None = None
    shipment_count: int | None = None
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(slots=False)
class TourDetail(Exportable):
    """One tour and its shipments: ``GET tour/{tourId}``.

    A tour is "a comprehensive list of shipmentIds or foreignOutboundTrackingIds" (exporto's
    help center), so it may name its shipments either way, or both.

    Attributes:
        tour_id: The tour id (the one asked for, when the answer does not repeat it).
        closing_date: The day the tour was closed.
        shipment_ids: The ids of the shipments the tour lists by id, in exporto's order.
        foreign_outbound_tracking_ids: The last-mile tracking numbers of the shipments the
            tour lists by tracking number (``foreignOutboundTrackingIds``), in exporto's order.
            :meth:`ToursResource.track <shiptrack_sdk.exporto.ToursResource.track>` resolves
            them to shipments.
    """

    tour_id: str | None = None
    closing_date: date | None = None
    shipment_ids: tuple[str, ...] = ()
    foreign_outbound_tracking_ids: tuple[str, ...] = ()
    extra: Mapping[str, Any] = _extra()
    raw: Mapping[str, Any] = _raw()
