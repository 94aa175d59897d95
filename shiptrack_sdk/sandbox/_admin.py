"""The sandbox's admin endpoint: faults, seeding, reset and recorded calls over HTTP.

For a service that is not written in Python (or runs in another process) and is tested against
``shiptrack sandbox``. Everything lives under ``/_sandbox/``, takes and answers JSON, and is
neither recorded, nor faulted, nor delayed:

==========================================  ===============================================
``GET /_sandbox/routes``                    every route: ``{"routes": [{name, method, path}]}``
``POST /_sandbox/faults``                   add a fault: the keywords of ``Sandbox.fault()``
``GET /_sandbox/faults``                    the pending faults
``DELETE /_sandbox/faults``                 remove them all
``POST /_sandbox/seed/<provider>``          ``Sandbox.seed()``: ``{"shipment_id": ..., ...}``
``POST /_sandbox/reset``                    ``Sandbox.reset()``
``GET /_sandbox/calls?path=&method=``       the recorded calls, secrets masked
==========================================  ===============================================

A refused argument is answered ``400 {"error": "validation", "argument", "message"}``, as the
Python call would raise it.

It has no authentication: it is on when the sandbox listens on a loopback address (only this
machine reaches it), and off (``403``) on any other unless the sandbox was made with
``admin=True``.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

from .._core.urls import MASK, is_secret_name, redact_text
from ..errors import ValidationError
from ._routing import ADMIN_PREFIX, SandboxRequest, SandboxResponse, json_response
from ._server import RecordedCall

__all__ = ["AdminEndpoint", "is_loopback_host"]

#: The keywords of ``Sandbox.fault()`` a ``POST /_sandbox/faults`` body may hold.
FAULT_FIELDS = (
    "path",
    "route",
    "method",
    "times",
    "status",
    "body",
    "content_type",
    "retry_after",
    "delay",
    "action",
    "after",
    "headers",
    "unrouted",
)


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is reached from this machine only (``127.0.0.0/8``, ``::1``,
    ``localhost``)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _masked(value: Any) -> Any:
    """A JSON value with the values of secret-looking keys masked, at any depth."""
    if isinstance(value, dict):
        return {
            k: MASK if isinstance(k, str) and is_secret_name(k) else _masked(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def _body_text(call: RecordedCall) -> str:
    text = call.body.decode("utf-8", "replace")
    if not text:
        return text
    try:
        parsed = json.loads(text)
    except ValueError:
        # A form body or a query string: its pairs are masked as a URL's are.
        return redact_text(text)
    return json.dumps(_masked(parsed), ensure_ascii=False, separators=(",", ":"))


def call_json(call: RecordedCall) -> dict[str, Any]:
    """A recorded call as JSON: headers, query values and body fields that look secret are
    masked (``***``), as in the SDK's logs."""
    return {
        "method": call.method,
        "path": call.path,
        "query": {
            name: [MASK] * len(values) if is_secret_name(name) else list(values)
            for name, values in call.query.items()
        },
        "headers": {
            name: MASK if is_secret_name(name) else value for name, value in call.headers.items()
        },
        "body": _body_text(call),
        "status": call.status,
        "route": call.route,
        "at": call.at,
    }


def _refused(exc: ValidationError) -> SandboxResponse:
    return json_response(
        400,
        {"error": "validation", "argument": exc.argument, "message": str(exc)},
    )


def _json_object(request: SandboxRequest, what: str) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        value = request.json()
    except ValueError:
        raise ValidationError("body", f"must be a JSON object of {what}") from None
    if not isinstance(value, dict):
        raise ValidationError("body", f"must be a JSON object of {what}")
    return value


