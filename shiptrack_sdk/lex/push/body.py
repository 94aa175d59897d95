"""Reading a request body from a WSGI server against a deadline and a minimum rate.

A server such as the standard library's ``wsgiref`` or Werkzeug's hands the application
the file of its connection's socket: reading it blocks for as long as the client takes. The
reader here finds that socket and gives each read the time left, so a stalled client is
cut off at the deadline, and a dripping one as soon as it falls below the minimum rate (after
a grace second). A server that reads the body itself before calling the application
(waitress) hands over a buffer: reading it is immediate, and the server's own settings bound
slow clients. With any other stream, the deadline and the rate are checked between reads.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

from .errors import BodyTimeoutError

__all__ = ["DEFAULT_BODY_DEADLINE", "DEFAULT_MIN_BODY_RATE", "RATE_GRACE", "drain", "read_body"]

#: Seconds a whole body may take to arrive.
DEFAULT_BODY_DEADLINE = 10.0
#: Bytes per second a body must arrive at, on average, once its first second has passed.
DEFAULT_MIN_BODY_RATE = 1024
#: Seconds before the minimum rate applies (a connection's slow start, a short pause).
RATE_GRACE = 1.0

_CHUNK = 64 * 1024
# A refused body is drained only while it keeps coming: at most this long between two reads,
# and this long in all. The sender then sees the answer rather than a reset connection.
_DRAIN_IDLE = 0.1
_DRAIN_TOTAL = 1.0


def read_body(
    stream: Any,
    count: int,
    *,
    deadline: float = DEFAULT_BODY_DEADLINE,
    min_rate: int = DEFAULT_MIN_BODY_RATE,
) -> bytes:
    """Up to ``count`` bytes of ``stream`` (fewer when it ends first).

    Raises:
        BodyTimeoutError: the bytes did not come within ``deadline`` seconds, or came slower
            than ``min_rate`` bytes per second after the first :data:`RATE_GRACE` second
            (``0``: no minimum rate).
        OSError: the connection failed while the body was read.
    """
    if stream is None or count <= 0:
        return b""
    read = _reader(stream)
    started = time.monotonic()
    chunks: list[bytes] = []
    received = 0
    with _timeouts(socket_of(stream)) as give:
        while received < count:
            now = time.monotonic()
            due = _due(started, received, deadline, min_rate)
            if now >= due:
                raise _late(received, now - started, deadline, min_rate)
            give(due - now)
            try:
                chunk = read(min(count - received, _CHUNK))
            except TimeoutError:
                raise _late(received, time.monotonic() - started, deadline, min_rate) from None
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
    return b"".join(chunks)


def drain(stream: Any, count: int) -> int:
    """Read and discard up to ``count`` bytes of a refused body, only what keeps coming
    without a pause (and only from a socket whose reads can be bounded). Returns the bytes
    discarded."""
    sock = socket_of(stream)
    if sock is None or count <= 0:
        return 0  # a buffer the server filled needs no draining; a stream of unknown kind
        # might block, and the server deals with a body left unread
    read = _reader(stream)
    started = time.monotonic()
    discarded = 0
    with _timeouts(sock) as give:
        while discarded < count and time.monotonic() - started < _DRAIN_TOTAL:
            give(_DRAIN_IDLE)
            try:
                chunk = read(min(count - discarded, _CHUNK))
            except OSError:  # TimeoutError among them: nothing more came
                break
            if not chunk:
                break
            discarded += len(chunk)
    return discarded


def socket_of(stream: Any) -> socket.socket | None:
    """The socket under a server's body stream, when the stream is the buffered file of a
    socket (``socket.makefile``: wsgiref, Werkzeug), else ``None``."""
    # socket.SocketIO keeps its socket as _sock, with no public way to it; the file's
    # buffer in front (raw) is public.
    sock = getattr(getattr(stream, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _reader(stream: Any) -> Callable[[int], bytes]:
    # read1 returns what one read of the socket gave, so a dripping client cannot keep a
    # single read(n) busy past the deadline, one byte at a time.
    read1 = getattr(stream, "read1", None)
    read: Callable[[int], bytes] = read1 if callable(read1) else stream.read
    return read


def _due(started: float, received: int, deadline: float, min_rate: int) -> float:
    """When the next bytes are due: at the deadline, or when the rate so far would fall
    below ``min_rate`` (counted from the end of the grace period)."""
    if min_rate <= 0:
        return started + deadline
    return started + min(deadline, RATE_GRACE + received / min_rate)


def _late(received: int, elapsed: float, deadline: float, min_rate: int) -> BodyTimeoutError:
    if elapsed >= deadline:
        return BodyTimeoutError(f"the body did not arrive within {deadline:g} s")
    return BodyTimeoutError(
        f"the body came too slowly ({received} bytes in {elapsed:.1f} s; at least "
        f"{min_rate} bytes/s after the first {RATE_GRACE:g} s)"
    )


@contextlib.contextmanager
def _timeouts(sock: socket.socket | None) -> Iterator[Callable[[float], None]]:
    """A function giving the socket's next reads ``seconds`` at most; the socket's own
    timeout is restored after."""
    if sock is None:
        yield lambda seconds: None
        return
    try:
        saved = sock.gettimeout()
    except OSError:
        yield lambda seconds: None
        return

    def give(seconds: float) -> None:
        sock.settimeout(max(seconds, 0.001))

    try:
        yield give
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(saved)
