"""exporto: shipments tracked one by one, or by tours (exporto's daily closings).

See :class:`ExportoClient`; models in :mod:`shiptrack_sdk.exporto.models`.
"""

from .._core.convert import converter as _converter
from ._hooks import register_hooks as _register_hooks
from .client import ENVIRONMENTS, ExportoClient, json_token_request, parse_error
from .models import LineItem, Shipment, Tour, TourDetail
from .shipments import ShipmentsResource
from .status import STATUS_MAP
from .tours import ToursResource, TrackResult

# Every wire model's converter hooks, registered once the models are all imported.
_register_hooks(_converter)

__all__ = [
    "ENVIRONMENTS",
    "STATUS_MAP",
    "ExportoClient",
    "LineItem",
    "Shipment",
    "ShipmentsResource",
    "Tour",
    "TourDetail",
    "ToursResource",
    "TrackResult",
    "json_token_request",
    "parse_error",
]
