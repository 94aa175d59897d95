"""Fake Parcels in the embedded sandbox.

Routes (under ``/fake``):

* ``GET /v1/parcels/{parcelId}``: a parcel, wrapped as ``{"ok": true, "result": {...}}``;
  a missing or wrong ``x-fake-key`` is a 401, an unknown parcel a 404, both as
  ``{"fault": {"kind", "reason"}, "trace"}``.
"""

from __future__ import annotations

import copy
import threading
import uuid
from typing import Any

from shiptrack_sdk.sandbox._server import (
    ApiKeyCredentials,
    Router,
    SandboxApp,
    SandboxRequest,
    SandboxResponse,
    credentials_match,
    json_response,
)

__all__ = ["SEED", "FakeApp"]

#: The seeded parcels, as the API answers them.
SEED: dict[str, dict[str, Any]] = {
    "P-1001": {
        "parcelId": "P-1001",
        "state": "delivered",
        "courier": "Fake Express",
        "events": [
            {"state": "registered", "at": "2024-09-02T07:00:00Z", "note": "Label printed"},
            {"state": "moving", "at": "2024-09-02T18:30:00Z", "note": "Left the depot"},
            {"state": "delivered", "at": "2024-09-03T10:15:00Z", "note": "Signed for"},
        ],
    },
    "P-1002": {
        "parcelId": "P-1002",
        "state": "out_for_delivery",
        "courier": "Fake Express",
        "events": [
            {"state": "registered", "at": "2024-09-04T08:00:00Z", "note": "Label printed"},
            {"state": "out_for_delivery", "at": "2024-09-05T06:45:00Z", "note": None},
        ],
    },
}


def _fault(status: int, kind: str, reason: str) -> SandboxResponse:
    return json_response(
        status, {"fault": {"kind": kind, "reason": reason}, "trace": f"t-{uuid.uuid4().hex[:12]}"}
    )


class FakeApp(SandboxApp):
    """Fake Parcels' routes and data in the sandbox."""

    name = "fake"
    credentials = ApiKeyCredentials("sandbox-fake-key")
    sample_ids = ("P-1001", "P-1002")

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._lock = threading.Lock()
        self.parcels: dict[str, dict[str, Any]] = {}
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.parcels = copy.deepcopy(SEED)

    def routes(self, router: Router) -> None:
        router.add(
            "GET", f"{self.prefix}/v1/parcels/{{parcel_id}}", self.get_parcel, name="fake.parcel"
        )

    def get_parcel(self, request: SandboxRequest, parcel_id: str) -> SandboxResponse:
        if not credentials_match(request.headers.get("x-fake-key"), self.credentials.api_key):
            return _fault(401, "unauthorized", "missing or wrong x-fake-key")
        with self._lock:
            parcel = copy.deepcopy(self.parcels.get(parcel_id))
        if parcel is None:
            return _fault(404, "not_found", f"no parcel {parcel_id}")
        return json_response(200, {"ok": True, "result": parcel})
