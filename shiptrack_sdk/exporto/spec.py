"""exporto as the core sees it: one :class:`~shiptrack_sdk._core.spec.ProviderSpec`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.spec import ErrorDetails, OAuth2AuthSpec, ProviderSpec, text_or_none

__all__ = ["ENVIRONMENTS", "SPEC", "TOKEN_PATH", "parse_error"]

#: Base URL of each exporto environment (the first is the default).
ENVIRONMENTS: Mapping[str, str] = {
    "production": "https://api.exporto.de/v1/",
    "staging": "https://staging.api.exporto.de/v1/",
}

#: The token endpoint, relative to the base URL.
TOKEN_PATH = "auth/token"


def parse_error(body: Any) -> ErrorDetails:
    """exporto's error body: ``{"message": ..., "requestId": ...}``."""
    if not isinstance(body, Mapping):
        return ErrorDetails()
    message = text_or_none(body.get("message")) if isinstance(body.get("message"), str) else None
    return ErrorDetails(
        code=text_or_none(body.get("code") or body.get("error")),
        message=message or text_or_none(body.get("error_description") or body.get("error")),
        request_id=text_or_none(body.get("requestId")),
    )


def _sandbox_client(sandbox: Any) -> dict[str, Any]:
    url = sandbox.provider_url("exporto")
    credentials = sandbox.apps["exporto"].credentials
    return {
        "base_url": f"{url}/v1/",
        "token_url": f"{url}/v1/{TOKEN_PATH}",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
    }


SPEC = ProviderSpec(
    name="exporto",
    title="exporto",
    client="shiptrack_sdk.exporto.client:ExportoClient",
    env_prefix="SHIPTRACK_EXPORTO",
    environments=ENVIRONMENTS,
    # HTTP Basic for the client, and a JSON body: exporto reads
    # {"grant_type": "client_credentials", "scope": ...} as JSON, where RFC 6749 sends a form.
    auth=OAuth2AuthSpec(token_url=TOKEN_PATH, client_auth="basic", body="json"),
    error_parser=parse_error,
    sandbox_app="shiptrack_sdk.exporto._sandbox:ExportoApp",
    sandbox_client=_sandbox_client,
    cli="shiptrack_sdk.exporto.cli:register",
    track_one="shiptrack_sdk.exporto.shipments:track_one",
    rate_limit=None,  # exporto documents no rate limit
    guide="guides/exporto",
    demo="shiptrack_sdk.exporto.cli:demo",
    status_map="shiptrack_sdk.exporto.status:STATUS_MAP",
)
