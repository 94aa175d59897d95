"""The push receiver without a server: each check and the status it answers, the built-in
verifiers (RFC 7662 introspection against the sandbox), the AES-GCM cipher and de-duplication."""

from __future__ import annotations

import base64
import hmac
import json
import logging
import sys
from typing import Any, cast
from urllib.parse import parse_qs

import pytest
import responses

from shiptrack_sdk import RetryPolicy, ValidationError
from shiptrack_sdk.errors import ShiptrackError
from shiptrack_sdk.lex import BusinessMessage, ShipmentOrder
from shiptrack_sdk.lex import push as push_module
from shiptrack_sdk.lex._sandbox_orders import (
    INTROSPECTION_CLIENT_ID,
    INTROSPECTION_CLIENT_SECRET,
    INTROSPECTION_PATH,
    PUSH_SCOPE,
    MessageGenerator,
    OrdersPart,
)
from shiptrack_sdk.lex.push import (
    AesGcmCipher,
    Claim,
    DecryptionError,
    DeliveryInFlightError,
    DuplicateDeliveryError,
    InMemoryDedupStore,
    IntrospectionVerifier,
    InvalidTokenError,
    MalformedDeliveryError,
    MissingDependencyError,
    MissingTokenError,
    PayloadTooLargeError,
    PushError,
    PushReceiver,
    PushResponse,
    StaticTokenVerifier,
    TooManyMessagesError,
    UnsupportedMediaTypeError,
    VerificationFailedError,
    VerifierUnavailableError,
)
from shiptrack_sdk.sandbox import Sandbox

TOKEN = "push-token-0123456789"
JSON = {"Content-Type": "application/json"}
AUTH = {"Authorization": f"Bearer {TOKEN}", **JSON}


def delivery(count: int = 3, start: int = 0) -> bytes:
    generator = MessageGenerator(1_000)
    return json.dumps([generator.message(i) for i in range(start, start + count)]).encode()


def receiver(**options: Any) -> PushReceiver:
    options.setdefault("verifier", StaticTokenVerifier(TOKEN))
    return PushReceiver(**options)


# -- the checks, in order ---------------------------------------------------------------------


def test_a_good_delivery_gives_typed_messages() -> None:
    messages = receiver().receive(AUTH, delivery(4))
    assert [m.id for m in messages] == [f"LEX-00000000{i}" for i in range(4)]
    assert isinstance(messages[0].payload, ShipmentOrder)


def test_headers_are_read_in_any_case_and_content_type_parameters_allowed() -> None:
    headers = {
        "AUTHORIZATION": f"bearer {TOKEN}",
        "content-TYPE": "application/json; charset=utf-8",
    }
    assert len(receiver().receive(headers, delivery(1))) == 1
    vendor = {"authorization": f"Bearer {TOKEN}", "content-type": "application/vnd.lex+json"}
    assert len(receiver().receive(vendor, delivery(1))) == 1
    assert len(receiver().receive({"Authorization": f"Bearer {TOKEN}"}, delivery(1))) == 1


@pytest.mark.parametrize(
    "headers",
    [
        JSON,
        {"Authorization": "", **JSON},
        {"Authorization": "Bearer ", **JSON},
        {"Authorization": f"Basic {TOKEN}", **JSON},
    ],
)
def test_missing_token_is_401(headers: dict[str, str]) -> None:
    with pytest.raises(MissingTokenError) as info:
        receiver().receive(headers, delivery())
    assert info.value.status == 401


def test_invalid_token_is_401_and_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    with pytest.raises(InvalidTokenError) as info:
        receiver().receive({"Authorization": "Bearer guess", **JSON}, delivery())
    assert info.value.status == 401
    assert compared == [(b"guess", TOKEN.encode())]
    assert TOKEN not in str(info.value)


