"""Shiplemon in the embedded sandbox: the documented routes, x-api-key check, seeded shipments.

Routes (under ``/shiplemon``):

* ``GET /public/v1/shipments/{id}/tracking``
* ``PUT /v1/shipments/{id}/tracking``, validated as Shiplemon does: the four statuses,
  case-sensitive, and ``status_date`` as ``YYYY-MM-DDTHH:MM:SS.sssZ``.

``status_exact``: Shiplemon's documentation shows one value, ``WITH_COURIER``
(:data:`PUBLIC_STATUS_EXACT`). The seeded histories also use ``PICKED_UP``, ``AT_HUB``,
``OUT_FOR_DELIVERY`` and ``FAILED_ATTEMPT`` (:data:`SANDBOX_STATUS_EXACT`): these are the
sandbox's own, chosen to show finer steps, not values Shiplemon is known to send; a real
account may send others, or none.
"""

from __future__ import annotations

import copy
import re
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from ..errors import ValidationError
from ..sandbox._server import (
    ApiKeyCredentials,
    Router,
    SandboxApp,
    SandboxRequest,
    SandboxResponse,
    credentials_match,
    json_response,
    seed_entries,
    seed_id,
    seed_time,
)
from .status import STATUSES

#: The ``status_exact`` values Shiplemon's documentation shows.
PUBLIC_STATUS_EXACT = frozenset({"WITH_COURIER"})
#: The sandbox's own ``status_exact`` values: not published by Shiplemon.
SANDBOX_STATUS_EXACT = frozenset({"PICKED_UP", "AT_HUB", "OUT_FOR_DELIVERY", "FAILED_ATTEMPT"})

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

_CARRIERS = {
    "elta": (
        "ELTA Courier",
        "elta_courier_porta_porta",
        "Porta-Porta",
        3,
        "https://www.elta-courier.gr/search?br={ref}",
    ),
    "acs": (
        "ACS Courier",
        "acs_standard",
        "Standard",
        2,
        "https://www.acscourier.net/en/track-and-trace?p_p_id=ACSCustomersAreaTrackTrace&ref={ref}",
    ),
    "geniki": (
        "Geniki Taxydromiki",
        "geniki_standard",
        "Standard",
        2,
        "https://www.taxydromiki.com/track/{ref}",
    ),
    "boxnow": ("BOX NOW", "boxnow_locker", "Locker", 2, "https://boxnow.gr/en/?track={ref}"),
    "speedex": (
        "Speedex",
        "speedex_standard",
        "Standard",
        2,
        "https://www.speedex.gr/speedex/NewTrackAndTrace.aspx?number={ref}",
    ),
    "dhl": (
        "DHL Express",
        "dhl_domestic_express",
        "DOMESTIC EXPRESS DOC",
        1,
        "http://www.dhl-usa.com/content/us/en/express/tracking.shtml?brand=DHL&AWB={ref}",
    ),
}


def _h(status: str, when: str, details: str, exact: str | None = None) -> dict[str, Any]:
    return {"status": status, "status_exact": exact, "status_date": when, "status_details": details}


