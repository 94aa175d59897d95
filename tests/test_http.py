"""The shared transport, unit level: request shapes and error mapping with ``responses``;
timeouts, User-Agent and the retry policy as units. Behaviour over real HTTP is in
``test_http_integration.py``."""

from __future__ import annotations

import json
import logging
import pickle
import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime as http_date
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
import urllib3
from responses import matchers

from shiptrack_sdk import RetryPolicy, Timeout, __version__
from shiptrack_sdk._core.answers import parse_retry_after
from shiptrack_sdk._core.client import BaseClient
from shiptrack_sdk._core.resource import Endpoint, Resource
from shiptrack_sdk._core.spec import ErrorDetails, ProviderSpec
from shiptrack_sdk._core.transport import USER_AGENT, Transport
from shiptrack_sdk.auth import ApiKeyAuth
from shiptrack_sdk.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    NotFoundError,
    RateLimitError,
    ResponseError,
    ServerError,
    TransportError,
    ValidationError,
)
from tests.conftest import SleepRecorder

BASE = "https://api.example.test/v2"


def make_transport(sleeps: SleepRecorder | None = None, **kwargs: Any) -> Transport:
    options: dict[str, Any] = {"provider": "acme", "base_url": BASE}
    if sleeps is not None:
        options["sleep"] = sleeps
    options.update(kwargs)
    return Transport(**options)


class _Client(BaseClient):
    spec = ProviderSpec(
        name="acme",
        title="Acme",
        client="tests.test_http:_Client",
        env_prefix="SHIPTRACK_ACME",
        environments={"production": BASE},
        auth=None,
    )


@pytest.fixture
def mocked() -> Any:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


# -- request shapes ---------------------------------------------------------------------------


def test_user_agent_is_shiptrack_sdk_and_its_version() -> None:
    assert f"shiptrack-sdk/{__version__}" == USER_AGENT


def test_get_sends_exact_url_query_headers_and_timeout(mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{BASE}/things/1",
        json={"ok": True},
        match=[matchers.query_param_matcher({"page": "2", "size": "50"})],
    )
    transport = make_transport(credentials=ApiKeyAuth("x-api-key", "k-123"))
    answer = transport.request("GET", "things/1", params={"page": 2, "size": 50}).json()
    assert answer == {"ok": True}
    request = mocked.calls[0].request
    assert request.url == f"{BASE}/things/1?page=2&size=50"
    assert request.headers["User-Agent"] == f"shiptrack-sdk/{__version__}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["x-api-key"] == "k-123"
    assert request.body is None
    assert request.req_kwargs["timeout"] == (5.0, 30.0)
    assert request.req_kwargs["verify"] is True


def test_json_body_is_compact_utf8_with_content_type(mocked: responses.RequestsMock) -> None:
    mocked.put(f"{BASE}/things/1", json={"ok": True})
    make_transport().request("PUT", "/things/1", json_body={"text": "ΠΑΡΑΔΟΣΗ", "n": [1, 2]})
    request = mocked.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == '{"text":"ΠΑΡΑΔΟΣΗ","n":[1,2]}'.encode()


def test_caller_headers_and_user_agent_override(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/a", json={})
    make_transport(user_agent="my-app/1.0").request("GET", "a", headers={"X-Trace": "t1"})
    headers = mocked.calls[0].request.headers
    assert headers["User-Agent"] == "my-app/1.0"
    assert headers["X-Trace"] == "t1"


def test_absolute_urls_pass_unchanged_and_paths_join_the_base() -> None:
    transport = make_transport()
    assert transport.base_url == BASE + "/"
    assert transport.url("/x/y") == f"{BASE}/x/y"
    assert transport.url("x/y") == f"{BASE}/x/y"
    assert transport.url("https://auth.example.test/token") == "https://auth.example.test/token"


# -- timeouts ---------------------------------------------------------------------------------


def test_timeout_defaults_to_connect_5_read_30() -> None:
    assert Timeout() == Timeout(5.0, 30.0)
    assert make_transport().timeout.as_tuple() == (5.0, 30.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, Timeout(3.0, 3.0)),
        (2.5, Timeout(2.5, 2.5)),
        ((1, 60), Timeout(1.0, 60.0)),
        (Timeout(2, 4), Timeout(2, 4)),
    ],
)
def test_timeout_of(value: Any, expected: Timeout) -> None:
    assert Timeout.of(value) == expected


