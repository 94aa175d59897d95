"""exporto: shipments tracked one by one, or by tours (exporto's daily closings).

See :class:`ExportoClient`; models in :mod:`shiptrack_sdk.exporto.models`.
"""

from .client import ENVIRONMENTS, ExportoClient, json_token_request, parse_error
from .models import LineItem, Shipment, Tour, TourDetail
from .shipments import ShipmentsResource
from .status import STATUS_MAP
from .tours import ToursResource, TrackResult

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
