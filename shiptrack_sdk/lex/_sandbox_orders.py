"""LEX Order Execution in the embedded sandbox: the business messages endpoint, a message
generator, a token introspection endpoint and a push simulator.

Routes (under ``/lex``):

* ``GET /lex-orderexecution-v1/business-messages?fetchSize=&minTimestamp=``: messages with a
  timestamp at or after ``minTimestamp`` (inclusive), ordered by timestamp then id,
  ``fetchSize`` 1..100 (default 50); ``minTimestamp`` is epoch milliseconds or
  ISO_OFFSET_DATE_TIME. Answers a JSON array (or ``{"messages": [...]}`` when
  :attr:`OrdersPart.response_shape` is ``"object"``).
* ``POST /lex-orderexecution-v1/business-messages``: one message (a JSON object with
  ``messageId``, ``messageType``, ``timestamp`` with an offset, and an object ``payload``);
  recorded in :attr:`OrdersPart.received`.
* ``POST /introspect``: RFC 7662 token introspection of the tokens the sandbox issues, for
  :class:`~shiptrack_sdk.lex.push.IntrospectionVerifier` (HTTP Basic with
  :data:`INTROSPECTION_CLIENT_ID` / :data:`INTROSPECTION_CLIENT_SECRET`).

The messages come from a :class:`MessageGenerator`: message *i* is computed from *i* alone,
so 100,000 of them cost nothing until asked for, and a page is found by bisection.
:meth:`OrdersPart.add_hostile` serves the timestamps a faulty LEX might send (2099, year 1,
null, unreadable), for a polling loop's tests.
"""

from __future__ import annotations

import base64
import bisect
import heapq
import itertools
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import parse_qs

import attrs
import requests

from ..sandbox._server import (
    Router,
    SandboxRequest,
    SandboxResponse,
    credentials_match,
    json_response,
)

#: The business messages path, under the sandbox's ``/lex`` prefix.
ORDERS_PATH = "/lex-orderexecution-v1/business-messages"
#: The token introspection path, under ``/lex``.
INTROSPECTION_PATH = "/introspect"
#: The resource server's credentials at the sandbox's introspection endpoint (test values).
INTROSPECTION_CLIENT_ID = "sandbox-lex-push-receiver"
INTROSPECTION_CLIENT_SECRET = "sandbox-lex-push-secret"  # a published test credential
#: The client the sandbox issues push tokens to (LEX, calling the partner).
PUSH_CLIENT_ID = "sandbox-lex-pusher"
#: The scope of push tokens.
PUSH_SCOPE = "lex.push"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_ITEMS = (
    ("MI-PS4-2055516", "Michelin Pilot Sport 4 205/55 R16 91V", "3528701234561"),
    ("MI-PRI4-2256017", "Michelin Primacy 4 225/60 R17 99V", "3528701234578"),
    ("MI-AGI3-2157516", "Michelin Agilis 3 215/75 R16C 116R", "3528701234585"),
    ("MI-XMD-3158022", "Michelin X Multi D 315/80 R22.5 156L", "3528701234592"),
)
_STATUSES = ("RECEIVED", "ALLOCATED", "PICKED", "PACKED", "SHIPPED", "CANCELLED")
_TYPES = ("SHIPMENT_ORDER", "RECEIVING_ORDER", "ITEM_MASTER", "ORDER_STATUS")
#: Every 97th message has a type the SDK does not know.
UNKNOWN_TYPE = "INVENTORY_SNAPSHOT"
#: The timestamps :meth:`OrdersPart.add_hostile` serves, by kind.
HOSTILE_TIMESTAMPS: Mapping[str, str | None] = {
    "future": "2099-01-01T00:00:00Z",
    "ancient": "0001-01-01T00:00:00Z",
    "null": None,
    "unreadable": "2024-02-30T25:61:00Z",
}

