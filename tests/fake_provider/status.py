"""Fake Parcels' ``state`` values and what they mean in the normalized model."""

from __future__ import annotations

from shiptrack_sdk._core.status import StatusMap
from shiptrack_sdk.models import TrackingStatus

__all__ = ["PROVIDER", "STATUS_MAP"]

PROVIDER = "fake"

#: ``state`` (of a parcel and of each of its events) → normalized status.
STATUS_MAP = StatusMap(
    PROVIDER,
    "state",
    {
        "registered": TrackingStatus.PRE_TRANSIT,
        "moving": TrackingStatus.TRANSIT,
        "out_for_delivery": TrackingStatus.TRANSIT,
        "delivered": TrackingStatus.DELIVERED,
        "returned": TrackingStatus.EXCEPTION,
    },
    descriptions={
        "registered": "label printed, not yet handed over",
        "moving": "between depots",
        "out_for_delivery": "with the courier",
        "delivered": "handed to the recipient",
        "returned": "sent back to the sender",
    },
)
