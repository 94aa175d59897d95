"""Shiplemon as the core sees it: one :class:`~shiptrack_sdk._core.spec.ProviderSpec`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core.spec import ApiKeyAuthSpec, EnvelopeError, ErrorDetails, ProviderSpec, text_or_none

__all__ = ["ENVIRONMENTS", "SPEC", "parse_error", "unwrap_data"]

#: Base URL of each Shiplemon environment (the first is the default).
ENVIRONMENTS: Mapping[str, str] = {
    "production": "https://api.shiplemon.com",
    "sandbox": "https://api-sandbox.shiplemon.com",
}


def parse_error(body: Any) -> ErrorDetails:
    """Shiplemon's error body: ``{"error": {"code", "message", "metadata"}}``."""
    if not isinstance(body, Mapping):
        return ErrorDetails()
    error = body.get("error")
    if isinstance(error, Mapping):
        return ErrorDetails(
            code=text_or_none(error.get("code")),
            message=text_or_none(error.get("message")),
            metadata=error.get("metadata"),
        )
    if isinstance(error, str):
        return ErrorDetails(message=error)
    return ErrorDetails(message=text_or_none(body.get("message")))


def unwrap_data(payload: Any) -> Any:
    """Shiplemon wraps every answer as ``{"status": "ok", "data": {...}}``."""
    if isinstance(payload, Mapping) and isinstance(payload.get("data"), Mapping):
        return payload["data"]
    raise EnvelopeError('answer has no "data" object')


def _sandbox_client(sandbox: Any) -> dict[str, Any]:
    return {
        "base_url": sandbox.provider_url("shiplemon"),
        "api_key": sandbox.apps["shiplemon"].credentials.api_key,
    }


SPEC = ProviderSpec(
    name="shiplemon",
    title="Shiplemon",
    client="shiptrack_sdk.shiplemon.client:ShiplemonClient",
    env_prefix="SHIPTRACK_SHIPLEMON",
    environments=ENVIRONMENTS,
    auth=ApiKeyAuthSpec(header="x-api-key"),
    error_parser=parse_error,
    envelope=unwrap_data,
    sandbox_app="shiptrack_sdk.shiplemon._sandbox:ShiplemonApp",
    sandbox_client=_sandbox_client,
    track_one="shiptrack_sdk.shiplemon.tracking:track_one",
    # "Call this endpoint every hour at :05 and :35" (its tracking page); no rate limit.
    poll_minutes=(5, 35),
    rate_limit=None,
    guide="guides/shiplemon",
    demo="shiptrack_sdk.shiplemon.cli:demo",
    status_map="shiptrack_sdk.shiplemon.status:STATUS_MAP",
)
