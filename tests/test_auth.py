"""Authentication: ApiKeyAuth, and OAuth2ClientCredentials against the sandbox's real token
endpoint over HTTP (``/oauth/token``, protecting ``/oauth/whoami``)."""

from __future__ import annotations

import base64
import json
import os
import pickle
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses

from shiptrack_sdk import RetryPolicy
from shiptrack_sdk._core.client import BaseClient
from shiptrack_sdk._core.spec import OAuth2AuthSpec, ProviderSpec
from shiptrack_sdk._core.transport import Transport
from shiptrack_sdk.auth import ApiKeyAuth, OAuth2ClientCredentials, is_loopback_url
from shiptrack_sdk.errors import AuthenticationError, ResponseError, ValidationError
from shiptrack_sdk.sandbox import Sandbox
from tests.conftest import SleepRecorder

WHOAMI = "/oauth/whoami"


def form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode()).items()}


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


def sdk_transport(
    sb: Sandbox, auth: OAuth2ClientCredentials, sleeps: SleepRecorder | None = None
) -> Transport:
    """A transport with ``auth`` bound, as every SDK client builds it."""
    transport = Transport(
        provider="acme",
        base_url=sb.url,
        credentials=auth,
        retry=RetryPolicy(backoff_factor=0.001),
        sleep=sleeps or SleepRecorder(),
    )
    auth.bind(transport)
    return transport


class _Client(BaseClient):
    """A client of the sandbox's provider-neutral OAuth2 endpoints."""

    spec = ProviderSpec(
        name="acme",
        title="Acme",
        client="tests.test_auth:_Client",
        env_prefix="SHIPTRACK_ACME",
        environments={"production": "https://api.example.test"},
        auth=OAuth2AuthSpec(token_url="oauth/token"),
    )


def oauth_client(sb: Sandbox, **kwargs: Any) -> _Client:
    return _Client(
        base_url=sb.url,
        client_id=sb.credentials.oauth_client_id,
        client_secret=sb.credentials.oauth_client_secret,
        **kwargs,
    )


# -- ApiKeyAuth -------------------------------------------------------------------------------


def test_api_key_auth_sets_its_header() -> None:
    request = requests.Request("GET", "https://api.example.test/x").prepare()
    ApiKeyAuth("x-api-key", "k-1")(request)
    assert request.headers["x-api-key"] == "k-1"


def test_api_key_auth_works_on_any_session(sb: Sandbox, session: requests.Session) -> None:
    session.auth = ApiKeyAuth("x-api-key", sb.apps["shiplemon"].credentials.api_key)
    url = f"{sb.provider_url('shiplemon')}/public/v1/shipments/6650a1f2c3d4e5f601234567/tracking"
    assert session.get(url).json()["data"]["tracking_status"] == "TRANSIT"
    session.auth = ApiKeyAuth("x-api-key", "wrong")
    assert session.get(url).status_code == 401


def test_api_key_auth_repr_hides_the_key() -> None:
    auth = ApiKeyAuth("x-api-key", "very-secret-key")
    assert "very-secret-key" not in repr(auth)
    assert repr(auth) == "ApiKeyAuth(header='x-api-key', key='***')"
    assert auth == ApiKeyAuth("x-api-key", "very-secret-key")
    assert auth != ApiKeyAuth("x-api-key", "other")


