"""The embedded sandbox's server: faults, recorded calls, route statistics, dispatch.

Provider-neutral: each provider package contributes a :class:`SandboxApp` with its routes and
data; this module only serves them. What an app is built from (requests, answers, routes,
test credentials) is in :mod:`._routing`, OAuth2 tokens in :mod:`._oauth`; both are
re-exported here, where provider apps import them from. The HTTP layer is :mod:`._http`.
"""

from __future__ import annotations

import fnmatch
import json
import marshal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from ..errors import ValidationError
from ._http import HTTPServer, RequestHandler
from ._oauth import TokenIssuer, credentials_match, oauth_token_routes
from ._routing import (
    ADMIN_PREFIX,
    ApiKeyCredentials,
    ClientCredentials,
    Handler,
    Router,
    SandboxApp,
    SandboxRequest,
    SandboxResponse,
    check_host,
    check_port,
    check_seconds,
    credential,
    header_text,
    json_response,
    seed_entries,
    seed_id,
    seed_time,
)

__all__ = [
    "ADMIN_PREFIX",
    "DEFAULT_RECORD_LIMIT",
    "FAULT_ACTIONS",
    "ApiKeyCredentials",
    "ClientCredentials",
    "Fault",
    "Handler",
    "RecordedCall",
    "Router",
    "SandboxApp",
    "SandboxRequest",
    "SandboxResponse",
    "SandboxServer",
    "TokenIssuer",
    "check_host",
    "check_port",
    "check_seconds",
    "credential",
    "credentials_match",
    "json_response",
    "oauth_token_routes",
    "seed_entries",
    "seed_id",
    "seed_time",
]

#: What a fault can do to a call.
FAULT_ACTIONS = ("respond", "drop", "reset_mid")
#: How many calls a sandbox keeps (the newest): about 1 KB each.
DEFAULT_RECORD_LIMIT = 10_000


@attrs.define
class Fault:
    """An injected fault: what the next matching calls get instead of the real answer.

    Attributes:
        path: A glob on the request path (``"/shiplemon/*"``), or ``None`` with ``route``.
        method: Only this method, or any when ``None``.
        times: How many calls it affects; ``None`` until cleared.
        status: Answer this status (with ``body``), instead of the route's answer.
        body: The body to answer; a JSON error when ``None`` and ``status`` is set.
        content_type: The body's content type.
        retry_after: A ``Retry-After`` header value.
        delay: Seconds to wait before answering (longer than the client's read timeout
            makes a timeout).
        action: ``"respond"`` answers; ``"drop"`` closes the connection without a word;
            ``"reset_mid"`` sends the headers and half the body, then closes.
        after: Run the route first (its effects happen: the call is accepted), then apply
            the fault to the answer: how a timeout after the server accepted looks.
        headers: Headers added to the answer.
        route: The name of the route whose calls it affects (``"shiplemon.tracking.get"``),
            in place of ``path``.
        hits: How many calls it has affected so far.
    """

    path: str | None = None
    method: str | None = None
    times: int | None = 1
    status: int | None = None
    body: bytes | None = None
    content_type: str = "application/json"
    retry_after: str | None = None
    delay: float = 0.0
    action: Literal["respond", "drop", "reset_mid"] = "respond"
    after: bool = False
    headers: dict[str, str] = attrs.field(factory=dict)
    route: str | None = None
    hits: int = 0

    def __attrs_post_init__(self) -> None:
        # Checked once, here: ``times`` and ``hits`` change as the fault is used.
        if self.route is not None:
            if self.path is not None:
                raise ValidationError("route", "give a path glob or a route name, not both")
            if not isinstance(self.route, str) or not self.route:
                raise ValidationError(
                    "route", "must be a route name ('shiplemon.tracking.get'; see route_names)"
                )
        elif not isinstance(self.path, str) or not self.path:
            raise ValidationError(
                "path", "must be a non-empty path glob ('/shiplemon/*'), or give route="
            )
        if self.method is not None:
            if not isinstance(self.method, str) or not self.method.isalpha():
                raise ValidationError("method", "must be an HTTP method ('GET') or None")
            self.method = self.method.upper()
        if self.times is not None and (
            isinstance(self.times, bool) or not isinstance(self.times, int) or self.times < 1
        ):
            raise ValidationError("times", "must be an integer >= 1, or None (until cleared)")
        if self.status is not None and (
            isinstance(self.status, bool)
            or not isinstance(self.status, int)
            or not 100 <= self.status <= 599
        ):
            raise ValidationError("status", "must be an HTTP status from 100 to 599, or None")
        if self.body is not None and not isinstance(self.body, bytes):
            raise ValidationError("body", "must be bytes or None")
        if not header_text(self.content_type, "content_type"):
            raise ValidationError("content_type", "must not be empty")
        if self.retry_after is not None:
            header_text(self.retry_after, "retry_after")
        self.delay = check_seconds(self.delay, "delay")
        if self.action not in FAULT_ACTIONS:
            raise ValidationError("action", f"must be one of {', '.join(FAULT_ACTIONS)}")
        if not isinstance(self.after, bool):
            raise ValidationError("after", "must be True or False")
        if not isinstance(self.headers, dict):
            raise ValidationError("headers", "must be a dict of header name to value, or None")
        for name, value in self.headers.items():
            if not isinstance(name, str) or not name or not name.isprintable() or ":" in name:
                raise ValidationError("headers", "names must be header names")
            header_text(value, "headers")

    def matches(self, method: str, path: str, route: str = "") -> bool:
        """Whether a call (its method, path and the name of the route it reached) is hit."""
        if self.method is not None and self.method != method:
            return False
        if self.route is not None:
            return self.route == route
        return fnmatch.fnmatchcase(path, self.path or "")

    def to_json(self) -> dict[str, Any]:
        """The fault as the admin endpoint lists it (the body as text)."""
        return {
            "path": self.path,
            "route": self.route,
            "method": self.method,
            "times": self.times,
            "status": self.status,
            "body": self.body.decode("utf-8", "replace") if self.body is not None else None,
            "content_type": self.content_type,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "action": self.action,
            "after": self.after,
            "headers": dict(self.headers),
            "hits": self.hits,
        }