_WAREHOUSE = {
    "name": "Sandbox 3PL Shah Alam DC",
    "addressLine1": "Lot 12, Jalan Utas 15/7",
    "city": "Shah Alam",
    "postalCode": "40200",
    "region": "Selangor",
    "countryCode": "MY",
}


_Entry = tuple[int, str, int | dict[str, Any]]


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _text(micros: int) -> str:
    moment = _EPOCH + timedelta(microseconds=micros)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class MessageGenerator:
    """``count`` deterministic business messages, ordered by timestamp then id.

    Message *i* has the id ``LEX-{i:09d}`` and a timestamp ``step_ms`` after the previous
    message's, except in bursts: every ``burst_every`` messages, the first ``burst_size`` of
    them share one timestamp. Types rotate through the four typed ones; every 97th message
    has the unknown type :data:`UNKNOWN_TYPE`.

    Args:
        count: How many messages.
        start: The first timestamp.
        step_ms: Milliseconds between two distinct timestamps.
        burst_every: The period of bursts, in messages (``0``: no bursts).
        burst_size: How many messages of each period share a timestamp.
        partner_id: The envelopes' ``partnerId``.
        warehouse_id: The envelopes' ``warehouseId``.
    """

    def __init__(
        self,
        count: int,
        *,
        start: datetime = datetime(2024, 9, 2, 6, 0, tzinfo=timezone.utc),
        step_ms: int = 30_000,
        burst_every: int = 0,
        burst_size: int = 1,
        partner_id: str = "3PL-SANDBOX",
        warehouse_id: str = "MY-SHA-01",
    ) -> None:
        if count < 0 or step_ms < 1 or burst_size < 1:
            raise ValueError("count >= 0, step_ms >= 1 and burst_size >= 1 are required")
        if burst_every and burst_every < burst_size:
            raise ValueError("burst_every must be at least burst_size")
        self.count = count
        self.start_us = _micros(start)
        self.step_us = step_ms * 1000
        self.burst_every = burst_every if burst_size > 1 else 0
        self.burst_size = burst_size
        self.partner_id = partner_id
        self.warehouse_id = warehouse_id

    def __len__(self) -> int:
        return self.count

    def micros(self, index: int) -> int:
        """Message ``index``'s timestamp, in epoch microseconds."""
        if not self.burst_every:
            tick = index
        else:
            period, offset = divmod(index, self.burst_every)
            size = self.burst_size
            tick = period * (self.burst_every - size + 1) + (
                0 if offset < size else offset - size + 1
            )
        return self.start_us + tick * self.step_us

    def timestamp(self, index: int) -> datetime:
        """Message ``index``'s timestamp."""
        return _EPOCH + timedelta(microseconds=self.micros(index))

    @staticmethod
    def message_id(index: int) -> str:
        """Message ``index``'s id (zero-padded, so ids sort as indexes do)."""
        return f"LEX-{index:09d}"

    def ids(self, start: int = 0, stop: int | None = None) -> Iterator[str]:
        """The ids of messages ``start`` to ``stop`` (all by default), in order."""
        return (self.message_id(i) for i in range(start, self.count if stop is None else stop))

    def first_at(self, micros: int) -> int:
        """The index of the first message whose timestamp is at or after ``micros``."""
        return bisect.bisect_left(range(self.count), micros, key=self.micros)

    def message(self, index: int) -> dict[str, Any]:
        """Message ``index`` as LEX's JSON."""
        stamp = self.micros(index)
        kind = UNKNOWN_TYPE if index % 97 == 96 else _TYPES[index % 4]
        return {
            "messageId": self.message_id(index),
            "messageType": kind,
            "timestamp": _text(stamp),
            "partnerId": self.partner_id,
            "warehouseId": self.warehouse_id,
            "schemaVersion": "1.0",
            "payload": _payload(kind, index, stamp),
        }


