"""Shiplemon: shippers pull tracking, carriers put tracking history.

See :class:`ShiplemonClient`; models in :mod:`shiptrack_sdk.shiplemon.models`.
"""

from .client import ENVIRONMENTS, ShiplemonClient
from .models import HistoryEntry, Shipment, ShipmentTracking
from .status import STATUS_MAP
from .tracking import HistoryUpdate, TrackingResource

__all__ = [
    "ENVIRONMENTS",
    "STATUS_MAP",
    "HistoryEntry",
    "HistoryUpdate",
    "ShiplemonClient",
    "Shipment",
    "ShipmentTracking",
    "TrackingResource",
]
