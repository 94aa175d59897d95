"""exporto in the embedded sandbox: the token endpoint, shipments, search and tours.

Routes (under ``/exporto``):

* ``POST /v1/auth/token``: HTTP Basic client credentials, JSON body
  ``{"grant_type": "client_credentials", "scope": ...}``.
* ``GET /v1/shipment/search``: filters, ``page`` (0-based) and ``pageSize`` (1..500,
  default 20); a bare JSON array, as exporto answers.
* ``GET /v1/shipment/{shipmentId}``
* ``GET /v1/tour``: every tour, ``[{"tourId", "closingDate", "shipmentCount"}]``; or, with
  :attr:`ExportoApp.tour_list_format` ``"ids"``, a bare array of tour ids
  (``["T-20240902", ...]``), the other shape exporto's help center describes ("a list of
  available tourIDs").
* ``GET /v1/tour/{tourId}``: ``{"tourId", "closingDate", "shipmentIds": [...]}``; a tour added
  with ``add_tour(..., listed_by="foreignOutboundTrackingIds")`` lists its shipments by their
  last-mile tracking numbers instead (``{"tourId", "closingDate",
  "foreignOutboundTrackingIds": [...]}``), as a daily closing may be transmitted.

Errors answer exporto's documented body ``{"message": ..., "requestId": ...}``. Latency and
faults come from the sandbox itself; :attr:`ExportoApp.handling_time` adds time spent inside
each route, where :meth:`~shiptrack_sdk.sandbox.Sandbox.route_stats` counts calls in flight.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from typing import Any

from ..errors import ValidationError
from ..sandbox._server import (
    ClientCredentials,
    Router,
    SandboxApp,
    SandboxRequest,
    SandboxResponse,
    json_response,
    oauth_token_routes,
    seed_id,
    seed_time,
)

#: The token path, under the sandbox's ``/exporto/v1`` prefix.
TOKEN_PATH = "auth/token"

_MAX_PAGE_SIZE = 500
_DEFAULT_PAGE_SIZE = 20


def _ts(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z") if value is not None else None


def _utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


def _line_item(article: int, description: str, hs_code: str, value: float) -> dict[str, Any]:
    return {
        "articleId": f"ART-{article}",
        "sku": f"SKU-{article}",
        "description": description,
        "quantity": 1,
        "value": value,
        "currency": "EUR",
        "hsCode": hs_code,
        "countryOfOrigin": "DE",
    }


def _shipment(
    shipment_id: str,
    order: int,
    *,
    processed: datetime | None,
    declared: datetime | None = None,
    received: datetime | None = None,
    delivered: datetime | None = None,
    carrier_state: str | None = None,
    outbound_ref: str | None = None,
    kind: str = "outbound",
    inbound_ref: str | None = None,
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "shipmentId": shipment_id,
        "orderId": f"ORD-{order}",
        "type": kind,
        "status": "processed" if processed is not None else "announced",
        "foreignOutboundTrackingId": outbound_ref,
        "foreignInboundTrackingId": inbound_ref,
        "domesticInboundTrackingId": f"00340434161{order:09d}",
        "processedAt": _ts(processed),
        "declaredAt": _ts(declared),
        "carrierState": carrier_state,
        "carrierReceivedAt": _ts(received),
        "carrierDeliveredAt": _ts(delivered),
        "lineItems": items
        if items is not None
        else [_line_item(4711 + order % 50, "Running shoes", "640411", 89.9)],
    }


#: The documented shipments, as exporto answers them: the guide's examples and the tests rely
#: on these. Kept as data, each with a word on what it shows (``sandbox_shipments.json``).
SEED_SHIPMENTS: tuple[dict[str, Any], ...] = tuple(
    row["shipment"]
    for row in json.loads(
        resources.files(__package__).joinpath("sandbox_shipments.json").read_text("utf-8")
    )
)

#: What ``GET tour`` answers (:attr:`ExportoApp.tour_list_format`): tour objects, or their ids.
TOUR_LIST_FORMATS = ("objects", "ids")
#: How a tour lists its shipments (``add_tour(listed_by=...)``): the key of its list.
TOUR_LISTINGS = ("shipmentIds", "foreignOutboundTrackingIds")

#: The seeded tours: closing date → how many generated shipments join the documented ones.
SEED_TOURS: tuple[tuple[date, int], ...] = (
    (date(2024, 9, 2), 19),
    (date(2024, 9, 3), 37),
    (date(2024, 9, 4), 52),
    (date(2024, 9, 5), 41),
    (date(2024, 9, 6), 28),
)


def tour_id_for(day: date) -> str:
    """The sandbox's tour id for a closing day: ``T-YYYYMMDD``."""
    return f"T-{day:%Y%m%d}"