def _lines(index: int, count: int) -> list[dict[str, Any]]:
    lines = []
    for n in range(count):
        code, description, _ = _ITEMS[(index + n) % len(_ITEMS)]
        lines.append(
            {
                "lineNumber": f"{(n + 1) * 10:04d}",
                "itemCode": code,
                "description": description,
                "quantity": 4 * (1 + (index + n) % 5),
                "unit": "EA",
            }
        )
    return lines


def _payload(kind: str, index: int, stamp: int) -> dict[str, Any]:
    day = (_EPOCH + timedelta(microseconds=stamp)).date()
    if kind == "SHIPMENT_ORDER":
        return {
            "orderNumber": f"SO-{index:07d}",
            "orderType": "SALES",
            "customerReference": f"PO-{900000 + index}",
            "shipFrom": _WAREHOUSE,
            "shipTo": {
                "name": "Tayar Jaya Sdn Bhd",
                "addressLine1": f"{10 + index % 90} Jalan Ipoh",
                "city": "Kuala Lumpur",
                "postalCode": "51200",
                "countryCode": "MY",
                "contactName": "Ahmad Razak",
                "phone": "+60 3-4041 2200",
            },
            "requestedShipDate": (day + timedelta(days=1)).isoformat(),
            "requestedDeliveryDate": (day + timedelta(days=3)).isoformat(),
            "carrier": "DHL",
            "serviceLevel": "STANDARD",
            "lines": _lines(index, 1 + index % 3),
        }
    if kind == "RECEIVING_ORDER":
        return {
            "orderNumber": f"RO-{index:07d}",
            "orderType": "PURCHASE",
            "supplierReference": f"ASN-{700000 + index}",
            "shipFrom": {
                "name": "Michelin Siam Laem Chabang",
                "city": "Laem Chabang",
                "countryCode": "TH",
            },
            "expectedArrivalDate": (day + timedelta(days=7)).isoformat(),
            "carrier": "MAERSK",
            "containerNumber": f"MSKU{index:07d}",
            "lines": _lines(index, 2),
        }
    if kind == "ITEM_MASTER":
        code, description, gtin = _ITEMS[index % len(_ITEMS)]
        return {
            "itemCode": code,
            "description": description,
            "unit": "EA",
            "gtin": gtin,
            "grossWeight": 9.8,
            "netWeight": 9.5,
            "weightUnit": "KG",
            "length": 63.2,
            "width": 63.2,
            "height": 20.5,
            "dimensionUnit": "CM",
            "category": "PASSENGER",
            "unitsPerPallet": 40,
            "dangerousGoods": False,
            "status": "ACTIVE",
        }
    if kind == "ORDER_STATUS":
        status = _STATUSES[index % len(_STATUSES)]
        return {
            "orderNumber": f"SO-{max(0, index - 3):07d}",
            "orderType": "SHIPMENT",
            "statusCode": status,
            "reasonCode": "CUSTOMER_REQUEST" if status == "CANCELLED" else None,
            "statusDate": _text(stamp),
            "carrier": "DHL" if status == "SHIPPED" else None,
            "trackingNumber": f"JD{index:016d}" if status == "SHIPPED" else None,
            "lines": _lines(index, 1),
        }
    return {
        "snapshotDate": day.isoformat(),
        "positions": [{"itemCode": code, "onHand": 120 + index % 40} for code, _, _ in _ITEMS],
    }


