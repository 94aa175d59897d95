"""The fault matrix as data: every case, every endpoint, and the exact outcome expected.

``test_fault_matrix.py`` runs each cell over real HTTP against the embedded sandbox and asserts
the outcome written here; the reliability page of the docs renders its table from the same
data (the ``fault-matrix`` directive), so the table is never written twice.

Attempts are counted where the fault is: the calls the sandbox recorded on the faulted route,
or, for a refused connection (which no server records), the retries' backoffs plus one.

Every provider that tracks by id (its spec's ``tracks``) is under fault through that call, and
an OAuth2 provider's token endpoint through it too: those columns come from the registry of
provider specs (:func:`spec_endpoints`), so a provider added to the registry is under the
whole matrix without a line here. The other endpoints are each provider's own calls.

The SDK calls one endpoint that is not a provider's API: the push receiver's RFC 7662 token
introspection (:class:`~shiptrack_sdk.lex.push.IntrospectionVerifier`, at the partner's
authorization server; the sandbox serves one). Its column is what the receiver answers LEX
for a delivery whose bearer token is checked there while the fault happens.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from shiptrack_sdk._core.spec import OAuth2AuthSpec, ProviderSpec
from shiptrack_sdk._providers import all_specs
from shiptrack_sdk.errors import (
    AuthenticationError,
    RateLimitError,
    ResponseError,
    ServerError,
    ShiptrackError,
    TokenRefusedError,
    TokenResponseError,
    TokenServerError,
    TokenTransportError,
    TransportError,
)
from shiptrack_sdk.lex._sandbox_orders import INTROSPECTION_PATH
from shiptrack_sdk.lex.tracking import SendOutcome

__all__ = [
    "CASES",
    "ENDPOINTS",
    "EXPECTED",
    "Case",
    "Endpoint",
    "Outcome",
    "cells",
    "endpoints",
    "expected",
    "spec_endpoints",
]

#: Seconds of the ``Retry-After`` sent as delta-seconds.
RETRY_AFTER_SECONDS = 7
#: How far ahead the ``Retry-After`` sent as an HTTP date is: within every endpoint's total
#: deadline (the push verifier's is 15 s), so it is honoured, not refused.
RETRY_AFTER_DATE_AHEAD = 10
#: The client's read timeout in the read-timeout case, and the server's delay.
READ_TIMEOUT = 0.15
SERVER_DELAY = 0.5
#: The body of the "50 MB" case: above the 32 MiB ``max_response_bytes``.
BIG_BODY_BYTES = 50 * 1024 * 1024

HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>"
)


@attrs.frozen
class Case:
    """One way for a call to go wrong.

    Attributes:
        id: Short name (test ids, table rows).
        title: What happens, for the docs.
        kind: ``"fault"`` (injected with ``sandbox.fault(**fault)``), ``"refused"`` (the
            client points at a closed port), ``"expired"`` (the server forgets every token)
            or ``"read_timeout"`` (a fault delaying the answer past the client's read
            timeout).
        fault: Keyword arguments of ``sandbox.fault``; ``retry_after="date"`` stands for an
            HTTP date :data:`RETRY_AFTER_DATE_AHEAD` seconds ahead, ``body="big"`` for
            :data:`BIG_BODY_BYTES` bytes.
    """

    id: str
    title: str
    kind: str = "fault"
    fault: Mapping[str, Any] = attrs.field(factory=dict)


def _status(status: int, times: int | None) -> Case:
    once = times == 1
    return Case(
        f"{status}-{'once' if once else 'always'}",
        f"{status}, {'once then success' if once else 'on every attempt'}",
        fault={"status": status, "times": times},
    )


CASES: tuple[Case, ...] = (
    Case("refused", "connection refused (nothing listens)", kind="refused"),
    Case("reset-before", "connection reset before the answer, once", fault={"action": "drop"}),
    Case(
        "reset-mid",
        "connection reset in the middle of the body, once",
        fault={"action": "reset_mid"},
    ),
    Case(
        "read-timeout",
        f"answer later than the read timeout ({READ_TIMEOUT} s), once",
        kind="read_timeout",
        fault={"delay": SERVER_DELAY},
    ),
    Case(
        "429-seconds",
        f"429 with Retry-After: {RETRY_AFTER_SECONDS} (seconds), once",
        fault={"status": 429, "retry_after": RETRY_AFTER_SECONDS},
    ),
    Case(
        "429-date",
        f"429 with Retry-After as an HTTP date {RETRY_AFTER_DATE_AHEAD} s ahead, once",
        fault={"status": 429, "retry_after": "date"},
    ),
    *(_status(status, 1) for status in (500, 502, 503, 504)),
    *(_status(status, None) for status in (500, 502, 503, 504)),
    Case("401-expired", "401: the server forgot the cached token", kind="expired"),
    Case("401-always", "401 on every attempt", fault={"status": 401, "times": None}),
    Case(
        "html-502",
        "an HTML error page (502, text/html) on every attempt",
        fault={"status": 502, "body": HTML_PAGE, "content_type": "text/html", "times": None},
    ),
    Case(
        "html-200",
        "an HTML page with 200",
        fault={"status": 200, "body": HTML_PAGE, "content_type": "text/html"},
    ),
    Case(
        "truncated-json",
        "truncated JSON (200)",
        fault={"status": 200, "body": '{"data": [{"id": "S-1", "status": "deliv'},
    ),
    Case(
        "wrong-shape",
        "JSON of the wrong shape (200)",
        fault={"status": 200, "body": '[true, {"unexpected": 1}]'},
    ),
    Case(
        "body-50mb",
        "a 50 MB body (200, over the 32 MiB limit)",
        fault={"status": 200, "body": "big"},
    ),
    Case("empty-200", "an empty 200", fault={"status": 200, "body": ""}),
)


@attrs.frozen
class Endpoint:
    """One endpoint under test.

    Attributes:
        id: Short name (test ids, table columns).
        call: The call made, for the docs.
        method: The HTTP method of the faulted route.
        route: The sandbox path of the faulted route.
        behaviour: The key of its outcomes in :data:`EXPECTED`.
        oauth2: Whether the client authenticates with OAuth2 (a token is fetched first,
            unless the token endpoint itself is under test).
        token: Whether the faulted route is the token endpoint, reached through ``call``.
        push: Whether the faulted route is the push receiver's token introspection, reached
            through a delivery: the outcome is what the receiver answers.
        tracks: Whether the call is the provider's ``track`` (its spec's ``tracks``) of the
            first of its sandbox app's ``sample_ids``, rather than a call written here.
    """

    id: str
    call: str
    method: str
    route: str
    behaviour: str
    oauth2: bool = True
    token: bool = False
    push: bool = False
    tracks: bool = False

    @property
    def provider(self) -> str:
        """The provider the endpoint is of (the first part of its id)."""
        return self.id.split(".", 1)[0]


def spec_endpoints(spec: ProviderSpec) -> tuple[Endpoint, ...]:
    """The endpoints of a provider that tracks by id, from its spec alone.

    ``track(id)`` (the spec's ``track_one``), and for an OAuth2 provider its token endpoint,
    reached through it. The faulted route is every GET under the provider's sandbox prefix
    (every POST, for the token): ``track`` sends one GET per id, and POSTs only for a token.
    """
    if not spec.pullable:
        return ()
    oauth2 = isinstance(spec.auth, OAuth2AuthSpec)
    prefix = f"/{spec.name}/*"
    track = Endpoint(
        f"{spec.name}.track",
        f"{spec.name} track(id)",
        "GET",
        prefix,
        "read-oauth2" if oauth2 else "read-key",
        oauth2=oauth2,
        tracks=True,
    )
    if not oauth2:
        return (track,)
    token = Endpoint(
        f"{spec.name}.token",
        f"{spec.name} token, through track(id)",
        "POST",
        prefix,
        "token",
        token=True,
        tracks=True,
    )
    return (track, token)


SHIPLEMON_ID = "be96511d-ba23-4268-bd8b-48c9cf930222"
TOUR_ID = "T-20240902"
LEX_ORDERS = "/lex/lex-orderexecution-v1/business-messages"
LEX_TRACKING = "/lex/lex-shipmenttracking-v1/shipment-tracking"
LEX_TOKEN = "/lex/idp/v1/internal/oauth/token/accesstoken"
LEX_INTROSPECT = f"/lex{INTROSPECTION_PATH}"

#: Each provider's own calls, beside what every provider's spec gives (:func:`spec_endpoints`).
WRITTEN: tuple[Endpoint, ...] = (
    Endpoint(
        "shiplemon.tracking.update",
        "shiplemon tracking.update(id, history)",
        "PUT",
        f"/shiplemon/v1/shipments/{SHIPLEMON_ID}/tracking",
        "read-key",
        oauth2=False,
    ),
    Endpoint(
        "exporto.shipments.search",
        "exporto shipments.search(type=...)",
        "GET",
        "/exporto/v1/shipment/search",
        "read-oauth2",
    ),
    Endpoint(
        "exporto.tours.list", "exporto tours.list()", "GET", "/exporto/v1/tour", "read-oauth2"
    ),
    Endpoint(
        "exporto.tours.get",
        "exporto tours.get(id)",
        "GET",
        f"/exporto/v1/tour/{TOUR_ID}",
        "read-oauth2",
    ),
    Endpoint("lex.orders.fetch", "LEX orders.fetch()", "GET", LEX_ORDERS, "read-orders"),
    Endpoint("lex.orders.send", "LEX orders.send(message)", "POST", LEX_ORDERS, "orders-send"),
    Endpoint(
        "lex.tracking.send", "LEX tracking.send(messages)", "POST", LEX_TRACKING, "tracking-send"
    ),
    Endpoint(
        "lex.token@orders.fetch",
        "LEX token, through orders.fetch()",
        "POST",
        LEX_TOKEN,
        "token",
        token=True,
    ),
    Endpoint(
        "lex.token@orders.send",
        "LEX token, through orders.send(message)",
        "POST",
        LEX_TOKEN,
        "token",
        token=True,
    ),
    Endpoint(
        "lex.token@tracking.send",
        "LEX token, through tracking.send(messages)",
        "POST",
        LEX_TOKEN,
        "token-tracking-send",
        token=True,
    ),
    Endpoint(
        "lex.push.introspect",
        "LEX push receiver: token introspection, through PushReceiver.handle(delivery)",
        "POST",
        LEX_INTROSPECT,
        "push-introspection",
        oauth2=False,
        push=True,
    ),
)


def endpoints(specs: Iterable[ProviderSpec] | None = None) -> tuple[Endpoint, ...]:
    """Every endpoint under fault: those of each spec (the registry's by default), then the
    providers' own calls."""
    found = [e for spec in (all_specs() if specs is None else specs) for e in spec_endpoints(spec)]
    return (*found, *WRITTEN)


#: Every endpoint under fault, the registered providers' included.
ENDPOINTS: tuple[Endpoint, ...] = endpoints()


@attrs.frozen
class Outcome:
    """What a call under a fault ends with.

    Attributes:
        returns: The call returns (a result, or for ``tracking.send`` a report; for the push
            receiver, the delivery is accepted and handed to the handler).
        error: The exception raised (or the batch's error in a ``tracking.send`` report;
            for the push receiver, the error the introspection call ended with, which the
            receiver's refusal is raised from), exactly this class.
        status: The error's HTTP status (``status`` of an ``APIError`` or ``ResponseError``,
            or of the batch).
        may_have_reached_server: A ``TransportError``'s flag.
        retry_after: A ``RateLimitError``'s ``retry_after``: seconds, or ``"date"`` for the
            HTTP-date case (a little under :data:`RETRY_AFTER_DATE_AHEAD`).
        batch: The outcome of the ``tracking.send`` batch.
        attempts: Requests on the faulted route (connection attempts, when refused).
        sleeps: Backoffs slept (default: one per retry, ``attempts - 1``).
        waited: The one backoff that is known exactly: the ``Retry-After`` honoured
            (seconds, or ``"date"``).
        token_requests: Token requests during the call (a token was already cached), for
            OAuth2 endpoints whose own route is faulted.
        says: Text the error's message contains.
        answer: The push receiver's HTTP answer to the delivery.
        answer_error: The ``error`` code of that answer (``None`` when accepted).
    """

    returns: bool = False
    error: type[Exception] | None = None
    status: int | None = None
    may_have_reached_server: bool | None = None
    retry_after: float | str | None = None
    batch: SendOutcome | None = None
    attempts: int = 1
    sleeps: int | None = None
    waited: float | str | None = None
    token_requests: int | None = None
    says: str | None = None
    answer: int | None = None
    answer_error: str | None = None

    @property
    def backoffs(self) -> int:
        return self.attempts - 1 if self.sleeps is None else self.sleeps


def ok(attempts: int = 1, **kwargs: Any) -> Outcome:
    """The call returns its result after ``attempts`` attempts."""
    return Outcome(returns=True, attempts=attempts, **kwargs)


def raises(error: type[ShiptrackError], attempts: int = 1, **kwargs: Any) -> Outcome:
    """The call raises ``error`` after ``attempts`` attempts."""
    return Outcome(error=error, attempts=attempts, **kwargs)


def batch(
    outcome: SendOutcome, error: type[ShiptrackError] | None = None, **kwargs: Any
) -> Outcome:
    """``tracking.send`` reports its batch ``outcome`` (with ``error``)."""
    return Outcome(returns=True, batch=outcome, error=error, **kwargs)


RETRY_AFTER = float(RETRY_AFTER_SECONDS)
REFUSED = {"may_have_reached_server": False, "says": "connection refused"}
BROKEN = {"may_have_reached_server": True}
TIMEOUT = {"may_have_reached_server": True, "says": "read timeout"}
NOT_JSON = {"status": 200, "says": "not JSON"}
TOO_BIG = {"status": 200, "says": "exceeds the limit"}

#: GET and PUT: idempotent, retried on broken connections, timeouts, 429, 502, 503, 504.
_READ: dict[str, Outcome | None] = {
    "refused": raises(TransportError, 4, **REFUSED),
    "reset-before": ok(2),
    "reset-mid": ok(2),
    "read-timeout": ok(2),
    "429-seconds": ok(2, waited=RETRY_AFTER),
    "429-date": ok(2, waited="date"),
    "500-once": raises(ServerError, 1, status=500),
    "502-once": ok(2),
    "503-once": ok(2),
    "504-once": ok(2),
    "500-always": raises(ServerError, 1, status=500),
    "502-always": raises(ServerError, 4, status=502),
    "503-always": raises(ServerError, 4, status=503),
    "504-always": raises(ServerError, 4, status=504),
    "401-expired": None,
    "401-always": raises(AuthenticationError, 1, status=401),
    "html-502": raises(ServerError, 4, status=502, says="502 Bad Gateway"),
    "html-200": raises(ResponseError, 1, **NOT_JSON),
    "truncated-json": raises(ResponseError, 1, **NOT_JSON),
    "wrong-shape": raises(ResponseError, 1, status=200, says="answer"),
    "body-50mb": raises(ResponseError, 1, **TOO_BIG),
    "empty-200": raises(ResponseError, 1, status=200, says="empty body"),
}


def _with_tokens(
    table: Mapping[str, Outcome | None], **overrides: Outcome
) -> dict[str, Outcome | None]:
    """``table`` for an OAuth2 endpoint with a cached token: no token request unless said."""
    out = {
        k: attrs.evolve(v, token_requests=0) if v and v.token_requests is None else v
        for k, v in table.items()
    }
    out.update(overrides)
    return out


#: The 401 of an OAuth2 endpoint: the token is renewed once and the request replayed once.
_OAUTH2_401 = {
    "401-expired": ok(2, sleeps=0, token_requests=1),
    "401-always": raises(AuthenticationError, 2, status=401, sleeps=0, token_requests=1),
}

#: ``tracking.send``: each batch is posted once; a POST that may have been received is never
#: resent, and its messages are reported in doubt.
_TRACKING_SEND: dict[str, Outcome | None] = {
    "refused": batch(SendOutcome.FAILED, TransportError, attempts=4, **REFUSED),
    "reset-before": batch(SendOutcome.IN_DOUBT, TransportError, **BROKEN),
    "reset-mid": batch(SendOutcome.IN_DOUBT, TransportError, **BROKEN),
    "read-timeout": batch(SendOutcome.IN_DOUBT, TransportError, **TIMEOUT),
    "429-seconds": batch(SendOutcome.FAILED, RateLimitError, status=429, retry_after=RETRY_AFTER),
    "429-date": batch(SendOutcome.FAILED, RateLimitError, status=429, retry_after="date"),
    "500-once": batch(SendOutcome.IN_DOUBT, ServerError, status=500),
    "502-once": batch(SendOutcome.IN_DOUBT, ServerError, status=502),
    "503-once": batch(SendOutcome.IN_DOUBT, ServerError, status=503),
    "504-once": batch(SendOutcome.IN_DOUBT, ServerError, status=504),
    "500-always": batch(SendOutcome.IN_DOUBT, ServerError, status=500),
    "502-always": batch(SendOutcome.IN_DOUBT, ServerError, status=502),
    "503-always": batch(SendOutcome.IN_DOUBT, ServerError, status=503),
    "504-always": batch(SendOutcome.IN_DOUBT, ServerError, status=504),
    "401-expired": batch(SendOutcome.ACCEPTED, status=200, attempts=2, sleeps=0, token_requests=1),
    "401-always": batch(
        SendOutcome.FAILED,
        AuthenticationError,
        status=401,
        attempts=2,
        sleeps=0,
        token_requests=1,
    ),
    "html-502": batch(SendOutcome.IN_DOUBT, ServerError, status=502, says="502 Bad Gateway"),
    "html-200": batch(SendOutcome.ACCEPTED, status=200),
    "truncated-json": batch(SendOutcome.ACCEPTED, status=200),
    "wrong-shape": batch(SendOutcome.ACCEPTED, status=200),
    "body-50mb": batch(SendOutcome.ACCEPTED, status=200),
    "empty-200": batch(SendOutcome.ACCEPTED, status=200),
}

#: ``orders.send``: one POST per message, never resent once it may have been received.
_ORDERS_SEND: dict[str, Outcome | None] = {
    "refused": raises(TransportError, 4, **REFUSED),
    "reset-before": raises(TransportError, 1, **BROKEN),
    "reset-mid": raises(TransportError, 1, **BROKEN),
    "read-timeout": raises(TransportError, 1, **TIMEOUT),
    "429-seconds": raises(RateLimitError, 1, status=429, retry_after=RETRY_AFTER),
    "429-date": raises(RateLimitError, 1, status=429, retry_after="date"),
    **{
        f"{status}-{times}": raises(ServerError, 1, status=status)
        for status in (500, 502, 503, 504)
        for times in ("once", "always")
    },
    **_OAUTH2_401,
    "html-502": raises(ServerError, 1, status=502, says="502 Bad Gateway"),
    # A success status means the message was stored: an answer that cannot be read (not
    # JSON, not an object, too large) is kept in SendResult.extra["answer"], never raised as
    # a failure that would invite a second POST.
    "html-200": ok(1),
    "truncated-json": ok(1),
    "wrong-shape": ok(1),
    "body-50mb": ok(1),
    # LEX may acknowledge a message without a body.
    "empty-200": ok(1),
}

#: The token endpoint, reached through a call: a token request is sent before the request it
#: authenticates, so it is retried whatever the call's method, on broken connections,
#: timeouts, 429 (honouring Retry-After) and every 5xx. Its failures are the token error
#: classes (each a subclass of the error the same failure of a request raises).
_TOKEN: dict[str, Outcome | None] = {
    "refused": raises(TokenTransportError, 4, **REFUSED),
    "reset-before": ok(2),
    "reset-mid": ok(2),
    "read-timeout": ok(2),
    "429-seconds": ok(2, waited=RETRY_AFTER),
    "429-date": ok(2, waited="date"),
    **{f"{status}-once": ok(2) for status in (500, 502, 503, 504)},
    **{
        f"{status}-always": raises(TokenServerError, 4, status=status)
        for status in (500, 502, 503, 504)
    },
    "401-expired": None,
    "401-always": raises(TokenRefusedError, 1, status=401),
    "html-502": raises(TokenServerError, 4, status=502, says="502 Bad Gateway"),
    "html-200": raises(TokenResponseError, 1, **NOT_JSON),
    "truncated-json": raises(TokenResponseError, 1, **NOT_JSON),
    "wrong-shape": raises(TokenResponseError, 1, status=200, says="not a token object"),
    "body-50mb": raises(TokenResponseError, 1, **TOO_BIG),
    "empty-200": raises(TokenResponseError, 1, **NOT_JSON),
}


def _handled(attempts: int, **kwargs: Any) -> Outcome:
    """The token is checked and the delivery handled, after ``attempts`` introspections."""
    return Outcome(returns=True, answer=200, attempts=attempts, **kwargs)


def _unavailable(error: type[Exception], attempts: int, **kwargs: Any) -> Outcome:
    """The introspection ends with ``error``: the receiver answers 503."""
    return Outcome(
        error=error, answer=503, answer_error="verifier_unavailable", attempts=attempts, **kwargs
    )


#: The push receiver's token introspection: the call changes nothing, so it is retried like a
#: GET (the verifier's default ``RetryPolicy(max_retries=2)``: three attempts at most). Whatever
#: fails, the delivery is never handed to the handler: a token that could not be checked is
#: answered 503 (LEX may deliver again), a token the server does not know 401.
_INTROSPECTION: dict[str, Outcome | None] = {
    "refused": _unavailable(TransportError, 3, **REFUSED),
    "reset-before": _handled(2),
    "reset-mid": _handled(2),
    "read-timeout": _handled(2),
    "429-seconds": _handled(2, waited=RETRY_AFTER),
    "429-date": _handled(2, waited="date"),
    "500-once": _unavailable(ServerError, 1, status=500),
    **{f"{status}-once": _handled(2) for status in (502, 503, 504)},
    "500-always": _unavailable(ServerError, 1, status=500),
    **{
        f"{status}-always": _unavailable(ServerError, 3, status=status)
        for status in (502, 503, 504)
    },
    # The server forgot every token it issued, the pushed one too: it is inactive.
    "401-expired": Outcome(answer=401, answer_error="invalid_token"),
    # The receiver's own credentials refused: not the sender's fault, the token is unchecked.
    "401-always": _unavailable(AuthenticationError, 1, status=401),
    "html-502": _unavailable(ServerError, 3, status=502, says="502 Bad Gateway"),
    "html-200": _unavailable(ResponseError, 1, **NOT_JSON),
    "truncated-json": _unavailable(ResponseError, 1, **NOT_JSON),
    "wrong-shape": _unavailable(TypeError, 1, says="expected a JSON object"),
    "body-50mb": _unavailable(ResponseError, 1, **TOO_BIG),
    "empty-200": _unavailable(ResponseError, 1, status=200, says="empty body"),
}


def _as_batch(outcome: Outcome | None) -> Outcome | None:
    """A token outcome as ``tracking.send`` reports it: the batch is accepted once a token is
    obtained, and failed (never sent, so safe to resend) when none can be."""
    if outcome is None:
        return None
    if outcome.returns:
        return attrs.evolve(outcome, batch=SendOutcome.ACCEPTED, status=200)
    return attrs.evolve(outcome, returns=True, batch=SendOutcome.FAILED)


#: behaviour → case id → outcome (``None``: the case does not apply).
EXPECTED: dict[str, dict[str, Outcome | None]] = {
    "read-key": _READ,
    "read-oauth2": _with_tokens(_READ, **_OAUTH2_401),
    # A page's items are read one by one and never lost: one the SDK cannot read arrives as a
    # message keeping what came (order_models.read_message).
    "read-orders": _with_tokens(_READ, **_OAUTH2_401, **{"wrong-shape": ok(1)}),
    "tracking-send": _with_tokens(_TRACKING_SEND),
    "orders-send": _with_tokens(_ORDERS_SEND, **_OAUTH2_401),
    "token": _TOKEN,
    "token-tracking-send": {k: _as_batch(v) for k, v in _TOKEN.items()},
    "push-introspection": _INTROSPECTION,
}


def expected(case_id: str, endpoint_id: str) -> Outcome | None:
    """The outcome of ``case_id`` on ``endpoint_id`` (``None``: not applicable)."""
    endpoint = next(e for e in ENDPOINTS if e.id == endpoint_id)
    return EXPECTED[endpoint.behaviour][case_id]


def cells(among: Iterable[Endpoint] | None = None) -> list[tuple[Case, Endpoint, Outcome]]:
    """Every applicable (case, endpoint, outcome), in table order, of ``among`` (by default
    :data:`ENDPOINTS`)."""
    chosen = tuple(ENDPOINTS if among is None else among)
    return [
        (case, endpoint, outcome)
        for case in CASES
        for endpoint in chosen
        if (outcome := EXPECTED[endpoint.behaviour][case.id]) is not None
    ]


# -- the docs' wording ----------------------------------------------------------------------


def _times(n: int) -> str:
    return f"{n} attempt{'s' if n != 1 else ''}"


def describe(outcome: Outcome | None) -> str:
    """``outcome`` in a few words, for the docs' table."""
    if outcome is None:
        return "n/a"
    parts: list[str] = []
    if outcome.answer is not None:
        parts.append(
            f"answers {outcome.answer}, handled"
            if outcome.returns
            else f"answers {outcome.answer} {outcome.answer_error}, not handled"
        )
    elif outcome.batch is not None:
        parts.append(f"batch {outcome.batch.value.replace('_', ' ')}")
    elif outcome.returns:
        parts.append("result")
    if outcome.error is not None:
        detail = []
        if outcome.status is not None:
            detail.append(str(outcome.status))
        if outcome.may_have_reached_server is not None:
            detail.append(f"may_have_reached_server={outcome.may_have_reached_server}")
        if outcome.retry_after is not None:
            shown = "≈30" if outcome.retry_after == "date" else f"{outcome.retry_after:g}"
            detail.append(f"retry_after={shown}")
        text = outcome.error.__name__ + (f" ({', '.join(detail)})" if detail else "")
        parts.append(f"after {text}" if outcome.answer is not None else text)
    parts.append(_times(outcome.attempts))
    if outcome.waited is not None:
        shown = "≈30" if outcome.waited == "date" else f"{outcome.waited:g}"
        parts.append(f"waited {shown} s")
    if outcome.token_requests:
        parts.append("token renewed once")
    return ", ".join(parts)
