"""LEX Shipment Tracking: ``client.tracking.send`` — request shapes (``responses``) and
behaviour over real HTTP against the sandbox (batching, failures, in-doubt batches)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses

from shiptrack_sdk import (
    AuthenticationError,
    BadRequestError,
    LexClient,
    ServerError,
    TransportError,
    ValidationError,
)
from shiptrack_sdk._core.convert import structure
from shiptrack_sdk.lex import SendOutcome, SendReport, TrackingValidator
from shiptrack_sdk.lex.tracking import (
    MAX_BATCH_SIZE,
    Carrier,
    Party,
    ShipmentEvent,
    TrackingMessage,
)
from shiptrack_sdk.sandbox import Sandbox
from tests.conftest import load_fixture

PATH = "/lex/lex-shipmenttracking-v1/shipment-tracking"
T0 = datetime(2024, 5, 14, 6, 0, tzinfo=timezone.utc)


def messages(count: int, *, code: str = "AAR", prefix: str = "R") -> list[TrackingMessage]:
    return [
        TrackingMessage(
            event=ShipmentEvent(code, f"{prefix}{i:05d}", T0 + timedelta(seconds=i)),
            carrier=Carrier(id="TRANSPES"),
            sender=Party(id="TELIAE-ES"),
        )
        for i in range(count)
    ]


def accepted_refs(sb: Sandbox) -> list[str]:
    return sb.apps["lex"].tracking.references()  # type: ignore[attr-defined, no-any-return]


def tracking_posts(sb: Sandbox) -> int:
    """How many tracking calls the sandbox answered (faults included)."""
    return len(sb.calls(PATH, "POST"))


# -- request shapes -------------------------------------------------------------------------

BASE = "https://api.michelin.com"
TOKEN_URL = f"{BASE}/idp/v1/internal/oauth/token/accesstoken"
SECRET = "lex-s3cr3t-value"


@responses.activate
def test_token_in_body_form_then_bearer_and_json_array_body() -> None:
    responses.post(
        TOKEN_URL,
        json={"access_token": "tok-123", "token_type": "Bearer", "expires_in": 1800},
    )
    responses.post(f"{BASE}/lex-shipmenttracking-v1/shipment-tracking", json={"ok": True})
    body = load_fixture("lex", "tracking_request_body.json")
    items = [structure(item, TrackingMessage) for item in body]

    client = LexClient(client_id="partner-7", client_secret=SECRET)
    report = client.tracking.send(items)

    assert report.ok
    assert report.counts["accepted"] == 2
    token_call, post = (c.request for c in responses.calls)
    # Michelin's token endpoint: grant type in the query, credentials form-encoded in the body.
    assert token_call.url == f"{TOKEN_URL}?grant_type=client_credentials"
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in token_call.headers
    form = parse_qs(bytes(token_call.body).decode())
    assert form["client_id"] == ["partner-7"]
    assert form["client_secret"] == [SECRET]
    assert "grant_type" not in form  # only in the query (RFC 6749 §3.2)
    # The tracking call: bearer token, JSON array of the messages, exactly as the fixture.
    assert post.url == f"{BASE}/lex-shipmenttracking-v1/shipment-tracking"
    assert post.headers["Authorization"] == "Bearer tok-123"
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.body) == body
    assert report.batches[0].response == {"ok": True}


@responses.activate
def test_path_is_overridable() -> None:
    responses.post(TOKEN_URL, json={"access_token": "t", "expires_in": 60})
    responses.post(f"{BASE}/partner/v2/tracking", status=201)
    client = LexClient(client_id="a", client_secret="b")
    client.tracking.path = "partner/v2/tracking"
    report = client.tracking.send(messages(1))
    assert report.batches[0].status == 201
    assert report.batches[0].response is None  # an empty answer is fine
    assert responses.calls[1].request.url == f"{BASE}/partner/v2/tracking"


@responses.activate
def test_nothing_is_sent_when_a_message_is_invalid() -> None:
    client = LexClient(client_id="a", client_secret="b")
    items = messages(250)
    items[3] = TrackingMessage(event=ShipmentEvent("", "R", T0), carrier=None, sender=Party("S"))
    items[201] = TrackingMessage(event=ShipmentEvent("LIV", "R", T0), sender=Party("S"))
    with pytest.raises(ValidationError) as info:
        client.tracking.send(items)
    assert info.value.problems == (
        ("messages[3].event.code", "must not be empty"),
        ("messages[3].carrier", "is required"),
        ("messages[201].document_url", "is required for event code 'LIV' (proof of the event)"),
        ("messages[201].carrier", "is required"),
    )
    assert len(responses.calls) == 0  # not even the token


@pytest.mark.parametrize("size", [0, -1, MAX_BATCH_SIZE + 1, 2.5, True, "100"])
def test_batch_size_is_checked(size: Any) -> None:
    client = LexClient(client_id="a", client_secret="b")
    with pytest.raises(ValidationError) as info:
        client.tracking.send(messages(1), batch_size=size)
    assert info.value.argument == "batch_size"


def test_messages_must_be_a_list() -> None:
    client = LexClient(client_id="a", client_secret="b")
    with pytest.raises(ValidationError, match="must be a list of TrackingMessage"):
        client.tracking.send(messages(1)[0])  # type: ignore[arg-type]


# -- batching over real HTTP ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "batch_size", "calls"),
    [(1, 100, 1), (100, 100, 1), (101, 100, 2), (10_000, 100, 100), (7, 3, 3)],
)
def test_batching(sb: Sandbox, count: int, batch_size: int, calls: int) -> None:
    client = sb.lex_client()
    items = messages(count)
    report = client.tracking.send(items, batch_size=batch_size)
    assert report.ok
    assert report.counts == {"accepted": count, "failed": 0, "in_doubt": 0, "not_sent": 0}
    assert sb.route_stats("lex.tracking.send")[0] == calls
    assert [b.size for b in report.batches] == [
        min(batch_size, count - start) for start in range(0, count, batch_size)
    ]
    # Each message arrived exactly once, in order; one token served every call.
    assert accepted_refs(sb) == [m.event.business_reference for m in items]
    assert client.auth.token_requests == 1


def test_a_long_send_holds_one_batchs_wire_form_at_a_time(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a journal or a schema, a batch is converted just before it is encoded: the
    messages' wire forms are never all alive at once, only their encoded payloads."""
    from shiptrack_sdk.lex import tracking as tracking_module

    client = sb.lex_client()
    events: list[str] = []
    convert = client.profile.converter.unstructure
    encode = tracking_module.encode_json

    def unstructure(message: Any) -> Any:
        events.append("convert")
        return convert(message)

    def encode_json(value: Any, **kwargs: Any) -> Any:
        events.append(f"encode {len(value)}")
        return encode(value, **kwargs)

    class Profile:  # the client's profile, its converter's unstructure counted
        converter = SimpleNamespace(unstructure=unstructure)

        def __getattr__(self, name: str) -> Any:
            return getattr(client.profile, name)

    monkeypatch.setattr(client.tracking, "profile", Profile())
    monkeypatch.setattr(tracking_module, "encode_json", encode_json)
    assert client.tracking.send(messages(250), batch_size=100).ok
    batch = ["convert"] * 100
    assert events == [*batch, "encode 100", *batch, "encode 100", *batch[:50], "encode 50"]
    assert len(accepted_refs(sb)) == 250