@pytest.mark.parametrize("value", [0, -1, True, (1,), (1, 0), (1, "x"), "5", None])
def test_bad_timeouts_are_refused(value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        Timeout.of(value)
    assert info.value.argument == "timeout"


def test_timeout_per_client_and_per_call(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/a", json={})
    mocked.get(f"{BASE}/b", json={})
    client = _Client(base_url=BASE, timeout=(2, 7))
    assert client.timeout == Timeout(2.0, 7.0)
    client._transport.request("GET", "a")
    client._transport.request("GET", "b", timeout=0.5)
    assert mocked.calls[0].request.req_kwargs["timeout"] == (2.0, 7.0)
    assert mocked.calls[1].request.req_kwargs["timeout"] == (0.5, 0.5)


def test_timeout_and_retries_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPTRACK_TIMEOUT", "3,45")
    monkeypatch.setenv("SHIPTRACK_MAX_RETRIES", "7")
    client = _Client(base_url=BASE)
    assert client.timeout == Timeout(3.0, 45.0)
    assert client.retry.max_retries == 7
    # A constructor keyword wins over the environment.
    client = _Client(base_url=BASE, timeout=9, max_retries=1)
    assert client.timeout == Timeout(9.0, 9.0)
    assert client.retry.max_retries == 1


@pytest.mark.parametrize(
    ("name", "value"), [("SHIPTRACK_TIMEOUT", "soon"), ("SHIPTRACK_MAX_RETRIES", "-1")]
)
def test_bad_environment_settings_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as info:
        _Client(base_url=BASE)
    assert info.value.argument == name


def test_client_refuses_a_bad_base_url_and_session() -> None:
    with pytest.raises(ValidationError) as info:
        _Client(base_url="ftp://x")
    assert info.value.argument == "base_url"
    with pytest.raises(ValidationError) as info:
        _Client(base_url=BASE, session=object())  # type: ignore[arg-type]
    assert info.value.argument == "session"


def test_verify_and_ca_bundle_are_passed_to_every_request(
    mocked: responses.RequestsMock, tmp_path: Path
) -> None:
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    mocked.get(f"{BASE}/a", json={})
    mocked.get(f"{BASE}/b", json={})
    mocked.get(f"{BASE}/c", json={})
    _Client(base_url=BASE, verify=str(bundle))._transport.request("GET", "a")
    # A path object, and a directory of certificates (c_rehash style), are taken too.
    _Client(base_url=BASE, verify=bundle)._transport.request("GET", "b")
    _Client(base_url=BASE, verify=str(tmp_path))._transport.request("GET", "c")
    assert [c.request.req_kwargs["verify"] for c in mocked.calls] == [
        str(bundle),
        str(bundle),
        str(tmp_path),
    ]


@pytest.mark.parametrize("verify", [0, 1, "", 5, None, 0.0, b"/etc/ssl", ["/etc/ssl"]])
def test_verify_accepts_only_booleans_and_paths(verify: Any) -> None:
    # 0 and "" used to switch certificate checks off without the warning verify=False gets.
    with pytest.raises(ValidationError) as info:
        _Client(base_url=BASE, verify=verify)
    assert info.value.argument == "verify"


def test_verify_with_a_path_that_does_not_exist_is_refused_at_construction(
    tmp_path: Path,
) -> None:
    # It used to be taken, and the first request failed with a raw OSError.
    missing = tmp_path / "no-such-ca.pem"
    with pytest.raises(ValidationError) as info:
        _Client(base_url=BASE, verify=str(missing))
    assert info.value.argument == "verify"
    assert str(missing) in str(info.value)


def test_proxies_of_a_callers_session_are_used(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/a", json={})
    session = requests.Session()
    session.proxies = {"https": "http://proxy.corp.test:3128"}
    _Client(base_url=BASE, session=session)._transport.request("GET", "a")
    assert mocked.calls[0].request.req_kwargs["proxies"]["https"] == "http://proxy.corp.test:3128"


def test_proxies_from_the_environment_are_used_and_read_once_per_origin(
    mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests scans the whole environment for proxies on every request; the transport reads
    # it once per origin. A proxy set before the first request is used, by every request.
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.test:3128")
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.delenv("no_proxy")
    mocked.get(f"{BASE}/a", json={})
    mocked.get("https://other.example.test/b", json={})
    transport = _Client(base_url=BASE)._transport
    lookups: list[str] = []
    merge = transport.session.merge_environment_settings

    def counted(url: str, *args: Any) -> Any:
        lookups.append(url)
        return merge(url, *args)

    monkeypatch.setattr(transport.session, "merge_environment_settings", counted)
    for _ in range(3):
        transport.request("GET", "a")
    transport.request("GET", "https://other.example.test/b")
    assert [call.request.req_kwargs["proxies"]["https"] for call in mocked.calls] == [
        "http://proxy.corp.test:3128"
    ] * 4
    assert lookups == [f"{BASE}/a", "https://other.example.test/b"]
    # A copy in another process reads its own environment.
    assert pickle.loads(pickle.dumps(transport))._environment == {}  # noqa: S301 (our own bytes)


def test_a_callers_session_lends_its_headers_cookies_params_and_hooks(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(f"{BASE}/a", json={})
    session = requests.Session()
    session.headers["X-Tenant"] = "t-1"
    session.headers["Accept-Encoding"] = None  # type: ignore[assignment]  # requests: drop it
    session.params = {"lang": "de"}
    session.cookies.set("route", "b2", domain="api.example.test")
    seen: list[int] = []
    session.hooks["response"].append(lambda response, **_: seen.append(response.status_code))
    transport = _Client(base_url=BASE, session=session)._transport
    transport.request("GET", "a", params={"page": 1}, headers={"X-Trace": "t1"})
    request = mocked.calls[0].request
    assert request.headers["X-Tenant"] == "t-1"
    assert request.headers["X-Trace"] == "t1"
    assert "Accept-Encoding" not in request.headers
    assert request.headers["User-Agent"] == f"shiptrack-sdk/{__version__}"
    assert request.headers["Cookie"] == "route=b2"
    assert request.url == f"{BASE}/a?lang=de&page=1"
    assert seen == [200]


def test_netrc_and_session_auth_never_replace_the_clients_credentials(
    mocked: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # requests adds HTTP Basic from ~/.netrc or session.auth to a request without its own
    # auth, replacing an Authorization header: the client authenticates every request itself.
    netrc = tmp_path / "netrc"
    netrc.write_text("machine api.example.test login someone password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    mocked.get(f"{BASE}/a", json={})
    mocked.get(f"{BASE}/b", json={})
    make_transport(credentials=ApiKeyAuth("x-api-key", "k-123")).request("GET", "a")
    session = requests.Session()
    session.auth = ("someone", "hunter2")
    _Client(base_url=BASE, session=session)._transport.request("GET", "b")
    for call in mocked.calls:
        assert "Authorization" not in call.request.headers
    assert mocked.calls[0].request.headers["x-api-key"] == "k-123"


def test_verify_false_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="shiptrack_sdk"):
        make_transport(verify=False)
    assert "verification is disabled" in caplog.text


# -- retry policy -----------------------------------------------------------------------------


def test_retry_policy_defaults() -> None:
    policy = RetryPolicy()
    assert policy.max_retries == 3
    assert policy.statuses == frozenset({429, 502, 503, 504})


@pytest.mark.parametrize("retries", [-1, True, 1.5])
def test_retry_policy_refuses_bad_max_retries(retries: Any) -> None:
    with pytest.raises(ValidationError) as info:
        RetryPolicy(max_retries=retries)
    assert info.value.argument == "max_retries"


def test_retry_policy_refuses_negative_backoff() -> None:
    with pytest.raises(ValidationError):
        RetryPolicy(backoff_factor=-1)


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("backoff_factor", -1),
        ("backoff_factor", "1"),
        ("backoff_factor", True),
        ("backoff_factor", float("nan")),
        ("backoff_factor", float("inf")),
        ("backoff_max", -1),
        ("backoff_max", "30"),
        ("backoff_max", float("nan")),
        ("retry_after_max", -0.5),
        ("retry_after_max", None),
        ("statuses", "x"),
        ("statuses", b"503"),
        ("statuses", 503),
        ("statuses", {"503"}),
        ("statuses", {503, True}),
        ("statuses", {99}),
        ("statuses", {600}),
        ("statuses", [[503]]),
    ],
)
def test_retry_policy_names_the_argument_it_refuses(argument: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        RetryPolicy(**{argument: value})
    assert info.value.argument == argument


def test_retry_policy_statuses_may_be_any_collection() -> None:
    policy = RetryPolicy(statuses=[503, 504])  # type: ignore[arg-type]
    assert policy.statuses == frozenset({503, 504})
    assert RetryPolicy(statuses=frozenset()).statuses == frozenset()
    assert RetryPolicy(backoff_max=0, retry_after_max=float("inf")).retry_after_max == float("inf")


def test_client_backoff_factor_is_checked_by_the_policy() -> None:
    with pytest.raises(ValidationError) as info:
        _Client(base_url=BASE, backoff_factor="0.5")  # type: ignore[arg-type]
    assert info.value.argument == "backoff_factor"


def test_backoff_grows_exponentially_with_equal_jitter() -> None:
    policy = RetryPolicy(backoff_factor=1.0, backoff_max=100.0)
    random.seed(1234)
    for retry in range(1, 6):
        full = 2.0 ** (retry - 1)
        samples = [policy.backoff(retry) for _ in range(200)]
        assert all(full / 2 <= s <= full for s in samples)
        # Jittered: not one fixed value.
        assert len(set(samples)) > 100
    # Each retry waits longer than the previous one at least half the time, on average more.
    means = [sum(policy.backoff(r) for _ in range(200)) / 200 for r in range(1, 5)]
    assert means == sorted(means)


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(backoff_factor=1.0, backoff_max=4.0)
    assert all(2.0 <= policy.backoff(10) <= 4.0 for _ in range(100))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-5", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_parse_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date() -> None:
    now = datetime(2024, 7, 15, 10, 0, tzinfo=timezone.utc)
    assert parse_retry_after(http_date(now + timedelta(seconds=90), usegmt=True), now=now) == 90
    # A date in the past means: now.
    assert parse_retry_after(http_date(now - timedelta(hours=1), usegmt=True), now=now) == 0


def test_get_put_delete_retried_on_retryable_statuses(mocked: responses.RequestsMock) -> None:
    sleeps = SleepRecorder()
    transport = make_transport(sleeps, retry=RetryPolicy(backoff_factor=0.001))
    for method in ("GET", "PUT", "DELETE"):
        for status in (429, 502, 503, 504):
            mocked.add(method, f"{BASE}/r", status=status)
        mocked.add(method, f"{BASE}/r", json={"ok": method})
    for method in ("GET", "PUT", "DELETE"):
        # 429, 502, 503 are retried; the 504 is the fourth attempt: retries are exhausted.
        with pytest.raises(ServerError) as info:
            transport.request(method, "r")
        assert info.value.status == 504
        assert transport.request(method, "r").json() == {"ok": method}
    assert len(mocked.calls) == 3 * 5
    assert len(sleeps.delays) == 3 * 3


def test_post_is_not_retried_on_an_error_status(mocked: responses.RequestsMock) -> None:
    sleeps = SleepRecorder()
    mocked.post(f"{BASE}/r", status=503)
    with pytest.raises(ServerError):
        make_transport(sleeps).request("POST", "r", json_body={})
    assert len(mocked.calls) == 1
    assert sleeps.delays == []


def test_non_retryable_statuses_are_not_retried(mocked: responses.RequestsMock) -> None:
    sleeps = SleepRecorder()
    mocked.get(f"{BASE}/r", status=500)
    with pytest.raises(ServerError):
        make_transport(sleeps).request("GET", "r")
    assert len(mocked.calls) == 1


def _refused() -> requests.ConnectionError:
    # What requests raises when the connection cannot be opened.
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/r", reason))  # type: ignore[arg-type]


def test_post_retried_when_the_connection_could_not_be_opened(
    mocked: responses.RequestsMock,
) -> None:
    sleeps = SleepRecorder()
    mocked.post(f"{BASE}/r", body=_refused())
    mocked.post(f"{BASE}/r", json={"ok": True})
    assert make_transport(sleeps).request("POST", "r", json_body={}).json() == {"ok": True}
    assert len(sleeps.delays) == 1


@pytest.mark.parametrize(
    "exc",
    [
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError("Connection aborted: RemoteDisconnected"),
        requests.exceptions.ChunkedEncodingError("IncompleteRead"),
    ],
)
def test_post_not_retried_when_it_may_have_reached_the_server(
    mocked: responses.RequestsMock, exc: Exception
) -> None:
    sleeps = SleepRecorder()
    mocked.post(f"{BASE}/r", body=exc)
    with pytest.raises(TransportError) as info:
        make_transport(sleeps).request("POST", "r", json_body={})
    assert info.value.may_have_reached_server is True
    assert len(mocked.calls) == 1
    assert sleeps.delays == []


def test_max_retries_zero_disables_retrying(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/r", body=requests.ConnectTimeout("connect timed out"))
    sleeps = SleepRecorder()
    with pytest.raises(TransportError) as info:
        make_transport(sleeps, retry=RetryPolicy(max_retries=0)).request("GET", "r")
    assert info.value.may_have_reached_server is False
    assert len(mocked.calls) == 1


# -- error mapping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, APIError),
        (422, BadRequestError),
        (500, ServerError),
    ],
)
def test_error_statuses_map_to_the_error_tree(
    mocked: responses.RequestsMock, status: int, cls: type[APIError]
) -> None:
    mocked.get(
        f"{BASE}/r",
        status=status,
        json={"code": "E42", "message": "it went wrong", "requestId": "rq-1"},
    )
    with pytest.raises(cls) as info:
        make_transport().request("GET", "r")
    exc = info.value
    assert type(exc) is cls
    assert exc.status == status
    assert (exc.provider, exc.method, exc.url) == ("acme", "GET", f"{BASE}/r")
    assert (exc.code, exc.error_message, exc.request_id) == ("E42", "it went wrong", "rq-1")
    assert exc.body == {"code": "E42", "message": "it went wrong", "requestId": "rq-1"}
    assert "rq-1" in str(exc)
    assert "it went wrong" in str(exc)


def test_a_provider_error_parser_reads_its_body(mocked: responses.RequestsMock) -> None:
    def parse(body: Any) -> ErrorDetails:
        return ErrorDetails(code=body["e"]["c"], message=body["e"]["m"], metadata=body["e"]["x"])

    mocked.get(
        f"{BASE}/r",
        status=400,
        json={"e": {"c": "BAD", "m": "no", "x": [1]}},
        headers={"X-Request-Id": "hdr-7"},
    )
    with pytest.raises(BadRequestError) as info:
        make_transport(error_parser=parse).request("GET", "r")
    assert (info.value.code, info.value.error_message, info.value.metadata) == ("BAD", "no", [1])
    # The request id comes from a header when the body has none.
    assert info.value.request_id == "hdr-7"
    assert info.value.headers["X-Request-Id"] == "hdr-7"


def test_a_failing_error_parser_does_not_hide_the_error(mocked: responses.RequestsMock) -> None:
    def parse(body: Any) -> ErrorDetails:
        raise KeyError("surprise")

    mocked.get(f"{BASE}/r", status=404, json={"unexpected": 1})
    with pytest.raises(NotFoundError) as info:
        make_transport(error_parser=parse).request("GET", "r")
    assert info.value.code is None


def test_an_html_error_page_becomes_the_message(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/r", status=500, body="<html><h1>Internal error</h1></html>")
    with pytest.raises(ServerError) as info:
        make_transport().request("GET", "r")
    assert info.value.body == "<html><h1>Internal error</h1></html>"
    assert "Internal error" in str(info.value)


def test_rate_limit_error_carries_retry_after(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/r", status=429, headers={"Retry-After": "17"})
    with pytest.raises(RateLimitError) as info:
        make_transport(retry=RetryPolicy(max_retries=0)).request("GET", "r")
    assert info.value.retry_after == 17


def test_requests_exceptions_become_transport_errors_chained(
    mocked: responses.RequestsMock,
) -> None:
    cause = requests.exceptions.SSLError("certificate verify failed for https://x/?key=s3cr3t")
    mocked.get(f"{BASE}/r", body=cause)
    with pytest.raises(TransportError) as info:
        make_transport(retry=RetryPolicy(max_retries=0)).request("GET", "r")
    assert "TLS error" in str(info.value)
    # Chained to a copy of requests' exception that holds no request and no secret query.
    chained = info.value.__cause__
    assert type(chained) is requests.exceptions.SSLError
    assert chained is not cause
    assert chained.request is None
    assert "s3cr3t" not in str(chained)
    assert info.value.__suppress_context__
    # The message is the SDK's own: requests' text (which may carry a URL query) is not repeated.
    assert "s3cr3t" not in str(info.value)


@pytest.mark.parametrize(
    ("body", "problem"),
    [(b"", "empty body"), (b"<html>oops</html>", "not JSON"), (b'{"a": [1, 2', "not JSON")],
)
def test_an_answer_that_is_not_json_is_a_response_error(
    mocked: responses.RequestsMock, body: bytes, problem: str
) -> None:
    mocked.get(f"{BASE}/r", body=body)
    resource = Resource(_Client(base_url=BASE))
    with pytest.raises(ResponseError) as info:
        resource._call(Endpoint("GET", "r", object))
    text = str(info.value)
    assert problem in text
    assert "[acme]" in text
    assert f"GET {BASE}/r" in text
    assert "HTTP 200" in text
    assert body[:5].decode() in info.value.body_excerpt


def test_body_size_limit_without_content_length(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/r", body=json.dumps({"pad": "x" * 5000}))
    with pytest.raises(ResponseError) as info:
        make_transport(max_response_bytes=1000).request("GET", "r")
    assert "exceeds the limit of 1000 bytes" in str(info.value)


def test_body_size_limit_from_content_length(mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{BASE}/r", body=json.dumps({"pad": "x" * 5000}), auto_calculate_content_length=True
    )
    with pytest.raises(ResponseError) as info:
        make_transport(max_response_bytes=1000).request("GET", "r")
    assert "bytes exceeds the limit of 1000 bytes" in str(info.value)


def test_a_body_within_the_limit_is_read(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/r", json={"pad": "x" * 500})
    assert make_transport(max_response_bytes=1000).request("GET", "r").json() == {"pad": "x" * 500}


# -- URLs in logs and errors ------------------------------------------------------------------


# -- redirects ----------------------------------------------------------------------------------


def test_a_redirect_within_the_origin_is_followed_with_the_key(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(f"{BASE}/old", status=301, headers={"Location": "/v2/new"})
    mocked.get(f"{BASE}/new", json={"ok": True})
    transport = make_transport(credentials=ApiKeyAuth("x-api-key", "k-123"))
    assert transport.request("GET", "old").json() == {"ok": True}
    assert mocked.calls[1].request.url == f"{BASE}/new"
    assert mocked.calls[1].request.headers["x-api-key"] == "k-123"


@pytest.mark.parametrize(
    ("target", "where"),
    [
        ("http://api.example.test/v2/a", "plain HTTP"),
        ("https://api.example.test:8443/v2/a", "another origin"),
        ("https://elsewhere.example.test/v2/a", "another origin"),
        ("//elsewhere.example.test/v2/a", "another origin"),
    ],
)
def test_a_redirect_to_another_origin_is_not_followed(
    mocked: responses.RequestsMock, target: str, where: str
) -> None:
    mocked.get(f"{BASE}/a", status=302, headers={"Location": target})
    transport = make_transport(credentials=ApiKeyAuth("x-api-key", "k-123"))
    with pytest.raises(ResponseError) as info:
        transport.request("GET", "a")
    assert len(mocked.calls) == 1  # nothing sent to the target
    assert info.value.status == 302
    assert f"redirect to {where}" in str(info.value)
    assert "k-123" not in str(info.value)


def test_a_refused_redirect_is_not_retried(mocked: responses.RequestsMock) -> None:
    mocked.put(f"{BASE}/a", status=307, headers={"Location": "https://other.example.test/a"})
    with pytest.raises(ResponseError):
        make_transport(SleepRecorder()).request("PUT", "a", json_body={})
    assert len(mocked.calls) == 1


# -- session ----------------------------------------------------------------------------------


def test_one_session_per_transport_made_lazily_and_closed() -> None:
    transport = make_transport()
    session = transport.session
    assert isinstance(session, requests.Session)
    assert transport.session is session
    transport.close()
    with pytest.raises(ClientClosedError):
        transport.session  # noqa: B018 - the property is what is tested


def test_a_callers_session_is_used_and_left_open() -> None:
    session = requests.Session()
    client = _Client(base_url=BASE, session=session)
    assert client.session is session
    client.close()
    assert client.session is session


def test_pickled_transport_rebuilds_its_own_session() -> None:
    transport = make_transport()
    _ = transport.session
    clone = pickle.loads(pickle.dumps(transport))  # noqa: S301 (our own bytes)
    assert clone._session is None
    assert isinstance(clone.session, requests.Session)
    assert clone.base_url == transport.base_url
    assert repr(clone) == f"<Transport acme {BASE}/>"
