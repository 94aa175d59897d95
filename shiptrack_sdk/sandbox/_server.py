"""The embedded sandbox's HTTP server: recording, fault injection, dispatch.

Provider-neutral: each provider package contributes a :class:`SandboxApp` with its routes and
data; this module only serves them. What an app is built from (requests, answers, routes,
test credentials) is in :mod:`._routing`, OAuth2 tokens in :mod:`._oauth`; both are
re-exported here, where provider apps import them from.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import socket
import threading
import time
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import attrs
from requests.structures import CaseInsensitiveDict

from ..errors import ValidationError
from ._oauth import TokenIssuer, credentials_match, oauth_token_routes
from ._routing import (
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
)

__all__ = [
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
]

#: What a fault can do to a call.
FAULT_ACTIONS = ("respond", "drop", "reset_mid")


@attrs.define
class Fault:
    """An injected fault: what the next matching calls get instead of the real answer.

    Attributes:
        path: A glob on the request path (``"/shiplemon/*"``).
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
    """

    path: str
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
    hits: int = 0

    def __attrs_post_init__(self) -> None:
        # Checked once, here: ``times`` and ``hits`` change as the fault is used.
        if not isinstance(self.path, str) or not self.path:
            raise ValidationError("path", "must be a non-empty path glob ('/shiplemon/*')")
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

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and fnmatch.fnmatchcase(
            path, self.path
        )


@attrs.frozen
class RecordedCall:
    """One call the sandbox answered (or dropped)."""

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


class _HTTPServer(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: more clients connecting at once (a fan-out of
    # 8 or 16 threads) would see their connection attempts dropped and retried a second
    # later, a stall no real server adds.
    request_queue_size = 128


class SandboxServer:
    """The threaded HTTP server under :class:`~shiptrack_sdk.sandbox.Sandbox`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        record_limit: int = 100_000,
    ) -> None:
        self.host = check_host(host)
        self.port = check_port(port)
        self._latency = check_seconds(latency, "latency")
        if isinstance(record_limit, bool) or not isinstance(record_limit, int) or record_limit < 0:
            raise ValidationError("record_limit", "must be an integer >= 0")
        self.router = Router()
        self.faults: list[Fault] = []
        self.record_limit = record_limit
        self._calls: list[RecordedCall] = []
        self._stats: dict[str, _RouteStats] = {}
        self._lock = threading.Lock()
        self._active = 0
        self._idle = threading.Condition()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

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
        handler = type("_Handler", (_RequestHandler,), {"sandbox": self})
        httpd = _HTTPServer((self.host, self.port), handler)
        httpd.daemon_threads = True
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

    def call_started(self) -> None:
        with self._idle:
            self._active += 1

    def call_finished(self) -> None:
        with self._idle:
            self._active -= 1
            if not self._active:
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no call is being answered; ``False`` if ``timeout`` ran out first."""
        timeout = check_seconds(timeout, "timeout")
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    # -- faults, records, stats --------------------------------------------------------------

    def add_fault(self, fault: Fault) -> Fault:
        if not isinstance(fault, Fault):
            raise ValidationError("fault", "must be a Fault")
        with self._lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str, *, after: bool) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.after == after and fault.matches(method, path):
                    fault.hits += 1
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def record(self, call: RecordedCall) -> None:
        with self._lock:
            if len(self._calls) < self.record_limit:
                self._calls.append(call)

    def calls(self, path: str | None = None, method: str | None = None) -> list[RecordedCall]:
        if path is not None and not isinstance(path, str):
            raise ValidationError("path", "must be a path glob or None")
        if method is not None and not isinstance(method, str):
            raise ValidationError("method", "must be an HTTP method or None")
        with self._lock:
            calls = list(self._calls)
        return [
            c
            for c in calls
            if (path is None or fnmatch.fnmatchcase(c.path, path))
            and (method is None or c.method == method)
        ]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()
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

    def dispatch(self, request: SandboxRequest) -> SandboxResponse:
        route, params, other_method = self.router.resolve(request.method, request.path)
        if route is None:
            if other_method:
                return json_response(405, {"message": f"method {request.method} not allowed"})
            return json_response(404, {"message": f"no route for {request.path}"})
        request.route = route.name
        self.enter(route.name)
        try:
            # The latency is spent inside the counted window, so overlapping calls show in
            # max_in_flight as they would on a real server.
            if self.latency:
                time.sleep(self.latency)
            return route.handler(request, **params)
        finally:
            self.leave(route.name)


class _RequestHandler(BaseHTTPRequestHandler):
    sandbox: SandboxServer
    protocol_version = "HTTP/1.1"
    # Headers and body are separate writes: without TCP_NODELAY, Nagle's algorithm and
    # delayed ACKs would add ~40 ms to every keep-alive call.
    disable_nagle_algorithm = True
    server_version = "shiptrack-sandbox"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        return

    def handle(self) -> None:
        # A client that gave up (a read timeout under test) hangs up before the answer is
        # written: that is what the fault was for, not a server error worth a traceback.
        with contextlib.suppress(ConnectionError):
            super().handle()

    def _handle(self) -> None:
        self.sandbox.call_started()
        try:
            self._answer()
        finally:
            self.sandbox.call_finished()

    def _answer(self) -> None:
        server = self.sandbox
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = SandboxRequest(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=CaseInsensitiveDict(self.headers.items()),
            body=body,
        )
        fault = server.take_fault(request.method, request.path, after=False)
        response: SandboxResponse | None = None
        if fault is not None:
            response = self._apply(fault, request, None)
            if response is None:
                return
        else:
            try:
                response = server.dispatch(request)
            except Exception as exc:  # a sandbox bug must answer, not hang the client
                response = json_response(
                    500, {"message": f"sandbox error: {type(exc).__name__}: {exc}"}
                )
            after = server.take_fault(request.method, request.path, after=True)
            if after is not None:
                response = self._apply(after, request, response)
                if response is None:
                    return
        self._record(request, response.status)
        self._send(response)

    def _apply(
        self, fault: Fault, request: SandboxRequest, real: SandboxResponse | None
    ) -> SandboxResponse | None:
        if fault.delay:
            time.sleep(fault.delay)
        if real is None and self.sandbox.latency and (fault.action != "respond" or fault.status):
            time.sleep(self.sandbox.latency)
        if fault.action == "drop":
            self._record(request, None)
            self._abort()
            return None
        if fault.status is None:
            response = real if real is not None else self.sandbox.dispatch(request)
        else:
            body = (
                fault.body
                if fault.body is not None
                else json.dumps({"message": f"injected fault: HTTP {fault.status}"}).encode()
            )
            response = SandboxResponse(fault.status, body, {"Content-Type": fault.content_type})
        if fault.body is not None and fault.status is None:
            response = SandboxResponse(
                response.status, fault.body, {"Content-Type": fault.content_type}
            )
        if fault.retry_after is not None:
            response.headers["Retry-After"] = fault.retry_after
        response.headers.update(fault.headers)
        if fault.action == "reset_mid":
            self._record(request, response.status)
            self._send_head(response, len(response.body) or 2)
            self.wfile.write(response.body[: max(1, len(response.body) // 2)])
            self.wfile.flush()
            self._abort()
            return None
        return response

    def _abort(self) -> None:
        # SO_LINGER 0 makes close() send a RST: the client sees a reset, not a clean EOF.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _record(self, request: SandboxRequest, status: int | None) -> None:
        self.sandbox.record(
            RecordedCall(
                method=request.method,
                path=request.path,
                query=request.query,
                headers=dict(request.headers),
                body=request.body,
                status=status,
                route=request.route,
                at=time.time(),
            )
        )

    def _send_head(self, response: SandboxResponse, length: int) -> None:
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = "Status"
        self.send_response(response.status, phrase)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, response: SandboxResponse) -> None:
        self._send_head(response, len(response.body))
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle
