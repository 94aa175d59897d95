"""shiptrack-sdk: shipment tracking and order execution across Michelin LEX, exporto and Shiplemon.

One client per provider over one shared core (auth, retries, errors), one normalized tracking
model, and an embedded sandbox that speaks every provider's contract::

    from shiptrack_sdk import ShiplemonClient, TrackingStatus

    client = ShiplemonClient()                      # SHIPTRACK_SHIPLEMON_API_KEY
    tracking = client.tracking.get("...").to_tracking()
    if tracking.status is TrackingStatus.DELIVERED: ...
"""

from __future__ import annotations

import logging

from ._http import RetryPolicy, Timeout
from ._version import __version__
from .auth import ApiKeyAuth, OAuth2ClientCredentials
from .errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ResponseError,
    ServerError,
    ShiptrackError,
    TransportError,
    ValidationError,
)
from .exporto import ExportoClient
from .lex import LexClient
from .models import Tracking, TrackingEvent, TrackingStatus
from .shiplemon import ShiplemonClient

__all__ = [
    "APIError",
    "ApiKeyAuth",
    "AuthenticationError",
    "BadRequestError",
    "ExportoClient",
    "LexClient",
    "NotFoundError",
    "OAuth2ClientCredentials",
    "RateLimitError",
    "ResponseError",
    "RetryPolicy",
    "ServerError",
    "ShiplemonClient",
    "ShiptrackError",
    "Timeout",
    "Tracking",
    "TrackingEvent",
    "TrackingStatus",
    "TransportError",
    "ValidationError",
    "__version__",
]

# A library adds no handler of its own; the application decides where log lines go.
logging.getLogger("shiptrack_sdk").addHandler(logging.NullHandler())
