"""shiptrack-sdk: shipment tracking and order execution across Michelin LEX, exporto and Shiplemon.

One client per provider over one shared core (auth, retries, errors), one normalized tracking
model, and an embedded sandbox that speaks every provider's contract::

    from shiptrack_sdk import ShiplemonClient, TrackingStatus

    client = ShiplemonClient()                      # SHIPTRACK_SHIPLEMON_API_KEY
    tracking = client.tracking.get("...").to_tracking()
    if tracking.status is TrackingStatus.DELIVERED: ...

``import shiptrack_sdk`` loads only the error tree and the normalized model; each client, and
the HTTP stack under it, is imported the first time it is used. The clients exported here are
those of the registered providers (:mod:`shiptrack_sdk._providers`), each named by its spec;
``__all__`` is built from the registry on first use. For type checkers, the clients of the
providers shipped with the SDK are declared under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__
from .errors import APIError as APIError
from .errors import AuthenticationError as AuthenticationError
from .errors import BadRequestError as BadRequestError
from .errors import ClientClosedError as ClientClosedError
from .errors import DeadlineExceededError as DeadlineExceededError
from .errors import NotFoundError as NotFoundError
from .errors import RateLimitError as RateLimitError
from .errors import ResponseError as ResponseError
from .errors import ServerError as ServerError
from .errors import ShiptrackError as ShiptrackError
from .errors import TokenError as TokenError
from .errors import TransportError as TransportError
from .errors import ValidationError as ValidationError
from .models import Tracking as Tracking
from .models import TrackingEvent as TrackingEvent
from .models import TrackingOutcome as TrackingOutcome
from .models import TrackingStatus as TrackingStatus

if TYPE_CHECKING:
    # ``X as X``: re-exported for type checkers (``__all__`` is only known at run time).
    from ._core.options import ApiKeySettings as ApiKeySettings
    from ._core.options import ClientOptions as ClientOptions
    from ._core.options import OAuth2Settings as OAuth2Settings
    from ._core.options import RetryPolicy as RetryPolicy
    from ._core.options import Timeout as Timeout
    from ._core.ratelimit import RateLimit as RateLimit
    from .auth import ApiKeyAuth as ApiKeyAuth
    from .auth import OAuth2ClientCredentials as OAuth2ClientCredentials
    from .bulk import TrackingResult as TrackingResult
    from .bulk import track_many as track_many
    from .export import format_timeline as format_timeline
    from .exporto import ExportoClient as ExportoClient
    from .lex import LexClient as LexClient
    from .notebook import Trackings as Trackings
    from .notebook import to_dataframe as to_dataframe
    from .shiplemon import ShiplemonClient as ShiplemonClient

#: The public names of the core; each registered provider's client is added to ``__all__``.
_CORE_NAMES = (
    "APIError",
    "ApiKeyAuth",
    "ApiKeySettings",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ClientOptions",
    "DeadlineExceededError",
    "NotFoundError",
    "OAuth2ClientCredentials",
    "OAuth2Settings",
    "RateLimit",
    "RateLimitError",
    "ResponseError",
    "RetryPolicy",
    "ServerError",
    "ShiptrackError",
    "Timeout",
    "TokenError",
    "Tracking",
    "TrackingEvent",
    "TrackingOutcome",
    "TrackingResult",
    "TrackingStatus",
    "Trackings",
    "TransportError",
    "ValidationError",
    "__version__",
    "format_timeline",
    "to_dataframe",
    "track_many",
)

#: Public names of the core imported on first use (PEP 562), by the module that defines them.
_LAZY = {
    "ApiKeySettings": "._core.options",
    "ClientOptions": "._core.options",
    "OAuth2Settings": "._core.options",
    "RetryPolicy": "._core.options",
    "Timeout": "._core.options",
    "RateLimit": "._core.ratelimit",
    "ApiKeyAuth": ".auth",
    "OAuth2ClientCredentials": ".auth",
    "TrackingResult": ".bulk",
    "track_many": ".bulk",
    "format_timeline": ".export",
    "Trackings": ".notebook",
    "to_dataframe": ".notebook",
}


def _clients() -> dict[str, str]:
    """Each registered provider's client: class name → the module that defines it."""
    from ._providers import all_specs

    found: dict[str, str] = {}
    for spec in all_specs():
        module, _, name = spec.client.partition(":")
        found[name] = module
    return found


def __getattr__(name: str) -> Any:
    if name == "__all__":
        # Built on first use: reading the registry imports every provider's spec.
        names = sorted({*_CORE_NAMES, *_clients()})
        globals()["__all__"] = names
        return names
    module = _LAZY.get(name)
    if module is None and not name.startswith("_"):
        module = _clients().get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    # Public names only: __all__, and the public submodules imported so far.
    submodules = {
        name
        for name, value in globals().items()
        if isinstance(value, ModuleType)
        and value.__name__ == f"{__name__}.{name}"
        and not name.startswith("_")
    }
    names = globals().get("__all__") or __getattr__("__all__")
    return sorted({*names, *submodules})


# A library adds no handler of its own; the application decides where log lines go.
logging.getLogger("shiptrack_sdk").addHandler(logging.NullHandler())
