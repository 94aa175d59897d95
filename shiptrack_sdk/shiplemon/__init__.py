"""Shiplemon: shippers pull tracking, carriers put tracking history.

See :class:`ShiplemonClient`; models in :mod:`shiptrack_sdk.shiplemon.models`.
"""

from .._core.convert import converter as _converter
from ._hooks import register_hooks as _register_hooks
from .client import ENVIRONMENTS, ShiplemonClient
from .models import HistoryEntry, Shipment, ShipmentTracking
from .status import STATUS_MAP
from .tracking import HistoryUpdate, TrackingResource

# Every wire model's converter hooks, registered once the models are all imported.
_register_hooks(_converter)

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