def test_empty_list_sends_nothing(sb: Sandbox) -> None:
    report = sb.lex_client().tracking.send([])
    assert report.ok
    assert report.batches == ()
    assert len(report) == 0
    assert sb.calls() == []


def test_progress_counts_messages(sb: Sandbox) -> None:
    seen: list[tuple[int, int | None]] = []
    sb.lex_client().tracking.send(messages(250), progress=lambda d, t: seen.append((d, t)))
    assert seen == [(100, 250), (200, 250), (250, 250)]


# -- failures ---------------------------------------------------------------------------------


def fault_on_batch(sb: Sandbox, done_before: int, **fault: Any) -> Any:
    """A progress callback that arms ``fault`` once ``done_before`` messages are done, so it hits
    the next batch: a failure in the middle of a send."""

    def progress(done: int, total: int | None) -> None:
        if done == done_before:
            sb.fault(PATH, method="POST", **fault)

    return progress


def test_a_failing_middle_batch_is_reported_and_later_batches_still_sent(sb: Sandbox) -> None:
    client = sb.lex_client(max_retries=0)
    items = messages(300)
    report = client.tracking.send(items, progress=fault_on_batch(sb, 100, status=400))

    assert [b.outcome for b in report.batches] == [
        SendOutcome.ACCEPTED,
        SendOutcome.FAILED,
        SendOutcome.ACCEPTED,
    ]
    assert report.counts == {"accepted": 200, "failed": 100, "in_doubt": 0, "not_sent": 0}
    failed = report.failed
    assert [r.index for r in failed] == list(range(100, 200))
    assert all(r.message is items[r.index] for r in failed)
    assert isinstance(failed[0].error, BadRequestError)
    assert failed[0].error.status == 400
    assert report.batches[1].status == 400
    assert not report.ok
    # Accepted batches went once; the failed one is safe to send again.
    assert accepted_refs(sb) == [m.event.business_reference for m in items[:100] + items[200:]]
    assert report.safe_to_resend() == items[100:200]
    assert tracking_posts(sb) == 3


