"""The embedded sandbox as a server: lifecycle, routing, faults, recording, statistics,
latency, reset, tokens, the pytest fixture and ``python -m`` usability. Plain ``requests``
is the client here, so the sandbox is tested on its own, not through the SDK."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from shiptrack_sdk import ValidationError
from shiptrack_sdk.sandbox import Sandbox, SandboxCredentials
from shiptrack_sdk.sandbox._server import (
    Fault,
    Router,
    SandboxRequest,
    SandboxResponse,
    SandboxServer,
    TokenIssuer,
    credentials_match,
    json_response,
    oauth_token_routes,
)

SID = "6650a1f2c3d4e5f601234567"
GET_PATH = f"/shiplemon/public/v1/shipments/{SID}/tracking"
PUT_PATH = f"/shiplemon/v1/shipments/{SID}/tracking"
KEY = {"x-api-key": "sandbox-shiplemon-key"}
HISTORY = {
    "tracking_history": [
        {
            "status": "DELIVERED",
            "status_date": "2024-09-04T10:00:00.000Z",
            "status_details": "Delivered",
            "status_exact": None,
        }
    ]
}


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def get(http: requests.Session, sb: Sandbox, path: str = GET_PATH, **kw: Any) -> requests.Response:
    kw.setdefault("timeout", 5)
    return http.get(f"{sb.url}{path}", headers=KEY, **kw)


# -- lifecycle --------------------------------------------------------------------------------


def test_serves_on_loopback_on_an_ephemeral_port() -> None:
    with Sandbox() as one, Sandbox() as two:
        assert one.url.startswith("http://127.0.0.1:")
        assert one.url != two.url
        assert repr(one) == f"<Sandbox {one.url}>"
        assert one.provider_url("shiplemon") == f"{one.url}/shiplemon"
        assert one.start() is one  # idempotent
        assert requests.get(f"{one.url}{GET_PATH}", headers=KEY, timeout=5).status_code == 200
    assert repr(one) == "<Sandbox stopped>"
    with pytest.raises(RuntimeError):
        _ = one.url


def test_start_and_stop_without_a_with_block() -> None:
    sb = Sandbox().start()
    try:
        url = sb.url
        assert requests.get(f"{url}{GET_PATH}", headers=KEY, timeout=5).status_code == 200
    finally:
        sb.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}{GET_PATH}", headers=KEY, timeout=5)


def test_route_names(sb: Sandbox) -> None:
    names = sb.route_names
    for name in (
        "oauth.token",
        "oauth.whoami",
        "oauth.echo",
        "shiplemon.tracking.get",
        "shiplemon.tracking.update",
    ):
        assert name in names
    assert len(names) == len(set(names))


def test_unknown_path_and_wrong_method(sb: Sandbox, http: requests.Session) -> None:
    answer = http.get(f"{sb.url}/nowhere", timeout=5)
    assert answer.status_code == 404
    assert answer.json() == {"message": "no route for /nowhere"}
    answer = http.delete(f"{sb.url}{GET_PATH}", timeout=5)
    assert answer.status_code == 405


def test_the_fixture_gives_a_running_reset_sandbox(shiptrack_sandbox: Sandbox) -> None:
    assert isinstance(shiptrack_sandbox, Sandbox)
    assert shiptrack_sandbox.calls() == []
    assert shiptrack_sandbox.latency == 0.0
    assert shiptrack_sandbox.shiplemon_client().tracking.get(SID).tracking_status == "TRANSIT"


# -- faults -----------------------------------------------------------------------------------


def test_status_fault_for_the_next_n_calls(sb: Sandbox, http: requests.Session) -> None:
    fault = sb.fault("/shiplemon/*", status=503, times=2)
    assert isinstance(fault, Fault)
    assert [get(http, sb).status_code for _ in range(3)] == [503, 503, 200]
    assert fault.hits == 2
    first = get(http, sb)
    assert first.status_code == 200


def test_status_fault_answers_a_json_error_by_default(sb: Sandbox, http: requests.Session) -> None:
    sb.fault(GET_PATH, status=502)
    answer = get(http, sb)
    assert answer.json() == {"message": "injected fault: HTTP 502"}
    assert answer.headers["Content-Type"] == "application/json"


def test_fault_until_cleared(sb: Sandbox, http: requests.Session) -> None:
    sb.fault(GET_PATH, status=500, times=None)
    assert [get(http, sb).status_code for _ in range(5)] == [500] * 5
    sb.clear_faults()
    assert get(http, sb).status_code == 200


def test_fault_with_retry_after_body_and_headers(sb: Sandbox, http: requests.Session) -> None:
    sb.fault(
        GET_PATH,
        status=429,
        retry_after=30,
        body="<html>slow down</html>",
        content_type="text/html",
        headers={"X-Request-Id": "rq-9"},
    )
    answer = get(http, sb)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "30"
    assert answer.headers["Content-Type"] == "text/html"
    assert answer.headers["X-Request-Id"] == "rq-9"
    assert answer.text == "<html>slow down</html>"


def test_fault_body_without_status_keeps_the_routes_status(
    sb: Sandbox, http: requests.Session
) -> None:
    sb.fault(GET_PATH, body='{"status":"ok"')
    answer = get(http, sb)
    assert answer.status_code == 200
    assert answer.text == '{"status":"ok"'


def test_fault_matches_method_and_glob(sb: Sandbox, http: requests.Session) -> None:
    sb.fault("/shiplemon/v1/*", method="PUT", status=503)
    assert get(http, sb).status_code == 200  # another path
    assert http.get(f"{sb.url}{PUT_PATH}", headers=KEY, timeout=5).status_code == 405
    assert http.put(f"{sb.url}{PUT_PATH}", headers=KEY, json=HISTORY, timeout=5).status_code == 503


def test_delay_fault_outlasts_a_short_read_timeout(sb: Sandbox, http: requests.Session) -> None:
    sb.fault(GET_PATH, delay=0.3)
    with pytest.raises(requests.ReadTimeout):
        get(http, sb, timeout=(1, 0.05))
    assert get(http, sb).status_code == 200


def test_drop_closes_the_connection_without_an_answer(sb: Sandbox, http: requests.Session) -> None:
    sb.fault(GET_PATH, action="drop")
    with pytest.raises(requests.ConnectionError):
        get(http, sb)
    (call,) = sb.calls(GET_PATH)
    assert call.status is None


def test_reset_mid_sends_half_a_body(sb: Sandbox, http: requests.Session) -> None:
    sb.fault(GET_PATH, action="reset_mid")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        get(http, sb)
    assert get(http, sb).json()["status"] == "ok"


def test_after_fault_runs_the_route_first(sb: Sandbox, http: requests.Session) -> None:
    # The PUT is accepted (its effect happens), then the connection drops: the client
    # cannot know.
    sb.fault(PUT_PATH, method="PUT", after=True, action="drop")
    with pytest.raises(requests.ConnectionError):
        http.put(f"{sb.url}{PUT_PATH}", headers=KEY, json=HISTORY, timeout=5)
    data = get(http, sb).json()["data"]
    assert data["tracking_status"] == "DELIVERED"
    assert len(data["tracking_history"]) == 1


def test_after_fault_can_replace_the_status(sb: Sandbox, http: requests.Session) -> None:
    sb.fault(PUT_PATH, after=True, status=504)
    answer = http.put(f"{sb.url}{PUT_PATH}", headers=KEY, json=HISTORY, timeout=5)
    assert answer.status_code == 504
    assert get(http, sb).json()["data"]["tracking_status"] == "DELIVERED"


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"status": "abc"}, "status"),
        ({"status": 99}, "status"),
        ({"status": 600}, "status"),
        ({"status": True}, "status"),
        ({"times": -1}, "times"),
        ({"times": 0}, "times"),
        ({"times": 1.5}, "times"),
        ({"times": "2"}, "times"),
        ({"delay": -1}, "delay"),
        ({"delay": float("nan")}, "delay"),
        ({"delay": float("inf")}, "delay"),
        ({"delay": "1"}, "delay"),
        ({"action": "explode"}, "action"),
        ({"action": None}, "action"),
        ({"after": "yes"}, "after"),
        ({"method": 5}, "method"),
        ({"method": "GET /x"}, "method"),
        ({"body": 5}, "body"),
        ({"body": ["x"]}, "body"),
        ({"retry_after": -1}, "retry_after"),
        ({"retry_after": 1.5}, "retry_after"),
        ({"retry_after": "1\r\nX-Injected: 1"}, "retry_after"),
        ({"content_type": None}, "content_type"),
        ({"content_type": ""}, "content_type"),
        ({"content_type": "text/html\r\nX: 1"}, "content_type"),
        ({"headers": "X: 1"}, "headers"),
        ({"headers": {"X": 1}}, "headers"),
        ({"headers": {"X": "a\nb"}}, "headers"),
        ({"headers": {"X: Y": "a"}}, "headers"),
    ],
)
def test_fault_arguments_are_checked(sb: Sandbox, options: dict[str, Any], argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        sb.fault(GET_PATH, **options)
    assert info.value.argument == argument
    assert sb._server.faults == []  # nothing was added


@pytest.mark.parametrize("path", [None, "", 5])
def test_a_fault_needs_a_path(sb: Sandbox, path: Any) -> None:
    with pytest.raises(ValidationError) as info:
        sb.fault(path)
    assert info.value.argument == "path"


def test_a_fault_method_is_matched_in_capitals(sb: Sandbox, http: requests.Session) -> None:
    sb.fault(GET_PATH, method="get", status=503)
    assert get(http, sb).status_code == 503


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"latency": -1}, "latency"),
        ({"latency": float("nan")}, "latency"),
        ({"latency": "0.1"}, "latency"),
        ({"latency": None}, "latency"),
        ({"port": "x"}, "port"),
        ({"port": -1}, "port"),
        ({"port": 70000}, "port"),
        ({"port": 80.0}, "port"),
        ({"port": True}, "port"),
        ({"host": ""}, "host"),
        ({"host": None}, "host"),
        ({"host": "127.0.0.1 evil"}, "host"),
        ({"token_lifetime": 0}, "token_lifetime"),
        ({"token_lifetime": -1}, "token_lifetime"),
        ({"token_lifetime": "1800"}, "token_lifetime"),
    ],
)
def test_sandbox_arguments_are_checked(options: dict[str, Any], argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        Sandbox(**options)
    assert info.value.argument == argument


@pytest.mark.parametrize("latency", [-1, -0.001, float("nan"), float("inf"), "1", None, True])
def test_a_bad_latency_is_refused_and_the_sandbox_keeps_answering(
    sb: Sandbox, http: requests.Session, latency: Any
) -> None:
    with pytest.raises(ValidationError) as info:
        sb.latency = latency
    assert info.value.argument == "latency"
    assert sb.latency == 0.0
    assert get(http, sb).status_code == 200


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda sb: sb.calls(5), "path"),
        (lambda sb: sb.calls(method=["GET"]), "method"),
        (lambda sb: sb.route_stats(None), "route"),
        (lambda sb: sb.provider_url(None), "provider"),
        (lambda sb: sb.provider_url("a/b"), "provider"),
        (lambda sb: SandboxCredentials(oauth_client_id=None), "oauth_client_id"),
        (
            lambda sb: Sandbox(credentials={"shiplemon": {"api_key": None}}),
            "credentials['shiplemon'].api_key",
        ),
        (
            lambda sb: Sandbox(credentials={"lex": {"client_secret": ""}}),
            "credentials['lex'].client_secret",
        ),
        (lambda sb: Sandbox(credentials={"lex": {"secret": "s"}}), "credentials['lex']"),
        (lambda sb: Sandbox(credentials={"nowhere": {"key": "k"}}), "credentials"),
        (lambda sb: Sandbox(credentials=[("lex", {})]), "credentials"),
        (lambda sb: sb.client("nowhere"), "provider"),
        (lambda sb: sb._server.add_fault("fault"), "fault"),
        (lambda sb: sb._server.wait_idle(-1), "timeout"),
        (lambda sb: SandboxServer(record_limit=-1), "record_limit"),
        (lambda sb: TokenIssuer(lifetime="60"), "lifetime"),
        (lambda sb: TokenIssuer().issue(None), "client_id"),
        (lambda sb: TokenIssuer().issue("c", scope=5), "scope"),
        (lambda sb: TokenIssuer().check(["t"]), "token"),
        (lambda sb: Router().add("get", "/x", print), "method"),
        (lambda sb: Router().add("GET", "x", print), "pattern"),
        (lambda sb: Router().add("GET", "/x", None), "handler"),
        (lambda sb: json_response("200", {}), "status"),
        (lambda sb: json_response(200, {}, headers=[("a", "b")]), "headers"),
        (lambda sb: credentials_match("x", None), "expected"),
    ],
)
def test_other_sandbox_arguments_are_checked(sb: Sandbox, call: Any, argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        call(sb)
    assert info.value.argument == argument


def test_a_presented_secret_that_is_not_a_string_does_not_match() -> None:
    for given in (None, 5, b"sandbox-secret", ["sandbox-secret"]):
        assert not credentials_match(given, "sandbox-secret")  # type: ignore[arg-type]


# -- recording and statistics -----------------------------------------------------------------


def test_calls_are_recorded(sb: Sandbox, http: requests.Session) -> None:
    get(http, sb, params={"lang": "el"})
    http.put(f"{sb.url}{PUT_PATH}", headers=KEY, json=HISTORY, timeout=5)
    get(http, sb, path="/shiplemon/public/v1/shipments/nope/tracking")
    calls = sb.calls()
    assert [(c.method, c.path, c.status) for c in calls] == [
        ("GET", GET_PATH, 200),
        ("PUT", PUT_PATH, 200),
        ("GET", "/shiplemon/public/v1/shipments/nope/tracking", 404),
    ]
    assert calls[0].query == {"lang": ["el"]}
    assert calls[0].route == "shiplemon.tracking.get"
    assert calls[0].headers["x-api-key"] == "sandbox-shiplemon-key"
    assert calls[1].json() == HISTORY
    assert calls[1].route == "shiplemon.tracking.update"
    assert [c.path for c in sb.calls("/shiplemon/v1/*")] == [PUT_PATH]
    assert len(sb.calls(method="GET")) == 2
    assert len(sb.calls("/shiplemon/public/*", "GET")) == 2
    sb.clear_calls()
    assert sb.calls() == []


def test_route_stats_count_calls_and_overlap(sb: Sandbox) -> None:
    sb.latency = 0.15
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait()
        requests.get(f"{sb.url}{GET_PATH}", headers=KEY, timeout=5)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    calls, max_in_flight = sb.route_stats("shiplemon.tracking.get")
    assert calls == 4
    assert 2 <= max_in_flight <= 4
    assert sb.route_stats("shiplemon.tracking.update") == (0, 0)


def test_latency_applies_to_every_call(sb: Sandbox, http: requests.Session) -> None:
    sb.latency = 0.3
    assert sb.latency == 0.3
    with pytest.raises(requests.ReadTimeout):
        get(http, sb, timeout=(1, 0.05))
    sb.latency = 0.0
    assert get(http, sb).status_code == 200


def test_latency_from_the_constructor() -> None:
    with Sandbox(latency=0.3) as sb:
        assert sb.latency == 0.3
        with pytest.raises(requests.ReadTimeout):
            requests.get(f"{sb.url}{GET_PATH}", headers=KEY, timeout=(1, 0.05))


def test_reset_restores_data_and_clears_faults_and_calls(
    sb: Sandbox, http: requests.Session
) -> None:
    http.put(f"{sb.url}{PUT_PATH}", headers=KEY, json=HISTORY, timeout=5)
    assert get(http, sb).json()["data"]["tracking_status"] == "DELIVERED"
    sb.fault(GET_PATH, status=500, times=None)
    sb.route_stats("shiplemon.tracking.get")
    sb.reset()
    assert sb.calls() == []
    assert sb.route_stats("shiplemon.tracking.get") == (0, 0)
    answer = get(http, sb)
    assert answer.status_code == 200
    assert answer.json()["data"]["tracking_status"] == "TRANSIT"


def test_reset_lets_calls_being_answered_finish_first(sb: Sandbox, http: requests.Session) -> None:
    sb.fault(GET_PATH, delay=0.2)
    with pytest.raises(requests.ReadTimeout):
        get(http, sb, timeout=(1, 0.05))
    sb.reset()
    # The late answer was recorded before the reset, not after it.
    assert sb._server.wait_idle(timeout=2)
    assert sb.calls() == []


# -- OAuth2 tokens ----------------------------------------------------------------------------


def test_token_issuer() -> None:
    issuer = TokenIssuer(lifetime=60)
    answer = issuer.issue("client-a", "read")
    assert answer["token_type"] == "bearer"
    assert answer["expires_in"] == 60
    assert answer["scope"] == "read"
    assert issuer.check(answer["access_token"]) == "client-a"
    assert issuer.check("forged") is None
    assert issuer.check(None) is None
    assert issuer.issued == 1
    issuer.expire_all()
    assert issuer.check(answer["access_token"]) is None


def test_expired_tokens_are_refused() -> None:
    issuer = TokenIssuer(lifetime=-1)
    assert issuer.check(issuer.issue("c")["access_token"]) is None


def test_sandbox_token_endpoint_and_protected_resource(sb: Sandbox, http: requests.Session) -> None:
    issued = sb.tokens.issued
    answer = http.post(
        f"{sb.url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": sb.credentials.oauth_client_id,
            "client_secret": sb.credentials.oauth_client_secret,
        },
        timeout=5,
    )
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    token = answer.json()["access_token"]
    assert sb.tokens.issued == issued + 1
    whoami = http.get(f"{sb.url}/oauth/whoami", headers={"Authorization": f"Bearer {token}"})
    assert whoami.json() == {"client_id": "sandbox-client"}
    refused = http.get(f"{sb.url}/oauth/whoami", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert "invalid_token" in refused.headers["WWW-Authenticate"]


@pytest.fixture
def token_server() -> Iterator[tuple[SandboxServer, TokenIssuer]]:
    server = SandboxServer()
    issuer = TokenIssuer()
    oauth_token_routes(server.router, "/form", issuer, {"id": "s3"})
    oauth_token_routes(
        server.router, "/json", issuer, {"id": "s3"}, body_format="json", name="t.json"
    )
    oauth_token_routes(
        server.router, "/basic", issuer, {"id": "s3"}, client_auth=("basic",), name="t.basic"
    )
    server.start()
    yield server, issuer
    server.stop()


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "error"),
    [
        ("/form", {"data": {"grant_type": "client_credentials", "client_id": "id",
                            "client_secret": "s3"}}, 200, None),
        ("/form", {"data": {"grant_type": "client_credentials", "client_id": "id",
                            "client_secret": "no"}}, 401, "invalid_client"),
        ("/form", {"data": {"grant_type": "password", "client_id": "id"}}, 400,
         "unsupported_grant_type"),
        ("/form", {"data": {"grant_type": "client_credentials"}}, 401, "invalid_client"),
        ("/form", {"json": {"grant_type": "client_credentials"}}, 400, "invalid_request"),
        ("/json", {"json": {"grant_type": "client_credentials", "client_id": "id",
                            "client_secret": "s3"}}, 200, None),
        ("/json", {"data": {"grant_type": "client_credentials"}}, 400, "invalid_request"),
        ("/basic", {"data": {"grant_type": "client_credentials"}, "auth": ("id", "s3")}, 200,
         None),
        ("/basic", {"data": {"grant_type": "client_credentials", "client_id": "id",
                             "client_secret": "s3"}}, 401, "invalid_client"),
    ],
)  # fmt: skip
def test_oauth_token_routes(
    token_server: tuple[SandboxServer, TokenIssuer],
    path: str,
    kwargs: dict[str, Any],
    status: int,
    error: str | None,
) -> None:
    server, issuer = token_server
    answer = requests.post(f"{server.url}{path}", timeout=5, **kwargs)
    assert answer.status_code == status
    if error is None:
        assert issuer.check(answer.json()["access_token"]) == "id"
    else:
        assert answer.json()["error"] == error
        assert answer.json()["error_description"]


# -- building blocks --------------------------------------------------------------------------


def _request(**headers: str) -> SandboxRequest:
    return SandboxRequest("GET", "/x", {"a": ["1", "2"]}, CaseInsensitiveDict(headers), b'{"k":1}')


def test_sandbox_request_helpers() -> None:
    request = _request(Authorization="Bearer tok-1")
    assert request.bearer() == "tok-1"
    assert request.basic() is None
    assert request.param("a") == "1"
    assert request.param("b", "d") == "d"
    assert request.json() == {"k": 1}
    encoded = base64.b64encode(b"user:pa:ss").decode()
    assert _request(authorization=f"Basic {encoded}").basic() == ("user", "pa:ss")
    assert _request(Authorization="Basic !!!").basic() is None
    assert _request().bearer() is None


def test_credentials_match() -> None:
    assert credentials_match("abc", "abc")
    assert not credentials_match("abd", "abc")
    assert not credentials_match(None, "abc")


def test_router_decodes_params_and_knows_other_methods() -> None:
    router = Router()

    def handler(request: SandboxRequest, **params: str) -> SandboxResponse:
        return json_response(200, params)

    router.add("GET", "/p/items/{item_id}/sub/{n}", handler, name="p.items")
    route, params, other = router.resolve("GET", "/p/items/a%2Fb/sub/7")
    assert route is not None
    assert route.name == "p.items"
    assert params == {"item_id": "a/b", "n": "7"}
    assert not other
    assert router.resolve("PUT", "/p/items/x/sub/1") == (None, {}, True)
    assert router.resolve("GET", "/p/items/x/y/sub/1") == (None, {}, False)


def test_json_response() -> None:
    response = json_response(201, {"ΑΒ": 1}, {"X-A": "b"})
    assert response.status == 201
    assert response.body == '{"ΑΒ":1}'.encode()
    assert response.headers == {"Content-Type": "application/json; charset=utf-8", "X-A": "b"}


# -- python -m --------------------------------------------------------------------------------


def test_python_m_sandbox_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shiptrack_sdk.sandbox", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "--port" in result.stdout
    assert "--latency" in result.stdout
