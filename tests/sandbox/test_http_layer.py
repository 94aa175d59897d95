"""The sandbox's HTTP layer reads requests and writes answers itself (for speed): what
``http.server`` did before still holds, spoken to over raw sockets."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import BinaryIO

import pytest

from shiptrack_sdk.sandbox import Sandbox

PATH = "/shiplemon/public/v1/shipments/6650a1f2c3d4e5f601234567/tracking"
KEY = "x-api-key: sandbox-shiplemon-key\r\n"


class Wire:
    """A raw connection to the sandbox: bytes out, answers (or raw bytes) in."""

    def __init__(self, sb: Sandbox) -> None:
        port = int(sb.url.rsplit(":", 1)[1])
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self._reader: BinaryIO = self.socket.makefile("rb")

    def sendall(self, data: bytes) -> None:
        self.socket.sendall(data)

    def recv(self, size: int) -> bytes:
        """Raw bytes, for an answer :meth:`answer` could not read (only before it is used)."""
        return self.socket.recv(size)

    def answer(self) -> tuple[str, dict[str, str], bytes]:
        """The next answer: its status line, headers (lower-case names) and body."""
        status = self._reader.readline().decode("latin-1").rstrip("\r\n")
        headers: dict[str, str] = {}
        while (line := self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.lower()] = value.strip()
        return status, headers, self._reader.read(int(headers.get("content-length", "0")))

    def close(self) -> None:
        self._reader.close()
        self.socket.close()


@pytest.fixture
def connect(sb: Sandbox) -> Iterator[Wire]:
    wire = Wire(sb)
    yield wire
    wire.close()


def test_two_requests_on_one_kept_alive_connection(connect: Wire) -> None:
    request = f"GET {PATH} HTTP/1.1\r\nHost: x\r\n{KEY}\r\n".encode()
    connect.sendall(request + request)  # pipelined
    for _ in range(2):
        status, headers, body = connect.answer()
        assert status == "HTTP/1.1 200 OK"
        assert headers["content-type"] == "application/json; charset=utf-8"
        assert headers["server"] == "shiptrack-sandbox"
        assert headers["date"].endswith(" GMT")
        assert json.loads(body)["data"]["tracking_status"] == "TRANSIT"


def test_connection_close_and_http_1_0_close_after_the_answer(sb: Sandbox) -> None:
    for request in (
        f"GET {PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{KEY}\r\n",
        f"GET {PATH} HTTP/1.0\r\n{KEY}\r\n",
    ):
        wire = Wire(sb)
        try:
            wire.sendall(request.encode())
            status, _, _ = wire.answer()
            assert status.endswith("200 OK")
            assert wire.answer()[0] == ""  # closed: nothing more
        finally:
            wire.close()


def test_header_names_are_case_insensitive_and_folded_lines_continue(
    sb: Sandbox, connect: Wire
) -> None:
    connect.sendall(
        f"GET {PATH}?lang=el HTTP/1.1\r\nHost: x\r\nX-API-KEY: sandbox-shiplemon-key\r\n"
        "X-Note: first\r\n  second\r\n\r\n".encode()
    )
    status, _, _ = connect.answer()
    assert status.endswith("200 OK")
    (call,) = sb.calls()
    assert call.headers["X-Note"] == "first second"
    assert call.query == {"lang": ["el"]}


def test_a_body_is_read_by_its_content_length(sb: Sandbox, connect: Wire) -> None:
    body = b'{"grant_type": "x"}'
    connect.sendall(
        b"POST /oauth/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    status, _, _ = connect.answer()
    assert status == "HTTP/1.1 401 Unauthorized"
    assert sb.calls()[0].body == body


def test_expect_100_continue(connect: Wire) -> None:
    body = b"{}"
    connect.sendall(
        b"POST /oauth/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    )
    assert connect.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n")
    connect.sendall(body)
    status, _, _ = connect.answer()
    assert status == "HTTP/1.1 401 Unauthorized"


@pytest.mark.parametrize(
    ("head", "status"),
    [
        ("GET / HTTP/1.1\r\nNo colon here\r\n\r\n", "400"),
        ("GET / HTTP/1.1\r\n continued first\r\n\r\n", "400"),
        ("GET / HTTP/1.1\r\nName : spaced\r\n\r\n", "400"),
        ("GET / HTTP/1.1\r\n" + "X-A: 1\r\n" * 101 + "\r\n", "431"),
        ("GET / HTTP/1.1\r\nX-Long: " + "a" * 70_000 + "\r\n\r\n", "431"),
        ("GET / HTTP/2.0\r\n\r\n", "505"),
        ("GET / HTTX/1.1\r\n\r\n", "400"),
        ("PUT /\r\n\r\n", "400"),
    ],
)
def test_malformed_requests_are_refused(sb: Sandbox, connect: Wire, head: str, status: str) -> None:
    connect.sendall(head.encode())
    answer = connect.recv(65536).decode("latin-1")
    # Refused as http.server refuses it: a status line, or (before the version could be read,
    # as HTTP/0.9 has none) only the error page.
    assert answer.startswith(f"HTTP/1.1 {status} ") or f"Error code: {status}" in answer
    assert sb.calls() == []


def test_a_fault_answer_and_a_dropped_call(sb: Sandbox, connect: Wire) -> None:
    sb.fault(PATH, status=503, retry_after=2, headers={"X-Fault": "yes"})
    connect.sendall(f"GET {PATH} HTTP/1.1\r\nHost: x\r\n{KEY}\r\n".encode())
    status, headers, body = connect.answer()
    assert status == "HTTP/1.1 503 Service Unavailable"
    assert (headers["retry-after"], headers["x-fault"]) == ("2", "yes")
    assert json.loads(body) == {"message": "injected fault: HTTP 503"}
    sb.fault(PATH, action="drop")
    connect.sendall(f"GET {PATH} HTTP/1.1\r\nHost: x\r\n{KEY}\r\n".encode())
    try:
        dropped = connect.recv(65536)
    except ConnectionResetError:
        dropped = b""
    assert dropped == b""
    assert [c.status for c in sb.calls()] == [503, None]