@pytest.mark.parametrize(
    ("header", "key", "argument"),
    [
        ("x-api-key", "", "key"),
        ("x-api-key", "a\r\nX: y", "key"),
        ("x-api-key", "kl\u00e9-\u20ac-SECRET", "key"),
        ("", "k", "header"),
    ],
)
def test_api_key_auth_refuses_what_cannot_be_a_header(header: str, key: str, argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        ApiKeyAuth(header, key)
    assert info.value.argument == argument
    assert key not in str(info.value) or not key


@pytest.mark.parametrize("argument", ["client_id", "client_secret"])
@pytest.mark.parametrize("client_auth", ["body", "basic"])
def test_credentials_that_cannot_go_into_a_header_are_refused_without_echo(
    argument: str, client_auth: Any
) -> None:
    # "\u20ac" (the euro sign) is not Latin-1: http.client would fail at the first request with
    # a UnicodeEncodeError quoting the whole value.
    value = "SENTINEL-\u20ac-9f2"
    kwargs = {"client_id": "id", "client_secret": "secret", argument: value}
    with pytest.raises(ValidationError) as info:
        OAuth2ClientCredentials(
            "https://auth.example.test/token", client_auth=client_auth, **kwargs
        )
    assert info.value.argument == argument
    assert "Latin-1" in str(info.value)
    for text in (str(info.value), repr(info.value), repr(vars(info.value))):
        assert value not in text
    # Nothing chained either: the UnicodeEncodeError that would quote it is never raised.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None


def test_latin1_credentials_are_accepted() -> None:
    ApiKeyAuth("x-api-key", "cl\u00e9-\u00ff")
    OAuth2ClientCredentials("https://auth.example.test/token", "\u00e9", "s\u00e9cret")


# -- OAuth2 client credentials: the token request ---------------------------------------------


def test_token_request_with_credentials_in_the_body(sb: Sandbox, session: requests.Session) -> None:
    session.auth = sb.oauth2_auth()
    response = session.get(f"{sb.url}{WHOAMI}")
    assert response.json() == {"client_id": "sandbox-client"}
    (token_call,) = sb.calls("/oauth/token", "POST")
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in token_call.headers
    assert form(token_call.body) == {
        "grant_type": "client_credentials",
        "client_id": "sandbox-client",
        "client_secret": "sandbox-secret",
    }
    (call,) = sb.calls(WHOAMI)
    assert call.headers["Authorization"].startswith("Bearer ")
    assert sb.tokens.check(call.headers["Authorization"].removeprefix("Bearer ")) == (
        "sandbox-client"
    )


def test_token_request_with_basic_client_auth(sb: Sandbox, session: requests.Session) -> None:
    session.auth = sb.oauth2_auth(client_auth="basic", scope="tracking:read")
    assert session.get(f"{sb.url}{WHOAMI}").status_code == 200
    (token_call,) = sb.calls("/oauth/token", "POST")
    expected = base64.b64encode(b"sandbox-client:sandbox-secret").decode()
    assert token_call.headers["Authorization"] == f"Basic {expected}"
    assert form(token_call.body) == {"grant_type": "client_credentials", "scope": "tracking:read"}


@pytest.mark.parametrize(
    ("scope", "sent"),
    [
        ("tracking:read", "tracking:read"),
        ("tracking:read tracking:write", "tracking:read tracking:write"),
        (["tracking:read", "tracking:write"], "tracking:read tracking:write"),
        (("tracking:read",), "tracking:read"),
    ],
)
def test_scope_is_a_string_or_a_list_of_names(
    sb: Sandbox, session: requests.Session, scope: Any, sent: str
) -> None:
    auth = sb.oauth2_auth(scope=scope)
    assert auth.scope == sent
    session.auth = auth
    assert session.get(f"{sb.url}{WHOAMI}").status_code == 200
    (token_call,) = sb.calls("/oauth/token", "POST")
    assert form(token_call.body)["scope"] == sent


@pytest.mark.parametrize(
    ("scope", "argument"),
    [
        (123, "scope"),
        (b"tracking:read", "scope"),
        ({"tracking:read": 1}, "scope"),
        (["tracking:read", 5], "scope[1]"),
        (["tracking:read", ""], "scope[1]"),
        (["two names"], "scope[0]"),
        ("tracking:read\r\nX: 1", "scope"),
    ],
)
def test_a_bad_scope_is_refused_at_construction(scope: Any, argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        OAuth2ClientCredentials("https://auth.example.test/token", "id", "secret", scope=scope)
    assert info.value.argument == argument


def test_client_auth_must_be_body_or_basic() -> None:
    with pytest.raises(ValidationError) as info:
        OAuth2ClientCredentials(
            "https://a.test/token",
            "id",
            "secret",
            client_auth="jwt",  # type: ignore[arg-type]
        )
    assert info.value.argument == "client_auth"


# -- caching, renewal, threads ----------------------------------------------------------------


def test_token_is_cached(sb: Sandbox) -> None:
    auth = sb.oauth2_auth()
    transport = sdk_transport(sb, auth)
    issued = sb.tokens.issued
    for _ in range(6):
        assert transport.request("GET", WHOAMI).status_code == 200
    assert auth.token_requests == 1
    assert sb.tokens.issued - issued == 1
    assert len(sb.calls("/oauth/token")) == 1
    assert len(sb.calls(WHOAMI)) == 6


def test_token_requests_go_through_the_clients_pooled_session(sb: Sandbox) -> None:
    session = requests.Session()
    sent: list[str] = []
    send = session.send

    def counting(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        sent.append(request.path_url)
        return send(request, **kwargs)

    session.send = counting  # type: ignore[method-assign]
    client = oauth_client(sb, session=session)
    client._transport.request("GET", WHOAMI)
    assert sent == ["/oauth/token", WHOAMI]


class FakeClock:
    """Replaces the ``time`` module inside ``shiptrack_sdk.auth``: a clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleep = time.sleep

    def monotonic(self) -> float:
        return self.now


def test_token_renewed_before_it_expires(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import shiptrack_sdk._core.tokens as auth_module

    clock = FakeClock()
    monkeypatch.setattr(auth_module, "time", clock)
    auth = sb.oauth2_auth(leeway=60)
    transport = sdk_transport(sb, auth)
    transport.request("GET", WHOAMI)
    assert auth.token_requests == 1
    # The sandbox's tokens live 1800 s; renewal is due 60 s before.
    clock.now += 1739
    transport.request("GET", WHOAMI)
    assert auth.token_requests == 1
    clock.now += 2
    transport.request("GET", WHOAMI)
    assert auth.token_requests == 2
    # Renewed before expiry: the server never had to refuse a token.
    assert [c.status for c in sb.calls(WHOAMI)] == [200, 200, 200]


def test_token_renewed_before_a_short_lifetime_runs_out() -> None:
    # Over real time: a 1 s token is renewed after half its life (the leeway is capped at half),
    # so no request ever carries an expired token.
    with Sandbox(token_lifetime=1) as sb:
        auth = sb.oauth2_auth()
        transport = sdk_transport(sb, auth)
        transport.request("GET", WHOAMI)
        time.sleep(0.6)
        transport.request("GET", WHOAMI)
        assert auth.token_requests == 2
        assert sb.tokens.issued == 2
        assert [c.status for c in sb.calls(WHOAMI)] == [200, 200]


def test_cold_token_fetched_once_for_16_threads(sb: Sandbox) -> None:
    auth = sb.oauth2_auth()
    transport = sdk_transport(sb, auth)
    issued = sb.tokens.issued
    # A slow token endpoint: every thread asks while the first fetch is still under way.
    sb.fault("/oauth/token", delay=0.1)
    barrier = threading.Barrier(16)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            statuses.append(transport.request("GET", WHOAMI).status_code)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert errors == []
    assert statuses == [200] * 16
    assert auth.token_requests == 1
    assert sb.tokens.issued - issued == 1
    assert len(sb.calls("/oauth/token")) == 1


# -- 401 with a cached token ------------------------------------------------------------------


def test_401_with_a_cached_token_renews_once_and_replays_once(sb: Sandbox) -> None:
    auth = sb.oauth2_auth()
    transport = sdk_transport(sb, auth)
    transport.request("GET", WHOAMI)
    sb.tokens.expire_all()  # the server forgets every token (revocation, restart...)
    response = transport.request("GET", WHOAMI)
    assert response.status_code == 200
    assert auth.token_requests == 2
    calls = sb.calls(WHOAMI)
    assert [c.status for c in calls] == [200, 401, 200]
    # The replay carried the new token.
    assert calls[1].headers["Authorization"] != calls[2].headers["Authorization"]


def test_401_replay_on_a_plain_session(sb: Sandbox, session: requests.Session) -> None:
    auth = sb.oauth2_auth()
    session.auth = auth
    session.get(f"{sb.url}{WHOAMI}")
    sb.tokens.expire_all()
    assert session.get(f"{sb.url}{WHOAMI}").status_code == 200
    assert auth.token_requests == 2


def test_a_401_that_persists_raises_without_looping(sb: Sandbox) -> None:
    auth = sb.oauth2_auth()
    transport = sdk_transport(sb, auth)
    sb.fault(WHOAMI, status=401, times=None)
    with pytest.raises(AuthenticationError) as info:
        transport.request("GET", WHOAMI)
    assert info.value.status == 401
    assert len(sb.calls(WHOAMI)) == 2  # the call and one replay
    assert auth.token_requests == 2  # the first token and one renewal


def test_a_401_after_a_replay_is_not_replayed_again(sb: Sandbox, session: requests.Session) -> None:
    auth = sb.oauth2_auth()
    session.auth = auth
    sb.fault(WHOAMI, status=401, times=None)
    assert session.get(f"{sb.url}{WHOAMI}").status_code == 401
    assert len(sb.calls(WHOAMI)) == 2


# -- redirects: credentials go to their own origin only ---------------------------------------


@pytest.fixture
def other() -> Iterator[Sandbox]:
    """A second server: another port of the same host is another origin."""
    with Sandbox() as server:
        yield server


def _bearers(server: Sandbox) -> list[str | None]:
    return [c.headers.get("Authorization") for c in server.calls()]


def test_a_redirect_to_another_origin_that_answers_401_does_not_get_the_token(
    sb: Sandbox, other: Sandbox, session: requests.Session
) -> None:
    # requests copies the auth's 401 hook onto the redirected request: the hook must not
    # answer the other server's 401 by attaching the token and replaying there.
    auth = sb.oauth2_auth()
    session.auth = auth
    sb.fault(WHOAMI, status=302, headers={"Location": f"{other.url}{WHOAMI}"})
    response = session.get(f"{sb.url}{WHOAMI}")
    assert response.status_code == 401
    assert _bearers(other) == [None]  # one call, without the token: no replay
    assert auth.token_requests == 1


def test_a_redirect_to_another_host_name_that_answers_401_does_not_get_the_token(
    sb: Sandbox, session: requests.Session
) -> None:
    # The same server under another name (localhost): another origin all the same.
    auth = sb.oauth2_auth()
    session.auth = auth
    elsewhere = sb.url.replace("127.0.0.1", "localhost")
    sb.fault(WHOAMI, status=302, headers={"Location": f"{elsewhere}{WHOAMI}"})
    assert session.get(f"{sb.url}{WHOAMI}").status_code == 401
    calls = sb.calls(WHOAMI)
    assert [c.headers.get("Host", "").split(":")[0] for c in calls] == ["127.0.0.1", "localhost"]
    assert calls[0].headers["Authorization"].startswith("Bearer ")
    assert "Authorization" not in calls[1].headers
    assert len(calls) == 2
    assert auth.token_requests == 1


def _recording(status: int, headers: dict[str, str], seen: list[tuple[str, str | None]]) -> Any:
    """A responses callback that records each request's Authorization as it was sent."""

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        seen.append((request.url or "", request.headers.get("Authorization")))
        return status, headers, "{}"

    return answer


@responses.activate
def test_a_redirect_to_plain_http_on_the_same_host_does_not_get_the_token() -> None:
    seen: list[tuple[str, str | None]] = []
    responses.add(responses.POST, "https://auth.example.test/token", json={"access_token": "t-1"})
    responses.add_callback(
        responses.GET,
        "https://api.example.test/a",
        callback=_recording(302, {"Location": "http://api.example.test/a"}, seen),
    )
    responses.add_callback(responses.GET, "http://api.example.test/a", _recording(401, {}, seen))
    auth = OAuth2ClientCredentials("https://auth.example.test/token", "id", "secret")
    with requests.Session() as session:
        session.auth = auth
        assert session.get("https://api.example.test/a").status_code == 401
    assert seen == [
        ("https://api.example.test/a", "Bearer t-1"),
        ("http://api.example.test/a", None),  # once, without the token: no replay
    ]
    assert auth.token_requests == 1


@responses.activate
def test_a_redirect_from_http_to_https_takes_the_token_off_too() -> None:
    # requests keeps Authorization from http:// to https:// of the same host; the auth takes it
    # off: the token was attached for the loopback origin, and goes to that origin only.
    seen: list[tuple[str, str | None]] = []
    responses.add(responses.POST, "http://127.0.0.1:9/token", json={"access_token": "t-1"})
    responses.add_callback(
        responses.GET,
        "http://127.0.0.1/a",
        callback=_recording(301, {"Location": "https://127.0.0.1/a"}, seen),
    )
    responses.add_callback(responses.GET, "https://127.0.0.1/a", _recording(200, {}, seen))
    with requests.Session() as session:
        session.auth = OAuth2ClientCredentials("http://127.0.0.1:9/token", "id", "secret")
        assert session.get("http://127.0.0.1/a").status_code == 200
    assert seen == [("http://127.0.0.1/a", "Bearer t-1"), ("https://127.0.0.1/a", None)]


def test_a_redirect_within_the_origin_keeps_the_token_and_its_401_renewal(
    sb: Sandbox, session: requests.Session
) -> None:
    auth = sb.oauth2_auth()
    session.auth = auth
    session.get(f"{sb.url}{WHOAMI}")
    sb.tokens.expire_all()
    sb.fault("/oauth/old-whoami", status=307, headers={"Location": WHOAMI}, unrouted=True)
    response = session.get(f"{sb.url}/oauth/old-whoami")
    assert response.json() == {"client_id": "sandbox-client"}
    assert [c.status for c in sb.calls(WHOAMI)] == [200, 401, 200]
    assert auth.token_requests == 2


def test_the_sdk_transport_follows_no_redirect_to_another_origin(
    sb: Sandbox, other: Sandbox
) -> None:
    transport = sdk_transport(sb, sb.oauth2_auth())
    sb.fault(WHOAMI, status=302, headers={"Location": f"{other.url}{WHOAMI}?token=abc"})
    with pytest.raises(ResponseError) as info:
        transport.request("GET", WHOAMI)
    assert info.value.status == 302
    assert "another origin" in str(info.value)
    assert info.value.location == f"{other.url}{WHOAMI}?token=***"
    assert "abc" not in str(info.value)
    assert other.calls() == []


def test_a_token_request_is_not_redirected_to_another_origin(sb: Sandbox, other: Sandbox) -> None:
    # A token request's body holds the client secret: a 307 would send it on as it is.
    sb.fault("/oauth/token", status=307, headers={"Location": f"{other.url}/oauth/token"})
    auth = sb.oauth2_auth()
    with pytest.raises(ResponseError) as info:
        sdk_transport(sb, auth).request("GET", WHOAMI)
    assert info.value.status == 307
    assert other.calls() == []
    assert sb.calls(WHOAMI) == []


# -- token endpoint failures ------------------------------------------------------------------


def test_refused_client_credentials_raise_authentication_error(sb: Sandbox) -> None:
    auth = sb.oauth2_auth(client_secret="wrong-secret")
    transport = sdk_transport(sb, auth)
    with pytest.raises(AuthenticationError) as info:
        transport.request("GET", WHOAMI)
    exc = info.value
    assert exc.status == 401
    assert exc.code == "invalid_client"
    assert exc.error_message == "client authentication failed"
    assert "client authentication failed" in str(exc)
    assert exc.url == f"{sb.url}/oauth/token"
    assert sb.calls(WHOAMI) == []  # nothing sent without a token
    assert len(sb.calls("/oauth/token")) == 1  # a refusal is not retried


def test_oauth2_error_in_a_200_answer(sb: Sandbox) -> None:
    body = '{"error": "invalid_scope", "error_description": "scope tracking:write not granted"}'
    sb.fault("/oauth/token", status=200, body=body)
    with pytest.raises(AuthenticationError) as info:
        sdk_transport(sb, sb.oauth2_auth()).request("GET", WHOAMI)
    assert info.value.code == "invalid_scope"
    assert info.value.error_message == "scope tracking:write not granted"


def test_bad_request_at_the_token_endpoint(sb: Sandbox) -> None:
    def wrong_grant(url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> Any:
        kwargs["data"]["grant_type"] = "password"
        return url, headers, kwargs

    auth = sb.oauth2_auth(compliance_hooks={"access_token_request": [wrong_grant]})
    with pytest.raises(AuthenticationError) as info:
        sdk_transport(sb, auth).request("GET", WHOAMI)
    assert info.value.status == 400
    assert info.value.code == "unsupported_grant_type"
    assert info.value.error_message == "grant_type must be client_credentials"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<html>login</html>", "token endpoint answer is not JSON"),
        ('{"token_type": "bearer"}', "token endpoint answer has no access_token"),
    ],
)
def test_token_answer_without_a_token_is_a_response_error(
    sb: Sandbox, body: str, problem: str
) -> None:
    sb.fault("/oauth/token", status=200, body=body)
    with pytest.raises(ResponseError) as info:
        sdk_transport(sb, sb.oauth2_auth()).request("GET", WHOAMI)
    assert problem in str(info.value)
    assert info.value.status == 200
    assert info.value.url == f"{sb.url}/oauth/token"
    assert sb.calls(WHOAMI) == []


def test_a_token_endpoint_outage_is_retried(sb: Sandbox, sleeps: SleepRecorder) -> None:
    auth = sb.oauth2_auth()
    sb.fault("/oauth/token", status=503)
    assert sdk_transport(sb, auth, sleeps).request("GET", WHOAMI).status_code == 200
    assert auth.token_requests == 2
    assert len(sleeps.delays) == 1


# -- HTTPS only, except loopback; no process-wide state ---------------------------------------


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080/t", True),
        ("http://127.9.9.9/t", True),
        ("http://localhost/t", True),
        ("http://[::1]:80/t", True),
        ("http://10.0.0.1/t", False),
        ("http://auth.example.com/t", False),
        ("http://127.0.0.1.example.com/t", False),
    ],
)
def test_is_loopback_url(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_plain_http_to_a_remote_token_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    with pytest.raises(ValidationError) as info:
        OAuth2ClientCredentials("http://auth.example.com/oauth/token", "id", "secret")
    assert info.value.argument == "token_url"
    assert "HTTPS" in str(info.value)
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ
    # HTTPS is fine anywhere.
    OAuth2ClientCredentials("https://auth.example.com/oauth/token", "id", "secret")


def test_plain_http_to_a_remote_api_is_refused_before_anything_is_sent() -> None:
    auth = OAuth2ClientCredentials("https://auth.example.test/token", "id", "secret")
    transport = Transport(provider="acme", base_url="http://api.example.test", credentials=auth)
    auth.bind(transport)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        with pytest.raises(ValidationError) as info:
            transport.request("GET", "/x")
        assert len(mocked.calls) == 0
    assert info.value.argument == "base_url"
    assert auth.token_requests == 0


@responses.activate
def test_https_to_a_host_does_not_clear_plain_http_to_it() -> None:
    responses.add(responses.POST, "https://auth.example.test/token", json={"access_token": "t"})
    responses.add(responses.GET, "https://api.example.test/a", json={})
    auth = OAuth2ClientCredentials("https://auth.example.test/token", "id", "secret")
    with requests.Session() as session:
        session.auth = auth
        assert session.get("https://api.example.test/a").status_code == 200
        with pytest.raises(ValidationError) as info:
            session.get("http://api.example.test/b")
        # Nor to another port of the same host.
        with pytest.raises(ValidationError):
            session.get("http://api.example.test:443/b")
    assert info.value.argument == "base_url"
    assert [c.request.url for c in responses.calls] == [
        "https://auth.example.test/token",
        "https://api.example.test/a",
    ]


def test_a_hook_cannot_move_the_token_request_to_plain_http(sb: Sandbox) -> None:
    def downgrade(url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> Any:
        return "http://auth.example.com/token", headers, kwargs

    auth = sb.oauth2_auth(compliance_hooks={"access_token_request": [downgrade]})
    with pytest.raises(ValidationError):
        sdk_transport(sb, auth).request("GET", WHOAMI)
    assert sb.calls("/oauth/token") == []


def test_oauth2_over_loopback_http_changes_no_process_state(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    before = dict(os.environ)
    auth = sb.oauth2_auth()
    sdk_transport(sb, auth).request("GET", WHOAMI)
    assert auth.token_requests == 1
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ
    assert dict(os.environ) == before


# -- compliance hooks -------------------------------------------------------------------------


def test_compliance_hooks_are_applied(sb: Sandbox) -> None:
    seen: list[int] = []

    def add_audience(url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> Any:
        kwargs["data"]["audience"] = "tracking-api"
        return url, {**headers, "X-Partner": "acme"}, kwargs

    def record_answer(response: requests.Response) -> requests.Response:
        seen.append(response.status_code)
        return response

    auth = sb.oauth2_auth(compliance_hooks={"access_token_request": [add_audience]})
    auth.register_compliance_hook("access_token_response", record_answer)
    assert sdk_transport(sb, auth).request("GET", WHOAMI).status_code == 200
    (token_call,) = sb.calls("/oauth/token")
    assert form(token_call.body)["audience"] == "tracking-api"
    assert form(token_call.body)["client_id"] == "sandbox-client"
    assert token_call.headers["X-Partner"] == "acme"
    assert seen == [200]


@responses.activate
def test_hooks_are_interchangeable_with_requests_oauthlib() -> None:
    """The same hook does the same on a real requests_oauthlib.OAuth2Session and on the SDK's
    auth: exporto's JSON token request, byte for byte."""
    from oauthlib.oauth2 import BackendApplicationClient
    from requests_oauthlib import OAuth2Session

    from shiptrack_sdk.exporto import json_token_request

    url = "https://auth.example.test/token"
    token = {"access_token": "t-1", "token_type": "bearer", "expires_in": 1800}
    responses.add(responses.POST, url, json=token)
    responses.add(responses.GET, "https://api.example.test/me", json={})

    oauth = OAuth2Session(client=BackendApplicationClient(client_id="id"))
    oauth.register_compliance_hook("access_token_request", json_token_request)
    basic = requests.auth.HTTPBasicAuth("id", "secret")
    oauth.fetch_token(url, auth=basic, include_client_id=False, scope="shipment:read")

    auth = OAuth2ClientCredentials(url, "id", "secret", scope="shipment:read", client_auth="basic")
    auth.register_compliance_hook("access_token_request", json_token_request)
    with requests.Session() as session:
        session.auth = auth
        session.get("https://api.example.test/me")

    theirs, ours = (call.request for call in responses.calls[:2])
    assert (
        json.loads(ours.body)
        == json.loads(theirs.body)
        == {
            "grant_type": "client_credentials",
            "scope": "shipment:read",
        }
    )
    for request in (theirs, ours):
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["Authorization"] == requests.auth._basic_auth_str("id", "secret")


@responses.activate
def test_a_compliance_fix_shipped_by_requests_oauthlib_applies_unchanged() -> None:
    """requests-oauthlib's own fixes register their hooks with ``register_compliance_hook``;
    the SDK's auth takes them as an OAuth2Session does (here: a token in camelCase)."""
    from requests_oauthlib.compliance_fixes import plentymarkets_compliance_fix

    url = "https://auth.example.test/token"
    camel = {"accessToken": "t-camel", "tokenType": "Bearer", "expiresIn": 3600}
    responses.add(responses.POST, url, json=camel)
    responses.add(responses.GET, "https://api.example.test/me", json={})
    auth = OAuth2ClientCredentials(url, "id", "secret")
    plentymarkets_compliance_fix(auth)
    with requests.Session() as session:
        session.auth = auth
        session.get("https://api.example.test/me")
    assert responses.calls[1].request.headers["Authorization"] == "Bearer t-camel"


def test_unknown_hook_type_is_refused() -> None:
    auth = OAuth2ClientCredentials("https://a.test/token", "id", "secret")
    with pytest.raises(ValidationError):
        auth.register_compliance_hook("protected_request", lambda *a: a)


# -- repr and pickling ------------------------------------------------------------------------


def test_repr_hides_the_secret_and_the_token(sb: Sandbox) -> None:
    auth = sb.oauth2_auth()
    token = auth.access_token()
    text = repr(auth) + repr(auth.tokens._token)
    assert "sandbox-secret" not in text
    assert token not in text
    assert "client_secret='***'" in repr(auth)


def test_pickling_drops_the_token(sb: Sandbox) -> None:
    auth = sb.oauth2_auth()
    transport = sdk_transport(sb, auth)
    transport.request("GET", WHOAMI)
    token = auth.access_token()
    data = pickle.dumps(auth)
    assert token.encode() not in data
    clone = pickle.loads(data)  # noqa: S301 (our own bytes)
    assert clone.tokens._token is None
    # The clone fetches its own token and works.
    with requests.Session() as s:
        s.auth = clone
        assert s.get(f"{sb.url}{WHOAMI}").status_code == 200
    assert clone.access_token() != token
    assert clone.token_requests == 2  # the count travelled; one more fetch in the clone


def test_pickling_a_client_with_oauth2(sb: Sandbox) -> None:
    client = oauth_client(sb)
    client._transport.request("GET", WHOAMI)
    clone = pickle.loads(pickle.dumps(client))  # noqa: S301 (our own bytes)
    assert clone._transport.request("GET", WHOAMI).status_code == 200
