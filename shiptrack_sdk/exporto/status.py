"""exporto's ``carrierState`` values and what they mean in the normalized model.

exporto reports two things about a shipment: its own processing chain (``processedAt``,
``declaredAt``), and the state of the last-mile carrier that delivers it (``carrierState``,
``carrierReceivedAt``, ``carrierDeliveredAt``). The carrier state decides the normalized
status whenever exporto sends one; see :meth:`~shiptrack_sdk.exporto.Shipment.to_tracking`.
"""

from __future__ import annotations

from .._core.status import StatusMap
from ..models import TrackingStatus

__all__ = ["PROVIDER", "STATUS_MAP"]

PROVIDER = "exporto"

#: ``carrierState`` → normalized status, compared case-insensitively. Only ``delivered`` has
#: been seen in public material; the other values are the last-mile states carriers commonly
#: report, kept here as data so a value seen in production is one line to add. Any other
#: value becomes ``UNKNOWN``, its raw text kept and a warning logged once.
STATUS_MAP = StatusMap(
    PROVIDER,
    "carrierState",
    {
        "created": TrackingStatus.PRE_TRANSIT,
        "pending": TrackingStatus.PRE_TRANSIT,
        "info_received": TrackingStatus.PRE_TRANSIT,
        "received": TrackingStatus.TRANSIT,
        "picked_up": TrackingStatus.TRANSIT,
        "in_transit": TrackingStatus.TRANSIT,
        "out_for_delivery": TrackingStatus.TRANSIT,
        "available_for_pickup": TrackingStatus.TRANSIT,
        "delivered": TrackingStatus.DELIVERED,
        "failed_attempt": TrackingStatus.EXCEPTION,
        "exception": TrackingStatus.EXCEPTION,
        "returned": TrackingStatus.EXCEPTION,
        "lost": TrackingStatus.EXCEPTION,
        "cancelled": TrackingStatus.EXCEPTION,
    },
    descriptions={
        "created": "the carrier has the shipment's data, not the parcel",
        "pending": "announced to the carrier, not yet handed over",
        "info_received": "the carrier has the shipment's data, not the parcel",
        "received": "the carrier has the parcel",
        "picked_up": "the carrier has the parcel",
        "in_transit": "moving in the carrier's network",
        "out_for_delivery": "with the courier for delivery",
        "available_for_pickup": "waiting at a pick-up point or locker",
        "delivered": "delivered to the recipient (the value seen publicly)",
        "failed_attempt": "delivery attempted, not completed",
        "exception": "the carrier reports a problem",
        "returned": "returned to the sender",
        "lost": "reported lost by the carrier",
        "cancelled": "cancelled before delivery",
    },
    case_sensitive=False,
)