def test_resending_what_failed_delivers_everything_exactly_once(sb: Sandbox) -> None:
    client = sb.lex_client(max_retries=0)
    items = messages(250)
    first = client.tracking.send(items, progress=fault_on_batch(sb, 100, status=429))
    assert first.counts["failed"] == 100
    second = client.tracking.send(first.safe_to_resend())
    assert second.ok
    assert sorted(accepted_refs(sb)) == sorted(m.event.business_reference for m in items)


def test_server_refusal_carries_its_problems(sb: Sandbox) -> None:
    # The partner's validator and the server disagree on which codes need a document:
    # the server refuses the batch, with its problems in the error.
    client = sb.lex_client()
    items = messages(150) + messages(2, code="LIV", prefix="D")
    report = client.tracking.send(items, validator=TrackingValidator(document_required_codes=()))
    assert [b.outcome for b in report.batches] == [SendOutcome.ACCEPTED, SendOutcome.FAILED]
    error = report.batches[1].error
    assert isinstance(error, BadRequestError)
    assert error.status == 400
    assert error.metadata == [
        {"path": "[50].documentUrl", "message": "is required for event code LIV"},
        {"path": "[51].documentUrl", "message": "is required for event code LIV"},
    ]
    assert len(accepted_refs(sb)) == 100


def test_read_timeout_after_the_server_accepted_is_in_doubt_and_not_resent(sb: Sandbox) -> None:
    client = sb.lex_client(timeout=(5, 0.2), backoff_factor=0.001)
    items = messages(300)
    report = client.tracking.send(items, progress=fault_on_batch(sb, 100, after=True, delay=0.6))

    assert [b.outcome for b in report.batches] == [
        SendOutcome.ACCEPTED,
        SendOutcome.IN_DOUBT,
        SendOutcome.ACCEPTED,
    ]
    in_doubt = report.in_doubt
    assert [r.index for r in in_doubt] == list(range(100, 200))
    error = in_doubt[0].error
    assert isinstance(error, TransportError)
    assert error.may_have_reached_server
    # The server did store the batch: it arrived exactly once — the SDK did not resend it
    # — and it is not offered for resending either. (Counted by the route, which handled it
    # before the late answer; the call itself is recorded once that answer is written.)
    assert sb.route_stats("lex.tracking.send")[0] == 3
    refs = accepted_refs(sb)
    assert len(refs) == len(set(refs)) == 300
    assert report.safe_to_resend() == []


def test_connection_reset_after_sending_is_in_doubt(sb: Sandbox) -> None:
    client = sb.lex_client(backoff_factor=0.001)
    report = client.tracking.send(
        messages(200), progress=fault_on_batch(sb, 100, after=True, action="drop")
    )
    assert report.counts == {"accepted": 100, "failed": 0, "in_doubt": 100, "not_sent": 0}
    assert tracking_posts(sb) == 2  # not retried
    assert len(accepted_refs(sb)) == 200


def test_gateway_timeout_is_in_doubt(sb: Sandbox) -> None:
    client = sb.lex_client(max_retries=3, backoff_factor=0.001)
    sb.fault(PATH, method="POST", status=504)
    report = client.tracking.send(messages(10))
    assert report.counts["in_doubt"] == 10
    assert tracking_posts(sb) == 1  # a POST is not retried on an answer


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_after_the_batch_was_stored_is_in_doubt_not_offered_again(
    sb: Sandbox, status: int
) -> None:
    # The backend stores the batch, then answers with a server error: the messages are
    # stored, so offering them for resending would store them twice.
    client = sb.lex_client(max_retries=3, backoff_factor=0.001)
    items = messages(200)
    report = client.tracking.send(
        items, progress=fault_on_batch(sb, 100, after=True, status=status)
    )
    assert [b.outcome for b in report.batches] == [SendOutcome.ACCEPTED, SendOutcome.IN_DOUBT]
    error = report.batches[1].error
    assert isinstance(error, ServerError)
    assert error.status == status
    assert tracking_posts(sb) == 2  # a POST is not retried on an answer
    refs = accepted_refs(sb)
    assert len(refs) == len(set(refs)) == 200
    assert report.safe_to_resend() == []


class Interrupt(Exception):
    """The caller's progress callback failing, or the process being interrupted."""


def test_an_interrupted_send_keeps_its_report_on_the_exception(sb: Sandbox) -> None:
    client = sb.lex_client()
    items = messages(400)

    def progress(done: int, total: int | None) -> None:
        if done == 200:
            raise Interrupt

    with pytest.raises(Interrupt) as info:
        client.tracking.send(items, progress=progress)
    report = info.value.shiptrack_report  # type: ignore[attr-defined]
    assert isinstance(report, SendReport)
    # Two batches were stored; the callback failed between batches, so none was in flight.
    assert report.counts == {"accepted": 200, "failed": 0, "in_doubt": 0, "not_sent": 200}
    assert len(accepted_refs(sb)) == 200
    assert report.safe_to_resend() == items[200:]
    assert client.tracking.send(report.safe_to_resend()).ok
    refs = accepted_refs(sb)
    assert len(refs) == len(set(refs)) == 400


