"""Sandbox throughput: the embedded sandbox against a plain ``ThreadingHTTPServer``.

Both servers run in child processes of their own and answer the same body (the sandbox's answer
to Shiplemon's documented GET, copied byte for byte into the plain server). The same client load
is put on each, in alternating rounds so that both see the same machine: ``THREADS`` threads,
each with one kept-alive connection, each sending its share of the round's requests one after
the other. The client is a minimal HTTP/1.1 one (a request written whole, the answer read by
its ``Content-Length``): a client as costly as the server, such as ``requests`` or
``http.client``, would be what limits the rate, and the two servers would look alike whatever
they cost. The figure is the ratio of requests per second; the detail adds the ratio of the
maxima of the latencies (each round's maximum, the median over the rounds), the second target.

The plain server is configured as any server on a keep-alive load would be, so that the
comparison is of the request path, not of settings: HTTP/1.1 keep-alive, ``TCP_NODELAY``, no
log line per request, a listen backlog of 128.
"""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing
import multiprocessing.connection
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from ._common import Figure, Settings, median

#: The documented GET sample's shipment, seeded in the sandbox.
SHIPMENT_ID = "be96511d-ba23-4268-bd8b-48c9cf930222"
PATH = f"/shiplemon/public/v1/shipments/{SHIPMENT_ID}/tracking"
#: Client threads, each with one kept-alive connection.
THREADS = 8


def _serve_sandbox(conn: multiprocessing.connection.Connection) -> None:
    from shiptrack_sdk.sandbox import Sandbox

    with Sandbox() as sb:
        conn.send((sb.url, sb.apps["shiplemon"].credentials.api_key))
        with contextlib.suppress(EOFError):
            conn.recv()


def _serve_plain(
    conn: multiprocessing.connection.Connection, body: bytes, content_type: str
) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        request_queue_size = 128

    httpd = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    conn.send((f"http://127.0.0.1:{httpd.server_address[1]}", None))
    with contextlib.suppress(EOFError):
        conn.recv()
    httpd.shutdown()
    httpd.server_close()


