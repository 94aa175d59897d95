"""shiptrack-sdk: shipment tracking and order execution across Michelin LEX, exporto and Shiplemon.

One client per provider over one shared core (auth, retries, errors), one normalized tracking
model, and an embedded sandbox that speaks every provider's contract::

    from shiptrack_sdk import ShiplemonClient, TrackingStatus

    client = ShiplemonClient()                      # SHIPTRACK_SHIPLEMON_API_KEY
    tracking = client.tracking.get("...").to_tracking()
    if tracking.status is TrackingStatus.DELIVERED: ...

``import shiptrack_sdk`` loads only the error tree and the normalized model; each client, and
the HTTP stack under it, is imported the first time it is used.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from ._version import __version__
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
from .models import Tracking, TrackingEvent, TrackingStatus

if TYPE_CHECKING:
    from ._http import RetryPolicy, Timeout
    from .auth import ApiKeyAuth, OAuth2ClientCredentials
    from .exporto import ExportoClient
    from .lex import LexClient
    from .notebook import Trackings, to_dataframe
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
    "Trackings",
    "TransportError",
    "ValidationError",
    "__version__",
    "to_dataframe",
]

#: Public names imported on first use (PEP 562), by the module that defines them.
_LAZY = {
    "RetryPolicy": "._http",
    "Timeout": "._http",
    "ApiKeyAuth": ".auth",
    "OAuth2ClientCredentials": ".auth",
    "ExportoClient": ".exporto",
    "LexClient": ".lex",
    "ShiplemonClient": ".shiplemon",
    "Trackings": ".notebook",
    "to_dataframe": ".notebook",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# A library adds no handler of its own; the application decides where log lines go.
logging.getLogger("shiptrack_sdk").addHandler(logging.NullHandler())
