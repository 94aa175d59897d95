"""No secret ever shows, for any provider: sentinel credentials through representative calls of
every provider, successful and failing (401, 500, refused credentials, broken connections,
unreachable hosts), with every logger at DEBUG (the SDK's, urllib3's, oauthlib's...).

No sentinel may appear in any log record (message and arguments, formatted), in any exception
(message, ``str``, ``repr``, attributes, cause), or in the ``repr``/``str`` of anything the SDK
returns or raises. For every exception raised or logged, that covers its whole
``__cause__``/``__context__`` chain, every attribute reachable from each exception in it (a
chained ``requests`` exception's ``request.headers`` and ``request.body`` included), and each
one's traceback formatted with ``capture_locals=True``, as error reporters record it
(:class:`tests.conftest.Seen`). The push receiver must not echo a presented token in its
answers.
"""

from __future__ import annotations

import base64
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

import shiptrack_sdk.lex._sandbox_orders as lex_sandbox_orders
from shiptrack_sdk.lex import BusinessMessage, OrderStatus
from shiptrack_sdk.lex.push import (
    InMemoryDedupStore,
    IntrospectionVerifier,
    PushReceiver,
    PushWSGIApp,
    StaticTokenVerifier,
)
from shiptrack_sdk.lex.tracking import Carrier, Party, ShipmentEvent, TrackingMessage
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.shiplemon import HistoryUpdate
from tests.conftest import Seen

from .inventory import SENTINELS

API_KEY = "SENTINEL-SHIPLEMON-KEY-5d1e"
EXPORTO_SECRET = "SENTINEL-EXPORTO-SECRET-8a2f"
LEX_SECRET = "SENTINEL-LEX-SECRET-c47b"
INTROSPECTION_SECRET = "SENTINEL-INTROSPECTION-SECRET-19e0"
PUSH_TOKEN = "SENTINEL-PUSH-TOKEN-77aa"
UTC = timezone.utc

