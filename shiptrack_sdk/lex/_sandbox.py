"""Michelin LEX in the embedded sandbox: the token endpoint in Michelin's style, and the
Shipment Tracking and Order Execution routes (each in its own module).

Routes (under ``/lex``):

* ``POST /idp/v1/internal/oauth/token/accesstoken?grant_type=client_credentials``: client id
  and secret form-encoded in the body.

:meth:`LexApp.seed` adds a shipment order of your own, with its status history, to the Order
Execution messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..errors import ValidationError
from ..sandbox._server import (
    ClientCredentials,
    Router,
    SandboxApp,
    SandboxRequest,
    json_response,
    oauth_token_routes,
    seed_entries,
    seed_id,
    seed_time,
)
from ._sandbox_orders import OrdersPart, _payload
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
        # Messages seeded per order number, so that a number seeded again gets new ids.
        self._seeded: dict[str, int] = {}

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
        self._seeded = {}
        for part in self.parts:
            part.reset()

    def seed(
        self,
        shipment_id: str,
        *,
        history: Sequence[Any] = (),
        ordered_at: datetime | str | None = None,
    ) -> str:
        """Add a shipment order numbered ``shipment_id`` and its status ``history`` to the
        Order Execution messages (``GET .../business-messages``) until :meth:`reset`; returns
        the number.

        It is served as LEX sends an order's life: a ``SHIPMENT_ORDER`` message at
        ``ordered_at``, then one ``ORDER_STATUS`` message per entry, each at its time, merged
        with the generated messages in timestamp order. Message ids are
        ``<shipment_id>-<n>``; seeding the same number again adds its messages again, as a
        feed would.

        Args:
            shipment_id: The order's ``orderNumber``.
            history: Status entries, each a mapping: ``status`` (``statusCode``: the sandbox
                uses ``"RECEIVED"``, ``"ALLOCATED"``, ``"PICKED"``, ``"PACKED"``,
                ``"SHIPPED"``, ``"CANCELLED"``; the real codes are your contract's), ``at``
                (an aware datetime or ISO 8601 with an offset), and optionally ``reason``,
                ``carrier`` and ``tracking_number``.
            ordered_at: When the order message is dated; by default the first entry's time.

        Raises:
            ValidationError: a field is refused, naming it (``history[0].at``...).
        """
        number = seed_id(shipment_id)
        fields = ("status", "at", "reason", "carrier", "tracking_number")
        entries = seed_entries(history, "history", fields, ("status", "at"))
        for index, entry in enumerate(entries):
            where = f"history[{index}]"
            entry["at"] = seed_time(entry["at"], f"{where}.at")
            for name in ("status", "reason", "carrier", "tracking_number"):
                value = entry.get(name)
                if value is not None and (not isinstance(value, str) or not value.strip()):
                    raise ValidationError(f"{where}.{name}", "must be a non-empty string")
        if ordered_at is not None:
            start = seed_time(ordered_at, "ordered_at")
        elif entries:
            start = min(entry["at"] for entry in entries)
        else:
            start = self.orders.generator.timestamp(0)
        generator = self.orders.generator
        first = self._seeded.get(number, 0)
        self._seeded[number] = first + 1 + len(entries)

        def envelope(n: int, kind: str, at: datetime, payload: dict[str, Any]) -> dict[str, Any]:
            return {
                "messageId": f"{number}-{first + n}",
                "messageType": kind,
                "timestamp": _stamp(at),
                "partnerId": generator.partner_id,
                "warehouseId": generator.warehouse_id,
                "schemaVersion": "1.0",
                "payload": payload,
            }

        order = _payload("SHIPMENT_ORDER", 0, 0)
        order["orderNumber"] = number
        messages = [envelope(0, "SHIPMENT_ORDER", start, order)]
        for n, entry in enumerate(entries, start=1):
            status = {
                "orderNumber": number,
                "orderType": "SHIPMENT",
                "statusCode": entry["status"],
                "reasonCode": entry.get("reason"),
                "statusDate": _stamp(entry["at"]),
                "carrier": entry.get("carrier"),
                "trackingNumber": entry.get("tracking_number"),
                "lines": order["lines"],
            }
            messages.append(envelope(n, "ORDER_STATUS", entry["at"], status))
        self.orders.add_messages(messages)
        return number

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


def _stamp(moment: datetime) -> str:
    """``moment`` (aware UTC) as LEX's timestamps read: milliseconds and ``Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
