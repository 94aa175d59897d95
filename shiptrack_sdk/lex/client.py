"""The Michelin LEX client, shared by Shipment Tracking (:mod:`shiptrack_sdk.lex.tracking`) and
Order Execution (:mod:`shiptrack_sdk.lex.orders`)."""

from __future__ import annotations

import os

from .._core.client import BaseClient, env_setting
from .._core.options import OAuth2Settings, Unpack
from ..auth import OAuth2ClientCredentials
from ..errors import ValidationError
from .orders import OrdersResource
from .profile import DEFAULT_PROFILE, WireProfile
from .spec import DEFAULT_BASE_URL, DEFAULT_TOKEN_URL, SPEC, parse_error
from .tracking import TrackingResource

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TOKEN_URL",
    "PROVIDER",
    "LexClient",
    "LexSettings",
    "parse_error",
]

PROVIDER = SPEC.name


class LexSettings(OAuth2Settings, total=False):
    """What :class:`LexClient` takes: the OAuth2 settings and the :class:`ClientOptions
    <shiptrack_sdk.ClientOptions>`, and this (also read from its environment variable).

    Attributes:
        apikey: The API key some Michelin APIs ask for beside the bearer token, sent as an
            ``apikey`` header on every call and token request (env ``SHIPTRACK_LEX_APIKEY``;
            none by default). It is a secret: never logged, never in a ``repr`` or an error.
    """

    apikey: str | None


class LexClient(BaseClient):
    """Client of Michelin LEX: Shipment Tracking and Order Execution.

    Authenticates with OAuth2 client credentials at the gateway's token endpoint (credentials
    form-encoded in the body, ``grant_type`` in the URL's query only), then sends
    ``Authorization: Bearer`` — and an ``apikey`` header beside it when one is set.

    Args:
        client_id: OAuth2 client id (env ``SHIPTRACK_LEX_CLIENT_ID``).
        client_secret: OAuth2 client secret (env ``SHIPTRACK_LEX_CLIENT_SECRET``).
        environment: ``"production"`` (the default), or one of Michelin's non-production
            gateways, ``"indus"`` or ``"dev"`` (env ``SHIPTRACK_LEX_ENVIRONMENT``).
        base_url: API gateway, instead of the environment's (env ``SHIPTRACK_LEX_BASE_URL``;
            default ``https://api.michelin.com``).
        token_url: Token endpoint (env ``SHIPTRACK_LEX_TOKEN_URL``; default the gateway's
            ``/idp/v1/internal/oauth/token/accesstoken?grant_type=client_credentials``).
        scope: OAuth2 scope to ask for, if the partner's contract names one
            (env ``SHIPTRACK_LEX_SCOPE``).
        apikey: An API key to send as an ``apikey`` header beside the bearer token, on every
            call and token request, when the partner's subscription has one (env
            ``SHIPTRACK_LEX_APIKEY``).
        profile: The partner's contract (:class:`~shiptrack_sdk.lex.WireProfile`), or the path
            of its JSON or TOML file (env ``SHIPTRACK_LEX_PROFILE``); default the SDK's names
            and paths.
        **options: The shared client options (:class:`~shiptrack_sdk.ClientOptions`):
            ``session``, ``timeout``, ``max_retries``, ``backoff_factor``, ``retry``,
            ``verify``, ``user_agent``, ``max_response_bytes``, ``rate_limit`` (env
            ``SHIPTRACK_LEX_RATE_LIMIT``; Michelin documents no rate limit, so there is none
            by default).
    """

    spec = SPEC
    auth: OAuth2ClientCredentials

    def __init__(
        self,
        *,
        profile: WireProfile | str | os.PathLike[str] | None = None,
        **settings: Unpack[LexSettings],
    ) -> None:
        #: The partner's contract the client's messages follow (:data:`DEFAULT_PROFILE
        #: <shiptrack_sdk.lex.profile.DEFAULT_PROFILE>` unless one is given).
        self.profile = _profile(profile)
        super().__init__(**settings)
        #: Shipment Tracking: send shipment events
        #: (:class:`~shiptrack_sdk.lex.tracking.TrackingResource`).
        self.tracking = TrackingResource(self)
        #: Order Execution: poll and post business messages
        #: (:class:`~shiptrack_sdk.lex.orders.OrdersResource`).
        self.orders = OrdersResource(self)


def _profile(value: WireProfile | str | os.PathLike[str] | None) -> WireProfile:
    if isinstance(value, WireProfile):
        return value
    if value is None:
        value = env_setting(None, "SHIPTRACK_LEX_PROFILE")
        if value is None:
            return DEFAULT_PROFILE
    if not isinstance(value, (str, os.PathLike)):
        raise ValidationError(
            "profile", f"expected a WireProfile or a file's path, got {type(value).__name__}"
        )
    return WireProfile.load(value)
