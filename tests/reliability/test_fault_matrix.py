"""The fault matrix over real HTTP: every case of :mod:`tests.reliability.matrix` on every
endpoint of every provider, against the embedded sandbox's fault injection.

The endpoints a provider's spec gives (``track(id)``, and an OAuth2 provider's token endpoint
through it) are run from the spec alone: clients from ``sandbox.client(name)``, ids from the
provider's sandbox app, URLs from the spec's sandbox client. :func:`test_fault` runs any cell of
any registered provider, which is how a provider added to the registry is put under it.

Each cell asserts the exact outcome written in the matrix: the result or the exception (its
class, status, ``retry_after``, ``may_have_reached_server``), the number of attempts seen on
the faulted route, the backoffs slept (recorded, never waited), the token requests, and that
no POST that may have been received was sent again. The push receiver's token introspection
is faulted through a delivery: its cells assert the receiver's answer, that the handler is
called only for a delivery whose token was checked, and the introspection's own error. The
docs' table is rendered from the same data.
"""

from __future__ import annotations

import email.utils
import json
import socket
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from shiptrack_sdk import ShiptrackError, Tracking
from shiptrack_sdk._core.client import BaseClient
from shiptrack_sdk._core.spec import load
from shiptrack_sdk._providers import spec
from shiptrack_sdk.errors import RateLimitError, TransportError
from shiptrack_sdk.exporto import Tour, TourDetail
from shiptrack_sdk.lex import BusinessMessage, OrderStatus, SendOutcome, SendReport, SendResult
from shiptrack_sdk.lex._sandbox_orders import (
    INTROSPECTION_CLIENT_ID,
    INTROSPECTION_CLIENT_SECRET,
    PUSH_SCOPE,
)
from shiptrack_sdk.lex.push import (
    IntrospectionVerifier,
    PushReceiver,
    VerifierUnavailableError,
)
from shiptrack_sdk.lex.tracking import Carrier, Party, ShipmentEvent, TrackingMessage
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.shiplemon import HistoryUpdate
from shiptrack_sdk.shiplemon.models import Shipment as ShiplemonShipment
from tests.conftest import SleepRecorder

from . import matrix
from .matrix import Case, Endpoint, Outcome

UTC = timezone.utc
HISTORY = [HistoryUpdate("TRANSIT", datetime(2024, 7, 15, 9, 45, tzinfo=UTC), "With courier")]
MESSAGE = TrackingMessage(
    event=ShipmentEvent("AAR", "R00001", datetime(2024, 5, 14, 6, 0, tzinfo=UTC)),
    carrier=Carrier(id="TRANSPES"),
    sender=Party(id="TELIAE-ES"),
)


def _order() -> BusinessMessage:
    return BusinessMessage.create(
        "ORDER_STATUS",
        OrderStatus(order_number="SO-0000001", status="PICKED"),
        id="MSG-RELIABILITY-1",
        partner_id="3PL-SANDBOX",
    )


Invoke = Callable[[Any], Any]
Check = Callable[[Any], bool]

#: endpoint id → (provider, the call, what a successful result looks like), for the endpoints
#: no spec gives (the others: :func:`call_of`).
CALLS: dict[str, tuple[str, Invoke, Check]] = {
    "shiplemon.tracking.update": (
        "shiplemon",
        lambda c: c.tracking.update(matrix.SHIPLEMON_ID, HISTORY),
        lambda r: isinstance(r, ShiplemonShipment) and r.tracking_status == "TRANSIT",
    ),
    "exporto.shipments.search": (
        "exporto",
        lambda c: list(c.shipments.search(type="inbound")),
        lambda r: [s.shipment_id for s in r] == ["S-240904-0101"],
    ),
    "exporto.tours.list": (
        "exporto",
        lambda c: c.tours.list(),
        lambda r: len(r) == 5 and all(isinstance(t, Tour) for t in r),
    ),
    "exporto.tours.get": (
        "exporto",
        lambda c: c.tours.get(matrix.TOUR_ID),
        lambda r: isinstance(r, TourDetail) and "S-240902-0001" in r.shipment_ids,
    ),
    "lex.orders.fetch": (
        "lex",
        lambda c: c.orders.fetch(10),
        # Ten messages; or the two items of the wrong-shape page, kept as they came.
        lambda r: (
            all(isinstance(m, BusinessMessage) for m in r)
            and ([len(r)] == [10] or [m.raw for m in r] == [{"value": True}, {"unexpected": 1}])
        ),
    ),
    "lex.orders.send": (
        "lex",
        lambda c: c.orders.send(_order()),
        lambda r: isinstance(r, SendResult),
    ),
    "lex.tracking.send": (
        "lex",
        lambda c: c.tracking.send([MESSAGE]),
        lambda r: isinstance(r, SendReport) and len(r.batches) == 1,
    ),
}
CALLS["lex.token@orders.fetch"] = CALLS["lex.orders.fetch"]
CALLS["lex.token@orders.send"] = CALLS["lex.orders.send"]
CALLS["lex.token@tracking.send"] = CALLS["lex.tracking.send"]