def test_static_verifier_accepts_any_of_several_tokens_and_hides_them() -> None:
    verifier = StaticTokenVerifier(["old-token", "new-token"])
    assert verifier.verify("old-token")
    assert verifier.verify("new-token")
    assert not verifier.verify("new-token-x")
    assert "token" not in repr(verifier).replace("tokens", "")
    with pytest.raises(ValidationError):
        StaticTokenVerifier([])


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "text/html"]
)
def test_a_plain_delivery_that_is_not_json_is_415(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as info:
        receiver().receive(
            {"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type}, delivery()
        )
    assert info.value.status == 415


def test_an_oversize_body_is_413_before_anything_else() -> None:
    body = delivery(10)
    small = receiver(max_body_bytes=len(body) - 1)
    with pytest.raises(PayloadTooLargeError) as info:
        small.receive({}, body)  # not even authenticated: size is checked first
    assert info.value.status == 413
    assert len(receiver(max_body_bytes=len(body)).receive(AUTH, body)) == 10


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b"", "empty"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b'"a string"', "JSON array"),
        (b'{"unexpected": 1}', "JSON array"),
        (b"[1, 2]", r"messages\[0\] is not a JSON object"),
        (b'[{"messageId": "a"}, {"messageId": "b", "timestamp": "soon"}]', r"messages\[1\]"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    ],
)
def test_a_malformed_delivery_is_400(body: bytes, text: str) -> None:
    with pytest.raises(MalformedDeliveryError, match=text) as info:
        receiver().receive(AUTH, body)
    assert info.value.status == 400


def test_more_than_100_messages_is_400_and_100_is_fine() -> None:
    with pytest.raises(TooManyMessagesError) as info:
        receiver().receive(AUTH, delivery(101))
    assert (info.value.status, info.value.code) == (400, "too_many_messages")
    assert len(receiver().receive(AUTH, delivery(100))) == 100
    with pytest.raises(TooManyMessagesError):
        receiver(max_messages=5).receive(AUTH, delivery(6))


def test_wrapped_and_single_message_deliveries_are_read() -> None:
    generator = MessageGenerator(5)
    wrapped = json.dumps({"messages": [generator.message(0), generator.message(1)]}).encode()
    assert len(receiver().receive(AUTH, wrapped)) == 2
    single = json.dumps(generator.message(3)).encode()
    assert [m.id for m in receiver().receive(AUTH, single)] == ["LEX-000000003"]


def test_a_receiver_needs_some_authentication() -> None:
    with pytest.raises(ValidationError, match="verifier or a cipher"):
        PushReceiver()
    open_receiver = PushReceiver(allow_unauthenticated=True)
    assert len(open_receiver.receive(JSON, delivery(2))) == 2
    for bad in ({"max_body_bytes": 0}, {"max_messages": True}, {"verifier": "secret"}):
        with pytest.raises(ValidationError):
            receiver(**bad)


def test_push_errors_are_one_tree_with_statuses() -> None:
    for cls, status in [
        (MalformedDeliveryError, 400),
        (TooManyMessagesError, 400),
        (MissingTokenError, 401),
        (InvalidTokenError, 401),
        (DecryptionError, 401),
        (PayloadTooLargeError, 413),
        (UnsupportedMediaTypeError, 415),
        (DuplicateDeliveryError, 200),
        (VerifierUnavailableError, 503),
        (VerificationFailedError, 500),
    ]:
        assert issubclass(cls, PushError)
        assert issubclass(cls, ShiptrackError)
        assert cls.status == status


# -- ciphers ----------------------------------------------------------------------------------


KEY = bytes(range(32))


def test_aes_gcm_round_trip_and_format() -> None:
    cipher = AesGcmCipher(KEY)
    sealed = cipher.encrypt(b'{"a":1}')
    raw = base64.b64decode(sealed, validate=True)
    assert len(raw) == 12 + 7 + 16  # nonce, ciphertext, tag
    assert cipher.decrypt(sealed) == b'{"a":1}'
    assert cipher.decrypt(b"\n " + sealed + b"\r\n") == b'{"a":1}'
    assert cipher.encrypt(b"x") != cipher.encrypt(b"x")  # a fresh nonce each time
    assert AesGcmCipher.from_base64(base64.b64encode(KEY).decode()).decrypt(sealed) == b'{"a":1}'
    assert "0001" not in repr(cipher)
    assert repr(cipher) == "AesGcmCipher(key='***')"


