"""The Michelin LEX client, shared by Shipment Tracking (:mod:`.tracking`) and Order Execution
(:mod:`.orders`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._core.client import BaseClient
from .._core.options import Unpack
from ..auth import OAuth2ClientCredentials
from .orders import OrdersResource
from .spec import DEFAULT_BASE_URL, DEFAULT_TOKEN_URL, SPEC, parse_error
from .tracking import TrackingResource

if TYPE_CHECKING:
    from .._core.options import OAuth2Settings

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TOKEN_URL", "PROVIDER", "LexClient", "parse_error"]

PROVIDER = SPEC.name


class LexClient(BaseClient):
    """Client of Michelin LEX: Shipment Tracking and Order Execution.

    Authenticates with OAuth2 client credentials at Michelin's token endpoint (credentials
    form-encoded in the body), then sends ``Authorization: Bearer``.

    Args:
        client_id: OAuth2 client id (env ``SHIPTRACK_LEX_CLIENT_ID``).
        client_secret: OAuth2 client secret (env ``SHIPTRACK_LEX_CLIENT_SECRET``).
        token_url: Token endpoint (env ``SHIPTRACK_LEX_TOKEN_URL``; default Michelin's
            ``/idp/v1/internal/oauth/token/accesstoken?grant_type=client_credentials``).
        base_url: API gateway (env ``SHIPTRACK_LEX_BASE_URL``; default
            ``https://api.michelin.com``).
        scope: OAuth2 scope to ask for, if the partner's contract names one
            (env ``SHIPTRACK_LEX_SCOPE``).
        **options: The shared client options (:class:`~shiptrack_sdk.ClientOptions`):
            ``session``, ``timeout``, ``max_retries``, ``backoff_factor``, ``retry``,
            ``verify``, ``user_agent``, ``max_response_bytes``.
    """

    spec = SPEC
    auth: OAuth2ClientCredentials

    def __init__(self, **settings: Unpack[OAuth2Settings]) -> None:
        super().__init__(**settings)
        #: Shipment Tracking: send shipment events (:class:`~.tracking.TrackingResource`).
        self.tracking = TrackingResource(self)
        #: Order Execution: poll and post business messages (:class:`~.orders.OrdersResource`).
        self.orders = OrdersResource(self)
