"""The sandbox's HTTP layer: reading a request, answering it in one write, injecting faults.

Built on :mod:`http.server`, with two parts of it replaced on the request path, where a test
suite or a service under load spends its time:

* The request's headers are read straight into the case-insensitive mapping the routes see.
  :mod:`http.server` hands them to :mod:`email`'s parser, which does MIME work a request
  never needs and was, with the answer's two writes, most of what set the sandbox below a
  plain ``ThreadingHTTPServer``.
* An answer is one ``send``: status line, headers and body together. Written separately, as
  :mod:`http.server` does, each answer costs two system calls and two packets.

Everything else is :mod:`http.server`'s: keep-alive, ``Expect: 100-continue``, HTTP/0.9, the
threads (one per connection).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import socket
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict

from ._routing import ADMIN_PREFIX, SandboxRequest, SandboxResponse, json_response

if TYPE_CHECKING:
    from ._server import Fault, SandboxServer

__all__ = ["HTTPServer", "RequestHandler"]

# What http.client allows a request's header block: longer lines or more headers are refused.
_MAX_LINE = 65536
_MAX_HEADERS = 100
_END_OF_HEADERS = (b"\r\n", b"\n", b"")
_PHRASES = {status.value: status.phrase for status in HTTPStatus}
# SO_LINGER 0: close() sends a RST, so the client sees a reset rather than a clean EOF.
_LINGER_RESET = b"\x01\x00\x00\x00\x00\x00\x00\x00"


class HTTPServer(ThreadingHTTPServer):
    """The listening server: a thread per connection, as :class:`ThreadingHTTPServer`."""

    # socketserver listens with a backlog of 5: more clients connecting at once (a fan-out of
    # 8 or 16 threads) would see their connection attempts dropped and retried a second
    # later, a stall no real server adds.
    request_queue_size = 128
    daemon_threads = True


class _Date:
    """The ``Date`` header's value, formatted once a second rather than once an answer."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def __call__(self) -> str:
        now = int(time.time())
        if now != self._second:
            # Two threads may both format it at a second's turn: the same text, harmlessly.
            self._text = email.utils.formatdate(now, usegmt=True)
            self._second = now
        return self._text


_date = _Date()


class RequestHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests for a :class:`~._server.SandboxServer`."""

    sandbox: SandboxServer
    protocol_version = "HTTP/1.1"
    # Small writes on a kept-alive connection: without TCP_NODELAY, Nagle's algorithm and
    # delayed ACKs would add ~40 ms to some answers.
    disable_nagle_algorithm = True
    server_version = "shiptrack-sandbox"
    sys_version = ""
    #: The request's headers (the routes' ``request.headers``).
    request_headers: CaseInsensitiveDict[str]
    raw_requestline: bytes  # set by BaseHTTPRequestHandler.handle_one_request

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        return

    def handle(self) -> None:
        # A client that gave up (a read timeout under test) hangs up before the answer is
        # written: that is what the fault was for, not a server error worth a traceback.
        with contextlib.suppress(ConnectionError):
            super().handle()

    # -- reading a request -------------------------------------------------------------------

    def parse_request(self) -> bool:
        """:meth:`BaseHTTPRequestHandler.parse_request`, with the headers read by
        :meth:`_read_headers` (no ``self.headers``: ``self.request_headers`` instead)."""
        self.command = None  # type: ignore[assignment]  # set in case of an error below
        self.request_version = version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if not words:
            return False
        if len(words) >= 3:
            version = words[-1]
            try:
                if not version.startswith("HTTP/"):
                    raise ValueError
                major, minor = version.split("/", 1)[1].split(".")
                number = int(major), int(minor)
            except ValueError:
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request version ({version!r})")
                return False
            if number >= (1, 1):
                self.close_connection = False
            if number >= (2, 0):
                self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED)
                return False
            self.request_version = version
        if not 2 <= len(words) <= 3:
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({requestline!r})")
            return False
        command, path = words[:2]
        if len(words) == 2:
            self.close_connection = True
            if command != "GET":
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad HTTP/0.9 request type ({command!r})")
                return False
        self.command, self.path = command, path
        if self.path.startswith("//"):  # as http.server: never read as a network location
            self.path = "/" + self.path.lstrip("/")
        problem = self._read_headers()
        if problem is not None:
            self.send_error(*problem)
            return False
        connection = self.request_headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if (
            self.request_headers.get("Expect", "").lower() == "100-continue"
            and self.request_version >= "HTTP/1.1"
        ):
            return self.handle_expect_100()
        return True

    def _read_headers(self) -> tuple[HTTPStatus, str] | None:
        """Read the header block into :attr:`request_headers`; what to refuse it with, if
        anything. A repeated header keeps its last value; a folded line continues the one
        before it."""
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        self.request_headers = headers
        name = ""
        for _ in range(_MAX_HEADERS + 1):
            line = self.rfile.readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                return HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long"
            if line in _END_OF_HEADERS:
                return None
            text = line.decode("iso-8859-1").rstrip("\r\n")
            if text[:1] in (" ", "\t"):
                if not name:
                    return HTTPStatus.BAD_REQUEST, "Bad header continuation"
                headers[name] = f"{headers[name]} {text.strip()}"
                continue
            name, colon, value = text.partition(":")
            if not colon or not name or name != name.strip():
                return HTTPStatus.BAD_REQUEST, "Bad header line"
            headers[name] = value.strip()
        return HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers"

    def _request(self) -> SandboxRequest:
        target = self.path
        if target.startswith("/"):
            target = target.partition("#")[0]
            path, _, query = target.partition("?")
        else:  # an absolute URL as the request target
            split = urlsplit(target)
            path, query = split.path, split.query
        length = int(self.request_headers.get("Content-Length") or 0)
        return SandboxRequest(
            method=self.command,
            path=path,
            query=parse_qs(query, keep_blank_values=True) if query else {},
            headers=self.request_headers,
            body=self.rfile.read(length) if length > 0 else b"",
        )

    # -- answering ---------------------------------------------------------------------------

    def _handle(self) -> None:
        server = self.sandbox
        request = self._request()
        if server.admin is not None and (
            request.path.startswith(ADMIN_PREFIX) or request.path == ADMIN_PREFIX.rstrip("/")
        ):
            # Neither recorded, faulted, delayed nor waited for by a reset: it is how a test
            # drives the sandbox, not a call of the code under test.
            self._send(server.admin(request))
            return
        server.call_started()
        try:
            self._answer(request)
        finally:
            server.call_finished()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    def _answer(self, request: SandboxRequest) -> None:
        server = self.sandbox
        method, path = request.method, request.path
        resolved = server.router.resolve(method, path)
        if resolved[0] is not None:
            request.route = resolved[0].name
        response: SandboxResponse | None
        fault = server.take_fault(method, path, request.route, after=False)
        if fault is not None:
            response = self._apply(fault, request, None)
            if response is None:
                return
        else:
            try:
                response = server.dispatch(request, resolved)
            except Exception as exc:  # a sandbox bug must answer, not hang the client
                response = json_response(
                    500, {"message": f"sandbox error: {type(exc).__name__}: {exc}"}
                )
            after = server.take_fault(method, path, request.route, after=True)
            if after is not None:
                response = self._apply(after, request, response)
                if response is None:
                    return
        server.record(request, response.status)
        self._send(response)

    def _apply(
        self, fault: Fault, request: SandboxRequest, real: SandboxResponse | None
    ) -> SandboxResponse | None:
        server = self.sandbox
        if fault.delay:
            time.sleep(fault.delay)
        if real is None and server.latency and (fault.action != "respond" or fault.status):
            time.sleep(server.latency)
        if fault.action == "drop":
            server.record(request, None)
            self._abort()
            return None
        if fault.status is None:
            response = real if real is not None else server.dispatch(request)
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
            server.record(request, response.status)
            half = response.body[: max(1, len(response.body) // 2)]
            self.wfile.write(self._head(response, len(response.body) or 2) + half)
            self._abort()
            return None
        return response

    def _abort(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _head(self, response: SandboxResponse, length: int) -> bytes:
        """The status line and headers of ``response``, as :meth:`send_response` and
        :meth:`send_header` would write them."""
        if self.request_version == "HTTP/0.9":
            return b""
        status = response.status
        lines = [
            f"{self.protocol_version} {status} {_PHRASES.get(status, 'Status')}\r\n"
            f"Server: {self.server_version}\r\nDate: {_date()}\r\n"
        ]
        for name, value in response.headers.items():
            lines.append(f"{name}: {value}\r\n")
            if name.lower() == "connection":
                if value.lower() == "close":
                    self.close_connection = True
                elif value.lower() == "keep-alive":
                    self.close_connection = False
        lines.append(f"Content-Length: {length}\r\n\r\n")
        return "".join(lines).encode("latin-1", "strict")

    def _send(self, response: SandboxResponse) -> None:
        head = self._head(response, len(response.body))
        self.wfile.write(head if self.command == "HEAD" else head + response.body)