def call_of(endpoint: Endpoint, sb: Sandbox) -> tuple[str, Invoke, Check]:
    """The provider, the call and its check of ``endpoint``: a spec's ``track_one`` of its
    sandbox app's first sample id, or one of :data:`CALLS`."""
    if not endpoint.tracks:
        return CALLS[endpoint.id]
    found = spec(endpoint.provider)
    assert found.track_one is not None
    track_one = load(found.track_one)
    sample = sb.apps[found.name].sample_ids[0]

    def invoke(client: Any) -> Any:
        return track_one(client, sample)

    def looks_ok(result: Any) -> bool:
        return (
            isinstance(result, Tracking)
            and result.provider == found.name
            and result.shipment_id == sample
        )

    return found.name, invoke, looks_ok


def test_every_endpoint_of_the_matrix_has_a_call(sb: Sandbox) -> None:
    assert set(CALLS) == {e.id for e in matrix.ENDPOINTS if not e.push and not e.tracks}
    for endpoint in matrix.ENDPOINTS:
        if endpoint.tracks:
            assert sb.apps[endpoint.provider].sample_ids, endpoint.provider
    assert [e.id for e in matrix.ENDPOINTS if e.push] == ["lex.push.introspect"]
    assert len({c.id for c in matrix.CASES}) == len(matrix.CASES)


def test_the_matrix_covers_every_case_on_every_endpoint() -> None:
    for endpoint in matrix.ENDPOINTS:
        assert set(matrix.EXPECTED[endpoint.behaviour]) == {c.id for c in matrix.CASES}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_client(provider: str, sb: Sandbox, **overrides: Any) -> BaseClient:
    client: BaseClient = sb.client(provider, **overrides)
    return client


def _sandbox_url(provider: str, sb: Sandbox, keyword: str) -> str:
    """The ``base_url`` or ``token_url`` the provider's spec points its clients at."""
    sandbox_client = spec(provider).sandbox_client
    assert sandbox_client is not None
    return str(sandbox_client(sb)[keyword])


def _closed_urls(provider: str, endpoint: Endpoint, sb: Sandbox) -> dict[str, str]:
    """Client settings that point the faulted hop at a port where nothing listens."""
    keyword = "token_url" if endpoint.token else "base_url"
    url = urlsplit(_sandbox_url(provider, sb, keyword))
    dead = ("http", f"127.0.0.1:{closed_port()}", url.path, url.query, "")
    return {keyword: urlunsplit(dead)}


