"""The exporto client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._core.client import BaseClient, env_setting
from .._core.options import Unpack
from ..auth import OAuth2ClientCredentials
from ..bulk import TracksMany
from .shipments import ShipmentsResource
from .spec import ENVIRONMENTS, SPEC, TOKEN_PATH, parse_error
from .tours import DEFAULT_TOUR_LIST_PATH, DEFAULT_TOUR_PATH, ToursResource

if TYPE_CHECKING:
    from .._core.options import OAuth2Settings

__all__ = ["ENVIRONMENTS", "TOKEN_PATH", "ExportoClient", "json_token_request", "parse_error"]


def json_token_request(
    token_url: str, headers: dict[str, str], request_kwargs: dict[str, Any]
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """requests-oauthlib ``access_token_request`` compliance hook: a JSON token request.

    exporto reads ``{"grant_type": "client_credentials", "scope": ...}`` as JSON, where
    RFC 6749 sends form fields; the client id and secret travel as HTTP Basic either way.
    :class:`ExportoClient` sends its token requests so already; the hook is for a
    :class:`requests_oauthlib.OAuth2Session` (or an
    :class:`~shiptrack_sdk.OAuth2ClientCredentials`) of your own.
    """
    fields = dict(request_kwargs.get("data") or {})
    kwargs = {k: v for k, v in request_kwargs.items() if k != "data"}
    kwargs["json"] = fields
    return token_url, {**headers, "Content-Type": "application/json"}, kwargs


class ExportoClient(TracksMany, BaseClient):
    """Client of exporto's tracking API: shipments one by one, many at once
    (:meth:`~shiptrack_sdk.bulk.TracksMany.track_many`, each by ``GET shipment/{shipmentId}``),
    or by tours.

    Authenticates with OAuth2 client credentials at ``POST auth/token`` (HTTP Basic, JSON
    body), then sends ``Authorization: Bearer``; the token is cached and renewed.

    Args:
        client_id: OAuth2 client id: the username of the API user created in exporto's
            portal (*Customer settings* → *Process settings* → *API token*); env
            ``SHIPTRACK_EXPORTO_CLIENT_ID``.
        client_secret: OAuth2 client secret: that API user's password (env
            ``SHIPTRACK_EXPORTO_CLIENT_SECRET``).
        environment: ``"production"`` (``https://api.exporto.de/v1/``) or ``"staging"``
            (``https://staging.api.exporto.de/v1/``); env ``SHIPTRACK_EXPORTO_ENVIRONMENT``.
        scope: OAuth2 scope to ask for, e.g. ``"shipment:read"``: a space-separated string or
            a list of names (env ``SHIPTRACK_EXPORTO_SCOPE``; default: none, and the token
            request carries no ``scope``). The scopes an API user may have are chosen when
            it is created in the portal. Anything else is refused here, before any request.
        base_url: Overrides the environment's URL (env ``SHIPTRACK_EXPORTO_BASE_URL``).
        token_url: Token endpoint (env ``SHIPTRACK_EXPORTO_TOKEN_URL``; default
            ``<base_url>auth/token``).
        tour_list_path: Path of the tour list (env ``SHIPTRACK_EXPORTO_TOUR_LIST_PATH``;
            default ``tour``).
        tour_path: Path of one tour, with ``{tourId}`` (env ``SHIPTRACK_EXPORTO_TOUR_PATH``;
            default ``tour/{tourId}``).
        **options: The shared client options (:class:`~shiptrack_sdk.ClientOptions`):
            ``session``, ``timeout``, ``max_retries``, ``backoff_factor``, ``retry``,
            ``verify``, ``user_agent``, ``max_response_bytes``, ``rate_limit`` (env
            ``SHIPTRACK_EXPORTO_RATE_LIMIT``; exporto documents no rate limit, so there is
            none by default).

    Example::

        with ExportoClient(client_id="...", client_secret="...") as client:
            tracking = client.shipments.get("S-240902-0001").to_tracking()
    """

    spec = SPEC
    auth: OAuth2ClientCredentials

    def __init__(
        self,
        *,
        tour_list_path: str | None = None,
        tour_path: str | None = None,
        **settings: Unpack[OAuth2Settings],
    ) -> None:
        super().__init__(**settings)
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