def test_a_batch_in_flight_when_interrupted_is_in_doubt(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = sb.lex_client()
    items = messages(300)
    real = client._transport.request
    calls = 0

    def request(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        response = real(*args, **kwargs)
        if calls == 2:  # the second batch reached the sandbox; Ctrl-C before its answer is read
            raise KeyboardInterrupt
        return response

    monkeypatch.setattr(client._transport, "request", request)
    with pytest.raises(KeyboardInterrupt) as info:
        client.tracking.send(items)
    report = info.value.shiptrack_report  # type: ignore[attr-defined]
    assert [b.outcome for b in report.batches] == [
        SendOutcome.ACCEPTED,
        SendOutcome.IN_DOUBT,
        SendOutcome.NOT_SENT,
    ]
    assert report.safe_to_resend() == items[200:]
    assert len(accepted_refs(sb)) == 200  # the in-doubt batch was stored indeed


def test_refused_connection_is_failed_and_safe_to_resend(sb: Sandbox) -> None:
    client = sb.lex_client(max_retries=1, backoff_factor=0.001)
    client.auth.access_token()  # a token in hand: only the tracking calls meet the outage
    client.tracking.path = f"http://127.0.0.1:{_closed_port()}{PATH}"
    report = client.tracking.send(messages(3))
    assert report.counts["failed"] == 3
    error = report.failed[0].error
    assert isinstance(error, TransportError)
    assert not error.may_have_reached_server
    assert len(report.safe_to_resend()) == 3


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_stop_on_error_leaves_the_rest_not_sent(sb: Sandbox) -> None:
    client = sb.lex_client(max_retries=0)
    items = messages(400)
    report = client.tracking.send(
        items, stop_on_error=True, progress=fault_on_batch(sb, 100, status=500)
    )
    assert [b.outcome.value for b in report.batches] == [
        "accepted",
        "in_doubt",
        "not_sent",
        "not_sent",
    ]
    assert [r.index for r in report.not_sent] == list(range(200, 400))
    assert report.safe_to_resend() == items[200:]
    assert tracking_posts(sb) == 2


def test_refused_credentials_stop_the_send(sb: Sandbox) -> None:
    client = sb.lex_client(client_secret="wrong")
    report = client.tracking.send(messages(300))
    assert [b.outcome for b in report.batches] == [
        SendOutcome.FAILED,
        SendOutcome.NOT_SENT,
        SendOutcome.NOT_SENT,
    ]
    assert isinstance(report.errors[0], AuthenticationError)
    assert client.auth.token_requests == 1  # not once per batch
    assert tracking_posts(sb) == 0
    assert "wrong" not in str(report.errors[0])


def test_expired_token_is_renewed_and_the_batch_replayed_once(sb: Sandbox) -> None:
    client = sb.lex_client()
    client.tracking.send(messages(1))
    sb.tokens.expire_all()  # the server forgets it; the client still thinks it is fresh
    report = client.tracking.send(messages(5, prefix="N"))
    assert report.ok
    assert client.auth.token_requests == 2
    assert accepted_refs(sb)[1:] == [f"N{i:05d}" for i in range(5)]


def test_report_summary() -> None:
    from shiptrack_sdk.lex.tracking import BatchResult

    items = tuple(messages(5))
    report = SendReport(
        items,
        (
            BatchResult(0, 0, 2, SendOutcome.ACCEPTED, status=200),
            BatchResult(1, 2, 4, SendOutcome.IN_DOUBT, error=TransportError("read timeout")),
            BatchResult(2, 4, 5, SendOutcome.NOT_SENT),
        ),
    )
    assert repr(report) == ("SendReport(accepted=2, failed=0, in_doubt=2, not_sent=1, batches=3)")
    assert [r.index for r in report.accepted] == [0, 1]
    assert [r.index for r in report.in_doubt] == [2, 3]
    assert report.safe_to_resend() == [items[4]]
    assert len(report.errors) == 1
    assert len(report) == 5


def test_sandbox_records_the_token_call_as_a_form(sb: Sandbox) -> None:
    sb.lex_client().tracking.send(messages(1))
    (token_call,) = sb.calls("/lex/idp/*", "POST")
    assert token_call.query == {"grant_type": ["client_credentials"]}
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(token_call.body.decode())
    assert form["client_id"] == [sb.apps["lex"].credentials.client_id]
    assert form["client_secret"] == [sb.apps["lex"].credentials.client_secret]
    (post,) = sb.calls(PATH, "POST")
    assert post.headers["Authorization"].startswith("Bearer ")
    assert isinstance(post.json(), list)
