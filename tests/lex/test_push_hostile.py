"""The push receiver under hostile traffic, over real HTTP: copies of one delivery arriving at
once, bodies that stall or never end, and JSON that is valid for Python but not for LEX."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any, cast
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import werkzeug.serving

from shiptrack_sdk.lex import BusinessMessage
from shiptrack_sdk.lex._sandbox_orders import MessageGenerator, OrdersPart
from shiptrack_sdk.lex._sandbox_push import drip, push_copies
from shiptrack_sdk.lex.push import (
    InMemoryDedupStore,
    PushReceiver,
    PushServer,
    PushWSGIApp,
    StaticTokenVerifier,
)
from shiptrack_sdk.sandbox import Sandbox

TOKEN = "push-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Handler:
    """A partner's handler that takes ``delay`` seconds per delivery and counts what it saw."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.ids: list[str] = []
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, messages: list[BusinessMessage]) -> None:
        with self._lock:
            self.calls += 1
        time.sleep(self.delay)
        with self._lock:
            self.ids.extend(m.id or "" for m in messages)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@contextlib.contextmanager
def on_waitress(app: Any, threads: int = 16) -> Iterator[str]:
    with PushServer(app, port=0, threads=threads) as server:
        yield server.url + "/lex/push"


@contextlib.contextmanager
def on_wsgiref(app: Any) -> Iterator[str]:
    """The standard library's server, as the guide used to show it: one request at a time."""
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/lex/push"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def on_werkzeug(app: Any) -> Iterator[str]:
    """Werkzeug's threaded development server: a thread per request."""
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/lex/push"
    finally:
        server.shutdown()
        server.server_close()


def orders(sb: Sandbox) -> OrdersPart:
    return cast(OrdersPart, sb.apps["lex"].orders)  # type: ignore[attr-defined]


def token_receiver(**options: Any) -> PushReceiver:
    return PushReceiver(verifier=StaticTokenVerifier(TOKEN), **options)


def body(count: int = 3, start: int = 0) -> bytes:
    generator = MessageGenerator(1_000)
    return json.dumps([generator.message(i) for i in range(start, start + count)]).encode()


# -- copies of one delivery at once (defect: 50 of 50 reached the handler) -------------------------


def test_copies_arriving_together_reach_the_handler_once(sb: Sandbox) -> None:
    handler = Handler(delay=0.5)  # the first copy is still in flight when the others arrive
    app = PushWSGIApp(token_receiver(dedup_store=InMemoryDedupStore()), handler)
    with on_waitress(app) as url:
        answers = push_copies(orders(sb), url, copies=50, count=5, token=TOKEN)
        assert handler.calls == 1
        assert sorted(handler.ids) == sorted(orders(sb).generator.ids(0, 5))
        accepted = [a for a in answers if a.status == 200]
        assert [a.body for a in accepted] == [{"status": "accepted", "received": 5}]
        # The others are told to deliver again later, not that they were processed: the
        # first copy may still fail.
        busy = [a for a in answers if a.status != 200]
        assert len(busy) == 49
        assert {(a.status, a.body["error"]) for a in busy} == {(503, "in_flight")}
        assert all(a.headers["Retry-After"].isdigit() for a in busy)
        # Delivered again once the first copy was handled: acknowledged, not handled again.
        again = orders(sb).push(url, 5, token=TOKEN)
        assert (again.status, again.body) == (200, {"status": "duplicate", "received": 0})
    assert handler.calls == 1


def test_a_copy_whose_handler_fails_lets_the_next_copy_be_handled(sb: Sandbox) -> None:
    failures = [True]

    def flaky(messages: list[BusinessMessage]) -> None:
        time.sleep(0.3)
        if failures:
            failures.pop()
            raise RuntimeError("database down")
        handled.extend(m.id or "" for m in messages)

    handled: list[str] = []
    app = PushWSGIApp(token_receiver(dedup_store=InMemoryDedupStore()), flaky)
    with on_waitress(app) as url:
        answers = push_copies(orders(sb), url, copies=10, count=3, token=TOKEN)
        assert sorted(a.status or 0 for a in answers) == [500] + [503] * 9
        assert orders(sb).push(url, 3, token=TOKEN).body == {"status": "accepted", "received": 3}
    assert handled == list(orders(sb).generator.ids(0, 3))


# -- bodies that stall, drip or never end (defect: no body-read deadline) --------------------------


def stall(url: str, declared: int, sent: bytes = b"[", wait: float = 10.0) -> Any:
    return drip(
        url, sent, headers=AUTH, declared_length=declared, chunk_size=len(sent), answer_timeout=wait
    )


def test_a_huge_content_length_is_refused_at_once() -> None:
    handler = Handler()
    app = PushWSGIApp(token_receiver(), handler)
    with on_wsgiref(app) as url:
        began = time.monotonic()
        outcome = stall(url, declared=10 * 1024**3, sent=b"x" * 1024, wait=5.0)
        assert outcome.status == 413
        assert time.monotonic() - began < 2.0
    assert handler.calls == 0


def test_a_stalled_body_gets_408_and_stops_blocking_the_others_on_wsgiref(sb: Sandbox) -> None:
    handler = Handler()
    app = PushWSGIApp(token_receiver(), handler, body_deadline=1.0)
    with on_wsgiref(app) as url:
        stalled: list[Any] = []
        thread = threading.Thread(target=lambda: stalled.append(stall(url, declared=5000)))
        thread.start()
        time.sleep(0.2)  # the stalled client holds the (single-threaded) server first
        began = time.monotonic()
        good = orders(sb).push(url, 2, token=TOKEN, timeout=10)
        waited = time.monotonic() - began
        thread.join(10)
    assert good.status == 200
    assert waited < 2.5  # the deadline, not the stalled client, says how long it waits
    assert stalled[0].status == 408
    assert handler.calls == 1


