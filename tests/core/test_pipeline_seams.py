"""The seams of the request pipeline, over real HTTP to servers the tests own (127.0.0.1).

Each test shows one way a call could misreport at a seam of the core: a write answered by a
redirect, a token renewed after a 401, a total deadline, an error that hides its attempts, a
builtin exception escaping the error tree. Names that belong to the pipeline's error tree and
timeouts are looked up inside each test, so that one missing name fails its own tests only.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

import shiptrack_sdk
from shiptrack_sdk import errors
from shiptrack_sdk.errors import ShiptrackError, ValidationError
from shiptrack_sdk.exporto import ExportoClient
from shiptrack_sdk.lex import LexClient, SendOutcome
from shiptrack_sdk.lex.orders import DEFAULT_PATH as ORDERS_PATH
from shiptrack_sdk.lex.tracking import Carrier, Party, ShipmentEvent, TrackingMessage
from shiptrack_sdk.shiplemon import HistoryUpdate, ShiplemonClient
from tests.conftest import load_fixture

UTC = timezone.utc
T0 = datetime(2024, 5, 14, 6, 0, tzinfo=UTC)

SID = "60476d7500e47cb69693a202"
SHIPLEMON_GET = f"/public/v1/shipments/{SID}/tracking"
SHIPLEMON_PUT = f"/v1/shipments/{SID}/tracking"
EXPORTO_ID = "S-240902-0001"
EXPORTO_GET = f"/v1/shipment/{EXPORTO_ID}"
LEX_TRACKING = "/lex-shipmenttracking-v1/shipment-tracking"
TOKEN_PATH = "/oauth/token"
LANDING = "/landing"

#: Aware datetimes that exist in their own zone but not in UTC (before datetime.min, after
#: datetime.max once converted).
OVERFLOWING = [
    pytest.param(datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=14))), id="min+14h"),
    pytest.param(datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))), id="max-5h"),
]

REDIRECTS = [301, 302, 303, 307, 308]


def error_class(name: str) -> type[BaseException]:
    """A class of the error tree, by name (some are new: a missing one fails the test)."""
    found = getattr(errors, name, None)
    assert isinstance(found, type), f"shiptrack_sdk.errors.{name} does not exist"
    return found


def timeout_class() -> Any:
    return shiptrack_sdk.Timeout


# -- servers ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _module_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def server(_module_server: HTTPServer) -> Iterator[HTTPServer]:
    """A real HTTP server on 127.0.0.1, with no handler and an empty log."""
    _module_server.clear()
    yield _module_server
    _module_server.clear()


def requests_to(server: HTTPServer, path: str, method: str | None = None) -> list[Request]:
    """The requests ``server`` received at ``path`` (and with ``method``), in order."""
    return [
        request
        for request, _ in server.log
        if request.path == path and (method is None or request.method == method)
    ]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def token(value: str) -> Callable[[], Response]:
    return lambda: json_response(
        {"access_token": value, "token_type": "Bearer", "expires_in": 3600}
    )


def status(code: int, body: Any = None, **headers: str) -> Callable[[], Response]:
    return lambda: json_response(
        body if body is not None else {"message": "unavailable"}, code, headers
    )


class Script:
    """Answers in turn; the last answer is repeated."""

    def __init__(self, *answers: Callable[[], Response]) -> None:
        self.answers = list(answers)

    def __call__(self, request: Request) -> Response:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return answer()


class BearerAPI:
    """An API endpoint answering ``body`` to the tokens it still accepts, 401 to the others."""

    def __init__(self, body: Any, *, valid: set[str], status: int = 200) -> None:
        self.body = body
        self.valid = set(valid)
        self.status = status

    def revoke(self, value: str) -> None:
        self.valid.discard(value)

    def __call__(self, request: Request) -> Response:
        sent = request.headers.get("Authorization", "")
        if sent.removeprefix("Bearer ") in self.valid:
            return json_response(self.body, self.status)
        return json_response({"message": "token expired or revoked"}, 401)


def shiplemon(server: HTTPServer, **options: Any) -> ShiplemonClient:
    options = {"max_retries": 2, "backoff_factor": 0.01, "timeout": (2, 2), **options}
    return ShiplemonClient(api_key="k-123", base_url=server.url_for("/"), **options)


def exporto(server: HTTPServer, **options: Any) -> ExportoClient:
    options = {"max_retries": 2, "backoff_factor": 0.01, "timeout": (2, 2), **options}
    return ExportoClient(
        client_id="cid",
        client_secret="csecret-value",
        base_url=server.url_for("/v1/"),
        token_url=server.url_for(TOKEN_PATH),
        **options,
    )


def lex(server: HTTPServer, **options: Any) -> LexClient:
    options = {"max_retries": 2, "backoff_factor": 0.01, "timeout": (2, 2), **options}
    return LexClient(
        client_id="cid",
        client_secret="lsecret-value",
        token_url=server.url_for(TOKEN_PATH),
        base_url=server.url_for("/"),
        **options,
    )


def messages(count: int, *, when: datetime = T0, prefix: str = "R") -> list[TrackingMessage]:
    return [
        TrackingMessage(
            event=ShipmentEvent("AAR", f"{prefix}{i:05d}", when + timedelta(seconds=i)),
            carrier=Carrier(id="TRANSPES"),
            sender=Party(id="TELIAE-ES"),
        )
        for i in range(count)
    ]


def history(when: datetime = T0, details: str = "With courier") -> list[HistoryUpdate]:
    return [HistoryUpdate("TRANSIT", when, details)]


# -- 1. writes never follow redirects ---------------------------------------------------------


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_lex_tracking_batch_redirected_elsewhere_is_failed_not_accepted(
    server: HTTPServer, code: int
) -> None:
    server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(Script(token("A")))
    server.expect_request(LEX_TRACKING, method="POST").respond_with_response(
        Response(status=code, headers={"Location": "https://elsewhere.example/x?token=s3cr3t"})
    )
    items = messages(3)
    report = lex(server).tracking.send(items)

    batch = report.batches[0]
    assert batch.outcome is SendOutcome.FAILED, f"a {code} stored nothing, yet: {batch.outcome}"
    assert report.counts["accepted"] == 0
    assert report.safe_to_resend() == items
    error = batch.error
    assert isinstance(error, errors.ResponseError)
    assert error.status == code
    location = getattr(error, "location", None)
    assert location is not None
    assert "elsewhere.example/x" in location
    assert "s3cr3t" not in location
    assert "s3cr3t" not in str(error)


@pytest.mark.parametrize("code", REDIRECTS)
def test_shiplemon_put_redirected_within_its_origin_raises_and_is_never_resent(
    server: HTTPServer, code: int
) -> None:
    server.expect_request(SHIPLEMON_PUT, method="PUT").respond_with_response(
        Response(status=code, headers={"Location": server.url_for(LANDING)})
    )
    # What requests would land on (a 302/303 turns the PUT into a bodiless GET): a page that
    # reads as a success.
    server.expect_request(LANDING).respond_with_json(
        load_fixture("shiplemon", "put_tracking_200.json")
    )
    client = shiplemon(server)

    with pytest.raises(errors.ResponseError) as info:
        client.tracking.update(SID, history())

    error = info.value
    assert error.status == code
    assert getattr(error, "status_code", None) == code
    assert LANDING in (getattr(error, "location", None) or "")
    assert str(code) in str(error)
    assert LANDING in str(error)
    assert requests_to(server, LANDING) == [], "the redirect was followed"
    assert len(requests_to(server, SHIPLEMON_PUT, "PUT")) == 1


@pytest.mark.parametrize("code", REDIRECTS)
def test_lex_orders_send_redirected_within_its_origin_raises_and_is_never_resent(
    server: HTTPServer, code: int
) -> None:
    server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(Script(token("A")))
    server.expect_request(ORDERS_PATH, method="POST").respond_with_response(
        Response(status=code, headers={"Location": server.url_for(LANDING)})
    )
    server.expect_request(LANDING).respond_with_json({"status": "ACCEPTED"})
    client = lex(server)

    with pytest.raises(errors.ResponseError) as info:
        client.orders.send(load_fixture("lex", "orders_post_order_status.json"))

    error = info.value
    assert error.status == code
    assert LANDING in (getattr(error, "location", None) or "")
    assert str(code) in str(error)
    assert LANDING in str(error)
    assert requests_to(server, LANDING) == [], "the redirect was followed"
    assert len(requests_to(server, ORDERS_PATH, "POST")) == 1


def test_get_still_follows_a_redirect_within_its_origin(server: HTTPServer) -> None:
    # Control case: reads keep following same-origin redirects.
    moved = "/moved/tracking"
    server.expect_request(SHIPLEMON_GET, method="GET").respond_with_response(
        Response(status=302, headers={"Location": server.url_for(moved)})
    )
    server.expect_request(moved, method="GET").respond_with_json(
        load_fixture("shiplemon", "get_tracking_200.json")
    )
    tracking = shiplemon(server).tracking.get(SID)
    assert tracking.tracking_history
    assert len(requests_to(server, moved, "GET")) == 1


# -- 2. token renewal runs in the retry loop --------------------------------------------------


def test_exporto_renewal_after_a_401_retries_a_token_outage(server: HTTPServer) -> None:
    tokens = Script(token("A"), status(503), token("B"))
    server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(tokens)
    api = BearerAPI(load_fixture("exporto", "shipment_delivered.json"), valid={"A", "B"})
    server.expect_request(EXPORTO_GET, method="GET").respond_with_handler(api)
    client = exporto(server)
    client.shipments.get(EXPORTO_ID)
    api.revoke("A")  # the cached token is still fresh to the client

    shipment = client.shipments.get(EXPORTO_ID)

    assert shipment.shipment_id == EXPORTO_ID
    assert len(requests_to(server, TOKEN_PATH)) == 3  # A, the 503, B
    assert len(requests_to(server, EXPORTO_GET)) == 3  # A accepted, A refused, B accepted


def test_exporto_first_token_fetch_retries_a_token_outage(server: HTTPServer) -> None:
    # Control case: the same outage on the first fetch is retried today already.
    server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(
        Script(status(503), token("A"))
    )
    api = BearerAPI(load_fixture("exporto", "shipment_delivered.json"), valid={"A"})
    server.expect_request(EXPORTO_GET, method="GET").respond_with_handler(api)

    shipment = exporto(server).shipments.get(EXPORTO_ID)

    assert shipment.shipment_id == EXPORTO_ID
    assert len(requests_to(server, TOKEN_PATH)) == 2


def test_lex_send_renews_through_a_token_outage_and_replays_once(server: HTTPServer) -> None:
    tokens = Script(token("A"), status(503), token("B"))
    server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(tokens)
    api = BearerAPI({"ok": True}, valid={"A", "B"})
    server.expect_request(LEX_TRACKING, method="POST").respond_with_handler(api)
    client = lex(server)
    assert client.tracking.send(messages(1)).ok
    api.revoke("A")

    report = client.tracking.send(messages(2, prefix="N"))

    assert [b.outcome for b in report.batches] == [SendOutcome.ACCEPTED], report.errors
    posts = requests_to(server, LEX_TRACKING, "POST")
    assert [p.headers["Authorization"] for p in posts] == ["Bearer A", "Bearer A", "Bearer B"]


def test_lex_send_whose_token_cannot_be_renewed_is_failed_not_in_doubt(
    server: HTTPServer,
) -> None:
    server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(
        Script(token("A"), status(503))
    )
    api = BearerAPI({"ok": True}, valid={"A"})
    server.expect_request(LEX_TRACKING, method="POST").respond_with_handler(api)
    client = lex(server)
    assert client.tracking.send(messages(1)).ok
    api.revoke("A")
    items = messages(2, prefix="N")

    report = client.tracking.send(items)

    batch = report.batches[0]
    # The 401 proved nothing was stored, and the replay was never sent.
    assert batch.outcome is SendOutcome.FAILED, batch.outcome
    assert report.safe_to_resend() == items
    assert isinstance(batch.error, error_class("TokenError"))
    assert isinstance(batch.error, errors.ServerError)
    assert len(requests_to(server, LEX_TRACKING, "POST")) == 2  # the first send, the 401


def test_token_endpoint_refusal_is_an_authentication_error_at_once(server: HTTPServer) -> None:
    refusal = {"error": "invalid_client", "error_description": "bad secret"}
    server.expect_request(TOKEN_PATH, method="POST").respond_with_handler(
        Script(status(400, refusal))
    )
    client = exporto(server, max_retries=3)

    with pytest.raises(errors.AuthenticationError) as info:
        client.shipments.get(EXPORTO_ID)

    assert isinstance(info.value, error_class("TokenRefusedError"))
    assert "bad secret" in str(info.value)
    assert "csecret-value" not in str(info.value)
    assert len(requests_to(server, TOKEN_PATH)) == 1
    assert requests_to(server, EXPORTO_GET) == []


# -- 3. a total deadline ----------------------------------------------------------------------

#: How long a drip-feeding server keeps a connection at most (past any sane deadline).
DRIP_FOR = 3.0
DRIP_EVERY = 0.3


class _DripHandler(BaseHTTPRequestHandler):
    """A 200 whose body comes one byte every :data:`DRIP_EVERY` seconds."""

    protocol_version = "HTTP/1.1"
    server: _DripServer

    def do_GET(self) -> None:
        self.server.requests += 1
        chunked = self.server.chunked
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", "100")
        self.end_headers()
        until = time.monotonic() + DRIP_FOR
        try:
            while time.monotonic() < until and not self.server.stopping.is_set():
                self.wfile.write(b"1\r\n \r\n" if chunked else b" ")
                self.wfile.flush()
                self.server.stopping.wait(DRIP_EVERY)
        except OSError:
            pass  # the client gave up: what the test wants
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _DripServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, chunked: bool) -> None:
        super().__init__(("127.0.0.1", 0), _DripHandler)
        self.chunked = chunked
        self.requests = 0
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


@pytest.fixture(params=[False, True], ids=["content-length", "chunked"])
def drip(request: pytest.FixtureRequest) -> Iterator[_DripServer]:
    server = _DripServer(chunked=request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_drip_fed_body_is_cut_by_the_total_deadline(drip: _DripServer) -> None:
    Timeout = timeout_class()
    client = ShiplemonClient(api_key="k-123", base_url=drip.url, max_retries=2, backoff_factor=0.01)
    started = time.monotonic()
    with pytest.raises(ShiptrackError) as info:
        client.tracking.get(SID, timeout=Timeout(connect=1, read=1, total=1.5))
    elapsed = time.monotonic() - started

    error = info.value
    assert isinstance(error, error_class("DeadlineExceededError")), repr(error)
    assert isinstance(error, errors.TransportError)
    assert elapsed < 3.0, f"held for {elapsed:.1f} s"
    text = str(error)
    assert re.search(r"\b\d+ attempts?\b", text), text
    assert re.search(r"\d+(\.\d+)? ?s\b", text), text
    assert getattr(error, "attempts", 0) >= 1
    assert 1.4 <= getattr(error, "elapsed", 0.0) < 3.0


def test_the_default_timeout_has_a_finite_total() -> None:
    total = getattr(timeout_class()(), "total", None)
    assert total is not None, "Timeout() has no total deadline"
    assert 0 < total <= 120


def test_shiptrack_timeout_sets_the_total(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPTRACK_TIMEOUT", "1,1,1.5")
    client = ShiplemonClient(api_key="k-123", base_url="http://127.0.0.1:9/")
    timeout = client.timeout
    assert (timeout.connect, timeout.read, getattr(timeout, "total", None)) == (1.0, 1.0, 1.5)


def test_retries_and_retry_after_waits_are_bounded_by_the_total(server: HTTPServer) -> None:
    Timeout = timeout_class()
    server.expect_request(SHIPLEMON_GET).respond_with_handler(
        Script(status(503, None, **{"Retry-After": "1"}))
    )
    client = shiplemon(server, max_retries=4)
    started = time.monotonic()
    with pytest.raises(ShiptrackError) as info:
        client.tracking.get(SID, timeout=Timeout(connect=1, read=1, total=2))
    elapsed = time.monotonic() - started

    assert elapsed < 3.0, f"held for {elapsed:.1f} s"
    assert isinstance(info.value, (errors.ServerError, errors.TransportError)), repr(info.value)
    assert re.search(r"after \d+ attempts", str(info.value)), str(info.value)
    assert len(requests_to(server, SHIPLEMON_GET)) <= 3


# -- 4. errors say their attempts -------------------------------------------------------------


def test_a_retried_error_says_how_many_attempts_it_made(server: HTTPServer) -> None:
    server.expect_request(SHIPLEMON_GET).respond_with_handler(Script(status(503)))
    with pytest.raises(errors.ServerError) as info:
        shiplemon(server, max_retries=2).tracking.get(SID)

    error = info.value
    assert len(requests_to(server, SHIPLEMON_GET)) == 3
    assert "after 3 attempts" in str(error), str(error)
    assert getattr(error, "attempts", None) == 3
    assert getattr(error, "status_code", None) == error.status == 503


def test_status_code_is_an_alias_of_status(server: HTTPServer) -> None:
    server.expect_request(SHIPLEMON_GET).respond_with_handler(
        Script(status(404, {"error": {"code": "not_found", "message": "no such shipment"}}))
    )
    with pytest.raises(errors.NotFoundError) as info:
        shiplemon(server).tracking.get(SID)
    assert getattr(info.value, "status_code", None) == info.value.status == 404


# -- 5. builtin exceptions never escape: ValidationError, and nothing sent --------------------


def assert_refused(error: ValidationError, argument: str) -> None:
    named = [error.argument, *(arg for arg, _ in error.problems)]
    assert any(argument in name for name in named), f"{argument} not named in {named}"


@pytest.fixture
def silent(server: HTTPServer) -> Iterator[HTTPServer]:
    """The server, checked to have received nothing by the end of the test."""
    yield server
    assert server.log == [], "a request reached the server"


@pytest.mark.parametrize("when", OVERFLOWING)
def test_shiplemon_update_refuses_a_date_past_utc(silent: HTTPServer, when: datetime) -> None:
    with pytest.raises(ValidationError) as info:
        shiplemon(silent).tracking.update(SID, history(when))
    assert_refused(info.value, "history[0].status_date")


@pytest.mark.parametrize("when", OVERFLOWING)
def test_lex_orders_fetch_refuses_a_date_past_utc(silent: HTTPServer, when: datetime) -> None:
    with pytest.raises(ValidationError) as info:
        lex(silent).orders.fetch(min_timestamp=when)
    assert_refused(info.value, "min_timestamp")


@pytest.mark.parametrize("when", OVERFLOWING)
def test_lex_iter_messages_refuses_a_date_past_utc(silent: HTTPServer, when: datetime) -> None:
    with pytest.raises(ValidationError) as info:
        lex(silent).orders.iter_messages(since=when)
    assert_refused(info.value, "since")


@pytest.mark.parametrize("when", OVERFLOWING)
def test_lex_tracking_send_refuses_an_event_time_past_utc(
    silent: HTTPServer, when: datetime
) -> None:
    items = [
        *messages(2),
        TrackingMessage(
            event=ShipmentEvent("AAR", "X00001", when),
            carrier=Carrier(id="TRANSPES"),
            sender=Party(id="TELIAE-ES"),
        ),
    ]
    with pytest.raises(ValidationError) as info:
        lex(silent).tracking.send(items)
    assert_refused(info.value, "messages[2].event.occurred_at")


@pytest.mark.parametrize(
    "argument",
    ["processed_at", "carrier_received_at_updated_at", "carrier_delivered_at_updated_at"],
)
@pytest.mark.parametrize("when", OVERFLOWING)
def test_exporto_search_refuses_a_date_past_utc(
    silent: HTTPServer, when: datetime, argument: str
) -> None:
    shipments: Any = exporto(silent).shipments
    with pytest.raises(ValidationError) as info:
        shipments.search(**{argument: when})
    assert_refused(info.value, argument)
    with pytest.raises(ValidationError) as info:
        shipments.search_page(**{argument: when})
    assert_refused(info.value, argument)


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), (1.0, float("nan")), (float("inf"), 5.0)]
)
def test_timeout_of_refuses_non_finite_seconds(value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        timeout_class().of(value)
    assert_refused(info.value, "timeout")


@pytest.mark.parametrize(
    ("field", "value"),
    [("read", float("nan")), ("connect", float("inf")), ("total", float("nan"))],
)
def test_timeout_refuses_non_finite_seconds(field: str, value: float) -> None:
    with pytest.raises(ValidationError) as info:
        timeout_class()(**{field: value})
    assert_refused(info.value, field)


def test_a_client_refuses_a_nan_timeout_when_built(silent: HTTPServer) -> None:
    with pytest.raises(ValidationError) as info:
        shiplemon(silent, timeout=float("nan"))
    assert_refused(info.value, "timeout")


def test_lex_orders_send_refuses_a_lone_surrogate(silent: HTTPServer) -> None:
    message = load_fixture("lex", "orders_post_order_status.json")
    message["payload"]["carrier"] = "DHL \ud800"
    with pytest.raises(ValidationError) as info:
        lex(silent).orders.send(message)
    assert_refused(info.value, "message")


def test_shiplemon_update_refuses_a_lone_surrogate(silent: HTTPServer) -> None:
    with pytest.raises(ValidationError) as info:
        shiplemon(silent).tracking.update(SID, history(details="With courier \ud800"))
    assert_refused(info.value, "history[0].status_details")