#: The seeded shipments: id → (driver, tracking_ref, history as Shiplemon stores it).
SEED: dict[str, tuple[str, str, list[dict[str, Any]]]] = {
    # The documented GET sample: delivered, newest first.
    "be96511d-ba23-4268-bd8b-48c9cf930222": (
        "elta",
        "ZU500011420GR",
        [
            _h("DELIVERED", "2024-07-15T10:02:00.000Z", "ΠΑΡΑΛΑΒΗ ΑΠΟ ΣΤΑΘΜΟ ΜΕ ΔΗΛΩΣΗ ΠΑΡΑΛΗΠΤΗ"),
            _h("TRANSIT", "2024-07-15T09:45:00.000Z", "ΠΡΟΣ ΠΑΡΑΔΟΣΗ", "WITH_COURIER"),
            _h("PRE_TRANSIT", "2024-07-12T14:17:00.000Z", "ΔΗΜΙΟΥΡΓΙΑ ΣΥ.ΔΕ.ΤΑ. ΑΠΟ ΠΕΛΑΤΗ"),
        ],
    ),
    # The documented PUT sample: an unordered history.
    "60476d7500e47cb69693a202": (
        "dhl",
        "1190953890",
        [
            _h("DELIVERED", "2023-11-20T00:00:01.992Z", "ΠΑΡΑΔΟΣΗ ΑΠΟ ΔΙΑΝΟΜΕΑ"),
            _h("EXCEPTION", "2023-11-20T00:00:02.195Z", "ΑΚΥΡΩΣΗ ΑΠΟ ΔΙΑΝΟΜΕΑ"),
            _h("TRANSIT", "2023-11-20T00:00:02.075Z", "ΕΚΦΟΡΤΩΣΗ ΑΠΟ ΜΕΤΑΦΟΡΙΚΟ ΜΕΣΟ"),
            _h("PRE_TRANSIT", "2023-11-20T00:00:02.064Z", "ΔΗΜΙΟΥΡΓΙΑ ΣΥ.ΔΕ.ΤΑ. ΑΠΟ ΠΕΛΑΤΗ"),
        ],
    ),
    # The status_exact values from here on, but WITH_COURIER, are the sandbox's own.
    "6650a1f2c3d4e5f601234567": (
        "acs",
        "7204519386",
        [
            _h("TRANSIT", "2024-09-03T06:40:00.000Z", "Out for delivery", "OUT_FOR_DELIVERY"),
            _h("TRANSIT", "2024-09-02T21:05:00.000Z", "Arrived at Thessaloniki hub", "AT_HUB"),
            _h("TRANSIT", "2024-09-02T15:30:00.000Z", "Picked up from sender", "PICKED_UP"),
            _h("PRE_TRANSIT", "2024-09-02T08:12:00.000Z", "Voucher created"),
        ],
    ),
    "6650a1f2c3d4e5f601234568": (
        "geniki",
        "GT4410093812",
        [
            _h(
                "EXCEPTION",
                "2024-09-05T12:20:00.000Z",
                "Recipient absent, returned to depot",
                "FAILED_ATTEMPT",
            ),
            _h("TRANSIT", "2024-09-05T07:55:00.000Z", "With courier for delivery", "WITH_COURIER"),
            _h("TRANSIT", "2024-09-04T18:00:00.000Z", "Departed Athens hub"),
            _h("PRE_TRANSIT", "2024-09-04T09:30:00.000Z", "Voucher created"),
        ],
    ),
    "6650a1f2c3d4e5f601234569": (
        "boxnow",
        "2338891501",
        [
            _h("PRE_TRANSIT", "2024-09-06T10:00:00.000Z", "Voucher created, awaiting drop-off"),
        ],
    ),
    "6650a1f2c3d4e5f60123456a": (
        "speedex",
        "700012345678",
        [
            _h("PRE_TRANSIT", "2024-09-01T09:00:00.000Z", "Voucher created"),
            _h("TRANSIT", "2024-09-01T16:45:00.000Z", "Picked up", "PICKED_UP"),
            _h("DELIVERED", "2024-09-02T11:10:00.000Z", "Delivered to recipient"),
        ],
    ),
}


def _error(status: int, code: str, message: str, metadata: Any = None) -> SandboxResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if metadata is not None:
        error["metadata"] = metadata
    return json_response(status, {"error": error})


def _newest_status(history: list[dict[str, Any]]) -> str | None:
    if not history:
        return None
    return str(max(history, key=lambda h: h["status_date"])["status"])


