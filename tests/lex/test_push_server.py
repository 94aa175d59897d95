"""The push receiver served by waitress (PushServer), as the guide shows it: good deliveries
are answered quickly while slow clients drip their bodies, and each message is handled once."""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from typing import Any, cast

import pytest
import requests

from shiptrack_sdk import ValidationError
from shiptrack_sdk.lex import BusinessMessage
from shiptrack_sdk.lex._sandbox_orders import MessageGenerator, OrdersPart
from shiptrack_sdk.lex._sandbox_push import drip
from shiptrack_sdk.lex.push import (
    InMemoryDedupStore,
    MissingDependencyError,
    PushReceiver,
    PushServer,
    PushWSGIApp,
    StaticTokenVerifier,
)
from shiptrack_sdk.sandbox import Sandbox

TOKEN = "push-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Recorder:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, messages: list[BusinessMessage]) -> None:
        time.sleep(0.01)  # a handler does some work: a database write
        with self.lock:
            self.ids.extend(m.id or "" for m in messages)


def orders(sb: Sandbox) -> OrdersPart:
    return cast(OrdersPart, sb.apps["lex"].orders)  # type: ignore[attr-defined]


def app(recorder: Recorder, **options: Any) -> PushWSGIApp:
    receiver = PushReceiver(
        verifier=StaticTokenVerifier(TOKEN), dedup_store=InMemoryDedupStore(), **options
    )
    return PushWSGIApp(receiver, recorder)


def payload(count: int, start: int = 0) -> bytes:
    generator = MessageGenerator(1_000)
    return json.dumps([generator.message(i) for i in range(start, start + count)]).encode()


@pytest.mark.slow
def test_good_deliveries_are_answered_within_2_s_while_20_clients_drip(sb: Sandbox) -> None:
    recorder = Recorder()
    part = orders(sb)
    began = time.monotonic()
    with PushServer(app(recorder), port=0, threads=8) as server:
        url = server.url + "/lex/push"
        stop = threading.Event()
        drips: list[Any] = []
        slow_body = payload(20)

        def slow() -> None:
            drips.append(
                drip(
                    url, slow_body, headers=AUTH, chunk_size=1, interval=0.2, duration=30, stop=stop
                )
            )

        drippers = [threading.Thread(target=slow, daemon=True) for _ in range(20)]
        for thread in drippers:
            thread.start()
        time.sleep(0.5)  # every slow client connected and dripping

        barrier = threading.Barrier(100)
        results: list[tuple[int | None, Any, float]] = [(None, None, 0.0)] * 100

        def good(index: int) -> None:
            barrier.wait(10)
            sent = time.monotonic()
            outcome = part.push(url, 5, start=5 * index, token=TOKEN, timeout=10)
            results[index] = (outcome.status, outcome.body, time.monotonic() - sent)

        senders = [threading.Thread(target=good, args=(i,)) for i in range(100)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join(20)
        slowest = max(seconds for _, _, seconds in results)
        dripping = sum(thread.is_alive() for thread in drippers)
        stop.set()
        for thread in drippers:
            thread.join(5)
    elapsed = time.monotonic() - began
    assert [(status, answer) for status, answer, _ in results] == [
        (200, {"status": "accepted", "received": 5})
    ] * 100
    assert slowest < 2.0, f"the slowest good delivery took {slowest:.2f} s"
    assert sorted(recorder.ids) == sorted(part.generator.ids(0, 500))  # each once
    assert dripping == 20  # the slow clients were still sending all along
    assert elapsed < 30


def test_a_content_length_over_the_limit_is_refused_by_waitress_at_once() -> None:
    recorder = Recorder()
    with PushServer(app(recorder, max_body_bytes=10_000), port=0) as server:
        began = time.monotonic()
        outcome = drip(
            server.url + "/lex/push",
            b"x" * 1024,
            headers=AUTH,
            declared_length=10 * 1024**3,
            chunk_size=1024,
            answer_timeout=5,
        )
        assert outcome.status == 413
        assert time.monotonic() - began < 2.0
        answer = requests.post(server.url, data=payload(2), headers=AUTH, timeout=5)
        assert answer.json() == {"status": "accepted", "received": 2}
    assert len(recorder.ids) == 2


def test_a_stalled_client_is_closed_after_the_deadline() -> None:
    receiver = PushReceiver(verifier=StaticTokenVerifier(TOKEN))
    with PushServer(PushWSGIApp(receiver, Recorder(), body_deadline=2), port=0) as server:
        began = time.monotonic()
        outcome = drip(server.url, b"[", headers=AUTH, declared_length=100, answer_timeout=10)
        # Waitress closes a connection silent for channel_timeout (the app's body_deadline),
        # looked for every second.
        assert outcome.status is None
        assert 1.5 < time.monotonic() - began < 5


def test_the_server_settings_follow_the_app() -> None:
    server = PushServer(app(Recorder(), max_body_bytes=4096), port=0)
    try:
        adjustments = server._server.adj
        assert adjustments.max_request_body_size == 4096
        assert adjustments.channel_timeout == 10
        assert (adjustments.threads, adjustments.connection_limit) == (8, 200)
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert repr(server) == f"PushServer(host='127.0.0.1', port={server.port})"
    finally:
        server.stop()

    def plain(environ: Any, start_response: Any) -> list[bytes]:
        start_response("204 No Content", [])
        return []

    other = PushServer(plain, port=0, max_body_bytes=1234, threads=2)
    try:
        assert other._server.adj.max_request_body_size == 1234
        other.start()
        assert requests.get(other.url, timeout=5).status_code == 204
    finally:
        other.stop()


def test_stop_closes_connections_still_open() -> None:
    server = PushServer(app(Recorder()), port=0).start()
    stop = threading.Event()
    thread = threading.Thread(
        target=drip,
        args=(server.url, b"[" * 1000),
        kwargs={"headers": AUTH, "interval": 0.2, "stop": stop},
        daemon=True,
    )
    thread.start()
    time.sleep(0.3)
    began = time.monotonic()
    server.stop()
    assert time.monotonic() - began < 3
    stop.set()
    thread.join(5)


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"port": -1}, "port"),
        ({"port": 70_000}, "port"),
        ({"threads": 0}, "threads"),
        ({"connection_limit": 0}, "connection_limit"),
        ({"host": ""}, "host"),
    ],
)
def test_server_arguments_are_checked(options: dict[str, Any], argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        PushServer(app(Recorder()), **options)
    assert info.value.argument == argument
    with pytest.raises(ValidationError):
        PushServer("not an app")


def test_a_missing_waitress_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "waitress", None)
    with pytest.raises(MissingDependencyError, match=r"shiptrack-sdk\[push\]"):
        PushServer(app(Recorder()), port=0)


def test_the_app_settings_are_checked() -> None:
    receiver = PushReceiver(allow_unauthenticated=True)
    for options, argument in (
        ({"body_deadline": 0}, "body_deadline"),
        ({"body_deadline": float("inf")}, "body_deadline"),
        ({"min_body_rate": -1}, "min_body_rate"),
    ):
        with pytest.raises(ValidationError) as info:
            PushWSGIApp(receiver, print, **options)
        assert info.value.argument == argument
    # No minimum rate: only the deadline counts.
    slow = PushWSGIApp(receiver, lambda messages: None, min_body_rate=0)
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": "2",
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(b"[]"),
    }
    slow(environ, lambda s, h: status.append(s))
    assert status == ["200 OK"]
