"""The exporto client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from .._client import BaseClient, env_setting, require_setting, resolve_base_url
from .._http import ErrorDetails
from ..auth import OAuth2ClientCredentials
from .shipments import ShipmentsResource
from .status import PROVIDER
from .tours import DEFAULT_TOUR_LIST_PATH, DEFAULT_TOUR_PATH, ToursResource

__all__ = ["ENVIRONMENTS", "TOKEN_PATH", "ExportoClient", "json_token_request", "parse_error"]

#: Base URL of each exporto environment.
ENVIRONMENTS: Mapping[str, str] = {
    "production": "https://api.exporto.de/v1/",
    "staging": "https://staging.api.exporto.de/v1/",
}

#: The token endpoint, relative to the base URL.
TOKEN_PATH = "auth/token"


def json_token_request(
    token_url: str, headers: dict[str, str], request_kwargs: dict[str, Any]
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """requests-oauthlib ``access_token_request`` compliance hook: a JSON token request.

    exporto reads ``{"grant_type": "client_credentials", "scope": ...}`` as JSON, where
    RFC 6749 sends form fields; the client id and secret travel as HTTP Basic either way.
    """
    fields = dict(request_kwargs.get("data") or {})
    kwargs = {k: v for k, v in request_kwargs.items() if k != "data"}
    kwargs["json"] = fields
    return token_url, {**headers, "Content-Type": "application/json"}, kwargs


def parse_error(body: Any) -> ErrorDetails:
    """exporto's error body: ``{"message": ..., "requestId": ...}``."""
    if not isinstance(body, Mapping):
        return ErrorDetails()
    message = body.get("message")
    if not isinstance(message, str):
        message = body.get("error_description") or body.get("error")
    code = body.get("code") or body.get("error")
    request_id = body.get("requestId")
    return ErrorDetails(
        code=str(code) if isinstance(code, (str, int)) and code != "" else None,
        message=str(message) if isinstance(message, str) and message else None,
        request_id=str(request_id) if isinstance(request_id, (str, int)) and request_id else None,
    )


class ExportoClient(BaseClient):
    """Client of exporto's tracking API: shipments one by one, or by tours.

    Authenticates with OAuth2 client credentials at ``POST auth/token`` (HTTP Basic, JSON
    body), then sends ``Authorization: Bearer``; the token is cached and renewed.

    Args:
        client_id: OAuth2 client id (env ``SHIPTRACK_EXPORTO_CLIENT_ID``).
        client_secret: OAuth2 client secret (env ``SHIPTRACK_EXPORTO_CLIENT_SECRET``).
        environment: ``"production"`` (``https://api.exporto.de/v1/``) or ``"staging"``
            (``https://staging.api.exporto.de/v1/``); env ``SHIPTRACK_EXPORTO_ENVIRONMENT``.
        scope: OAuth2 scope to ask for, e.g. ``"shipment:read"``: a space-separated string or
            a list of names (env ``SHIPTRACK_EXPORTO_SCOPE``; default: none asked, exporto's
            default). Anything else is refused here, before any request.
        base_url: Overrides the environment's URL (env ``SHIPTRACK_EXPORTO_BASE_URL``).
        token_url: Token endpoint (env ``SHIPTRACK_EXPORTO_TOKEN_URL``; default
            ``<base_url>auth/token``).
        tour_list_path: Path of the tour list (env ``SHIPTRACK_EXPORTO_TOUR_LIST_PATH``;
            default ``tour``).
        tour_path: Path of one tour, with ``{tourId}`` (env ``SHIPTRACK_EXPORTO_TOUR_PATH``;
            default ``tour/{tourId}``).
        **options: Shared client options: ``session``, ``timeout``, ``max_retries``,
            ``backoff_factor``, ``retry``, ``verify``, ``user_agent``
            (see :class:`~shiptrack_sdk._client.BaseClient`).

    Example::

        with ExportoClient(client_id="...", client_secret="...") as client:
            tracking = client.shipments.get("S-240902-0001").to_tracking()
    """

    provider = PROVIDER

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        environment: Literal["production", "staging"] | None = None,
        scope: str | Iterable[str] | None = None,
        base_url: str | None = None,
        token_url: str | None = None,
        tour_list_path: str | None = None,
        tour_path: str | None = None,
        **options: Any,
    ) -> None:
        cid = require_setting(
            client_id, argument="client_id", env_var="SHIPTRACK_EXPORTO_CLIENT_ID"
        )
        secret = require_setting(
            client_secret, argument="client_secret", env_var="SHIPTRACK_EXPORTO_CLIENT_SECRET"
        )
        url = resolve_base_url(
            base_url=base_url,
            environment=environment,
            environments=ENVIRONMENTS,
            env_prefix="SHIPTRACK_EXPORTO",
        )
        auth = OAuth2ClientCredentials(
            env_setting(token_url, "SHIPTRACK_EXPORTO_TOKEN_URL")
            or url.rstrip("/") + "/" + TOKEN_PATH,
            cid,
            secret,
            scope=scope if scope is not None else env_setting(None, "SHIPTRACK_EXPORTO_SCOPE"),
            client_auth="basic",
            compliance_hooks={"access_token_request": [json_token_request]},
            provider=PROVIDER,
        )
        super().__init__(base_url=url, auth=auth, error_parser=parse_error, **options)
        #: The OAuth2 auth (its ``token_requests`` counts token fetches).
        self.auth = auth
        #: Shipment endpoints: ``get``, ``search``, ``search_page``.
        self.shipments = ShipmentsResource(self)
        #: Tour endpoints and the tour-based chain: ``list``, ``get``, ``shipment_ids``,
        #: ``track``.
        self.tours = ToursResource(
            self,
            list_path=env_setting(tour_list_path, "SHIPTRACK_EXPORTO_TOUR_LIST_PATH")
            or DEFAULT_TOUR_LIST_PATH,
            path=env_setting(tour_path, "SHIPTRACK_EXPORTO_TOUR_PATH") or DEFAULT_TOUR_PATH,
        )
