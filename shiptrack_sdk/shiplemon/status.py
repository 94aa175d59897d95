"""Shiplemon's ``tracking_status`` values and what they mean in the normalized model."""

from __future__ import annotations

from .._core.status import StatusMap
from ..models import TrackingStatus

__all__ = ["PROVIDER", "STATUSES", "STATUS_MAP"]

PROVIDER = "shiplemon"

#: ``tracking_status`` / ``tracking_history[].status`` → normalized status. Shiplemon
#: documents exactly these four values, case-sensitive; they are the normalized model's own.
STATUS_MAP = StatusMap(
    PROVIDER,
    "tracking_status",
    {
        "PRE_TRANSIT": TrackingStatus.PRE_TRANSIT,
        "TRANSIT": TrackingStatus.TRANSIT,
        "DELIVERED": TrackingStatus.DELIVERED,
        "EXCEPTION": TrackingStatus.EXCEPTION,
    },
    descriptions={
        "PRE_TRANSIT": "voucher created, not yet picked up",
        "TRANSIT": "picked up and moving, or with the courier",
        "DELIVERED": "delivered, or collected by the recipient",
        "EXCEPTION": "failed delivery, cancellation or return",
    },
)

#: The values ``PUT /v1/shipments/{id}/tracking`` accepts (case-sensitive).
STATUSES = frozenset(STATUS_MAP)
