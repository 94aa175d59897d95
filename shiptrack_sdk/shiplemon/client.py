"""The Shiplemon client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._core.client import BaseClient
from .._core.options import Unpack
from ..bulk import TracksMany
from .spec import ENVIRONMENTS, SPEC
from .tracking import TrackingResource

if TYPE_CHECKING:
    from .._core.options import ApiKeySettings

__all__ = ["ENVIRONMENTS", "ShiplemonClient"]


class ShiplemonClient(TracksMany, BaseClient):
    """Client of Shiplemon's tracking API; many shipments at once with
    :meth:`~shiptrack_sdk.bulk.TracksMany.track_many`, each by
    ``GET /public/v1/shipments/{id}/tracking``.

    Args:
        api_key: Shiplemon API key, sent as ``x-api-key`` (env ``SHIPTRACK_SHIPLEMON_API_KEY``).
        environment: ``"production"`` (``https://api.shiplemon.com``) or ``"sandbox"``
            (``https://api-sandbox.shiplemon.com``); env ``SHIPTRACK_SHIPLEMON_ENVIRONMENT``.
        base_url: Overrides the environment's URL (env ``SHIPTRACK_SHIPLEMON_BASE_URL``).
        **options: The shared client options (:class:`~shiptrack_sdk.ClientOptions`):
            ``session``, ``timeout``, ``max_retries``, ``backoff_factor``, ``retry``,
            ``verify``, ``user_agent``, ``max_response_bytes``, ``rate_limit`` (env
            ``SHIPTRACK_SHIPLEMON_RATE_LIMIT``; Shiplemon documents no rate limit, so there
            is none by default).

    Example::

        with ShiplemonClient(api_key="...") as client:
            tracking = client.tracking.get("60476d7500e47cb69693a202").to_tracking()
    """

    spec = SPEC

    def __init__(self, **settings: Unpack[ApiKeySettings]) -> None:
        super().__init__(**settings)
        #: Tracking endpoints: ``get`` (pull) and ``update`` (put the history).
        self.tracking = TrackingResource(self)