def _parse_bound(value: str) -> int:
    """``minTimestamp`` in epoch microseconds: epoch milliseconds or ISO_OFFSET_DATE_TIME."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text) * 1000
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("an offset is required")
    return _micros(parsed)


def _error(status: int, message: str, errors: Any = None) -> SandboxResponse:
    body: dict[str, Any] = {"code": str(status), "message": message}
    if errors:
        body["errors"] = errors
    return json_response(status, body)


@attrs.frozen
class PushOutcome:
    """What a simulated push delivery got back.

    Attributes:
        status: The receiver's HTTP status (``None`` when the connection failed).
        body: The receiver's answer, decoded when JSON.
        message_ids: The ids of the messages delivered.
        error: Why the connection failed, if it did.
        headers: The receiver's response headers.
    """

    status: int | None
    body: Any = None
    message_ids: tuple[str, ...] = ()
    error: str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)


class OrdersPart:
    """The Order Execution part of the sandbox's LEX app (``sandbox.apps["lex"].orders``).

    Attributes:
        generator: Where ``GET``'s messages come from; replace it with :meth:`seed`.
        received: The messages accepted by ``POST``, in order.
        response_shape: ``"array"`` (a JSON array) or ``"object"`` (``{"messages": [...]}``).
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        self.generator = MessageGenerator(0)
        self.received: list[dict[str, Any]] = []
        self.response_shape: Literal["array", "object"] = "array"
        self._extra: list[tuple[int, str, dict[str, Any]]] = []
        self.reset()

    def reset(self) -> None:
        """The default data set: 250 messages, a burst of 8 every 50."""
        with self._lock:
            self.generator = MessageGenerator(250, burst_every=50, burst_size=8)
            self.received = []
            self._extra = []
            self.response_shape = "array"

    def seed(self, count: int, **options: Any) -> MessageGenerator:
        """Serve ``count`` generated messages instead (options of :class:`MessageGenerator`)."""
        generator = MessageGenerator(count, **options)
        with self._lock:
            self.generator = generator
            self._extra = []
        return generator

    def add_messages(self, messages: Iterable[Mapping[str, Any]]) -> None:
        """Serve these messages too (LEX's JSON, each with ``messageId`` and ``timestamp``),
        merged with the generated ones in timestamp then id order."""
        entries = []
        for message in messages:
            stamp = _parse_bound(str(message["timestamp"]))
            entries.append((stamp, str(message["messageId"]), dict(message)))
        self._file(entries)

    def add_hostile(
        self,
        kind: Literal["future", "ancient", "null", "unreadable"],
        *,
        message_id: str | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Serve one message with a timestamp a faulty LEX might send
        (:data:`HOSTILE_TIMESTAMPS`): ``"future"`` (2099), ``"ancient"`` (year 1), ``"null"``
        or ``"unreadable"``. A dated one is filed at its timestamp, like any other; a null or
        unreadable one at ``at`` (default: the first generated message's time), as a server
        that keeps the real time but sends it badly would.

        Returns:
            The message served, as LEX's JSON.
        """
        if kind not in HOSTILE_TIMESTAMPS:
            raise ValueError(f"kind must be one of {', '.join(HOSTILE_TIMESTAMPS)}")
        stamp, key = HOSTILE_TIMESTAMPS[kind], message_id or f"HOSTILE-{kind}-{len(self._extra)}"
        message: dict[str, Any] = {"messageId": key, "messageType": "ITEM_MASTER"}
        message.update(timestamp=stamp, payload={"itemCode": _ITEMS[0][0]})
        if kind in ("future", "ancient"):
            filed = _parse_bound(str(stamp))
        else:
            filed = self.generator.start_us if at is None else _micros(at)
        self._file([(filed, key, message)])
        return message

    def _file(self, entries: list[tuple[int, str, dict[str, Any]]]) -> None:
        with self._lock:
            self._extra = sorted([*self._extra, *entries], key=lambda e: (e[0], e[1]))

    # -- routes ---------------------------------------------------------------------------------

    def routes(self, router: Router) -> None:
        p = self.app.prefix
        router.add("GET", f"{p}{ORDERS_PATH}", self.list_messages, name="lex.orders.list")
        router.add("POST", f"{p}{ORDERS_PATH}", self.post_message, name="lex.orders.send")
        router.add(
            "POST", f"{p}{INTROSPECTION_PATH}", self.introspect, name="lex.orders.introspect"
        )

    def page(self, fetch_size: int, bound_us: int | None) -> list[dict[str, Any]]:
        """The messages ``GET`` answers: at or after ``bound_us``, by timestamp then id."""
        with self._lock:
            generator, extra = self.generator, self._extra
        first = generator.first_at(bound_us) if bound_us is not None else 0
        # (timestamp, id, index of a generated message or an added message), both in order.
        generated: Iterator[_Entry] = (
            (generator.micros(i), generator.message_id(i), i) for i in range(first, len(generator))
        )
        start = (
            bisect.bisect_left(extra, bound_us, key=lambda e: e[0]) if bound_us is not None else 0
        )
        added: Iterator[_Entry] = iter(extra[start:])
        merged = heapq.merge(generated, added, key=lambda e: (e[0], e[1]))
        page: list[dict[str, Any]] = []
        for _, _, item in itertools.islice(merged, fetch_size):
            page.append(generator.message(item) if isinstance(item, int) else item)
        return page

    def list_messages(self, request: SandboxRequest) -> SandboxResponse:
        if not self.app.authorized(request):
            denied: SandboxResponse = self.app.unauthorized()
            return denied
        size_text = request.param("fetchSize")
        size = 50
        if size_text is not None:
            if not size_text.isdigit() or not 1 <= int(size_text) <= 100:
                return _error(400, "fetchSize must be an integer from 1 to 100")
            size = int(size_text)
        bound_text = request.param("minTimestamp")
        bound = None
        if bound_text:
            try:
                bound = _parse_bound(bound_text)
            except ValueError:
                return _error(
                    400, "minTimestamp must be epoch milliseconds or ISO_OFFSET_DATE_TIME"
                )
        messages = self.page(size, bound)
        if self.response_shape == "object":
            return json_response(200, {"messages": messages, "count": len(messages)})
        return json_response(200, messages)

    def post_message(self, request: SandboxRequest) -> SandboxResponse:
        if not self.app.authorized(request):
            denied: SandboxResponse = self.app.unauthorized()
            return denied
        try:
            body = request.json()
        except ValueError:
            return _error(400, "the body must be JSON")
        if isinstance(body, list):
            return _error(400, "only one business message can be sent per call")
        if not isinstance(body, dict):
            return _error(400, "the body must be a business message object")
        problems = []
        for field in ("messageId", "messageType"):
            if not isinstance(body.get(field), str) or not body[field].strip():
                problems.append({"field": field, "message": "is required"})
        try:
            _parse_bound(str(body["timestamp"]))
        except (KeyError, ValueError):
            problems.append(
                {"field": "timestamp", "message": "is required, as ISO_OFFSET_DATE_TIME"}
            )
        if not isinstance(body.get("payload"), dict):
            problems.append({"field": "payload", "message": "is required (an object)"})
        if problems:
            return _error(400, f"{len(problems)} invalid field(s)", problems)
        with self._lock:
            duplicate = any(m["messageId"] == body["messageId"] for m in self.received)
            if not duplicate:
                self.received.append(body)
        return json_response(
            200,
            {"messageId": body["messageId"], "status": "DUPLICATE" if duplicate else "ACCEPTED"},
        )

    def introspect(self, request: SandboxRequest) -> SandboxResponse:
        credentials = request.basic()
        try:
            form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        except UnicodeDecodeError:
            return json_response(400, {"error": "invalid_request"})
        if credentials is None and "client_id" in form:
            credentials = (form["client_id"], form.get("client_secret", ""))
        if (
            credentials is None
            or not credentials_match(credentials[0], INTROSPECTION_CLIENT_ID)
            or not credentials_match(credentials[1], INTROSPECTION_CLIENT_SECRET)
        ):
            return json_response(
                401, {"error": "invalid_client"}, {"WWW-Authenticate": 'Basic realm="sandbox"'}
            )
        client = self.app.sandbox.tokens.check(form.get("token"))
        if client is None:
            return json_response(200, {"active": False})
        answer: dict[str, Any] = {"active": True, "client_id": client, "token_type": "Bearer"}
        if client == PUSH_CLIENT_ID:
            answer["scope"] = PUSH_SCOPE
        return json_response(200, answer)

    # -- the push simulator ---------------------------------------------------------------------

    def issue_push_token(self) -> str:
        """A token from the sandbox's issuer, as the partner's authorization server would give
        LEX for its pushes (scope :data:`PUSH_SCOPE`)."""
        answer = self.app.sandbox.tokens.issue(PUSH_CLIENT_ID, PUSH_SCOPE)
        return str(answer["access_token"])

    def push(
        self,
        url: str,
        count: int = 10,
        *,
        start: int = 0,
        auth: Literal["oauth2", "cipher", "both", "none"] = "oauth2",
        token: str | None = None,
        cipher: Any = None,
        tamper: bool = False,
        body: bytes | None = None,
        content_type: str | None = None,
        timeout: float = 10.0,
    ) -> PushOutcome:
        """Deliver generated messages ``start`` to ``start + count`` to ``url``, as LEX pushes.

        Args:
            url: The partner's receiver.
            count: How many messages in the delivery (LEX sends up to 100; more is allowed
                here, to test a receiver's limit).
            start: The index of the first message.
            auth: ``"oauth2"`` (a bearer token), ``"cipher"`` (the body ciphered with
                ``cipher``), ``"both"`` or ``"none"``.
            token: The bearer token to present; a fresh one from the sandbox's issuer by
                default.
            cipher: Has ``encrypt(bytes) -> bytes`` (e.g.
                :class:`~shiptrack_sdk.lex.push.AesGcmCipher`); for ``"cipher"`` and
                ``"both"``.
            tamper: Change one byte of the ciphered payload (it stays base64).
            body: Send these bytes instead of the generated delivery (still ciphered when
                ``auth`` says so).
            content_type: Instead of ``application/json`` (``application/octet-stream`` when
                ciphered).
            timeout: Seconds to wait for the receiver.
        """
        with self._lock:
            generator = self.generator
        ids = tuple(generator.message_id(i) for i in range(start, start + count))
        if body is None:
            document = [generator.message(i) for i in range(start, start + count)]
            payload = json.dumps(document, separators=(",", ":")).encode()
        else:
            payload, ids = body, ()
        headers = {"Content-Type": content_type or "application/json"}
        if auth in ("cipher", "both"):
            if cipher is None or not hasattr(cipher, "encrypt"):
                raise ValueError("a cipher with encrypt() is needed for a ciphered push")
            payload = cipher.encrypt(payload)
            if tamper:
                payload = _tamper(payload)
            headers["Content-Type"] = content_type or "application/octet-stream"
        if auth in ("oauth2", "both"):
            headers["Authorization"] = f"Bearer {token or self.issue_push_token()}"
        return _post(url, payload, headers, ids, timeout)

    def push_all(
        self, url: str, total: int, *, batch_size: int = 100, **options: Any
    ) -> list[PushOutcome]:
        """Deliver generated messages ``0`` to ``total`` in deliveries of ``batch_size``
        (options as :meth:`push`)."""
        return [
            self.push(url, min(batch_size, total - start), start=start, **options)
            for start in range(0, total, batch_size)
        ]


def _tamper(payload: bytes) -> bytes:
    raw = bytearray(base64.b64decode(payload))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw))


def _post(
    url: str, payload: bytes, headers: Mapping[str, str], ids: tuple[str, ...], timeout: float
) -> PushOutcome:
    # LEX is a foreign client here: the simulator sends exactly what it is told, sees every
    # status, and retries nothing, so it uses requests directly rather than the SDK's transport.
    try:
        response = requests.post(url, data=payload, headers=dict(headers), timeout=timeout)
    except requests.RequestException as exc:
        return PushOutcome(None, None, ids, type(exc).__name__)
    try:
        answer: Any = response.json()
    except ValueError:
        answer = response.text
    return PushOutcome(response.status_code, answer, ids, headers=dict(response.headers))
