"""Michelin LEX as the core sees it: one :class:`~shiptrack_sdk._core.spec.ProviderSpec`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.spec import ErrorDetails, OAuth2AuthSpec, ProviderSpec, text_or_none

__all__ = [
    "APIKEY_HEADER",
    "DEFAULT_BASE_URL",
    "DEFAULT_TOKEN_URL",
    "ENVIRONMENTS",
    "SPEC",
    "TOKEN_PATH",
    "parse_error",
]

#: Michelin's API gateway (production).
DEFAULT_BASE_URL = "https://api.michelin.com"
#: The token endpoint, relative to the gateway: each gateway has its own. ``grant_type``
#: travels in its query, where Michelin documents it, and only there.
TOKEN_PATH = "idp/v1/internal/oauth/token/accesstoken?grant_type=client_credentials"
#: Michelin's token endpoint in production.
DEFAULT_TOKEN_URL = f"{DEFAULT_BASE_URL}/{TOKEN_PATH}"
#: The header of the API key some Michelin APIs ask for beside the bearer token.
APIKEY_HEADER = "apikey"

#: Base URL of each LEX environment (the first is the default): production, and the
#: non-production gateways Michelin's developer portal names publicly — ``indus`` (its
#: "NonProd Server", with the token endpoint of the same path) and ``dev``. Whether a
#: partner's LEX subscription is served there is in its contract.
ENVIRONMENTS: Mapping[str, str] = {
    "production": DEFAULT_BASE_URL,
    "indus": "https://indus.api.michelin.com",
    "dev": "https://dev.api.michelin.com",
}


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
    return ErrorDetails(
        code=text_or_none(code),
        message=text_or_none(message),
        request_id=text_or_none(request_id),
        metadata=body.get("errors") or body.get("details") or body.get("problems"),
    )


def _sandbox_client(sandbox: Any) -> dict[str, Any]:
    url = sandbox.provider_url("lex")
    credentials = sandbox.apps["lex"].credentials
    return {
        "base_url": url,
        "token_url": f"{url}/{TOKEN_PATH}",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
    }


SPEC = ProviderSpec(
    name="lex",
    title="Michelin LEX",
    client="shiptrack_sdk.lex.client:LexClient",
    env_prefix="SHIPTRACK_LEX",
    environments=ENVIRONMENTS,
    auth=OAuth2AuthSpec(
        token_url=TOKEN_PATH,
        client_auth="body",
        grant_type_in_query=True,
        api_key_header=APIKEY_HEADER,
    ),
    error_parser=parse_error,
    sandbox_app="shiptrack_sdk.lex._sandbox:LexApp",
    sandbox_client=_sandbox_client,
    cli="shiptrack_sdk.lex.cli:register",
    guide="guides/lex-tracking",
    demo="shiptrack_sdk.lex.cli:demo",
)
