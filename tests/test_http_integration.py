"""The shared transport over real HTTP against the embedded sandbox: retries, Retry-After,
timeouts, broken connections, error bodies, sessions, pooling and the request log.

No test waits for a backoff: ``sleep`` is a recorder. The few real waits are a server-side
``delay`` of a fraction of a second, longer than a tiny read timeout.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime as http_date
from typing import Any

import pytest
import requests

from shiptrack_sdk import ExportoClient, RetryPolicy, ShiplemonClient
from shiptrack_sdk._core.transport import Transport
from shiptrack_sdk.auth import ApiKeyAuth
from shiptrack_sdk.errors import (
    NotFoundError,
    RateLimitError,
    ResponseError,
    ServerError,
    TransportError,
)
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.shiplemon import HistoryUpdate
from tests.conftest import SleepRecorder

SID = "be96511d-ba23-4268-bd8b-48c9cf930222"
GET_PATH = f"/shiplemon/public/v1/shipments/{SID}/tracking"
PUT_PATH = f"/shiplemon/v1/shipments/{SID}/tracking"
UTC = timezone.utc

HISTORY = [
    HistoryUpdate("PRE_TRANSIT", datetime(2024, 7, 12, 14, 17, tzinfo=UTC), "Voucher created"),
    HistoryUpdate("TRANSIT", datetime(2024, 7, 15, 9, 45, tzinfo=UTC), "With courier"),
]


@pytest.fixture
def client(sb: Sandbox, sleeps: SleepRecorder) -> Iterator[ShiplemonClient]:
    c = sb.shiplemon_client(backoff_factor=0.001)
    c._transport.sleep = sleeps
    yield c
    c.close()


def call(client: ShiplemonClient, method: str, **kwargs: Any) -> Any:
    if method == "GET":
        return client.tracking.get(SID, **kwargs)
    return client.tracking.update(SID, HISTORY, **kwargs)


def path_of(method: str) -> str:
    return GET_PATH if method == "GET" else PUT_PATH


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


# -- retries on statuses ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT"])
@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_idempotent_calls_are_retried_on_retryable_statuses(
    sb: Sandbox, client: ShiplemonClient, sleeps: SleepRecorder, method: str, status: int
) -> None:
    sb.fault(path_of(method), method=method, status=status, times=2)
    result = call(client, method)
    assert result.tracking_history
    calls = sb.calls(path_of(method), method)
    assert [c.status for c in calls] == [status, status, 200]
    assert len(sleeps.delays) == 2


def test_retries_stop_after_max_retries(
    sb: Sandbox, client: ShiplemonClient, sleeps: SleepRecorder
) -> None:
    sb.fault(GET_PATH, status=503, times=None)
    with pytest.raises(ServerError) as info:
        client.tracking.get(SID)
    assert info.value.status == 503
    assert len(sb.calls(GET_PATH)) == 4  # the first attempt and 3 retries (the default)
    assert len(sleeps.delays) == 3


def test_max_retries_zero_disables_retries(sb: Sandbox, sleeps: SleepRecorder) -> None:
    client = sb.shiplemon_client(max_retries=0)
    client._transport.sleep = sleeps
    sb.fault(GET_PATH, status=503)
    with pytest.raises(ServerError):
        client.tracking.get(SID)
    assert len(sb.calls(GET_PATH)) == 1
    assert sleeps.delays == []


def test_backoff_grows_with_jitter(sb: Sandbox, sleeps: SleepRecorder) -> None:
    client = sb.shiplemon_client(backoff_factor=0.1, max_retries=3)
    client._transport.sleep = sleeps
    sb.fault(GET_PATH, status=502, times=3)
    client.tracking.get(SID)
    assert len(sleeps.delays) == 3
    for retry, delay in enumerate(sleeps.delays, start=1):
        full = 0.1 * 2 ** (retry - 1)
        assert full / 2 <= delay <= full
    # Equal jitter: every delay at least as long as the previous one's floor doubled.
    assert sleeps.delays[2] >= 0.2 > 0.1 >= sleeps.delays[0]


def test_retry_after_seconds_is_honoured(
    sb: Sandbox, client: ShiplemonClient, sleeps: SleepRecorder
) -> None:
    sb.fault(GET_PATH, status=429, retry_after=7)
    client.tracking.get(SID)
    assert sleeps.delays == [7.0]


def test_retry_after_on_a_503_is_honoured(
    sb: Sandbox, client: ShiplemonClient, sleeps: SleepRecorder
) -> None:
    sb.fault(PUT_PATH, status=503, retry_after=3)
    client.tracking.update(SID, HISTORY)
    assert sleeps.delays == [3.0]


def test_retry_after_http_date_is_honoured(
    sb: Sandbox, client: ShiplemonClient, sleeps: SleepRecorder
) -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    sb.fault(GET_PATH, status=429, retry_after=http_date(when, usegmt=True))
    client.tracking.get(SID)
    assert len(sleeps.delays) == 1
    assert 27 <= sleeps.delays[0] <= 30


def test_retry_after_above_the_cap_is_not_waited_for(sb: Sandbox, sleeps: SleepRecorder) -> None:
    client = sb.shiplemon_client(retry=RetryPolicy(retry_after_max=10, backoff_factor=0.001))
    client._transport.sleep = sleeps
    sb.fault(GET_PATH, status=429, retry_after=600)
    with pytest.raises(RateLimitError) as info:
        client.tracking.get(SID)
    assert info.value.retry_after == 600
    assert sleeps.delays == []
    assert len(sb.calls(GET_PATH)) == 1


def test_retry_after_http_date_above_the_cap(sb: Sandbox, sleeps: SleepRecorder) -> None:
    client = sb.shiplemon_client(retry=RetryPolicy(retry_after_max=10))
    client._transport.sleep = sleeps
    when = datetime.now(UTC) + timedelta(hours=1)
    sb.fault(GET_PATH, status=429, retry_after=http_date(when, usegmt=True))
    with pytest.raises(RateLimitError) as info:
        client.tracking.get(SID)
    assert info.value.retry_after is not None
    assert 3590 <= info.value.retry_after <= 3600
    assert sleeps.delays == []


def test_rate_limit_error_after_retries_carries_retry_after(
    sb: Sandbox, client: ShiplemonClient
) -> None:
    sb.fault(GET_PATH, status=429, retry_after=2, times=None)
    with pytest.raises(RateLimitError) as info:
        client.tracking.get(SID)
    assert info.value.retry_after == 2
    assert len(sb.calls(GET_PATH)) == 4


# -- POST: retried only when it surely never reached the server ------------------------------


def test_post_retried_when_the_connection_could_not_be_opened(sleeps: SleepRecorder) -> None:
    port = closed_port()
    started: list[Sandbox] = []

    def sleep_then_open(seconds: float) -> None:
        # Between the attempts, a server comes up on the port that refused the first one.
        sleeps(seconds)
        if not started:
            started.append(Sandbox(port=port).start())

    transport = Transport(
        provider="oauth2",
        base_url=f"http://127.0.0.1:{port}",
        retry=RetryPolicy(backoff_factor=0.001),
        sleep=sleep_then_open,
    )
    try:
        response = transport.request(
            "POST",
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "sandbox-client",
                "client_secret": "sandbox-secret",
            },
        )
        assert response.status_code == 200
        assert len(sleeps.delays) == 1
        assert len(started[0].calls("/oauth/token", "POST")) == 1
    finally:
        for sandbox in started:
            sandbox.stop()


def test_post_to_a_closed_port_fails_after_retries_as_never_sent(sleeps: SleepRecorder) -> None:
    transport = Transport(
        provider="acme", base_url=f"http://127.0.0.1:{closed_port()}", sleep=sleeps
    )
    with pytest.raises(TransportError) as info:
        transport.request("POST", "/x", json_body={})
    assert info.value.may_have_reached_server is False
    assert "connection refused" in str(info.value)
    assert len(sleeps.delays) == 3


def _echo_transport(sb: Sandbox, sleeps: SleepRecorder, **kwargs: Any) -> Transport:
    auth = sb.oauth2_auth()
    transport = Transport(
        provider="acme",
        base_url=sb.url,
        credentials=auth,
        retry=RetryPolicy(backoff_factor=0.001),
        sleep=sleeps,
        **kwargs,
    )
    auth.bind(transport)
    return transport


def test_post_echo_round_trip(sb: Sandbox, sleeps: SleepRecorder) -> None:
    transport = _echo_transport(sb, sleeps)
    assert transport.request("POST", "/oauth/echo", json_body={"n": 1}).json() == {"n": 1}


def test_post_not_retried_when_dropped_after_the_server_accepted_it(
    sb: Sandbox, sleeps: SleepRecorder
) -> None:
    transport = _echo_transport(sb, sleeps)
    sb.fault("/oauth/echo", method="POST", after=True, action="drop")
    with pytest.raises(TransportError) as info:
        transport.request("POST", "/oauth/echo", json_body={"n": 1})
    assert info.value.may_have_reached_server is True
    assert len(sb.calls("/oauth/echo", "POST")) == 1
    assert sleeps.delays == []


def test_post_not_retried_after_a_read_timeout(sb: Sandbox, sleeps: SleepRecorder) -> None:
    transport = _echo_transport(sb, sleeps)
    transport.request("POST", "/oauth/echo", json_body={})  # the token is fetched
    sb.clear_calls()
    sb.fault("/oauth/echo", method="POST", after=True, delay=0.3)
    with pytest.raises(TransportError) as info:
        transport.request("POST", "/oauth/echo", json_body={"n": 2}, timeout=(1, 0.05))
    assert "read timeout" in str(info.value)
    assert info.value.may_have_reached_server is True
    assert sleeps.delays == []
    # The server did get it (and answered, too late): once, not again.
    wait_for(lambda: len(sb.calls("/oauth/echo")) == 1)
    time.sleep(0.05)
    assert len(sb.calls("/oauth/echo")) == 1


def test_post_not_retried_on_a_dropped_connection(sb: Sandbox, sleeps: SleepRecorder) -> None:
    transport = _echo_transport(sb, sleeps)
    sb.fault("/oauth/echo", method="POST", action="drop")
    with pytest.raises(TransportError):
        transport.request("POST", "/oauth/echo", json_body={})
    assert len(sb.calls("/oauth/echo")) == 1


# -- timeouts and broken connections ----------------------------------------------------------


def test_read_timeout_raises_transport_error(sb: Sandbox) -> None:
    client = sb.shiplemon_client(max_retries=0, timeout=(1, 0.05))
    sb.fault(GET_PATH, delay=0.3)
    with pytest.raises(TransportError) as info:
        client.tracking.get(SID)
    assert "read timeout" in str(info.value)
    assert info.value.provider == "shiplemon"
    assert info.value.method == "GET"
    assert isinstance(info.value.__cause__, requests.ReadTimeout)


def test_per_call_timeout_overrides_the_clients(sb: Sandbox) -> None:
    client = sb.shiplemon_client(max_retries=0)  # read timeout 30 s
    sb.fault(GET_PATH, delay=0.3)
    with pytest.raises(TransportError):
        client.tracking.get(SID, timeout=(1, 0.05))


def test_get_retried_after_a_read_timeout(
    sb: Sandbox, client: ShiplemonClient, sleeps: SleepRecorder
) -> None:
    sb.fault(GET_PATH, delay=0.3)
    assert client.tracking.get(SID, timeout=(1, 0.05)).tracking_status == "DELIVERED"
    assert len(sleeps.delays) == 1


@pytest.mark.parametrize("action", ["drop", "reset_mid"])
def test_broken_connection_is_retried_for_get(
    sb: Sandbox, client: ShiplemonClient, sleeps: SleepRecorder, action: Any
) -> None:
    sb.fault(GET_PATH, action=action)
    assert client.tracking.get(SID).tracking_status == "DELIVERED"
    assert len(sb.calls(GET_PATH)) == 2
    assert len(sleeps.delays) == 1


@pytest.mark.parametrize(
    ("action", "kind"),
    [("drop", "connection error"), ("reset_mid", "connection broken while reading")],
)
def test_broken_connection_without_retries(sb: Sandbox, action: Any, kind: str) -> None:
    client = sb.shiplemon_client(max_retries=0)
    sb.fault(GET_PATH, action=action)
    with pytest.raises(TransportError) as info:
        client.tracking.get(SID)
    assert kind in str(info.value)
    assert info.value.may_have_reached_server is True
    assert info.value.__cause__ is not None


# -- error bodies and wrong answers -----------------------------------------------------------


def test_404_with_shiplemons_error_body(sb: Sandbox, client: ShiplemonClient) -> None:
    with pytest.raises(NotFoundError) as info:
        client.tracking.get("no-such-shipment")
    exc = info.value
    assert exc.status == 404
    assert exc.provider == "shiplemon"
    assert exc.code == "NOT_FOUND"
    assert exc.error_message == "Shipment not found"
    assert exc.metadata == {"id": "no-such-shipment"}
    assert exc.body == {
        "error": {
            "code": "NOT_FOUND",
            "message": "Shipment not found",
            "metadata": {"id": "no-such-shipment"},
        }
    }
    assert exc.url == f"{sb.url}/shiplemon/public/v1/shipments/no-such-shipment/tracking"
    assert len(sb.calls("/shiplemon/*")) == 1  # a 404 is not retried


def _assert_names_the_call(exc: ResponseError, sb: Sandbox, start: str) -> None:
    text = str(exc)
    assert "[shiplemon]" in text
    assert f"GET {sb.url}{GET_PATH}" in text
    assert "HTTP 200" in text
    assert exc.status == 200
    assert exc.body_excerpt.startswith(start)
    assert start in text


def test_html_page_instead_of_json(sb: Sandbox, client: ShiplemonClient) -> None:
    page = "<!DOCTYPE html><html><head><title>Maintenance</title></head></html>"
    sb.fault(GET_PATH, status=200, body=page, content_type="text/html")
    with pytest.raises(ResponseError) as info:
        client.tracking.get(SID)
    assert "not JSON" in str(info.value)
    _assert_names_the_call(info.value, sb, "<!DOCTYPE html><html>")


def test_html_error_page(sb: Sandbox) -> None:
    client = sb.shiplemon_client(max_retries=0)
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    sb.fault(GET_PATH, status=502, body=page, content_type="text/html")
    with pytest.raises(ServerError) as info:
        client.tracking.get(SID)
    assert info.value.status == 502
    assert "502 Bad Gateway" in str(info.value)


def test_truncated_json(sb: Sandbox, client: ShiplemonClient) -> None:
    sb.fault(GET_PATH, status=200, body='{"status":"ok","data":{"partner_id":"p","tracking_hi')
    with pytest.raises(ResponseError) as info:
        client.tracking.get(SID)
    assert "not JSON" in str(info.value)
    _assert_names_the_call(info.value, sb, '{"status":"ok","data"')


def test_json_of_the_wrong_shape(sb: Sandbox, client: ShiplemonClient) -> None:
    body = '{"status":"ok","data":{"tracking_history":[{"status":"TRANSIT"}]}}'
    sb.fault(GET_PATH, status=200, body=body)
    with pytest.raises(ResponseError) as info:
        client.tracking.get(SID)
    assert "documented shape of ShipmentTracking" in str(info.value)
    assert "status_date" in str(info.value)
    _assert_names_the_call(info.value, sb, '{"status":"ok"')


def test_json_without_the_data_envelope(sb: Sandbox, client: ShiplemonClient) -> None:
    sb.fault(GET_PATH, status=200, body='{"status":"ok","result":[]}')
    with pytest.raises(ResponseError) as info:
        client.tracking.get(SID)
    assert 'no "data" object' in str(info.value)
    _assert_names_the_call(info.value, sb, '{"status":"ok","result":[]}')


def test_body_size_limit(sb: Sandbox, client: ShiplemonClient) -> None:
    client._transport.max_response_bytes = 300
    with pytest.raises(ResponseError) as info:
        client.tracking.get(SID)
    assert "exceeds the limit of 300 bytes" in str(info.value)


# -- redirects: followed within the origin only ------------------------------------------------


@pytest.fixture
def other() -> Iterator[Sandbox]:
    """A second server on another port: another origin, serving the same routes."""
    with Sandbox() as server:
        yield server


def test_the_api_key_is_not_taken_to_another_origin(
    sb: Sandbox, client: ShiplemonClient, other: Sandbox
) -> None:
    sb.fault(GET_PATH, status=302, headers={"Location": f"{other.url}{GET_PATH}"})
    with pytest.raises(ResponseError) as info:
        client.tracking.get(SID)
    assert info.value.status == 302
    assert info.value.provider == "shiplemon"
    assert "another origin" in str(info.value)
    assert info.value.location == f"{other.url}{GET_PATH}"
    assert other.calls() == []  # nothing sent there, with or without the key
    assert len(sb.calls(GET_PATH)) == 1  # and not retried


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_within_the_origin_is_followed_with_the_key(
    sb: Sandbox, client: ShiplemonClient, status: int
) -> None:
    moved = "/shiplemon/moved"
    sb.fault(moved, status=status, headers={"Location": GET_PATH}, unrouted=True)
    response = client._transport.request("GET", sb.url + moved)
    assert response.json()["data"]["tracking_status"] == "DELIVERED"
    (followed,) = sb.calls(GET_PATH)
    assert followed.headers["x-api-key"] == sb.apps["shiplemon"].credentials.api_key


def test_every_provider_keeps_to_its_origin(sb: Sandbox, other: Sandbox) -> None:
    # The policy is the transport's: exporto's API calls and its token requests alike.
    exporto: ExportoClient = sb.exporto_client(max_retries=0)
    sb.fault("/exporto/v1/auth/token", status=307, headers={"Location": f"{other.url}/t"})
    with pytest.raises(ResponseError):
        exporto.shipments.get("S-240902-0001")
    exporto.auth.access_token()
    sb.fault("/exporto/v1/shipment/*", status=302, headers={"Location": f"{other.url}/s"})
    with pytest.raises(ResponseError):
        exporto.shipments.get("S-240902-0001")
    assert other.calls() == []


def test_api_key_auth_on_a_plain_session_drops_the_key_before_leaving_the_origin(
    sb: Sandbox, other: Sandbox
) -> None:
    # On a caller's own session requests follows the redirect: the key does not go along
    # (requests itself strips Authorization only, and only when the host changes).
    key = sb.apps["shiplemon"].credentials.api_key
    with requests.Session() as session:
        session.auth = ApiKeyAuth("x-api-key", key)
        sb.fault(GET_PATH, status=302, headers={"Location": f"{other.url}{GET_PATH}"})
        assert session.get(sb.url + GET_PATH).status_code == 401
        (first,) = sb.calls(GET_PATH)
        (followed,) = other.calls(GET_PATH)
        assert first.headers["x-api-key"] == key
        assert "x-api-key" not in followed.headers
        # Within the origin, the key goes along.
        sb.fault("/shiplemon/moved", status=302, headers={"Location": GET_PATH}, unrouted=True)
        assert session.get(sb.url + "/shiplemon/moved").status_code == 200


# -- sessions and pooling ---------------------------------------------------------------------


class CountingAdapter(requests.adapters.HTTPAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent += 1
        return super().send(request, **kwargs)


def test_a_callers_session_is_used(sb: Sandbox) -> None:
    session = requests.Session()
    session.headers["X-Partner"] = "acme-logistics"
    adapter = CountingAdapter()
    session.mount("http://", adapter)
    client = sb.shiplemon_client(session=session)
    assert client.session is session
    client.tracking.get(SID)
    client.tracking.update(SID, HISTORY)
    assert adapter.sent == 2
    assert [c.headers.get("X-Partner") for c in sb.calls("/shiplemon/*")] == ["acme-logistics"] * 2
    client.close()
    # The caller's session is the caller's: still usable after the client is closed.
    assert session.get(f"{sb.url}/oauth/whoami").status_code == 401


def test_one_pooled_session_per_client_reuses_its_connection(sb: Sandbox) -> None:
    client = sb.shiplemon_client()
    other = sb.shiplemon_client()
    for _ in range(5):
        client.tracking.get(SID)
    assert client.session is client.session
    assert client.session is not other.session
    manager = client.session.get_adapter(sb.url).poolmanager
    pools = [manager.pools[key] for key in manager.pools.keys()]  # noqa: SIM118
    assert len(pools) == 1
    assert pools[0].num_connections == 1  # one connection opened ...
    assert pools[0].num_requests == 5  # ... for five requests


# -- the request log --------------------------------------------------------------------------

LOG_LINE = re.compile(
    r"^shiplemon (?P<method>GET|PUT) (?P<url>\S+) -> (?P<outcome>.+) in (?P<ms>\d+\.\d) ms "
    r"\(attempt (?P<attempt>\d+)/(?P<of>\d+)\)$"
)


def test_one_debug_line_per_attempt(
    sb: Sandbox, client: ShiplemonClient, caplog: pytest.LogCaptureFixture
) -> None:
    sb.fault(GET_PATH, status=503)
    sb.fault(PUT_PATH, action="drop")
    with caplog.at_level(logging.DEBUG, logger="shiptrack_sdk"):
        client.tracking.get(SID)
        client.tracking.update(SID, HISTORY)
    lines = [
        LOG_LINE.match(r.getMessage())
        for r in caplog.records
        if r.name == "shiptrack_sdk" and r.levelno == logging.DEBUG
    ]
    assert all(lines), [r.getMessage() for r in caplog.records]
    got = [
        (m["method"], m["url"], m["outcome"].split(" ")[0], m["attempt"], m["of"])
        for m in lines
        if m
    ]
    assert got == [
        ("GET", f"{sb.url}{GET_PATH}", "503", "1", "4"),
        ("GET", f"{sb.url}{GET_PATH}", "200", "2", "4"),
        ("PUT", f"{sb.url}{PUT_PATH}", "failed", "1", "4"),
        ("PUT", f"{sb.url}{PUT_PATH}", "200", "2", "4"),
    ]
    assert all(float(m["ms"]) >= 0 for m in lines if m)


ANY_LINE = re.compile(
    r"^(?P<provider>\S+) (?P<method>[A-Z]+) (?P<url>\S+) -> (?P<outcome>.+) in (?P<ms>\d+\.\d) ms "
    r"\(attempt (?P<attempt>\d+)/(?P<of>\d+)\)$"
)


def _attempt_lines(caplog: pytest.LogCaptureFixture) -> list[re.Match[str]]:
    found = [ANY_LINE.match(r.getMessage()) for r in caplog.records if r.name == "shiptrack_sdk"]
    return [m for m in found if m]


def test_the_401_that_renews_the_token_and_the_replay_each_get_a_line(
    sb: Sandbox, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    transport = _echo_transport(sb, sleeps)
    transport.request("GET", "/oauth/whoami")
    sb.tokens.expire_all()  # the next call is answered 401, the token renewed, the call replayed
    with caplog.at_level(logging.DEBUG, logger="shiptrack_sdk"):
        transport.request("GET", "/oauth/whoami?access_token=hidden")
    url = f"{sb.url}/oauth/whoami?access_token=***"
    got = [
        (m["provider"], m["method"], m["url"], m["outcome"], m["attempt"], m["of"])
        for m in _attempt_lines(caplog)
        if m["method"] == "GET"
    ]
    assert got == [
        ("acme", "GET", url, "401 (token renewed, request replayed)", "1", "4"),
        ("acme", "GET", url, "200 (replay)", "1", "4"),
    ]
    calls = sb.calls("/oauth/whoami")
    assert [c.status for c in calls] == [200, 401, 200]
    assert "hidden" not in caplog.text
    for call in calls:
        assert call.headers["Authorization"].removeprefix("Bearer ") not in caplog.text


def test_a_refused_redirect_gets_its_line(
    sb: Sandbox, client: ShiplemonClient, caplog: pytest.LogCaptureFixture
) -> None:
    sb.fault(GET_PATH, status=302, headers={"Location": "https://elsewhere.example/x?token=t"})
    with caplog.at_level(logging.DEBUG, logger="shiptrack_sdk"), pytest.raises(ResponseError):
        client.tracking.get(SID)
    got = [(m["url"], m["outcome"], m["attempt"]) for m in _attempt_lines(caplog)]
    assert got == [(f"{sb.url}{GET_PATH}", "302", "1")]
    assert "token=t" not in caplog.text


def test_no_log_line_cost_when_debug_is_off(
    sb: Sandbox, client: ShiplemonClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="shiptrack_sdk"):
        client.tracking.get(SID)
    assert [r for r in caplog.records if r.name == "shiptrack_sdk"] == []
