"""LEX environments and headers: Michelin's public non-production gateways as presets, the
optional ``apikey`` header beside the bearer token, and ``grant_type`` sent once (in the token
URL's query, where Michelin documents it), checked over real HTTP against a token endpoint that
oauthlib's server validates and against the sandbox."""

from __future__ import annotations

import json
import threading
import types
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from oauthlib.oauth2 import BackendApplicationServer, RequestValidator

from shiptrack_sdk import LexClient, ValidationError
from shiptrack_sdk.lex import Carrier, Party, ShipmentEvent, TrackingMessage
from shiptrack_sdk.lex.spec import DEFAULT_TOKEN_URL, ENVIRONMENTS, SPEC
from shiptrack_sdk.sandbox import Sandbox
from tests.conftest import Seen

T0 = datetime(2024, 5, 14, 6, 0, tzinfo=timezone.utc)
TOKEN_PATH = "/idp/v1/internal/oauth/token/accesstoken"
TRACKING_PATH = "/lex-shipmenttracking-v1/shipment-tracking"
CLIENT_ID = "partner-7"
SECRET = "lex-s3cr3t-value"
APIKEY = "apikey-s3ntinel-7f3a"


def message(reference: str = "R00001") -> TrackingMessage:
    return TrackingMessage(
        event=ShipmentEvent("AAR", reference, T0),
        carrier=Carrier(id="TRANSPES"),
        sender=Party(id="TELIAE-ES"),
    )


# -- a token endpoint validated by oauthlib's own server -------------------------------------