def test_slow_drip_clients_are_cut_off_on_a_threaded_server(sb: Sandbox) -> None:
    # Werkzeug gives each request a thread: without a deadline, each dripping client holds
    # one for as long as it likes.
    handler = Handler()
    app = PushWSGIApp(token_receiver(), handler, body_deadline=2.0, min_body_rate=1024)
    payload = body(20)
    with on_werkzeug(app) as url:
        outcomes: list[Any] = []
        lock = threading.Lock()

        def slow() -> None:
            outcome = drip(
                url, payload, headers=AUTH, chunk_size=10, interval=0.05, answer_timeout=8.0
            )
            with lock:
                outcomes.append(outcome)

        began = time.monotonic()
        threads = [threading.Thread(target=slow) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
        elapsed = time.monotonic() - began
        assert orders(sb).push(url, 2, token=TOKEN).status == 200
    assert [o.status for o in outcomes] == [408] * 10
    # Cut off by the minimum rate after its first second, not after the whole deadline.
    assert all(o.elapsed < 2.0 for o in outcomes), [o.elapsed for o in outcomes]
    assert elapsed < 5.0
    assert handler.calls == 1


# -- JSON that LEX's parser would refuse (defect: accepted, or coerced) ----------------------------

MESSAGE = '"messageType": "ITEM_MASTER", "payload": {"itemCode": "X"}'


def call(app: PushWSGIApp, raw: bytes) -> tuple[int, dict[str, Any]]:
    import io

    status: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)),
        "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
        "wsgi.input": io.BytesIO(raw),
    }
    content = b"".join(app(environ, lambda s, h: status.append(s)))
    return int(status[0].split()[0]), json.loads(content)


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (b'[{"messageId": "a", "weight": NaN, ' + MESSAGE.encode() + b"}]", "NaN"),
        (b'[{"messageId": "a", "weight": Infinity, ' + MESSAGE.encode() + b"}]", "Infinity"),
        (b'[{"messageId": "a", "weight": -Infinity, ' + MESSAGE.encode() + b"}]", "-Infinity"),
        (b'[{"messageId": "a", "weight": 1e999, ' + MESSAGE.encode() + b"}]", "1e999"),
        (b'[{"messageId": "a", "weight": -1e999, ' + MESSAGE.encode() + b"}]", "-1e999"),
        (b'[{"messageId": "a\\ud800", ' + MESSAGE.encode() + b"}]", "surrogate"),
        (b'[{"messageId": "\\udfff", ' + MESSAGE.encode() + b"}]", "surrogate"),
        # Not valid UTF-8, though Python's decoder lets it through as a lone surrogate.
        (b'[{"messageId": "a\xed\xa0\x80", ' + MESSAGE.encode() + b"}]", "surrogate"),
        (b'[{"messageId": "a", ' + MESSAGE.encode() + b', "x\\ud800": 1}]', "surrogate"),
        (b'[{"messageId": "a", "messageId": "b", ' + MESSAGE.encode() + b"}]", "messageId"),
        (
            b'[{"messageId": "a", "messageType": "ITEM_MASTER", '
            b'"payload": {"itemCode": "X", "itemCode": "Y"}}]',
            "itemCode",
        ),
        (b'{"messages": [], "messages": [{"messageId": "a"}]}', "messages"),
        (b'[{"messageId": {"$ne": null}, ' + MESSAGE.encode() + b"}]", "messageId"),
        (b'[{"messageId": 1, ' + MESSAGE.encode() + b"}]", "messageId"),
        (b'[{"messageId": 1.5, ' + MESSAGE.encode() + b"}]", "messageId"),
        (b'[{"messageId": true, ' + MESSAGE.encode() + b"}]", "messageId"),
        (b'[{"messageId": ["a"], ' + MESSAGE.encode() + b"}]", "messageId"),
    ],
)
def test_json_lex_would_not_send_is_a_400_naming_the_problem(raw: bytes, named: str) -> None:
    handler = Handler()
    status, answer = call(
        PushWSGIApp(token_receiver(dedup_store=InMemoryDedupStore()), handler), raw
    )
    assert (status, answer["error"]) == (400, "malformed_delivery"), answer
    assert named.lower() in answer["message"].lower(), answer["message"]
    assert handler.calls == 0


def test_a_number_id_and_a_string_id_are_not_one_message() -> None:
    handler = Handler()
    app = PushWSGIApp(token_receiver(dedup_store=InMemoryDedupStore()), handler)
    assert call(app, b'[{"messageId": 1, ' + MESSAGE.encode() + b"}]")[0] == 400
    assert call(app, b'[{"messageId": "1", ' + MESSAGE.encode() + b"}]") == (
        200,
        {"status": "accepted", "received": 1},
    )
    assert handler.ids == ["1"]


def test_big_finite_numbers_and_null_ids_are_still_fine() -> None:
    handler = Handler()
    app = PushWSGIApp(token_receiver(dedup_store=InMemoryDedupStore()), handler)
    raw = (
        b'[{"messageId": null, "weight": 1.7976931348623157e308, "n": -0.0, "big": '
        + b"9" * 400
        + b", "
        + MESSAGE.encode()
        + b"}]"
    )
    assert call(app, raw) == (200, {"status": "accepted", "received": 1})