class AdminEndpoint:
    """Answers ``/_sandbox/`` calls for ``sandbox`` (a :class:`~shiptrack_sdk.sandbox.Sandbox`).

    Args:
        sandbox: The sandbox it drives.
        enabled: Whether it answers; when not, every call is ``403`` and says how to enable it.
    """

    def __init__(self, sandbox: Any, *, enabled: bool) -> None:
        self.sandbox = sandbox
        self.enabled = enabled
        self._endpoints: dict[tuple[str, str], Callable[[SandboxRequest], SandboxResponse]] = {
            ("GET", "routes"): self.routes,
            ("GET", "faults"): self.list_faults,
            ("POST", "faults"): self.add_fault,
            ("DELETE", "faults"): self.clear_faults,
            ("POST", "reset"): self.reset,
            ("GET", "calls"): self.calls,
            ("GET", ""): self.index,
        }

    def __call__(self, request: SandboxRequest) -> SandboxResponse:
        if not self.enabled:
            return json_response(
                403,
                {
                    "message": f"the admin endpoint is off: this sandbox listens on "
                    f"{self.sandbox.host}, beyond this machine, and {ADMIN_PREFIX} has no "
                    "authentication; Sandbox(admin=True) (shiptrack sandbox --admin) turns it on"
                },
            )
        name = request.path[len(ADMIN_PREFIX) :].strip("/")
        try:
            if name.startswith("seed/") or name == "seed":
                if request.method != "POST":
                    return json_response(405, {"message": "seed takes POST"})
                return self.seed(request, name.partition("/")[2])
            endpoint = self._endpoints.get((request.method, name))
            if endpoint is None:
                if any(path == name for _, path in self._endpoints):
                    return json_response(405, {"message": f"{name} takes no {request.method}"})
                return json_response(
                    404, {"message": f"no admin endpoint {request.path} (see GET {ADMIN_PREFIX})"}
                )
            return endpoint(request)
        except ValidationError as exc:
            return _refused(exc)

    def index(self, request: SandboxRequest) -> SandboxResponse:
        """``GET /_sandbox/``: the endpoints."""
        endpoints = [f"{method} {ADMIN_PREFIX}{path}" for method, path in self._endpoints if path]
        return json_response(
            200, {"endpoints": [*endpoints, f"POST {ADMIN_PREFIX}seed/<provider>"]}
        )

    def routes(self, request: SandboxRequest) -> SandboxResponse:
        """``GET /_sandbox/routes``."""
        listed = [
            {"name": r.name, "method": r.method, "path": r.path}
            for r in self.sandbox._server.router.routes
        ]
        return json_response(200, {"routes": listed})

    def list_faults(self, request: SandboxRequest) -> SandboxResponse:
        """``GET /_sandbox/faults``: the faults still pending."""
        return json_response(200, {"faults": [f.to_json() for f in self.sandbox.faults()]})

    def add_fault(self, request: SandboxRequest) -> SandboxResponse:
        """``POST /_sandbox/faults``: the keywords of :meth:`Sandbox.fault`, as JSON."""
        fields = _json_object(request, "fault() keywords")
        for key in fields:
            if key not in FAULT_FIELDS:
                raise ValidationError(
                    key, f"is not a fault field (the fields: {', '.join(FAULT_FIELDS)})"
                )
        fault = self.sandbox.fault(**fields)
        return json_response(201, {"fault": fault.to_json()})

    def clear_faults(self, request: SandboxRequest) -> SandboxResponse:
        """``DELETE /_sandbox/faults``."""
        return json_response(200, {"cleared": self.sandbox._server.clear_faults()})

    def seed(self, request: SandboxRequest, provider: str) -> SandboxResponse:
        """``POST /_sandbox/seed/<provider>``: ``{"shipment_id": ..., <the app's fields>}``."""
        fields = _json_object(request, "the seed's fields")
        if provider not in self.sandbox.apps:
            self.sandbox.seed(provider, "")  # refused, naming the apps
        if "shipment_id" not in fields:
            raise ValidationError("shipment_id", "is required (the id the routes will find)")
        shipment_id = self.sandbox.seed(provider, fields.pop("shipment_id"), **fields)
        return json_response(201, {"provider": provider, "shipment_id": shipment_id})

    def reset(self, request: SandboxRequest) -> SandboxResponse:
        """``POST /_sandbox/reset``."""
        self.sandbox.reset()
        return json_response(200, {"reset": True})

    def calls(self, request: SandboxRequest) -> SandboxResponse:
        """``GET /_sandbox/calls?path=<glob>&method=<METHOD>``."""
        found = self.sandbox.calls(request.param("path"), request.param("method"))
        return json_response(
            200,
            {
                "calls": [call_json(call) for call in found],
                "seen": self.sandbox.calls_seen,
                "limit": self.sandbox.record_limit,
            },
        )