@attrs.frozen
class RecordedCall:
    """One call the sandbox answered (or dropped). :meth:`SandboxServer.calls` builds them
    afresh, each time, from the compact records the server keeps."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    status: int | None
    route: str
    at: float

    def json(self) -> Any:
        """The request body decoded as JSON."""
        return json.loads(self.body)


class _RouteStats:
    __slots__ = ("calls", "in_flight", "max_in_flight")

    def __init__(self) -> None:
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0


def _described(routes: list[Any]) -> str:
    return ", ".join(f"{route.name} ({route.method} {route.path})" for route in routes)


class SandboxServer:
    """The threaded HTTP server under :class:`~shiptrack_sdk.sandbox.Sandbox`.

    Args:
        host: Address to listen on.
        port: Port; ``0`` picks a free one.
        latency: Seconds every call waits before it is handled.
        record_limit: How many calls are kept (the newest); ``0`` keeps none.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        record_limit: int = DEFAULT_RECORD_LIMIT,
    ) -> None:
        self.host = check_host(host)
        self.port = check_port(port)
        self._latency = check_seconds(latency, "latency")
        if isinstance(record_limit, bool) or not isinstance(record_limit, int) or record_limit < 0:
            raise ValidationError("record_limit", "must be an integer >= 0")
        self.router = Router()
        self.faults: list[Fault] = []
        self.record_limit = record_limit
        # A ring of the newest calls, each marshalled: bytes are not tracked by the garbage
        # collector, so thousands of kept calls neither trigger nor lengthen its full passes
        # (tens of milliseconds each, stalling every call in flight), and take half the room.
        self._calls: deque[bytes] = deque(maxlen=record_limit)
        self._seen = 0
        self._stats: dict[str, _RouteStats] = {}
        self._lock = threading.Lock()
        self._active = 0
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        #: Answers calls under ``/_sandbox/`` (neither recorded nor faulted), if set.
        self.admin: Callable[[SandboxRequest], SandboxResponse] | None = None

    @property
    def latency(self) -> float:
        """Seconds every call waits before it is handled (a network's round trip)."""
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._latency = check_seconds(seconds, "latency")

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._httpd is not None:
            return
        handler = type("_Handler", (RequestHandler,), {"sandbox": self})
        httpd = HTTPServer((self.host, self.port), handler)
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"shiptrack-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- calls being answered ----------------------------------------------------------------

    # Counted under the plain lock, and waited for by polling: every call passes here twice,
    # a reset waits once in a while, and a condition variable would cost every call more.

    def call_started(self) -> None:
        with self._lock:
            self._active += 1

    def call_finished(self) -> None:
        with self._lock:
            self._active -= 1

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no call is being answered; ``False`` if ``timeout`` ran out first."""
        deadline = time.monotonic() + check_seconds(timeout, "timeout")
        while self._active:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.002)
        return True

    # -- faults ------------------------------------------------------------------------------

    def add_fault(self, fault: Fault, *, unrouted: bool = False) -> Fault:
        """Add ``fault`` once :meth:`check_fault` accepts it."""
        if not isinstance(fault, Fault):
            raise ValidationError("fault", "must be a Fault")
        self.check_fault(fault, unrouted=unrouted)
        with self._lock:
            self.faults.append(fault)
        return fault

    def check_fault(self, fault: Fault, *, unrouted: bool = False) -> None:
        """Refuse a fault that could never fire: a route name no route has, a glob no route's
        paths match, a method none of those routes takes. ``unrouted`` lets a glob name a path
        no route serves (a fault can answer it: an old address that now redirects, say)."""
        if not isinstance(unrouted, bool):
            raise ValidationError("unrouted", "must be True or False")
        if fault.route is not None:
            route = self.router.named(fault.route)
            if route is None:
                nearest = _described(self.router.nearest(fault.route))
                raise ValidationError(
                    "route", f"no route is called {fault.route!r} (nearest: {nearest})"
                )
            if fault.method is not None and fault.method != route.method:
                raise ValidationError(
                    "method", f"route {fault.route!r} takes {route.method}, not {fault.method}"
                )
            return
        if unrouted:
            return
        glob = fault.path or ""
        matching = self.router.matching(glob)
        if not matching:
            raise ValidationError(
                "path",
                f"{glob!r} matches no route, so the fault would never fire (nearest: "
                f"{_described(self.router.nearest(glob))}; every name: Sandbox.route_names; "
                "unrouted=True for a path no route serves)",
            )
        if fault.method is not None and all(r.method != fault.method for r in matching):
            methods = ", ".join(sorted({r.method for r in matching}))
            raise ValidationError(
                "method", f"no route {glob!r} matches takes {fault.method} (they take {methods})"
            )

    def take_fault(self, method: str, path: str, route: str = "", *, after: bool) -> Fault | None:
        """The fault a call gets, counted as used; ``None`` for most calls."""
        if not self.faults:  # the usual case, read without the lock
            return None
        with self._lock:
            for fault in self.faults:
                if fault.after == after and fault.matches(method, path, route):
                    fault.hits += 1
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def clear_faults(self) -> int:
        """Remove every pending fault; how many there were."""
        with self._lock:
            count = len(self.faults)
            self.faults.clear()
        return count

    # -- records and stats -------------------------------------------------------------------

    def record(self, request: SandboxRequest, status: int | None) -> None:
        """Record a call answered with ``status`` (``None``: dropped)."""
        if not self.record_limit:
            with self._lock:
                self._seen += 1
            return
        call = marshal.dumps(
            (
                request.method,
                request.path,
                request.query,
                dict(request.headers),
                request.body,
                status,
                request.route,
                time.time(),
            )
        )
        with self._lock:
            self._seen += 1
            self._calls.append(call)

    @property
    def calls_seen(self) -> int:
        """Calls recorded since the last :meth:`clear_calls`, those forgotten since included."""
        return self._seen

    def calls(self, path: str | None = None, method: str | None = None) -> list[RecordedCall]:
        if path is not None and not isinstance(path, str):
            raise ValidationError("path", "must be a path glob or None")
        if method is not None and not isinstance(method, str):
            raise ValidationError("method", "must be an HTTP method or None")
        with self._lock:
            kept = list(self._calls)
        # Bytes this server marshalled itself (record), never read from elsewhere.
        calls = [RecordedCall(*marshal.loads(call)) for call in kept]  # noqa: S302
        return [
            c
            for c in calls
            if (path is None or fnmatch.fnmatchcase(c.path, path))
            and (method is None or c.method == method)
        ]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._seen = 0
            self._stats.clear()

    def enter(self, route: str) -> None:
        with self._lock:
            stats = self._stats.get(route)
            if stats is None:
                stats = self._stats[route] = _RouteStats()
            stats.calls += 1
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)

    def leave(self, route: str) -> None:
        with self._lock:
            self._stats[route].in_flight -= 1

    def stats(self, route: str) -> tuple[int, int]:
        """``(calls, max_in_flight)`` of the route named ``route``."""
        if not isinstance(route, str):
            raise ValidationError("route", "must be a route name")
        with self._lock:
            stats = self._stats.get(route)
            return (stats.calls, stats.max_in_flight) if stats else (0, 0)

    # -- dispatch ----------------------------------------------------------------------------

    def dispatch(
        self,
        request: SandboxRequest,
        resolved: tuple[Any, dict[str, str], bool] | None = None,
    ) -> SandboxResponse:
        """The route's answer to ``request`` (``resolved``: what :meth:`Router.resolve` said,
        when the caller already asked)."""
        if resolved is None:
            resolved = self.router.resolve(request.method, request.path)
        route, params, other_method = resolved
        if route is None:
            if other_method:
                return json_response(405, {"message": f"method {request.method} not allowed"})
            return json_response(404, {"message": f"no route for {request.path}"})
        request.route = route.name
        self.enter(route.name)
        try:
            # The latency is spent inside the counted window, so overlapping calls show in
            # max_in_flight as they would on a real server.
            if self._latency:
                time.sleep(self._latency)
            response: SandboxResponse = route.handler(request, **params)
            return response
        finally:
            self.leave(route.name)