SHIPLEMON_ID = "be96511d-ba23-4268-bd8b-48c9cf930222"
MESSAGE = TrackingMessage(
    event=ShipmentEvent("AAR", "R00001", datetime(2024, 5, 14, 6, 0, tzinfo=UTC)),
    carrier=Carrier(id="TRANSPES"),
    sender=Party(id="TELIAE-ES"),
)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def no_sleep(seconds: float) -> None:
    """Retries here need not wait."""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def secret_sb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox that accepts the sentinel credentials and remembers every token it issues."""
    credentials = {
        "shiplemon": {"api_key": API_KEY},
        "exporto": {"client_secret": EXPORTO_SECRET},
        "lex": {"client_secret": LEX_SECRET},
    }
    monkeypatch.setattr(lex_sandbox_orders, "INTROSPECTION_CLIENT_SECRET", INTROSPECTION_SECRET)
    with Sandbox(credentials=credentials) as sb:
        issued: list[str] = []
        issue = sb.tokens.issue

        def recording_issue(client_id: str, scope: str | None = None) -> dict[str, Any]:
            answer = issue(client_id, scope)
            issued.append(answer["access_token"])
            return answer

        sb.tokens.issue = recording_issue  # type: ignore[method-assign]
        sb.issued_tokens = issued  # type: ignore[attr-defined]
        yield sb


def _clients(sb: Sandbox, seen: Seen, **overrides: Any) -> tuple[Any, Any, Any]:
    options = {"backoff_factor": 0.001, **overrides}
    clients = (
        sb.shiplemon_client(**options),
        sb.exporto_client(**options),
        sb.lex_client(**options),
    )
    for client in clients:
        client._transport.sleep = no_sleep
        seen.add(client)
        seen.add(client._transport)
        seen.add(client._transport.credentials)
        seen.add(client.session.headers)
        for name in ("tracking", "shipments", "tours", "orders"):
            if hasattr(client, name):
                seen.add(getattr(client, name))
    return clients


def _order() -> BusinessMessage:
    return BusinessMessage.create("ORDER_STATUS", OrderStatus(order_number="SO-1", status="PICKED"))


def test_no_secret_shows_anywhere(secret_sb: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records
    sb = secret_sb
    seen = Seen()
    shiplemon, exporto, lex = _clients(sb, seen)

    # -- Shiplemon ------------------------------------------------------------------------
    shiplemon_get = f"/shiplemon/public/v1/shipments/{SHIPLEMON_ID}/tracking"
    tracking = seen.call(shiplemon.tracking.get, SHIPLEMON_ID)
    seen.add(tracking.to_tracking())
    history = [HistoryUpdate("TRANSIT", datetime(2024, 7, 15, 9, 45, tzinfo=UTC), "x")]
    seen.call(shiplemon.tracking.update, SHIPLEMON_ID, history)
    seen.call(shiplemon.tracking.get, "no-such-shipment")
    for fault in ({"status": 500}, {"status": 503, "times": None}, {"action": "drop"}):
        sb.fault(shiplemon_get, **fault)
        seen.call(shiplemon.tracking.get, SHIPLEMON_ID)
        sb.clear_faults()
    sb.fault(shiplemon_get, delay=0.3)
    seen.call(shiplemon.tracking.get, SHIPLEMON_ID, timeout=(1, 0.05))
    wrong_key = sb.shiplemon_client(api_key=API_KEY + "-WRONG")
    seen.add(wrong_key)
    seen.call(wrong_key.tracking.get, SHIPLEMON_ID)  # 401

    # -- exporto --------------------------------------------------------------------------
    shipment = seen.call(exporto.shipments.get, "S-240902-0001")
    seen.add(shipment.to_tracking())
    seen.call(exporto.shipments.search, type="inbound")
    seen.call(exporto.tours.list)
    seen.call(exporto.tours.get, "T-20240902")
    seen.call(exporto.tours.track, ["T-20240902"], max_workers=2)
    seen.call(exporto.shipments.get, "no-such-shipment")
    sb.tokens.expire_all()  # 401, renewed, replayed
    seen.call(exporto.shipments.get, "S-240902-0002")
    sb.fault("/exporto/v1/shipment/*", status=401, times=None)  # a 401 that persists
    seen.call(exporto.shipments.get, "S-240902-0002")
    sb.clear_faults()
    sb.fault("/exporto/v1/shipment/*", status=500)
    seen.call(exporto.shipments.get, "S-240902-0002")
    fresh = sb.exporto_client(backoff_factor=0.001)
    fresh._transport.sleep = no_sleep
    sb.fault("/exporto/v1/auth/token", status=500, times=None)  # the token endpoint fails
    seen.call(fresh.shipments.get, "S-240902-0001")
    sb.clear_faults()
    sb.fault("/exporto/v1/auth/token", action="drop", times=None)
    seen.call(fresh.shipments.get, "S-240902-0001")
    sb.clear_faults()
    refused = sb.exporto_client(client_secret=EXPORTO_SECRET + "-WRONG")
    seen.add(refused)
    seen.call(refused.shipments.get, "S-240902-0001")  # token refused

    # -- LEX ------------------------------------------------------------------------------
    seen.call(lex.tracking.send, [MESSAGE])
    seen.call(lex.orders.fetch, 20)
    stream = lex.orders.iter_messages(fetch_size=50)
    seen.add(stream)
    for _, message in zip(range(120), stream, strict=False):
        seen.add(message)
    seen.add(stream)
    seen.call(lex.orders.send, _order())
    sb.tokens.expire_all()
    seen.call(lex.tracking.send, [MESSAGE])
    sb.fault("/lex/lex-shipmenttracking-v1/*", status=500)
    seen.call(lex.tracking.send, [MESSAGE])
    sb.fault("/lex/lex-orderexecution-v1/*", method="POST", status=401, times=None)
    seen.call(lex.orders.send, _order())
    sb.clear_faults()
    sb.fault("/lex/lex-orderexecution-v1/*", method="POST", after=True, action="drop")
    seen.call(lex.orders.send, _order())
    lex_refused = sb.lex_client(client_secret=LEX_SECRET + "-WRONG")
    seen.add(lex_refused)
    seen.call(lex_refused.tracking.send, [MESSAGE])
    seen.call(lex_refused.orders.fetch)
    unreachable = sb.lex_client(base_url=f"http://127.0.0.1:{closed_port()}", max_retries=0)
    seen.call(unreachable.orders.fetch)
    seen.call(unreachable.tracking.send, [MESSAGE])

    # -- LEX pushes (the receiver's side) -------------------------------------------------
    orders: Any = sb.apps["lex"].orders
    verifier = IntrospectionVerifier(
        sb.provider_url("lex") + lex_sandbox_orders.INTROSPECTION_PATH,
        lex_sandbox_orders.INTROSPECTION_CLIENT_ID,
        INTROSPECTION_SECRET,
        retry=None,
    )
    verifier._transport.sleep = no_sleep
    wrong_verifier = IntrospectionVerifier(
        verifier.introspection_url,
        lex_sandbox_orders.INTROSPECTION_CLIENT_ID,
        INTROSPECTION_SECRET + "-WRONG",
    )
    wrong_verifier._transport.sleep = no_sleep
    answers: list[Any] = []
    for receiver in (
        PushReceiver(verifier=verifier, dedup_store=InMemoryDedupStore()),
        PushReceiver(verifier=StaticTokenVerifier(PUSH_TOKEN)),
        PushReceiver(verifier=wrong_verifier),  # introspection refused: 503
    ):
        seen.add(receiver)
        seen.add(receiver.verifier)
        server = make_server(
            "127.0.0.1", 0, PushWSGIApp(receiver, lambda messages: None), handler_class=_Quiet
        )
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}).start()
        url = f"http://127.0.0.1:{server.server_port}/push"
        try:
            for token in (None, PUSH_TOKEN, PUSH_TOKEN + "-WRONG", f"{PUSH_TOKEN}\tX"):
                answers.append(orders.push(url, 3, token=token))
            answers.append(orders.push(url, 3, token=PUSH_TOKEN, content_type="text/plain"))
            answers.append(orders.push(url, 3, body=b"[[[", token=PUSH_TOKEN))
            answers.append(orders.push(url, 3))  # a valid token the sandbox issued
            answers.append(orders.push(url, 3))  # ...delivered again
        finally:
            server.shutdown()
            server.server_close()
    statuses = [a.status for a in answers]
    assert {200, 401, 503}.issubset(statuses)
    for push_answer in answers:
        seen.record(repr(push_answer.body), "push answer body")
        seen.record(repr(push_answer.headers), "push answer headers")
    sb.fault("/lex/introspect", status=500, times=None)
    seen.call(verifier.introspect, PUSH_TOKEN)
    sb.clear_faults()

    # -- every sentinel, everywhere -------------------------------------------------------
    exporto_basic = base64.b64encode(
        f"{sb.apps['exporto'].credentials.client_id}:{EXPORTO_SECRET}".encode()
    ).decode()
    issued: list[str] = sb.issued_tokens  # type: ignore[attr-defined]
    lex_id = sb.apps["lex"].credentials.client_id
    lex_tokens = [t for t in issued if sb.tokens.check(t) in (None, lex_id)]
    sentinels: dict[str, list[str]] = {
        "shiplemon API key": [API_KEY],
        "exporto client secret": [EXPORTO_SECRET],
        "exporto access tokens": issued,
        "exporto HTTP Basic credentials": [exporto_basic],
        "LEX client secret": [LEX_SECRET],
        "LEX access tokens": lex_tokens,
        "push bearer token": [PUSH_TOKEN],
        "push introspection client secret": [INTROSPECTION_SECRET],
    }
    assert tuple(sentinels) == SENTINELS
    assert len(issued) >= 8  # tokens were issued, renewed and pushed
    assert seen.errors >= 15  # the failing calls failed

    records = caplog.records
    assert len(records) >= 50  # the calls were logged at all, at DEBUG
    assert any(r.name.startswith("urllib3") for r in records)
    logged = [caplog.text]
    for record in records:
        logged.append(record.getMessage())
        logged.append(repr(record.args))
        if record.exc_info and record.exc_info[1] is not None:
            logged.append(repr(record.exc_info[1]))
    seen.add_logged(records)
    leaks: list[str] = []
    for name, values in sentinels.items():
        for secret in values:
            assert secret, name
            for text in logged:
                assert secret not in text, f"{name} in a log record: {text[:300]!r}"
            leaks += [f"{name}: {found}" for found in seen.find(secret)]
    assert not leaks, f"{len(leaks)} secrets readable from results or errors:\n" + "\n".join(
        leaks[:40]
    )