def test_ciphered_delivery_is_received() -> None:
    cipher = AesGcmCipher(KEY)
    messages = PushReceiver(cipher=cipher).receive(
        {"Content-Type": "application/octet-stream"}, cipher.encrypt(delivery(5))
    )
    assert len(messages) == 5


def tampered(sealed: bytes, index: int) -> bytes:
    raw = bytearray(base64.b64decode(sealed))
    raw[index] ^= 0x80
    return base64.b64encode(bytes(raw))


@pytest.mark.parametrize("index", [0, 11, 12, 20, -1])  # nonce, ciphertext, tag
def test_a_tampered_payload_is_401(index: int) -> None:
    cipher = AesGcmCipher(KEY)
    with pytest.raises(DecryptionError) as info:
        PushReceiver(cipher=cipher).receive({}, tampered(cipher.encrypt(delivery()), index))
    assert info.value.status == 401


@pytest.mark.parametrize(
    "body",
    [
        AesGcmCipher(bytes(32)).encrypt(b"[]"),  # another key
        b"not base64 at all!",
        base64.b64encode(b"short"),
        b"[]",  # plain JSON where a ciphered payload is agreed
    ],
)
def test_a_wrong_key_or_garbled_payload_is_401(body: bytes) -> None:
    with pytest.raises(DecryptionError):
        PushReceiver(cipher=AesGcmCipher(KEY)).receive({}, body)


def test_a_custom_cipher_failing_with_value_error_is_a_decryption_error() -> None:
    class Rot:
        def decrypt(self, data: bytes) -> bytes:
            raise ValueError("bad padding")

    with pytest.raises(DecryptionError):
        PushReceiver(cipher=Rot()).receive({}, b"x")


def test_keys_must_be_32_bytes() -> None:
    for key in (b"short", bytes(31), bytes(33), "0" * 32):
        with pytest.raises(ValidationError) as info:
            AesGcmCipher(key)  # type: ignore[arg-type]
        assert info.value.argument == "key"
    with pytest.raises(ValidationError):
        AesGcmCipher.from_base64("***")


def test_a_missing_cryptography_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.ciphers.aead", None)
    with pytest.raises(MissingDependencyError, match=r"shiptrack-sdk\[crypto\]") as info:
        AesGcmCipher(KEY)
    assert isinstance(info.value, ImportError)


# -- de-duplication ---------------------------------------------------------------------------


def test_a_delivery_processed_before_is_a_duplicate() -> None:
    store = InMemoryDedupStore()
    dedup = receiver(dedup_store=store)
    first = dedup.receive(AUTH, delivery(3))
    # Claimed, not processed yet (the handler may still fail): another copy is in flight.
    with pytest.raises(DeliveryInFlightError) as busy:
        dedup.receive(AUTH, delivery(3))
    assert (busy.value.status, busy.value.retry_after) == (503, 10)
    dedup.mark_processed(first)
    with pytest.raises(DuplicateDeliveryError) as info:
        dedup.receive(AUTH, delivery(3))
    assert info.value.status == 200
    # An overlapping delivery gives only the new messages.
    overlap = dedup.receive(AUTH, delivery(4, start=1))
    assert [m.id for m in overlap] == ["LEX-000000003", "LEX-000000004"]
    # Released (the handler failed): the next copy has them again.
    dedup.release(overlap)
    assert [m.id for m in dedup.receive(AUTH, delivery(2, start=3))] == [
        "LEX-000000003",
        "LEX-000000004",
    ]


def test_repeated_ids_within_one_delivery_are_collapsed() -> None:
    generator = MessageGenerator(2)
    body = json.dumps([generator.message(0), generator.message(0), generator.message(1)]).encode()
    assert [m.id for m in receiver(dedup_store=InMemoryDedupStore()).receive(AUTH, body)] == [
        "LEX-000000000",
        "LEX-000000001",
    ]


def test_the_in_memory_store_is_bounded() -> None:
    store = InMemoryDedupStore(max_entries=3)
    for key in "abcd":
        assert store.claim(key) is Claim.NEW
        store.complete(key)
    assert len(store) == 3
    assert not store.seen("a")
    assert store.claim("a") is Claim.NEW  # forgotten
    assert store.seen("d")
    assert store.claim("d") is Claim.DONE
    with pytest.raises(ValidationError):
        InMemoryDedupStore(0)


