"""The push receiver as a WSGI app on a real local server, fed by the sandbox's push simulator
over HTTP: what LEX's deliveries get back, and that the handler only sees good ones."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any, cast
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import attrs
import pytest
import requests

from shiptrack_sdk.lex import BusinessMessage
from shiptrack_sdk.lex._sandbox_orders import (
    INTROSPECTION_CLIENT_ID,
    INTROSPECTION_CLIENT_SECRET,
    INTROSPECTION_PATH,
    PUSH_SCOPE,
    OrdersPart,
)
from shiptrack_sdk.lex.push import (
    AesGcmCipher,
    Claim,
    InMemoryDedupStore,
    IntrospectionVerifier,
    PushReceiver,
    PushWSGIApp,
)
from shiptrack_sdk.sandbox import Sandbox

KEY = bytes(range(32))


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@attrs.define
class Receiver:
    """A running push receiver: its URL and what its handler was given."""

    url: str
    batches: list[list[BusinessMessage]]
    fail: list[bool]

    @property
    def ids(self) -> list[str]:
        return [m.id or "" for batch in self.batches for m in batch]


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[WSGIServer] = []

    def start(receiver: PushReceiver) -> Receiver:
        state = Receiver("", [], [])

        def handler(messages: list[BusinessMessage]) -> None:
            if state.fail:
                state.fail.pop()
                raise RuntimeError("handler failed")
            state.batches.append(messages)

        server = make_server("127.0.0.1", 0, PushWSGIApp(receiver, handler), handler_class=_Quiet)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(server)
        state.url = f"http://127.0.0.1:{server.server_port}/lex/push"
        return state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def orders_part(sb: Sandbox) -> OrdersPart:
    return cast(OrdersPart, sb.apps["lex"].orders)  # type: ignore[attr-defined]


def oauth_receiver(sb: Sandbox, **options: Any) -> PushReceiver:
    verifier = IntrospectionVerifier(
        sb.provider_url("lex") + INTROSPECTION_PATH,
        INTROSPECTION_CLIENT_ID,
        INTROSPECTION_CLIENT_SECRET,
        required_scope=PUSH_SCOPE,
    )
    return PushReceiver(verifier=verifier, **options)


# -- OAuth2 ------------------------------------------------------------------------------------


def test_oauth2_deliveries_are_accepted_and_handled(sb: Sandbox, serve: Any) -> None:
    receiver = serve(oauth_receiver(sb))
    part = orders_part(sb)
    outcomes = part.push_all(receiver.url, 250)
    assert [(o.status, o.body) for o in outcomes] == [
        (200, {"status": "accepted", "received": 100}),
        (200, {"status": "accepted", "received": 100}),
        (200, {"status": "accepted", "received": 50}),
    ]
    assert receiver.ids == list(part.generator.ids(0, 250))
    assert outcomes[0].headers["Content-Type"] == "application/json"


def test_a_bad_token_is_401_and_the_handler_is_not_called(sb: Sandbox, serve: Any) -> None:
    receiver = serve(oauth_receiver(sb))
    outcome = orders_part(sb).push(receiver.url, 5, token="stolen-or-made-up")
    assert outcome.status == 401
    assert outcome.body["error"] == "invalid_token"
    assert 'error="invalid_token"' in outcome.headers["WWW-Authenticate"]
    assert receiver.batches == []


def test_a_missing_token_is_401(sb: Sandbox, serve: Any) -> None:
    receiver = serve(oauth_receiver(sb))
    outcome = orders_part(sb).push(receiver.url, 5, auth="none")
    assert (outcome.status, outcome.body["error"]) == (401, "missing_token")
    assert outcome.headers["WWW-Authenticate"].startswith("Bearer")
    assert receiver.batches == []


def test_an_expired_token_is_401(sb: Sandbox, serve: Any) -> None:
    receiver = serve(oauth_receiver(sb))
    part = orders_part(sb)
    token = part.issue_push_token()
    sb.tokens.expire_all()
    assert part.push(receiver.url, 1, token=token).status == 401


# -- cipher ------------------------------------------------------------------------------------


def test_ciphered_deliveries_are_accepted(sb: Sandbox, serve: Any) -> None:
    receiver = serve(PushReceiver(cipher=AesGcmCipher(KEY)))
    outcome = orders_part(sb).push(receiver.url, 20, auth="cipher", cipher=AesGcmCipher(KEY))
    assert (outcome.status, outcome.body) == (200, {"status": "accepted", "received": 20})
    assert receiver.ids == list(outcome.message_ids)


def test_a_tampered_cipher_is_401(sb: Sandbox, serve: Any) -> None:
    receiver = serve(PushReceiver(cipher=AesGcmCipher(KEY)))
    outcome = orders_part(sb).push(
        receiver.url, 20, auth="cipher", cipher=AesGcmCipher(KEY), tamper=True
    )
    assert (outcome.status, outcome.body["error"]) == (401, "undecryptable_payload")
    assert receiver.batches == []


def test_a_wrong_key_is_401(sb: Sandbox, serve: Any) -> None:
    receiver = serve(PushReceiver(cipher=AesGcmCipher(KEY)))
    other = AesGcmCipher(AesGcmCipher.generate_key())
    outcome = orders_part(sb).push(receiver.url, 20, auth="cipher", cipher=other)
    assert outcome.status == 401
    assert receiver.batches == []


def test_token_and_cipher_together(sb: Sandbox, serve: Any) -> None:
    receiver = serve(oauth_receiver(sb, cipher=AesGcmCipher(KEY)))
    part = orders_part(sb)
    assert part.push(receiver.url, 3, auth="both", cipher=AesGcmCipher(KEY)).status == 200
    assert part.push(receiver.url, 3, auth="cipher", cipher=AesGcmCipher(KEY)).status == 401
    assert part.push(receiver.url, 3, auth="oauth2").status == 401  # plain JSON: no decrypt
    assert len(receiver.batches) == 1


# -- malformed and oversize --------------------------------------------------------------------


def test_an_oversize_body_is_413(sb: Sandbox, serve: Any) -> None:
    receiver = serve(oauth_receiver(sb, max_body_bytes=20_000))
    part = orders_part(sb)
    outcome = part.push(receiver.url, 60)  # about 60 kB
    assert (outcome.status, outcome.body["error"]) == (413, "payload_too_large")
    assert receiver.batches == []
    assert part.push(receiver.url, 5).status == 200


def test_malformed_json_is_400(sb: Sandbox, serve: Any) -> None:
    receiver = serve(oauth_receiver(sb))
    outcome = orders_part(sb).push(receiver.url, body=b'[{"messageId": "a",')
    assert (outcome.status, outcome.body["error"]) == (400, "malformed_delivery")
    assert receiver.batches == []


def test_more_than_100_messages_is_400(sb: Sandbox, serve: Any) -> None:
    receiver = serve(oauth_receiver(sb))
    outcome = orders_part(sb).push(receiver.url, 101)
    assert (outcome.status, outcome.body["error"]) == (400, "too_many_messages")
    assert receiver.batches == []


def test_a_wrong_content_type_is_415(sb: Sandbox, serve: Any) -> None:
    receiver = serve(oauth_receiver(sb))
    outcome = orders_part(sb).push(receiver.url, 2, content_type="text/plain")
    assert outcome.status == 415


# -- duplicates and failures -------------------------------------------------------------------


def test_a_replayed_delivery_is_acknowledged_once(sb: Sandbox, serve: Any) -> None:
    receiver = serve(oauth_receiver(sb, dedup_store=InMemoryDedupStore()))
    part = orders_part(sb)
    assert part.push(receiver.url, 10).body["status"] == "accepted"
    replay = part.push(receiver.url, 10)
    assert (replay.status, replay.body) == (200, {"status": "duplicate", "received": 0})
    overlap = part.push(receiver.url, 10, start=5)
    assert overlap.body == {"status": "accepted", "received": 5}
    assert receiver.ids == list(part.generator.ids(0, 15))


def test_a_failing_handler_is_500_and_the_redelivery_is_processed(sb: Sandbox, serve: Any) -> None:
    receiver = serve(oauth_receiver(sb, dedup_store=InMemoryDedupStore()))
    receiver.fail.append(True)
    part = orders_part(sb)
    assert part.push(receiver.url, 4).status == 500
    assert part.push(receiver.url, 4).body == {"status": "accepted", "received": 4}
    assert receiver.ids == list(part.generator.ids(0, 4))


# -- a verifier or cipher that fails: a JSON 500, never a delivery let through ----------------


class CrashingVerifier:
    """A partner's verifier with a bug; its exception quotes the token."""

    def verify(self, token: str) -> bool:
        raise KeyError(f"unknown token {token}")


