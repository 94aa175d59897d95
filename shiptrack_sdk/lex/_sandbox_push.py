"""Hostile pushes, for testing a push receiver as LEX and the network may treat it.

* :func:`push_copies` delivers the same messages several times at once, as LEX does when it
  delivers again before the first copy was answered (its timeout expired, a proxy retried).
  A receiver with a de-duplication store must hand each message to its handler once.
* :func:`drip` is a client that sends its body a few bytes at a time, or stops sending
  altogether, to show what a slow or stalled client costs the other deliveries.

Both are plain functions over the sandbox's push simulator (``sandbox.apps["lex"].orders``)
and a raw socket; they never retry, and they report what the receiver answered.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import attrs

from ..errors import ValidationError
from ._sandbox_orders import OrdersPart, PushOutcome

__all__ = ["DripOutcome", "drip", "push_copies"]


def push_copies(
    orders: OrdersPart,
    url: str | Sequence[str],
    copies: int = 10,
    count: int = 10,
    *,
    start: int = 0,
    stagger: float = 0.0,
    timeout: float = 10.0,
    **options: Any,
) -> list[PushOutcome]:
    """Deliver the same messages ``copies`` times at once, and return every answer.

    The copies are sent from threads released together, the same body (and, with OAuth2,
    the same token) each time, as LEX delivering one message again before the first copy
    was answered.

    Args:
        orders: The sandbox's Order Execution part (``sandbox.apps["lex"].orders``).
        url: The receiver; or several (the copies go to each in turn), to reach several
            worker processes of one receiver.
        copies: How many times the delivery is sent.
        count: Messages in the delivery (``start`` to ``start + count``).
        start: Index of the first message.
        stagger: Seconds between the starts of two copies (0: all at once).
        timeout: Seconds each copy waits for its answer.
        **options: As :meth:`OrdersPart.push` (``auth``, ``cipher``, ``token``...).

    Returns:
        The answers, in the order the copies were started.
    """
    if not isinstance(orders, OrdersPart):
        raise ValidationError("orders", 'must be the sandbox\'s sandbox.apps["lex"].orders')
    urls = [url] if isinstance(url, str) else list(url)
    if not urls or not all(isinstance(u, str) for u in urls):
        raise ValidationError("url", "must be a URL or a non-empty list of URLs")
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
        raise ValidationError("copies", "must be an int of at least 1")
    if options.get("auth", "oauth2") in ("oauth2", "both") and options.get("token") is None:
        options["token"] = orders.issue_push_token()
    barrier = threading.Barrier(copies)
    answers: list[PushOutcome | None] = [None] * copies

    def send(index: int) -> None:
        # A copy that could not start with the others still goes.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout)
        if stagger:
            time.sleep(stagger * index)
        answers[index] = orders.push(
            urls[index % len(urls)], count, start=start, timeout=timeout, **options
        )

    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + stagger * copies + 5.0)
    return [a if a is not None else PushOutcome(None, error="no answer") for a in answers]


@attrs.frozen
class DripOutcome:
    """What a dripping client got.

    Attributes:
        status: The status the receiver answered, or ``None`` when it answered nothing.
        sent: Body bytes sent.
        elapsed: Seconds from the first byte sent to the answer (or to giving up).
        error: Why the exchange ended without an answer, if it did.
    """

    status: int | None
    sent: int
    elapsed: float
    error: str | None = None


def drip(
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    declared_length: int | None = None,
    chunk_size: int = 1,
    interval: float = 0.1,
    duration: float = 30.0,
    answer_timeout: float = 5.0,
    stop: threading.Event | None = None,
) -> DripOutcome:
    """``POST`` ``body`` to ``url``, ``chunk_size`` bytes every ``interval`` seconds.

    The client stops sending when the body is sent, when ``duration`` seconds have passed,
    when ``stop`` is set, or as soon as the receiver answers (it may refuse a slow body);
    then it waits up to ``answer_timeout`` seconds for the answer's status line.

    Args:
        url: An ``http://`` URL (the receiver under test).
        body: The body to send.
        headers: Extra request headers (``Authorization``...).
        declared_length: The ``Content-Length`` to declare (default ``len(body)``); more
            than is sent makes a client that stalls after its last byte.
        chunk_size: Bytes per send (0: send nothing after the headers).
        interval: Seconds between two sends.
        duration: Seconds to keep sending at most.
        answer_timeout: Seconds to wait for the answer once sending stopped.
        stop: Set it to make the client stop sending and close at once, without waiting
            for an answer.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValidationError("url", "must be an http:// URL")
    length = len(body) if declared_length is None else declared_length
    lines = [
        f"POST {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    started = time.monotonic()
    sent = 0
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=10.0) as sock:
        try:
            sock.sendall(head)
            while sent < len(body) and time.monotonic() - started < duration:
                if stop is not None and stop.is_set():
                    break
                if select.select([sock], [], [], 0)[0]:
                    break  # answered (or closed) while the body was still coming
                if chunk_size > 0:
                    piece = body[sent : sent + chunk_size]
                    sock.sendall(piece)
                    sent += len(piece)
                if stop is not None:
                    stop.wait(interval)
                else:
                    time.sleep(interval)
        except OSError as exc:  # the receiver closed the connection
            return DripOutcome(_status(sock, 0.5), sent, time.monotonic() - started, str(exc))
        stopped = stop is not None and stop.is_set()
        status = _status(sock, 0.01 if stopped else answer_timeout)
        return DripOutcome(status, sent, time.monotonic() - started, None if status else "none")


def _status(sock: socket.socket, timeout: float) -> int | None:
    """The status of the answer's first line, or ``None`` if there is none within
    ``timeout``."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data and len(data) < 1024:
            chunk = sock.recv(1024)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    fields = data.split(b"\r\n", 1)[0].split()
    if len(fields) >= 2 and fields[0].startswith(b"HTTP/") and fields[1].isdigit():
        return int(fields[1])
    return None