# -- handle(): the answer for a framework view -------------------------------------------------


def test_handle_answers_and_calls_the_handler_only_for_good_deliveries() -> None:
    handled: list[list[BusinessMessage]] = []
    dedup = receiver(dedup_store=InMemoryDedupStore())
    ok = dedup.handle(AUTH, delivery(2), handled.append)
    assert (ok.status, ok.body) == (200, {"status": "accepted", "received": 2})
    again = dedup.handle(AUTH, delivery(2), handled.append)
    assert (again.status, again.body) == (200, {"status": "duplicate", "received": 0})
    missing = dedup.handle(JSON, delivery(2), handled.append)
    assert missing.status == 401
    assert missing.body["error"] == "missing_token"
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="lex-push"'
    invalid = dedup.handle({"Authorization": "Bearer x"}, delivery(2), handled.append)
    assert 'error="invalid_token"' in invalid.headers["WWW-Authenticate"]
    assert len(handled) == 1
    assert json.loads(ok.content()) == ok.body
    assert ok.status_line == "200 OK"


def test_a_failing_handler_is_500_and_the_messages_stay_new(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dedup = receiver(dedup_store=InMemoryDedupStore())

    def broken(messages: list[BusinessMessage]) -> None:
        raise RuntimeError("database down")

    with caplog.at_level(logging.ERROR, logger="shiptrack_sdk"):
        failed = dedup.handle(AUTH, delivery(2), broken)
    assert failed.status == 500
    assert failed.body["error"] == "handler_failed"
    assert "database down" not in json.dumps(failed.body)
    assert "database down" in caplog.text
    assert dedup.handle(AUTH, delivery(2), lambda ms: None).body["status"] == "accepted"


# -- a verifier, cipher or store that fails: never accepted, always an answer ---------------------


class CrashingVerifier:
    """A partner's verifier with a bug: its exception quotes the token it was given."""

    def __init__(self, exc: type[Exception] = KeyError) -> None:
        self.exc = exc
        self.calls = 0

    def verify(self, token: str) -> bool:
        self.calls += 1
        raise self.exc(f"no such token {token}")


class Answering:
    """A verifier answering ``value`` whatever the token."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def verify(self, token: str) -> Any:
        return self.value


def test_a_crashing_verifier_refuses_the_delivery_with_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crashing = receiver(verifier=CrashingVerifier())
    with (
        caplog.at_level(logging.DEBUG, logger="shiptrack_sdk"),
        pytest.raises(VerificationFailedError) as info,
    ):
        crashing.receive(AUTH, delivery())
    assert (info.value.status, info.value.code) == (500, "verification_failed")
    assert "KeyError" in str(info.value)
    # Neither the error nor the log quotes the token (the verifier's message did).
    assert TOKEN not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "Traceback" in record.getMessage()
    assert "in verify" in record.getMessage()  # the frame that failed
    assert TOKEN not in caplog.text
    assert "LEX-000000000" not in caplog.text  # nor the payload


@pytest.mark.parametrize("answer", [None, "yes", 1, 0, [], {"active": True}])
def test_a_verifier_answering_neither_true_nor_false_never_lets_a_delivery_through(
    answer: Any,
) -> None:
    handled: list[list[BusinessMessage]] = []
    response = receiver(verifier=Answering(answer)).handle(AUTH, delivery(), handled.append)
    assert (response.status, response.body["error"]) == (500, "verification_failed")
    assert handled == []
    assert receiver(verifier=Answering(True)).handle(AUTH, delivery(), handled.append).status == 200
    refused = receiver(verifier=Answering(False)).handle(AUTH, delivery(), handled.append)
    assert refused.status == 401


def test_a_verifier_saying_it_cannot_decide_is_still_503() -> None:
    class Down:
        def verify(self, token: str) -> bool:
            raise VerifierUnavailableError("the token server is down")

    answer = receiver(verifier=Down()).handle(AUTH, delivery(), lambda ms: None)
    assert (answer.status, answer.body["error"]) == (503, "verifier_unavailable")


def test_handle_answers_a_crashing_verifier_with_500_and_does_not_call_the_handler() -> None:
    handled: list[list[BusinessMessage]] = []
    answer = receiver(verifier=CrashingVerifier(RuntimeError)).handle(
        AUTH, delivery(), handled.append
    )
    assert answer.status == 500
    assert answer.body == {
        "status": "rejected",
        "error": "verification_failed",
        "message": "the verifier failed (RuntimeError); the delivery is refused",
    }
    assert handled == []
    assert TOKEN not in json.dumps(answer.body)


def test_a_crashing_cipher_refuses_the_delivery_with_500(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def decrypt(self, data: bytes) -> bytes:
            raise TypeError(f"cannot read {data!r}")

    class Wrong:
        def decrypt(self, data: bytes) -> str:
            return data.decode()

    body = delivery(2)
    for cipher in (Broken(), Wrong()):
        handled: list[list[BusinessMessage]] = []
        with caplog.at_level(logging.ERROR, logger="shiptrack_sdk"):
            answer = PushReceiver(cipher=cipher).handle({}, body, handled.append)
        assert (answer.status, answer.body["error"]) == (500, "verification_failed")
        assert handled == []
    assert "LEX-000000000" not in caplog.text  # the payload the cipher quoted is not logged


def test_a_failing_dedup_store_is_a_500_with_a_json_body() -> None:
    class Down:
        def __init__(self, fail_on: str) -> None:
            self.fail_on = fail_on
            self.released: list[str] = []

        def claim(self, key: str) -> Claim:
            if self.fail_on == "claim":
                raise ConnectionError("store down")
            return Claim.NEW

        def complete(self, key: str) -> None:
            raise ConnectionError("store down")

        def release(self, key: str) -> None:
            self.released.append(key)

    handled: list[list[BusinessMessage]] = []
    answer = receiver(dedup_store=Down("claim")).handle(AUTH, delivery(), handled.append)
    assert (answer.status, answer.body["error"]) == (500, "internal_error")
    assert handled == []
    # Handled, but not recorded: 500, so LEX delivers again (at least once, never lost).
    answer = receiver(dedup_store=Down("complete")).handle(AUTH, delivery(), handled.append)
    assert (answer.status, answer.body["error"]) == (500, "internal_error")
    assert len(handled) == 1


def test_a_store_answering_something_else_than_a_claim_is_a_500() -> None:
    class Odd:
        def claim(self, key: str) -> Any:
            return True

        def complete(self, key: str) -> None: ...

        def release(self, key: str) -> None: ...

    handled: list[list[BusinessMessage]] = []
    answer = receiver(dedup_store=Odd()).handle(AUTH, delivery(), handled.append)
    assert (answer.status, answer.body["error"]) == (500, "internal_error")
    assert handled == []


# -- bad arguments: a ValidationError naming the argument -----------------------------------------


class FrameworkHeaders:
    """Headers as Werkzeug gives them: items(), but not a Mapping."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def items(self) -> list[tuple[str, str]]:
        return list(self.pairs)


def test_headers_may_be_any_object_with_items() -> None:
    headers = FrameworkHeaders(
        [("Authorization", f"Bearer {TOKEN}"), ("Content-Type", "application/json")]
    )
    assert len(receiver().receive(headers, bytearray(delivery(2)))) == 2  # type: ignore[arg-type]


def test_werkzeug_headers_are_read() -> None:
    datastructures = pytest.importorskip("werkzeug.datastructures")
    headers = datastructures.Headers([("Authorization", f"Bearer {TOKEN}")])
    assert receiver().handle(headers, delivery(2), lambda ms: None).status == 200


@pytest.mark.parametrize(
    ("headers", "body", "argument"),
    [
        ("x", b"[]", "headers"),
        (None, b"[]", "headers"),
        ([("Authorization", "Bearer x")], b"[]", "headers"),
        ({"Authorization": 5}, b"[]", "headers"),
        ({b"Authorization": "Bearer x"}, b"[]", "headers"),
        (FrameworkHeaders([("a", "b", "c")]), b"[]", "headers"),  # type: ignore[list-item]
        (AUTH, "[]", "body"),
        (AUTH, None, "body"),
        (AUTH, [1], "body"),
    ],
)
def test_receive_and_handle_refuse_bad_arguments(headers: Any, body: Any, argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        receiver().receive(headers, body)
    assert info.value.argument == argument
    with pytest.raises(ValidationError) as info:
        receiver().handle(headers, body, lambda ms: None)
    assert info.value.argument == argument
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize("handler", [None, "handler", 5])
def test_handle_refuses_a_handler_that_cannot_be_called(handler: Any) -> None:
    with pytest.raises(ValidationError) as info:
        receiver().handle(AUTH, delivery(), handler)
    assert info.value.argument == "handler"


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: receiver().mark_processed("LEX-1"), "messages"),
        (lambda: receiver().mark_processed([{"messageId": "LEX-1"}]), "messages"),
        (lambda: receiver().mark_processed(None), "messages"),
        (lambda: receiver(allow_unauthenticated="yes"), "allow_unauthenticated"),
        (lambda: StaticTokenVerifier(None), "tokens"),
        (lambda: StaticTokenVerifier(5), "tokens"),
        (lambda: StaticTokenVerifier(b"token"), "tokens"),
        (lambda: StaticTokenVerifier(TOKEN).verify(None), "token"),
        (lambda: StaticTokenVerifier(TOKEN).verify(b"x"), "token"),
        (lambda: InMemoryDedupStore().seen(None), "key"),
        (lambda: InMemoryDedupStore().add(["k"]), "key"),
        (lambda: AesGcmCipher(KEY, associated_data="aad"), "associated_data"),
        (lambda: AesGcmCipher(KEY).decrypt("text"), "data"),
        (lambda: AesGcmCipher(KEY).encrypt(None), "data"),
        (lambda: PushResponse("200", {}), "status"),
        (lambda: PushResponse(200, "ok"), "body"),
        (lambda: PushResponse(200, {}, {"X": "a\r\nb"}), "headers"),
        (lambda: push_module.PushWSGIApp(receiver(), print, drain_bytes=-1), "drain_bytes"),
        (lambda: push_module.PushWSGIApp(receiver(), print, drain_bytes="1"), "drain_bytes"),
        (lambda: push_module.PushWSGIApp(receiver(), print)(None, print), "environ"),
        (lambda: push_module.PushWSGIApp(receiver(), print)({}, None), "start_response"),
        (
            lambda: IntrospectionVerifier("https://x/i", "c", "s", cache_ttl="60"),
            "cache_ttl",
        ),
        (
            lambda: IntrospectionVerifier("https://x/i", "c", "s", cache_ttl=float("nan")),
            "cache_ttl",
        ),
        (lambda: IntrospectionVerifier("https://x/i", "c", "s", cache_size=0), "cache_size"),
        (
            lambda: IntrospectionVerifier("https://x/i", "c", "s", required_scope=5),
            "required_scope",
        ),
        (lambda: IntrospectionVerifier("https://x/i", "c", "s", retry=3), "retry"),
        (lambda: IntrospectionVerifier("https://x/i", "c", "s", session="s"), "session"),
        (lambda: IntrospectionVerifier("https://x/i", "c", "s").verify(None), "token"),
        (lambda: IntrospectionVerifier("https://x/i", "c", "s").introspect(5), "token"),
    ],
)
def test_bad_arguments_are_refused_by_name(call: Any, argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.argument == argument


# -- RFC 7662 introspection, against the sandbox --------------------------------------------------


def orders_part(sb: Sandbox) -> OrdersPart:
    return cast(OrdersPart, sb.apps["lex"].orders)  # type: ignore[attr-defined]


def introspection(sb: Sandbox, **options: Any) -> IntrospectionVerifier:
    return IntrospectionVerifier(
        sb.provider_url("lex") + INTROSPECTION_PATH,
        INTROSPECTION_CLIENT_ID,
        INTROSPECTION_CLIENT_SECRET,
        **options,
    )


def test_introspection_accepts_active_tokens_and_caches_them(sb: Sandbox) -> None:
    verifier = introspection(sb, required_scope=PUSH_SCOPE)
    token = orders_part(sb).issue_push_token()
    assert verifier.verify(token)
    assert verifier.verify(token)
    assert verifier.calls == 1
    assert len(sb.calls("/lex" + INTROSPECTION_PATH, "POST")) == 1
    assert not verifier.verify("made-up-token")
    assert verifier.calls == 2


def test_introspection_refuses_inactive_and_out_of_scope_tokens(sb: Sandbox) -> None:
    verifier = introspection(sb, required_scope=PUSH_SCOPE, cache_ttl=0)
    token = orders_part(sb).issue_push_token()
    assert verifier.verify(token)
    sb.tokens.expire_all()  # revoked: without a cache, refused at once
    assert not verifier.verify(token)
    api_token = sb.tokens.issue(sb.apps["lex"].credentials.client_id)["access_token"]
    assert not verifier.verify(api_token)  # active, but not a push token
    assert introspection(sb).verify(api_token)  # no scope required


def test_introspection_that_cannot_answer_is_503(sb: Sandbox) -> None:
    wrong = IntrospectionVerifier(
        sb.provider_url("lex") + INTROSPECTION_PATH, INTROSPECTION_CLIENT_ID, "wrong-secret"
    )
    with pytest.raises(VerifierUnavailableError) as info:
        wrong.verify("anything")
    assert info.value.status == 503
    sb.fault("/lex" + INTROSPECTION_PATH, status=503, times=None)
    down = introspection(sb, retry=RetryPolicy(max_retries=1, backoff_factor=0.001))
    answer = PushReceiver(verifier=down).handle(
        {"Authorization": "Bearer t", **JSON}, delivery(), lambda ms: None
    )
    assert answer.status == 503
    # One refused call for the wrong secret, then two attempts at the failing endpoint.
    assert len(sb.calls("/lex" + INTROSPECTION_PATH, "POST")) == 3


def test_introspection_never_logs_or_shows_secrets(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    verifier = introspection(sb)
    token = orders_part(sb).issue_push_token()
    with caplog.at_level(logging.DEBUG, logger="shiptrack_sdk"):
        verifier.verify(token)
        verifier.verify("not-" + token)
    assert token not in caplog.text
    assert INTROSPECTION_CLIENT_SECRET not in caplog.text + repr(verifier)


def test_introspection_request_shape() -> None:
    url = "https://auth.partner.example/oauth2/introspect"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, url, json={"active": True, "exp": 4102444800})
        rsps.add(responses.POST, url, json={"active": "true"})  # only JSON true counts
        verifier = IntrospectionVerifier(url, "rs-id", "rs-secret", cache_ttl=0)
        assert verifier.verify("tok-1")
        assert not verifier.verify("tok-2")
        form = sent_form(rsps.calls[0].request)
        assert form == {"token": ["tok-1"], "token_type_hint": ["access_token"]}
        expected = base64.b64encode(b"rs-id:rs-secret").decode()
        assert rsps.calls[0].request.headers["Authorization"] == f"Basic {expected}"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, url, json={"active": True, "exp": 1_000_000_000})  # expired
        body_auth = IntrospectionVerifier(url, "rs-id", "rs-secret", client_auth="body")
        assert not body_auth.verify("tok-3")
        sent = sent_form(rsps.calls[0].request)
        assert sent["client_id"] == ["rs-id"]
        assert sent["client_secret"] == ["rs-secret"]
        assert "Authorization" not in rsps.calls[0].request.headers


def sent_form(request: Any) -> dict[str, list[str]]:
    """The form a recorded request sent (its body is text or bytes, as the transport chose)."""
    body = request.body
    return parse_qs(body if isinstance(body, str) else bytes(body).decode())


def test_introspection_url_must_be_https_or_loopback() -> None:
    with pytest.raises(ValidationError) as info:
        IntrospectionVerifier("http://auth.partner.example/introspect", "a", "b")
    assert info.value.argument == "introspection_url"
    IntrospectionVerifier("http://127.0.0.1:8080/introspect", "a", "b")
