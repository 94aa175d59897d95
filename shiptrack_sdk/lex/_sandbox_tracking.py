"""LEX Shipment Tracking in the embedded sandbox.

Routes (under ``/lex``): ``POST /lex-shipmenttracking-v1/shipment-tracking`` (bearer token),
and the sandbox's own ``GET /sandbox/shipment-tracking/accepted``, which lists what was
accepted (no LEX counterpart, no token: a test in another process reads it).

It checks bodies as a strict server would, independently of the SDK's own validator: a
non-empty JSON array of at most :data:`MAX_MESSAGES` objects, each with an ``event`` holding
``code``, ``businessReference`` and ``occurredAt`` (ISO 8601 with an offset), a
``documentUrl`` for the codes in :attr:`TrackingPart.document_required_codes`, and the SDK's
field names typed as documented. A body with problems is refused whole, ``400`` with
``{"code", "message", "errors": [{"path", "message"}]}``; an accepted one is answered
``200 {"accepted": n}`` and its messages appended to :attr:`TrackingPart.accepted`, so tests
can assert each message arrived exactly once.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from ..sandbox._server import Router, SandboxRequest, SandboxResponse, json_response

#: The endpoint, under the sandbox's ``/lex`` prefix.
TRACKING_PATH = "/lex-shipmenttracking-v1/shipment-tracking"
#: The sandbox's own listing of the messages accepted, under the ``/lex`` prefix.
ACCEPTED_PATH = "/sandbox/shipment-tracking/accepted"
#: The most messages one call may carry.
MAX_MESSAGES = 1000

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")

#: The parties a message may name: wire name, path.
_PARTIES = (("shipFrom", ".shipFrom"), ("shipTo", ".shipTo"), ("sender", ".sender"))

# Object fields and their string members, by SDK wire name.
_STRINGS: dict[str, tuple[str, ...]] = {
    "event": ("code", "businessReference", "type", "description"),
    "anomaly": ("code", "description"),
    "location": ("name", "city", "postalCode", "countryCode"),
    "party": ("id", "name", "contactName", "phone", "email"),
    "address": ("street", "city", "postalCode", "region", "countryCode"),
    "carrier": ("id", "name", "trackingNumber", "trackingUrl"),
}

#: The string members each object must have.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "event": ("code", "businessReference"),
    "anomaly": ("code",),
}


def _error(
    status: int, message: str, errors: list[dict[str, str]] | None = None
) -> SandboxResponse:
    payload: dict[str, Any] = {"code": str(status), "message": message}
    if errors is not None:
        payload["errors"] = errors
    return json_response(status, payload)


class _Check:
    """Checks decoded messages, appending ``{"path", "message"}`` errors.

    A part's path is passed as the message's and the part's (``"[3]"``, ``".event"``) and
    joined only for an error: most parts have none, and a batch holds hundreds of them.
    """

    def __init__(self, document_required_codes: frozenset[str]) -> None:
        self.document_required_codes = document_required_codes
        self.errors: list[dict[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})

    def obj(self, path: str, part: str, value: Any, kind: str, *, required: bool = False) -> bool:
        if value is None:
            if required:
                self.add(path + part, "is required")
            return False
        if not isinstance(value, dict):
            self.add(path + part, "must be an object")
            return False
        needed = _REQUIRED.get(kind, ())
        for name in _STRINGS[kind]:  # in a fixed order, the order errors are reported in
            item = value.get(name)
            if name in needed:
                if not isinstance(item, str) or not item.strip():
                    self.add(f"{path}{part}.{name}", "is required (a non-empty string)")
            elif item is not None and (not isinstance(item, str) or not item.strip()):
                self.add(f"{path}{part}.{name}", "must be a non-empty string")
        country = value.get("countryCode")
        if isinstance(country, str) and not _COUNTRY.match(country):
            self.add(f"{path}{part}.countryCode", "must be an ISO 3166-1 alpha-2 code")
        return True

    def message(self, path: str, message: Any) -> None:
        if not isinstance(message, dict):
            self.add(path, "must be an object")
            return
        event: Any = message.get("event")
        code = None
        if self.obj(path, ".event", event, "event", required=True):
            code = event.get("code")
            when = event.get("occurredAt")
            if not isinstance(when, str) or not _DATETIME.match(when):
                self.add(f"{path}.event.occurredAt", "must be an ISO 8601 date-time with offset")
            location = event.get("location")
            if location is not None:  # optional parts: looked at only when present
                self.obj(path, ".event.location", location, "location")
        anomaly = message.get("anomaly")
        if anomaly is not None:
            self.obj(path, ".anomaly", anomaly, "anomaly")
        url = message.get("documentUrl")
        if url is None:
            if code in self.document_required_codes:
                self.add(f"{path}.documentUrl", f"is required for event code {code}")
        elif not isinstance(url, str) or not url.startswith(("http://", "https://")):
            self.add(f"{path}.documentUrl", "must be an http(s) URL")
        for name, part in _PARTIES:
            party: Any = message.get(name)
            if party is not None and self.obj(path, part, party, "party"):
                address = party.get("address")
                if address is not None:
                    self.obj(path, f"{part}.address", address, "address")
        carrier = message.get("carrier")
        if carrier is not None:
            self.obj(path, ".carrier", carrier, "carrier")
        attributes = message.get("attributes")
        if attributes is not None:
            self.items(f"{path}.attributes", attributes, ("name",), ("value",))
        notes = message.get("deliveryNotes")
        if notes is not None:
            self.items(f"{path}.deliveryNotes", notes, ("number",), ())

    def items(
        self, path: str, value: Any, required: tuple[str, ...], strings: tuple[str, ...]
    ) -> None:
        if not isinstance(value, list):
            self.add(path, "must be an array")
            return
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.add(f"{path}[{i}]", "must be an object")
                continue
            for name in required:
                text = item.get(name)
                if not isinstance(text, str) or not text.strip():
                    self.add(f"{path}[{i}].{name}", "is required (a non-empty string)")
            for name in strings:
                if not isinstance(item.get(name), str):
                    self.add(f"{path}[{i}].{name}", "must be a string")


class TrackingPart:
    """The Shipment Tracking part of the sandbox's LEX app.

    Attributes:
        calls: How many calls were accepted.
        document_required_codes: Event codes the sandbox refuses without a ``documentUrl``.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self._lock = threading.Lock()
        # Each accepted body as it came: bytes, not the objects decoded from it. A sandbox
        # that keeps hundreds of thousands of messages as dicts makes every full garbage
        # collection of its process scan them, and a long test or benchmark slows down.
        self._bodies: list[bytes] = []
        self._count = 0
        self.calls = 0
        self.document_required_codes: frozenset[str] = frozenset({"LIV"})

    def reset(self) -> None:
        with self._lock:
            self._bodies = []
            self._count = 0
            self.calls = 0
        self.document_required_codes = frozenset({"LIV"})

    @property
    def accepted(self) -> list[dict[str, Any]]:
        """Every message accepted so far, in order, as received (JSON objects, decoded anew
        on each read)."""
        return self._snapshot()[1]

    @property
    def accepted_count(self) -> int:
        """How many messages were accepted so far (without decoding them)."""
        return self._count

    def routes(self, router: Router) -> None:
        router.add("POST", f"{self.app.prefix}{TRACKING_PATH}", self.send, name="lex.tracking.send")
        router.add(
            "GET",
            f"{self.app.prefix}{ACCEPTED_PATH}",
            self.list_accepted,
            name="lex.tracking.accepted",
        )

    def references(self) -> list[str]:
        """The ``event.businessReference`` of every accepted message, in order."""
        return [m["event"]["businessReference"] for m in self.accepted]

    def _snapshot(self) -> tuple[int, list[dict[str, Any]]]:
        with self._lock:
            calls, bodies = self.calls, list(self._bodies)
        return calls, [message for body in bodies for message in json.loads(body)]

    def list_accepted(self, request: SandboxRequest) -> SandboxResponse:
        """``GET /lex/sandbox/shipment-tracking/accepted``: ``{"calls": n, "messages": [...]}``,
        every message accepted so far, in order, as received."""
        calls, messages = self._snapshot()
        return json_response(200, {"calls": calls, "messages": messages})

    def send(self, request: SandboxRequest) -> SandboxResponse:
        if not self.app.authorized(request):
            denied: SandboxResponse = self.app.unauthorized()
            return denied
        if "json" not in request.headers.get("Content-Type", ""):
            return _error(415, "Content-Type must be application/json")
        try:
            body = request.json()
        except ValueError:
            return _error(400, "Body is not valid JSON")
        if not isinstance(body, list) or not body:
            return _error(400, "Body must be a non-empty array of shipment tracking messages")
        if len(body) > MAX_MESSAGES:
            return _error(413, f"At most {MAX_MESSAGES} messages per call")
        check = _Check(self.document_required_codes)
        for i, message in enumerate(body):
            check.message(f"[{i}]", message)
        if check.errors:
            return _error(400, f"{len(check.errors)} invalid field(s)", check.errors)
        with self._lock:
            self._bodies.append(request.body)
            self._count += len(body)
            self.calls += 1
        return json_response(200, {"accepted": len(body)})