class ShiplemonApp(SandboxApp):
    """Shiplemon's routes and data in the sandbox."""

    name = "shiplemon"
    credentials = ApiKeyCredentials("sandbox-shiplemon-key")
    sample_ids = ("be96511d-ba23-4268-bd8b-48c9cf930222", "6650a1f2c3d4e5f601234567")

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._lock = threading.Lock()
        self.shipments: dict[str, dict[str, Any]] = {}
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.shipments = {
                sid: self._shipment(sid, driver, ref, copy.deepcopy(history))
                for sid, (driver, ref, history) in SEED.items()
            }

    @staticmethod
    def _shipment(sid: str, driver: str, ref: str, history: list[dict[str, Any]]) -> dict[str, Any]:
        name, service_code, service_name, days, url = _CARRIERS[driver]
        return {
            "id": sid,
            "partner_id": "sandbox-partner",
            "state": "created",
            "driver": driver,
            "carrier": {
                "code": driver,
                "name": name,
                "image": f"https://static.shiplemon.com/providers/{driver}.svg",
            },
            "service": {
                "code": service_code,
                "name": service_name,
                "estimated_delivery_in_days": days,
            },
            "tracking_ref": ref,
            "tracking_url": url.format(ref=ref),
            "tracking_history": history,
            "tracking_history_last_updated_at": max(
                (h["status_date"] for h in history), default=None
            ),
            "country_from": "GR",
            "country_to": "GR",
            "address_from": {
                "_id": uuid.uuid5(uuid.NAMESPACE_URL, sid).hex[:24],
                "country": "GR",
                "name": "Sandbox Shop",
                "city": "Athens",
                "zip": "10563",
                "address": "Ermou 3",
                "state": "I",
            },
            "address_to": {
                "country": "GR",
                "name": "Maria Papadopoulou",
                "city": "Thessaloniki",
                "zip": "54624",
                "address": "Tsimiski 45",
            },
            "items": [
                {
                    "weight": 1200,
                    "height": 10,
                    "width": 30,
                    "length": 20,
                    "notes": "Shoes",
                    "value": 89.9,
                    "currency": "EUR",
                }
            ],
            "pickup": None,
            "child_vouchers": [],
        }

    def add_shipments(self, count: int, *, events: int = 4) -> list[str]:
        """Seed ``count`` more shipments in transit, each with ``events`` history entries."""
        start = datetime(2024, 9, 1, 8, 0, tzinfo=timezone.utc)
        ids = []
        with self._lock:
            for n in range(count):
                sid = uuid.uuid5(uuid.NAMESPACE_OID, f"shiplemon-{len(self.shipments)}-{n}").hex[
                    :24
                ]
                history = [
                    _h(
                        "PRE_TRANSIT" if i == 0 else "TRANSIT",
                        (start + timedelta(hours=6 * i, minutes=n % 60)).strftime(
                            "%Y-%m-%dT%H:%M:%S.000Z"
                        ),
                        "Voucher created" if i == 0 else f"Scan {i} at hub",
                        None if i == 0 else "AT_HUB",
                    )
                    for i in range(events)
                ]
                self.shipments[sid] = self._shipment(sid, "acs", f"72{n:08d}", history)
                ids.append(sid)
        return ids

    def seed(
        self,
        shipment_id: str,
        *,
        history: Sequence[Any] = (),
        carrier: str = "acs",
        tracking_ref: str | None = None,
    ) -> str:
        """Serve a shipment with the id ``shipment_id`` and this tracking ``history`` (replacing
        one of that id) until :meth:`reset`; returns the id.

        Args:
            shipment_id: The id ``GET .../shipments/{id}/tracking`` finds it by.
            history: Its events, in any order (Shiplemon answers them newest first), each a
                mapping: ``status`` (``"PRE_TRANSIT"``, ``"TRANSIT"``, ``"DELIVERED"`` or
                ``"EXCEPTION"``), ``at`` (an aware datetime, or ISO 8601 with an offset:
                ``"2024-10-01T08:00:00Z"``), and optionally ``details`` (the text) and
                ``exact`` (``status_exact``, such as ``"WITH_COURIER"``).
            carrier: The driver: ``"elta"``, ``"acs"``, ``"geniki"``, ``"boxnow"``,
                ``"speedex"`` or ``"dhl"``.
            tracking_ref: The carrier's tracking number (a generated one by default).

        Raises:
            ValidationError: a field is refused, naming it (``history[0].status``...).
        """
        sid = seed_id(shipment_id)
        if carrier not in _CARRIERS:
            raise ValidationError("carrier", f"must be one of {', '.join(_CARRIERS)}")
        if tracking_ref is not None and (not isinstance(tracking_ref, str) or not tracking_ref):
            raise ValidationError("tracking_ref", "must be a non-empty string or None")
        entries = []
        fields = ("status", "at", "details", "exact")
        for index, entry in enumerate(seed_entries(history, "history", fields, ("status", "at"))):
            where = f"history[{index}]"
            if entry["status"] not in STATUSES:
                statuses = ", ".join(sorted(STATUSES))
                raise ValidationError(f"{where}.status", f"must be one of {statuses}")
            for name in ("details", "exact"):
                if entry.get(name) is not None and not isinstance(entry[name], str):
                    raise ValidationError(f"{where}.{name}", "must be a string or None")
            when = seed_time(entry["at"], f"{where}.at")
            entries.append(
                _h(
                    entry["status"],
                    when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
                    entry.get("details") or "",
                    entry.get("exact"),
                )
            )
        ref = tracking_ref or uuid.uuid5(uuid.NAMESPACE_URL, sid).hex[:12].upper()
        shipment = self._shipment(sid, carrier, ref, entries)
        with self._lock:
            self.shipments[sid] = shipment
        return sid

    def routes(self, router: Router) -> None:
        p = self.prefix
        router.add(
            "GET",
            f"{p}/public/v1/shipments/{{sid}}/tracking",
            self.get_tracking,
            name="shiplemon.tracking.get",
        )
        router.add(
            "PUT",
            f"{p}/v1/shipments/{{sid}}/tracking",
            self.put_tracking,
            name="shiplemon.tracking.update",
        )

    def _authorized(self, request: SandboxRequest) -> SandboxResponse | None:
        if not credentials_match(request.headers.get("x-api-key"), self.credentials.api_key):
            return _error(401, "UNAUTHORIZED", "Missing or invalid x-api-key")
        return None

    def get_tracking(self, request: SandboxRequest, sid: str) -> SandboxResponse:
        denied = self._authorized(request)
        if denied:
            return denied
        with self._lock:
            shipment = self.shipments.get(sid)
            if shipment is None:
                return _error(404, "NOT_FOUND", "Shipment not found", {"id": sid})
            data = {
                "partner_id": shipment["partner_id"],
                "driver": shipment["driver"],
                "carrier": shipment["carrier"],
                "service": shipment["service"],
                "tracking_status": _newest_status(shipment["tracking_history"]),
                "tracking_history": sorted(
                    shipment["tracking_history"], key=lambda h: h["status_date"], reverse=True
                ),
                "tracking_ref": shipment["tracking_ref"],
                "tracking_url": shipment["tracking_url"],
                "country_from": shipment["country_from"],
                "country_to": shipment["country_to"],
            }
        return json_response(200, {"status": "ok", "data": data})

    def put_tracking(self, request: SandboxRequest, sid: str) -> SandboxResponse:
        denied = self._authorized(request)
        if denied:
            return denied
        try:
            body = request.json()
        except ValueError:
            return _error(400, "BAD_REQUEST", "Body must be JSON")
        history = body.get("tracking_history") if isinstance(body, dict) else None
        if not isinstance(history, list):
            return _error(400, "VALIDATION_ERROR", "tracking_history must be an array")
        problems = []
        for i, entry in enumerate(history):
            if not isinstance(entry, dict):
                problems.append({"path": f"tracking_history[{i}]", "message": "must be an object"})
                continue
            if entry.get("status") not in STATUSES:
                problems.append(
                    {
                        "path": f"tracking_history[{i}].status",
                        "message": "must be one of DELIVERED, TRANSIT, PRE_TRANSIT, EXCEPTION",
                    }
                )
            if not isinstance(entry.get("status_date"), str) or not _DATE.match(
                entry["status_date"]
            ):
                problems.append(
                    {
                        "path": f"tracking_history[{i}].status_date",
                        "message": "must be in ISO 8601 format (YYYY-MM-DDTHH:MM:SS.sssZ)",
                    }
                )
            if not isinstance(entry.get("status_details", ""), str):
                problems.append(
                    {"path": f"tracking_history[{i}].status_details", "message": "must be a string"}
                )
        if problems:
            return _error(
                400, "VALIDATION_ERROR", f"{len(problems)} invalid field(s)", {"errors": problems}
            )
        with self._lock:
            shipment = self.shipments.get(sid)
            if shipment is None:
                return _error(404, "NOT_FOUND", "Shipment not found", {"id": sid})
            shipment["tracking_history"] = [
                {
                    "status": e["status"],
                    "status_date": e["status_date"],
                    "status_details": e.get("status_details", ""),
                    "status_exact": e.get("status_exact"),
                }
                for e in history
            ]
            shipment["tracking_history_last_updated_at"] = datetime.now(timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z"
            )
            data = {k: v for k, v in shipment.items() if k not in ("carrier", "service")}
            data["tracking_status"] = _newest_status(shipment["tracking_history"])
        return json_response(200, {"status": "ok", "data": data})