def _generated(day: date, n: int) -> dict[str, Any]:
    """Shipment ``n`` of the tour closed on ``day``: a deterministic mix of states."""
    base = datetime(day.year, day.month, day.day, 8, tzinfo=timezone.utc)
    processed = base + timedelta(minutes=7 * (n % 60))
    declared = processed + timedelta(hours=2)
    received = base + timedelta(days=1, hours=n % 5)
    delivered = received + timedelta(days=2, hours=n % 7)
    sid = f"S-{day:%y%m%d}-{n + 1000:04d}"
    order = int(f"{day:%m%d}{n:04d}")
    ref = f"CH{day:%m%d}{n:06d}"
    bucket = n % 20
    if bucket in (17, 18):  # processed and declared, not yet handed over
        return _shipment(sid, order, processed=processed, declared=declared)
    # With the carrier: delivered (most), on its way, or after a failed attempt.
    if bucket < 12:
        state, done = "delivered", delivered
    elif bucket < 17:
        state, done = ("out_for_delivery" if bucket == 16 else "in_transit"), None
    else:
        state, done = "failed_attempt", None
    return _shipment(
        sid,
        order,
        processed=processed,
        declared=declared,
        received=received,
        delivered=done,
        carrier_state=state,
        outbound_ref=ref,
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> SandboxResponse:
    return json_response(status, {"message": message, "requestId": str(uuid.uuid4())}, headers)


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class ExportoApp(SandboxApp):
    """exporto's routes and data in the sandbox.

    Attributes:
        shipments: shipment id → the shipment as exporto answers it (change freely in tests).
        tours: tour id → ``{"tourId", "closingDate", "shipmentIds"}`` (or
            ``"foreignOutboundTrackingIds"`` in place of ``"shipmentIds"``), answered as it
            stands by ``GET tour/{tourId}``.
        handling_time: Seconds each shipment and tour route spends before answering.
    """

    name = "exporto"
    credentials = ClientCredentials("sandbox-exporto-client", "sandbox-exporto-secret")
    sample_ids = ("S-240902-0001", "S-240902-0002")

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._lock = threading.Lock()
        self.shipments: dict[str, dict[str, Any]] = {}
        self.tours: dict[str, dict[str, Any]] = {}
        self.handling_time = 0.0
        self._tour_list_format = "objects"
        self.reset()

    @property
    def tour_list_format(self) -> str:
        """What ``GET tour`` answers: ``"objects"`` (``[{"tourId", "closingDate",
        "shipmentCount"}]``, the default) or ``"ids"`` (a bare array of tour ids). Reset by
        :meth:`reset`.

        Raises:
            ValidationError: set to anything else.
        """
        return self._tour_list_format

    @tour_list_format.setter
    def tour_list_format(self, value: str) -> None:
        if value not in TOUR_LIST_FORMATS:
            raise ValidationError(
                "tour_list_format", f"must be one of {', '.join(map(repr, TOUR_LIST_FORMATS))}"
            )
        self._tour_list_format = value

    @property
    def api_prefix(self) -> str:
        """``/exporto/v1``: the base path of every route."""
        return f"{self.prefix}/v1"

    def reset(self) -> None:
        with self._lock:
            self.handling_time = 0.0
            self._tour_list_format = "objects"
            self.shipments = {s["shipmentId"]: copy.deepcopy(s) for s in SEED_SHIPMENTS}
            self.tours = {}
            for day, count in SEED_TOURS:
                ids = [
                    s["shipmentId"]
                    for s in SEED_SHIPMENTS
                    if s["processedAt"] and s["processedAt"].startswith(day.isoformat())
                ]
                for n in range(count):
                    shipment = _generated(day, n)
                    self.shipments[shipment["shipmentId"]] = shipment
                    ids.append(shipment["shipmentId"])
                self.tours[tour_id_for(day)] = {
                    "tourId": tour_id_for(day),
                    "closingDate": day.isoformat(),
                    "shipmentIds": ids,
                }

    def add_tour(
        self, count: int, *, closing_date: date | None = None, listed_by: str = "shipmentIds"
    ) -> str:
        """Add a tour of ``count`` new processed shipments; returns its id.

        Args:
            count: How many shipments (a thousand or more is fine).
            closing_date: The tour's day; by default the day after the newest tour.
            listed_by: ``"shipmentIds"`` (the default) or ``"foreignOutboundTrackingIds"``:
                the tour then lists its shipments by their last-mile tracking numbers only
                (every shipment of it has one), which a client resolves through
                ``GET shipment/search?foreignOutboundTrackingId=...``.

        Raises:
            ValidationError: ``listed_by`` is neither.
        """
        if listed_by not in TOUR_LISTINGS:
            raise ValidationError(
                "listed_by", f"must be one of {', '.join(map(repr, TOUR_LISTINGS))}"
            )
        with self._lock:
            if closing_date is None:
                newest = max(date.fromisoformat(t["closingDate"]) for t in self.tours.values())
                closing_date = newest + timedelta(days=1)
            tour_id = tour_id_for(closing_date)
            suffix = 1
            while tour_id in self.tours:
                suffix += 1
                tour_id = f"{tour_id_for(closing_date)}-{suffix}"
            taken = sum(1 for sid in self.shipments if sid.startswith(f"S-{closing_date:%y%m%d}-"))
            ids = []
            for n in range(taken, taken + count):
                shipment = _generated(closing_date, n)
                if listed_by == "foreignOutboundTrackingIds":
                    # A closing is transmitted for pickup: each parcel has its label by then
                    # (the number _generated gives the parcels a carrier already has).
                    shipment["foreignOutboundTrackingId"] = f"CH{closing_date:%m%d}{n:06d}"
                self.shipments[shipment["shipmentId"]] = shipment
                ids.append(shipment[listed_by[:-1]])  # shipmentId or foreignOutboundTrackingId
            self.tours[tour_id] = {
                "tourId": tour_id,
                "closingDate": closing_date.isoformat(),
                listed_by: ids,
            }
        return tour_id

    # -- routes -------------------------------------------------------------------------------

    def routes(self, router: Router) -> None:
        p = self.api_prefix
        oauth_token_routes(
            router,
            f"{p}/{TOKEN_PATH}",
            self.sandbox.tokens,
            {self.credentials.client_id: self.credentials.client_secret},
            client_auth=("basic",),
            body_format="json",
            name="exporto.token",
        )
        # The search route comes first: "search" would otherwise match {shipmentId}.
        router.add("GET", f"{p}/shipment/search", self.search, name="exporto.shipment.search")
        router.add(
            "GET", f"{p}/shipment/{{shipmentId}}", self.get_shipment, name="exporto.shipment.get"
        )
        router.add("GET", f"{p}/tour", self.list_tours, name="exporto.tour.list")
        router.add("GET", f"{p}/tour/{{tourId}}", self.get_tour, name="exporto.tour.get")

    def _denied(self, request: SandboxRequest) -> SandboxResponse | None:
        if self.handling_time:
            time.sleep(self.handling_time)
        client = self.sandbox.tokens.check(request.bearer())
        if client != self.credentials.client_id:
            return _error(
                401,
                "Unauthorized: missing, invalid or expired access token",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return None

    def _one(self, table: str, key: str, what: str) -> SandboxResponse:
        with self._lock:
            found = copy.deepcopy(getattr(self, table).get(key))
        if found is None:
            return _error(404, f"{what} {key} not found")
        return json_response(200, found)

    def get_shipment(self, request: SandboxRequest, shipmentId: str) -> SandboxResponse:
        return self._denied(request) or self._one("shipments", shipmentId, "Shipment")

    def search(self, request: SandboxRequest) -> SandboxResponse:
        return self._denied(request) or self._search(request)

    def _search(self, request: SandboxRequest) -> SandboxResponse:
        try:
            page = int(request.param("page", "0") or "0")
            size = int(request.param("pageSize", str(_DEFAULT_PAGE_SIZE)) or "0")
        except ValueError:
            return _error(400, "page and pageSize must be integers")
        if page < 0 or not 1 <= size <= _MAX_PAGE_SIZE:
            return _error(400, f"page must be >= 0 and pageSize between 1 and {_MAX_PAGE_SIZE}")
        kind = request.param("type")
        if kind is not None and kind not in ("inbound", "outbound"):
            return _error(400, "type must be inbound or outbound")
        since: dict[str, datetime] = {}
        for param, field in (
            ("processedAt", "processedAt"),
            ("carrierReceivedAtUpdatedAt", "carrierReceivedAt"),
            ("carrierDeliveredAtUpdatedAt", "carrierDeliveredAt"),
        ):
            value = request.param(param)
            if value is not None:
                try:
                    since[field] = _parse_time(value)
                except ValueError:
                    return _error(400, f"{param} must be an ISO 8601 date-time")
        exact = {
            key: value
            for key in ("foreignOutboundTrackingId", "foreignInboundTrackingId")
            if (value := request.param(key)) is not None
        }
        with self._lock:
            found = [
                s
                for s in self.shipments.values()
                if all(s.get(k) == v for k, v in exact.items())
                and (kind is None or s["type"] == kind)
                and all(s.get(f) and _parse_time(s[f]) >= t for f, t in since.items())
            ]
            found.sort(key=lambda s: (s["processedAt"] or "", s["shipmentId"]))
            answer = copy.deepcopy(found[page * size : (page + 1) * size])
        return json_response(200, answer)

    def list_tours(self, request: SandboxRequest) -> SandboxResponse:
        return self._denied(request) or self._list_tours(request)

    def _list_tours(self, request: SandboxRequest) -> SandboxResponse:
        with self._lock:
            ordered = sorted(self.tours.values(), key=lambda t: (t["closingDate"], t["tourId"]))
            if self._tour_list_format == "ids":
                return json_response(200, [t["tourId"] for t in ordered])
            tours = [
                {
                    "tourId": t["tourId"],
                    "closingDate": t["closingDate"],
                    "shipmentCount": sum(len(t.get(key) or ()) for key in TOUR_LISTINGS),
                }
                for t in ordered
            ]
        return json_response(200, tours)

    def get_tour(self, request: SandboxRequest, tourId: str) -> SandboxResponse:
        return self._denied(request) or self._one("tours", tourId, "Tour")

    # -- seeding ------------------------------------------------------------------------------

    def seed(
        self,
        shipment_id: str,
        *,
        status: str | None = None,
        processed_at: datetime | str | None = None,
        declared_at: datetime | str | None = None,
        carrier_received_at: datetime | str | None = None,
        carrier_delivered_at: datetime | str | None = None,
        carrier_state: str | None = None,
        foreign_outbound_tracking_id: str | None = None,
        foreign_inbound_tracking_id: str | None = None,
        type: str = "outbound",
        order_id: str | None = None,
    ) -> str:
        """Serve a shipment with the id ``shipment_id`` and these timestamps and carrier state
        (replacing one of that id) until :meth:`reset`; returns the id. ``GET
        shipment/{shipmentId}`` answers it, ``GET shipment/search`` finds it; it is in no tour.

        Args:
            shipment_id: Its ``shipmentId``.
            status: Its ``status``; by default ``"processed"`` when ``processed_at`` is given,
                ``"announced"`` otherwise. Give ``"processed"`` without timestamps for a
                shipment answered so.
            processed_at: ``processedAt``; this and the other times are aware datetimes or
                ISO 8601 strings with an offset (``"2024-10-01T09:00:00Z"``), or ``None``.
            declared_at: ``declaredAt`` (the customs declaration).
            carrier_received_at: ``carrierReceivedAt`` (handed to the last-mile carrier).
            carrier_delivered_at: ``carrierDeliveredAt``.
            carrier_state: ``carrierState`` (``"in_transit"``, ``"delivered"``...).
            foreign_outbound_tracking_id: The last-mile carrier's tracking number.
            foreign_inbound_tracking_id: A return's foreign tracking number.
            type: ``"outbound"`` or ``"inbound"`` (a return).
            order_id: Its ``orderId`` (a generated one by default).

        Raises:
            ValidationError: a field is refused, naming it.
        """
        sid = seed_id(shipment_id)
        times = {
            name: seed_time(value, name) if value is not None else None
            for name, value in (
                ("processed_at", processed_at),
                ("declared_at", declared_at),
                ("carrier_received_at", carrier_received_at),
                ("carrier_delivered_at", carrier_delivered_at),
            )
        }
        if type not in ("outbound", "inbound"):
            raise ValidationError("type", "must be 'outbound' or 'inbound'")
        texts = {
            "status": status,
            "carrier_state": carrier_state,
            "foreign_outbound_tracking_id": foreign_outbound_tracking_id,
            "foreign_inbound_tracking_id": foreign_inbound_tracking_id,
            "order_id": order_id,
        }
        for name, value in texts.items():
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValidationError(name, "must be a non-empty string or None")
        shipment = _shipment(
            sid,
            uuid.uuid5(uuid.NAMESPACE_URL, sid).int % 10**9,
            processed=times["processed_at"],
            declared=times["declared_at"],
            received=times["carrier_received_at"],
            delivered=times["carrier_delivered_at"],
            carrier_state=carrier_state,
            outbound_ref=foreign_outbound_tracking_id,
            kind=type,
            inbound_ref=foreign_inbound_tracking_id,
        )
        if status is not None:
            shipment["status"] = status
        if order_id is not None:
            shipment["orderId"] = order_id
        with self._lock:
            self.shipments[sid] = shipment
        return sid