class _Validator(RequestValidator):  # type: ignore[misc]
    """Knows one client; grants client credentials."""

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        if request.client_id == CLIENT_ID and request.client_secret == SECRET:
            request.client = types.SimpleNamespace(client_id=CLIENT_ID)
            return True
        return False

    def validate_grant_type(self, client_id: str, grant_type: str, *args: Any, **kw: Any) -> bool:
        return grant_type == "client_credentials"

    def get_default_scopes(self, *args: Any, **kwargs: Any) -> list[str]:
        return []

    def validate_scopes(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def save_bearer_token(self, *args: Any, **kwargs: Any) -> None:
        pass


class StrictGateway(ThreadingHTTPServer):
    """A gateway in Michelin's style whose token endpoint is oauthlib's
    ``BackendApplicationServer``.

    Michelin documents ``grant_type`` in the token URL's query and the client's credentials in
    the form body: the gateway reads both as one set of parameters, which oauthlib then
    validates — and oauthlib refuses a parameter given twice (RFC 6749 §3.2), as
    ``invalid_request``. The tracking endpoint takes the bearer tokens it issued. Every
    request is recorded (path, query, headers, body).
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _GatewayHandler)
        self.oauth = BackendApplicationServer(_Validator())
        self.tokens: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self.answers: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _GatewayHandler(BaseHTTPRequestHandler):
    server: StrictGateway

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("latin-1")
        split = urlsplit(self.path)
        self.server.requests.append(
            {
                "path": split.path,
                "query": parse_qs(split.query),
                "headers": dict(self.headers.items()),
                "body": body,
            }
        )
        if split.path == TOKEN_PATH:
            # Query and body as one parameter set, as the gateway reads them; oauthlib sees
            # a repeated grant_type if the client sent one in each.
            merged = "&".join(part for part in (split.query, body) if part)
            headers, answer, status = self.server.oauth.create_token_response(
                f"{self.server.url}{split.path}",
                "POST",
                merged,
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            if status == 200:
                self.server.tokens.add(json.loads(answer)["access_token"])
            self.answer(status, answer, headers)
        elif split.path == TRACKING_PATH:
            bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if bearer in self.server.tokens:
                self.answer(200, json.dumps({"accepted": len(json.loads(body))}))
            else:
                self.answer(401, json.dumps({"message": "invalid token"}))
        else:
            self.answer(404, "{}")

    def answer(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        self.server.answers.append(status)
        data = body.encode()
        self.send_response(status)
        for name, value in (headers or {"Content-Type": "application/json"}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[StrictGateway]:
    server = StrictGateway()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def strict_client(gateway: StrictGateway, **options: Any) -> LexClient:
    """A client of the strict gateway, its token URL as Michelin documents it."""
    settings: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "base_url": gateway.url,
        "token_url": f"{gateway.url}{TOKEN_PATH}?grant_type=client_credentials",
        "max_retries": 0,
        **options,
    }
    return LexClient(**settings)


# -- grant_type once --------------------------------------------------------------------------


def test_a_strict_token_endpoint_accepts_the_token_request(gateway: StrictGateway) -> None:
    report = strict_client(gateway).tracking.send([message()])

    assert report.ok, report.errors
    token_call = gateway.requests[0]
    assert token_call["path"] == TOKEN_PATH
    assert token_call["query"] == {"grant_type": ["client_credentials"]}  # where documented
    form = parse_qs(token_call["body"])
    assert "grant_type" not in form  # and only there (RFC 6749 §3.2)
    assert form == {"client_id": [CLIENT_ID], "client_secret": [SECRET]}
    assert gateway.answers == [200, 200]


def test_the_token_endpoint_is_on_the_gateway_of_the_base_url(gateway: StrictGateway) -> None:
    # As Michelin's samples show for each gateway: its own /idp/v1/... endpoint.
    client = LexClient(client_id=CLIENT_ID, client_secret=SECRET, base_url=gateway.url)
    assert client.tracking.send([message()]).ok
    assert [r["path"] for r in gateway.requests] == [TOKEN_PATH, TRACKING_PATH]


def test_grant_type_goes_into_the_query_of_a_token_url_that_lacks_it(
    gateway: StrictGateway,
) -> None:
    client = strict_client(gateway, token_url=f"{gateway.url}{TOKEN_PATH}")
    assert client.tracking.send([message()]).ok
    token_call = gateway.requests[0]
    assert token_call["query"] == {"grant_type": ["client_credentials"]}
    assert "grant_type" not in parse_qs(token_call["body"])


def test_the_sandbox_token_endpoint_still_works(sb: Sandbox) -> None:
    client = sb.lex_client()
    assert client.tracking.send([message()]).ok
    (token_call,) = sb.calls("/lex/idp/*")
    assert token_call.status == 200
    assert token_call.query["grant_type"] == ["client_credentials"]
    assert "grant_type" not in parse_qs(token_call.body.decode())


def test_the_spec_sends_grant_type_in_the_query() -> None:
    assert SPEC.auth is not None
    assert SPEC.auth.grant_type_in_query is True  # type: ignore[union-attr]


# -- environments -----------------------------------------------------------------------------


def test_production_is_the_default() -> None:
    client = LexClient(client_id="c", client_secret="s")
    assert client.base_url == "https://api.michelin.com/"
    assert client.auth.token_url == DEFAULT_TOKEN_URL
    assert next(iter(ENVIRONMENTS)) == "production"


@pytest.mark.parametrize(
    ("environment", "gateway_url"),
    [("indus", "https://indus.api.michelin.com"), ("dev", "https://dev.api.michelin.com")],
)
def test_non_production_gateways_are_presets(
    environment: str, gateway_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = LexClient(client_id="c", client_secret="s", environment=environment)
    assert client.base_url == f"{gateway_url}/"
    # The token comes from the same gateway, as Michelin's samples show.
    assert client.auth.token_url == (f"{gateway_url}{TOKEN_PATH}?grant_type=client_credentials")
    monkeypatch.setenv("SHIPTRACK_LEX_ENVIRONMENT", environment)
    assert LexClient(client_id="c", client_secret="s").base_url == f"{gateway_url}/"


def test_an_unknown_environment_is_refused_naming_the_presets() -> None:
    with pytest.raises(ValidationError) as info:
        LexClient(client_id="c", client_secret="s", environment="staging")
    assert info.value.argument == "environment"
    assert "'indus'" in str(info.value)


def test_a_token_url_given_wins_over_the_environment() -> None:
    url = "https://login.example.com/oauth/token?grant_type=client_credentials"
    client = LexClient(client_id="c", client_secret="s", environment="indus", token_url=url)
    assert client.auth.token_url == url
    assert client.base_url == "https://indus.api.michelin.com/"


# -- the apikey header ------------------------------------------------------------------------


def test_apikey_is_sent_beside_the_bearer_token_and_to_the_token_endpoint(
    gateway: StrictGateway,
) -> None:
    client = strict_client(gateway, apikey=APIKEY)
    assert client.tracking.send([message()]).ok
    token_call, post = gateway.requests
    assert token_call["headers"]["apikey"] == APIKEY
    assert post["headers"]["apikey"] == APIKEY
    assert post["headers"]["Authorization"].startswith("Bearer ")


def test_apikey_is_read_from_the_environment(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPTRACK_LEX_APIKEY", APIKEY)
    assert sb.lex_client().tracking.send([message()]).ok
    assert [call.headers.get("apikey") for call in sb.calls("/lex/*")] == [APIKEY, APIKEY]


def test_without_apikey_no_such_header_is_sent(gateway: StrictGateway) -> None:
    assert strict_client(gateway).tracking.send([message()]).ok
    assert all("apikey" not in {h.lower() for h in r["headers"]} for r in gateway.requests)


@pytest.mark.parametrize("bad", ["two\nlines", "", "caf\u00e9\u20ac", 42])
def test_a_bad_apikey_is_refused_naming_it(bad: Any) -> None:
    with pytest.raises(ValidationError) as info:
        LexClient(client_id="c", client_secret="s", apikey=bad)
    assert info.value.argument == "apikey"
    assert "two" not in str(info.value)


def test_only_lex_takes_apikey() -> None:
    from shiptrack_sdk import ShiplemonClient

    with pytest.raises(ValidationError) as info:
        ShiplemonClient(api_key="k", apikey="x")  # type: ignore[call-arg]
    assert info.value.argument == "apikey"


def test_apikey_is_a_secret(gateway: StrictGateway) -> None:
    seen = Seen()
    client = strict_client(gateway, apikey=APIKEY)
    for obj in (client, client.auth, client._transport.credentials):
        seen.add(obj)
    # Refused by the token endpoint, then by the API: each error is read through and through.
    refused = strict_client(gateway, apikey=APIKEY, client_id="wrong")
    seen.call(refused.tracking.send, [message()])
    client.tracking.path = "nowhere"
    seen.call(client.tracking.send, [message()])
    assert seen.errors == 2
    assert gateway.answers == [401, 200, 404]  # invalid_client, then a token, then 404
    assert seen.find(APIKEY) == []