@contextlib.contextmanager
def _child(target: Any, *args: Any) -> Iterator[tuple[str, Any]]:
    """A server in a child process: ``(url, what it sent)`` while it serves."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(child, *args), daemon=True)
    process.start()
    child.close()
    try:
        yield parent.recv()
    finally:
        with contextlib.suppress(OSError):
            parent.send("stop")
        parent.close()
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)


def _exchange(connection: socket.socket, reader: BinaryIO, request: bytes) -> int:
    """Send one request and read its whole answer: its status."""
    connection.sendall(request)
    status = int(reader.readline().split(b" ", 2)[1])
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    reader.read(length)
    return status


def _round(url: str, headers: dict[str, str], per_thread: int) -> tuple[float, list[float]]:
    """``THREADS`` connections sending ``per_thread`` GETs each: ``(seconds, latencies)``."""
    split = urlsplit(url)
    host, port = split.hostname or "127.0.0.1", split.port or 80
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"GET {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n{lines}\r\n".encode()
    start = threading.Barrier(THREADS + 1)
    latencies: list[list[float]] = [[] for _ in range(THREADS)]
    failures: list[str] = []

    def work(index: int) -> None:
        try:
            connection = socket.create_connection((host, port), timeout=30)
        except OSError as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
            start.abort()
            return
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = connection.makefile("rb")
        try:
            _exchange(connection, reader, request)  # connected before the clock starts
            start.wait()
            own = latencies[index]
            for _ in range(per_thread):
                began = time.perf_counter()
                status = _exchange(connection, reader, request)
                own.append(time.perf_counter() - began)
                if status != 200:
                    failures.append(f"HTTP {status}")
        except Exception as exc:  # reported below: a figure of failed calls means nothing
            failures.append(f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(threading.BrokenBarrierError):
                start.abort()
        finally:
            reader.close()
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"sandbox throughput: {len(failures)} failures, first {failures[0]}")
    return elapsed, [value for own in latencies for value in own]


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else max(values)


def sandbox_throughput(settings: Settings) -> Figure:
    """Requests per second of the sandbox over those of a plain ``ThreadingHTTPServer``
    answering the same body, under the same keep-alive load, in alternating rounds: the
    median of the rounds' ratios, each sandbox round against the plain round beside it."""
    per_thread = max(25, settings.calls // 8)
    pairs = 2 if settings.quick else 10
    with _child(_serve_sandbox) as (sandbox_url, api_key):
        headers = {"x-api-key": str(api_key)}
        split = urlsplit(sandbox_url)
        probe = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port or 80)
        probe.request("GET", PATH, headers=headers)
        answer = probe.getresponse()
        body, content_type = answer.read(), answer.getheader("Content-Type") or ""
        probe.close()
        if answer.status != 200:
            raise RuntimeError(f"sandbox throughput: the sandbox answered {answer.status}")
        with _child(_serve_plain, body, content_type) as (plain_url, _):
            urls = {"sandbox": sandbox_url, "plain": plain_url}
            rates: dict[str, list[float]] = {"sandbox": [], "plain": []}
            maxima: dict[str, list[float]] = {"sandbox": [], "plain": []}
            latencies: dict[str, list[float]] = {"sandbox": [], "plain": []}
            for name in urls:  # a warm-up round each, not counted
                _round(urls[name], headers, max(10, per_thread // 5))
            for index in range(pairs):
                order = ("sandbox", "plain") if index % 2 else ("plain", "sandbox")
                for name in order:
                    elapsed, seen = _round(urls[name], headers, per_thread)
                    rates[name].append(len(seen) / elapsed)
                    maxima[name].append(max(seen))
                    latencies[name].extend(seen)
    ratios = [s / p for s, p in zip(rates["sandbox"], rates["plain"], strict=True)]
    ratio = median(ratios)
    rate = {name: median(values) for name, values in rates.items()}
    worst = {name: max(values) for name, values in maxima.items()}
    p99 = {name: _p99(values) for name, values in latencies.items()}
    # Each round's maximum, the median over the rounds: a server whose slowest answers are
    # slow shows it in every round, while one scheduler hiccup of the machine (a few ms,
    # which doubles a maximum of a few ms) shows in one round only.
    typical = {name: median(values) for name, values in maxima.items()}
    max_ratio = typical["sandbox"] / typical["plain"]
    requests_per_round = THREADS * per_thread
    return Figure(
        name="sandbox_throughput",
        title="sandbox throughput (sandbox / plain http.server)",
        measured=ratio,
        unit="x",
        target=">= 0.9x, max latency <= 2x",
        met=ratio >= 0.9 and max_ratio <= 2,
        detail=(
            f"{THREADS} kept-alive connections, {requests_per_round} GETs a round, {pairs} "
            f"rounds each, alternating (median of the rounds' ratios): sandbox "
            f"{rate['sandbox']:.0f} req/s, plain {rate['plain']:.0f} req/s (medians); p99 "
            f"{p99['sandbox'] * 1000:.1f} ms against {p99['plain'] * 1000:.1f} ms; a round's "
            f"maximum {typical['sandbox'] * 1000:.1f} ms against {typical['plain'] * 1000:.1f} ms "
            f"(medians, {max_ratio:.2f}x), the slowest of all {worst['sandbox'] * 1000:.1f} ms "
            f"against {worst['plain'] * 1000:.1f} ms"
        ),
        data={
            "threads": THREADS,
            "requests_per_round": requests_per_round,
            "rounds": pairs,
            "requests_per_second": rates,
            "round_ratios": ratios,
            "median_requests_per_second": rate,
            "p99_s": p99,
            "round_max_s": maxima,
            "max_s": worst,
            "median_round_max_s": typical,
            "max_latency_ratio": max_ratio,
            "body_bytes": len(body),
        },
    )
