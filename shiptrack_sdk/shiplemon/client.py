"""The Shiplemon client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import requests

from .._client import BaseClient, require_setting, resolve_base_url
from .._http import ErrorDetails, redact_url
from ..auth import ApiKeyAuth
from ..errors import ResponseError
from .status import PROVIDER
from .tracking import TrackingResource

__all__ = ["ENVIRONMENTS", "ShiplemonClient"]

#: Base URL of each Shiplemon environment.
ENVIRONMENTS: Mapping[str, str] = {
    "production": "https://api.shiplemon.com",
    "sandbox": "https://api-sandbox.shiplemon.com",
}


def parse_error(body: Any) -> ErrorDetails:
    """Shiplemon's error body: ``{"error": {"code", "message", "metadata"}}``."""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            code, message = error.get("code"), error.get("message")
            return ErrorDetails(
                code=str(code) if code is not None else None,
                message=str(message) if message is not None else None,
                metadata=error.get("metadata"),
            )
        if isinstance(error, str):
            return ErrorDetails(message=error)
        if isinstance(body.get("message"), str):
            return ErrorDetails(message=body["message"])
    return ErrorDetails()


class ShiplemonClient(BaseClient):
    """Client of Shiplemon's tracking API.

    Args:
        api_key: Shiplemon API key, sent as ``x-api-key`` (env ``SHIPTRACK_SHIPLEMON_API_KEY``).
        environment: ``"production"`` (``https://api.shiplemon.com``) or ``"sandbox"``
            (``https://api-sandbox.shiplemon.com``); env ``SHIPTRACK_SHIPLEMON_ENVIRONMENT``.
        base_url: Overrides the environment's URL (env ``SHIPTRACK_SHIPLEMON_BASE_URL``).
        **options: Shared client options: ``session``, ``timeout``, ``max_retries``,
            ``backoff_factor``, ``retry``, ``verify``, ``user_agent``
            (see :class:`~shiptrack_sdk._client.BaseClient`).

    Example::

        with ShiplemonClient(api_key="...") as client:
            tracking = client.tracking.get("60476d7500e47cb69693a202").to_tracking()
    """

    provider = PROVIDER

    def __init__(
        self,
        *,
        api_key: str | None = None,
        environment: Literal["production", "sandbox"] | None = None,
        base_url: str | None = None,
        **options: Any,
    ) -> None:
        key = require_setting(api_key, argument="api_key", env_var="SHIPTRACK_SHIPLEMON_API_KEY")
        url = resolve_base_url(
            base_url=base_url,
            environment=environment,
            environments=ENVIRONMENTS,
            env_prefix="SHIPTRACK_SHIPLEMON",
        )
        super().__init__(
            base_url=url, auth=ApiKeyAuth("x-api-key", key), error_parser=parse_error, **options
        )
        #: Tracking endpoints: ``get`` (pull) and ``update`` (put the history).
        self.tracking = TrackingResource(self)

    def unwrap(self, payload: Any, response: requests.Response) -> Any:
        """Shiplemon wraps every answer as ``{"status": "ok", "data": {...}}``."""
        if isinstance(payload, Mapping) and isinstance(payload.get("data"), Mapping):
            return payload["data"]
        raise ResponseError(
            'answer has no "data" object',
            provider=self.provider,
            method=response.request.method,
            url=redact_url(response.url),
            status=response.status_code,
            body=response.text[:400],
        )