def _fault_options(case: Case) -> dict[str, Any]:
    options = dict(case.fault)
    options.setdefault("times", 1)
    if options.get("retry_after") == "date":
        when = datetime.now(UTC) + timedelta(seconds=matrix.RETRY_AFTER_DATE_AHEAD)
        options["retry_after"] = email.utils.format_datetime(when, usegmt=True)
    if options.get("body") == "big":
        options["body"] = b"[" + b"0," * (matrix.BIG_BODY_BYTES // 2) + b"0]"
    return options


def _stored(sb: Sandbox) -> int:
    """Messages the sandbox's LEX stored (tracking messages accepted, orders received)."""
    lex: Any = sb.apps["lex"]
    return int(lex.tracking.accepted_count) + len(lex.orders.received)


def _assert_attempts(
    sb: Sandbox, sleeps: Any, case: matrix.Case, endpoint: matrix.Endpoint, outcome: Any
) -> int:
    """The attempts seen on the faulted route (connection attempts, for a refused one), the
    backoffs slept, and the ``Retry-After`` honoured."""
    if case.kind == "refused":
        attempts = len(sleeps.delays) + 1
    else:
        attempts = len(sb.calls(endpoint.route, endpoint.method))
    assert attempts == outcome.attempts, sb.calls()
    assert len(sleeps.delays) == outcome.backoffs, sleeps.delays
    if outcome.waited is not None:
        assert _close_to(sleeps.delays[0], outcome.waited), sleeps.delays
    return attempts


def _close_to(value: Any, expected: float | str) -> bool:
    if expected == "date":
        # An HTTP date has whole seconds, and a moment passed since it was written.
        ahead = matrix.RETRY_AFTER_DATE_AHEAD
        return isinstance(value, float) and ahead - 3 <= value <= ahead
    return bool(value == expected)


def _params(push: bool) -> list[Any]:
    return [
        pytest.param(*cell, id=f"{cell[0].id}:{cell[1].id}")
        for cell in matrix.cells()
        if cell[1].push is push
    ]


@pytest.mark.parametrize(("case", "endpoint", "outcome"), _params(push=False))
def test_fault(sb: Sandbox, case: Case, endpoint: Endpoint, outcome: Outcome) -> None:
    provider, invoke, looks_ok = call_of(endpoint, sb)
    overrides: dict[str, Any] = {"backoff_factor": 0.001}
    if case.kind == "refused":
        overrides.update(_closed_urls(provider, endpoint, sb))
    if case.kind == "read_timeout":
        # A call's token request is part of the call: it has the call's timeout.
        overrides["timeout"] = (2.0, matrix.READ_TIMEOUT)
    client = make_client(provider, sb, **overrides)
    sleeps = SleepRecorder()
    client._transport.sleep = sleeps
    auth: Any = getattr(client, "auth", None)
    if endpoint.oauth2 and not endpoint.token:
        auth.access_token()  # a token in hand: only the endpoint's own route meets the fault
    if case.kind == "expired":
        sb.tokens.expire_all()  # the server forgets it; the client still thinks it is fresh
    sb.clear_calls()
    if case.kind in ("fault", "read_timeout"):
        sb.fault(endpoint.route, method=endpoint.method, **_fault_options(case))

    result: Any = None
    error: ShiptrackError | None = None
    try:
        result = invoke(client)
    except ShiptrackError as exc:
        error = exc
    finally:
        client.close()
    # Answers the client gave up on are recorded when the server finishes them.
    assert sb._server.wait_idle(5.0)

    # -- the result, or the error ---------------------------------------------------------
    if outcome.returns:
        assert error is None, f"raised {error!r}"
        assert looks_ok(result), result
    else:
        assert error is not None, f"returned {result!r}"
    if outcome.batch is not None:
        report: SendReport = result
        (only,) = report.batches
        assert only.outcome is outcome.batch, (only, only.error)
        error = only.error
        # The batch's status is its POST's answer; one never sent (no token) has none.
        never_sent = endpoint.token and outcome.batch is SendOutcome.FAILED
        assert only.status == (None if never_sent else outcome.status)
        if outcome.batch is SendOutcome.ACCEPTED:
            assert report.ok
        else:
            # Failed batches are surely not stored: safe to resend; in-doubt ones are not.
            safe = report.safe_to_resend()
            assert safe == ([MESSAGE] if outcome.batch is SendOutcome.FAILED else [])
    if outcome.error is None:
        assert error is None, f"unexpected error {error!r}"
    else:
        assert type(error) is outcome.error, repr(error)
        if outcome.status is not None:
            assert getattr(error, "status", None) == outcome.status
        if outcome.may_have_reached_server is not None:
            assert isinstance(error, TransportError)
            assert error.may_have_reached_server is outcome.may_have_reached_server
        if outcome.retry_after is not None:
            assert isinstance(error, RateLimitError)
            assert _close_to(error.retry_after, outcome.retry_after), error.retry_after
        if outcome.says is not None:
            assert outcome.says in str(error)
        assert isinstance(error, ShiptrackError)
        # The error names the call it came from.
        assert getattr(error, "provider", None) == provider or endpoint.token

    # -- attempts, backoffs, tokens -------------------------------------------------------
    attempts = _assert_attempts(sb, sleeps, case, endpoint, outcome)
    if outcome.token_requests is not None:
        token_route = urlsplit(_sandbox_url(provider, sb, "token_url")).path
        assert len(sb.calls(token_route, "POST")) == outcome.token_requests

    # -- no POST resent once it may have been received ------------------------------------
    if provider == "lex":
        assert _stored(sb) <= 1
    if endpoint.method == "POST" and not endpoint.token and case.kind != "refused":
        replays = 1 if case.id.startswith("401") else 0  # a 401 was not processed
        assert attempts <= 1 + replays


# -- the push receiver's token introspection --------------------------------------------------


class RecordingVerifier:
    """Passes ``verify`` to an :class:`IntrospectionVerifier`, keeping what it raised."""

    def __init__(self, inner: IntrospectionVerifier) -> None:
        self.inner = inner
        self.raised: BaseException | None = None

    def verify(self, token: str) -> bool:
        try:
            return self.inner.verify(token)
        except BaseException as exc:
            self.raised = exc
            raise


@pytest.mark.parametrize(("case", "endpoint", "outcome"), _params(push=True))
def test_introspection_fault(sb: Sandbox, case: Case, endpoint: Endpoint, outcome: Outcome) -> None:
    url = sb.url + endpoint.route
    if case.kind == "refused":
        url = f"http://127.0.0.1:{closed_port()}{endpoint.route}"
    options: dict[str, Any] = {"required_scope": PUSH_SCOPE}
    if case.kind == "read_timeout":
        options["timeout"] = (2.0, matrix.READ_TIMEOUT)
    # The verifier's own retry policy: what a receiver gets unless it sets one.
    verifier = IntrospectionVerifier(
        url, INTROSPECTION_CLIENT_ID, INTROSPECTION_CLIENT_SECRET, **options
    )
    sleeps = SleepRecorder()
    verifier._transport.sleep = sleeps
    recording = RecordingVerifier(verifier)
    receiver = PushReceiver(verifier=recording)
    lex: Any = sb.apps["lex"]
    orders = lex.orders
    token = orders.issue_push_token()
    messages = [orders.generator.message(i) for i in range(3)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps(messages).encode()
    if case.kind == "expired":
        sb.tokens.expire_all()  # the authorization server forgets the pushed token
    sb.clear_calls()
    if case.kind in ("fault", "read_timeout"):
        sb.fault(endpoint.route, method=endpoint.method, **_fault_options(case))

    handled: list[list[BusinessMessage]] = []
    answer = receiver.handle(headers, body, handled.append)
    assert sb._server.wait_idle(5.0)

    # -- the receiver's answer: the handler sees only a delivery whose token was checked ---
    assert answer.status == outcome.answer, answer
    assert answer.body.get("error") == outcome.answer_error, answer.body
    assert token not in json.dumps(answer.body) + repr(answer.headers)
    if outcome.returns:
        assert answer.body == {"status": "accepted", "received": 3}
        assert [[m.id for m in batch] for batch in handled] == [[m["messageId"] for m in messages]]
    else:
        assert handled == []
    if outcome.answer == 401:
        assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]

    # -- what the introspection ended with -------------------------------------------------
    raised = recording.raised
    if outcome.error is None:
        assert raised is None, repr(raised)
    else:
        # The receiver's refusal (503), raised from the introspection's own error.
        assert type(raised) is VerifierUnavailableError, repr(raised)
        assert raised.status == 503
        error = raised.__cause__
        assert type(error) is outcome.error, repr(error)
        if outcome.status is not None:
            assert getattr(error, "status", None) == outcome.status
        if outcome.may_have_reached_server is not None:
            assert isinstance(error, TransportError)
            assert error.may_have_reached_server is outcome.may_have_reached_server
        if outcome.says is not None:
            assert outcome.says in str(error)
        if isinstance(error, ShiptrackError):
            assert getattr(error, "provider", None) == "lex-push"
        assert token not in str(raised) + str(error)

    # -- attempts and backoffs: one introspection per delivery, its retries bounded --------
    assert verifier.calls == 1
    _assert_attempts(sb, sleeps, case, endpoint, outcome)

    # -- a refusal is not remembered: once introspection answers, the delivery LEX makes
    # again is handled -----------------------------------------------------------------------
    if outcome.answer == 503 and case.kind != "refused":
        sb.clear_faults()
        again = PushReceiver(verifier=verifier).handle(headers, body, handled.append)
        assert again.status == 200, again
        assert len(handled) == 1
    verifier.close()  # closed last: a closed verifier refuses to introspect