class CrashingCipher:
    """A partner's cipher with a bug; its exception quotes the payload."""

    def __init__(self) -> None:
        self.given = b""

    def decrypt(self, data: bytes) -> bytes:
        self.given = data
        raise TypeError(f"cannot decipher {data[:80]!r}")


def test_a_crashing_verifier_is_a_json_500_and_the_handler_is_not_called(
    sb: Sandbox, serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = serve(PushReceiver(verifier=CrashingVerifier()))
    part = orders_part(sb)
    token = part.issue_push_token()
    with caplog.at_level(logging.ERROR, logger="shiptrack_sdk"):
        outcome = part.push(receiver.url, 5, token=token)
    assert outcome.status == 500
    assert outcome.headers["Content-Type"] == "application/json"
    assert outcome.body == {
        "status": "rejected",
        "error": "verification_failed",
        "message": "the verifier failed (KeyError); the delivery is refused",
    }
    assert receiver.batches == []
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "Traceback" in record.getMessage()
    assert token not in caplog.text
    assert outcome.message_ids[0] not in caplog.text  # no request body in the log


def test_a_crashing_cipher_is_a_json_500_and_the_handler_is_not_called(
    sb: Sandbox, serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    cipher = CrashingCipher()
    receiver = serve(PushReceiver(cipher=cipher))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="shiptrack_sdk"):
        outcome = orders_part(sb).push(receiver.url, 5, auth="cipher", cipher=AesGcmCipher(KEY))
    assert (outcome.status, outcome.body["error"]) == (500, "verification_failed")
    assert receiver.batches == []
    assert "Traceback" in caplog.text
    assert cipher.given
    assert cipher.given[:40].decode() not in caplog.text  # the message quoting it is left out


def test_a_failing_dedup_store_is_a_json_500(sb: Sandbox, serve: Any) -> None:
    class Down:
        def claim(self, key: str) -> Claim:
            raise ConnectionError("store down")

        def complete(self, key: str) -> None:
            raise ConnectionError("store down")

        def release(self, key: str) -> None:
            raise ConnectionError("store down")

    receiver = serve(oauth_receiver(sb, dedup_store=Down()))
    outcome = orders_part(sb).push(receiver.url, 5)
    assert outcome.status == 500
    assert outcome.body == {
        "status": "error",
        "error": "internal_error",
        "message": "the delivery could not be processed",
    }
    assert receiver.batches == []


def test_only_post_is_accepted(sb: Sandbox, serve: Any) -> None:
    receiver = serve(oauth_receiver(sb))
    answer = requests.get(receiver.url, timeout=5)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"


# -- reading the body: never more than the limit -----------------------------------------------


class CountingInput(io.RawIOBase):
    """A request body that counts what is read from it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.read_bytes if n < 0 else min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return b" " * n


def call(app: PushWSGIApp, environ: dict[str, Any]) -> tuple[str, bytes]:
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h: status.append(s)))
    return status[0], body


def test_a_large_content_length_is_refused_without_reading_the_body() -> None:
    app = PushWSGIApp(
        PushReceiver(allow_unauthenticated=True, max_body_bytes=1000), print, drain_bytes=4096
    )
    stream = CountingInput(10**9)
    status, _ = call(
        app,
        {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(10**9), "wsgi.input": stream},
    )
    assert status.startswith("413")
    assert stream.read_bytes <= 4096


class BrokenInput(io.RawIOBase):
    """A request body whose connection fails while it is read."""

    def read(self, n: int = -1) -> bytes:
        raise OSError("connection reset while reading the body")


def test_a_body_that_cannot_be_read_is_a_json_500() -> None:
    handled: list[Any] = []
    app = PushWSGIApp(PushReceiver(allow_unauthenticated=True), handled.append)
    status, body = call(
        app, {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "10", "wsgi.input": BrokenInput()}
    )
    assert status.startswith("500")
    assert json.loads(body)["error"] == "internal_error"
    assert handled == []


@pytest.mark.parametrize("length", ["١٢", "²", "-1", "1e3"])
def test_a_content_length_that_is_not_ascii_digits_is_a_400(length: str) -> None:
    app = PushWSGIApp(PushReceiver(allow_unauthenticated=True), print)
    environ = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": length, "wsgi.input": io.BytesIO()}
    status, body = call(app, environ)
    assert status.startswith("400")
    assert json.loads(body)["error"] == "malformed_delivery"


def test_an_undelimited_body_is_read_up_to_the_limit_only() -> None:
    app = PushWSGIApp(PushReceiver(allow_unauthenticated=True, max_body_bytes=1000), print)
    stream = CountingInput(10**9)
    environ = {"REQUEST_METHOD": "POST", "wsgi.input": stream, "wsgi.input_terminated": True}
    status, _ = call(app, environ)
    assert status.startswith("413")
    assert stream.read_bytes == 1001
    status, body = call(app, {"REQUEST_METHOD": "POST", "wsgi.input": CountingInput(5)})
    assert status.startswith("411")
    assert b"length_required" in body
