"""Michelin LEX in the embedded sandbox: the token endpoint in Michelin's style, and the
Shipment Tracking and Order Execution routes (each in its own module).

Routes (under ``/lex``):

* ``POST /idp/v1/internal/oauth/token/accesstoken?grant_type=client_credentials``: client id
  and secret form-encoded in the body.
"""

from __future__ import annotations

from typing import Any

from ..sandbox._server import (
    ClientCredentials,
    Router,
    SandboxApp,
    SandboxRequest,
    json_response,
    oauth_token_routes,
)
from ._sandbox_orders import OrdersPart
from ._sandbox_tracking import TrackingPart

#: The token path, under the sandbox's ``/lex`` prefix.
TOKEN_PATH = "/idp/v1/internal/oauth/token/accesstoken"


class LexApp(SandboxApp):
    """LEX's routes and data in the sandbox."""

    name = "lex"
    credentials = ClientCredentials("sandbox-lex-client", "sandbox-lex-secret")

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self.parts: list[Any] = []
        #: Shipment Tracking: ``accepted`` holds every message accepted, in order.
        self.tracking = TrackingPart(self)
        self.parts.append(self.tracking)
        #: Order Execution: generated messages, ``received`` posts, the push simulator.
        self.orders = OrdersPart(self)
        self.parts.append(self.orders)

    def routes(self, router: Router) -> None:
        oauth_token_routes(
            router,
            f"{self.prefix}{TOKEN_PATH}",
            self.sandbox.tokens,
            {self.credentials.client_id: self.credentials.client_secret},
            client_auth=("body",),
            name="lex.token",
        )
        for part in self.parts:
            part.routes(router)

    def reset(self) -> None:
        for part in self.parts:
            part.reset()

    def authorized(self, request: SandboxRequest) -> bool:
        """Whether ``request`` carries a valid bearer token issued to the LEX client."""
        client = self.sandbox.tokens.check(request.bearer())
        return bool(client == self.credentials.client_id)

    @staticmethod
    def unauthorized() -> Any:
        """The gateway's answer to a missing or invalid token."""
        return json_response(
            401,
            {"code": "401", "message": "Invalid or expired access token"},
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
