"""The Michelin LEX client, shared by Shipment Tracking (:mod:`.tracking`) and Order Execution
(:mod:`.orders`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._client import BaseClient, env_setting, require_setting
from .._http import ErrorDetails
from ..auth import OAuth2ClientCredentials
from .orders import OrdersResource
from .tracking import TrackingResource

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TOKEN_URL", "PROVIDER", "LexClient", "parse_error"]

PROVIDER = "lex"

#: Michelin's API gateway (production).
DEFAULT_BASE_URL = "https://api.michelin.com"
#: Michelin's token endpoint: client credentials form-encoded in the body.
DEFAULT_TOKEN_URL = (
    "https://api.michelin.com/idp/v1/internal/oauth/token/accesstoken?grant_type=client_credentials"
)


def parse_error(body: Any) -> ErrorDetails:
    """Read a LEX error body.

    Michelin does not publish its error body; the gateway's usual shapes are read:
    ``{"message", "code"|"error", "errors"|"details", "requestId"|"transactionId"}``.
    """
    if not isinstance(body, Mapping):
        return ErrorDetails()
    message = body.get("message") or body.get("error_description") or body.get("errorMessage")
    code = body.get("code") or body.get("errorCode") or body.get("error")
    request_id = body.get("requestId") or body.get("transactionId") or body.get("correlationId")
    metadata = body.get("errors") or body.get("details") or body.get("problems")
    return ErrorDetails(
        code=str(code) if isinstance(code, (str, int)) else None,
        message=str(message) if isinstance(message, (str, int)) else None,
        request_id=str(request_id) if isinstance(request_id, (str, int)) else None,
        metadata=metadata,
    )


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
        **options: Shared client options: ``session``, ``timeout``, ``max_retries``,
            ``backoff_factor``, ``retry``, ``verify``, ``user_agent``.
    """

    provider = PROVIDER

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_url: str | None = None,
        base_url: str | None = None,
        scope: str | None = None,
        **options: Any,
    ) -> None:
        auth = OAuth2ClientCredentials(
            env_setting(token_url, "SHIPTRACK_LEX_TOKEN_URL") or DEFAULT_TOKEN_URL,
            require_setting(client_id, argument="client_id", env_var="SHIPTRACK_LEX_CLIENT_ID"),
            require_setting(
                client_secret, argument="client_secret", env_var="SHIPTRACK_LEX_CLIENT_SECRET"
            ),
            scope=env_setting(scope, "SHIPTRACK_LEX_SCOPE"),
            client_auth="body",
            provider=PROVIDER,
        )
        super().__init__(
            base_url=env_setting(base_url, "SHIPTRACK_LEX_BASE_URL") or DEFAULT_BASE_URL,
            auth=auth,
            error_parser=parse_error,
            **options,
        )
        self.auth = auth
        #: Shipment Tracking: send shipment events (:class:`~.tracking.TrackingResource`).
        self.tracking = TrackingResource(self)
        #: Order Execution: poll and post business messages (:class:`~.orders.OrdersResource`).
        self.orders = OrdersResource(self)
