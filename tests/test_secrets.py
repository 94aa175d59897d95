"""No secret ever shows: sentinel credentials through representative calls, every logger at
DEBUG; no sentinel in any log record, exception message, ``repr`` or ``str``, nor anywhere
reachable from an exception: its ``__cause__``/``__context__`` chain, the attributes of every
exception in it (a chained ``requests`` exception's ``request.headers`` and ``request.body``),
and its traceback's captured locals (what error reporters record)."""

from __future__ import annotations

import base64
import logging
import pickle
import socket
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from shiptrack_sdk import ExportoClient, LexClient, RetryPolicy, ShiplemonClient, ValidationError
from shiptrack_sdk._core.transport import Transport
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.shiplemon import HistoryUpdate
from tests.conftest import Seen

API_KEY = "SENTINEL-APIKEY-7f3c1e0d"
CLIENT_SECRET = "SENTINEL-SECRET-91ab4d2c"
SID = "be96511d-ba23-4268-bd8b-48c9cf930222"
GET_PATH = f"/shiplemon/public/v1/shipments/{SID}/tracking"
UTC = timezone.utc


@pytest.fixture
def secret_sb() -> Iterator[Sandbox]:
    """A sandbox that accepts the sentinel credentials."""
    credentials = {
        "shiplemon": {"api_key": API_KEY},
        "oauth": {"oauth_client_secret": CLIENT_SECRET},
    }
    with Sandbox(credentials=credentials) as sb:
        assert sb.apps["shiplemon"].credentials.api_key == API_KEY
        yield sb


def no_sleep(seconds: float) -> None:
    """Retries here need not wait (and a transport must stay picklable)."""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def assert_nowhere(
    secrets: list[str], caplog: pytest.LogCaptureFixture, seen: Seen, min_records: int = 1
) -> None:
    records = caplog.records
    assert len(records) >= min_records  # the calls were logged at all
    logged = [caplog.text]
    for record in records:
        logged.append(record.getMessage())
        logged.append(repr(record.args))
    seen.add_logged(records)
    for secret in secrets:
        assert secret
        for text in logged:
            assert secret not in text, f"secret in a log record: {text!r}"
        found = seen.find(secret)
        assert not found, "secret readable from a result or an error:\n" + "\n".join(found[:20])


HISTORY = [HistoryUpdate("TRANSIT", datetime(2024, 7, 15, 9, 45, tzinfo=UTC), "With courier")]


def test_api_key_never_shows(secret_sb: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: the SDK's, urllib3's, oauthlib's...
    sb = secret_sb
    seen = Seen()
    client = sb.shiplemon_client(backoff_factor=0.001)
    client._transport.sleep = no_sleep
    seen.add(client)
    seen.add(client.tracking)
    seen.add(client._transport)
    seen.add(client._transport.credentials)
    seen.add(client.session.headers)

    tracking = seen.call(client.tracking.get, SID)
    seen.add(tracking.to_tracking())
    seen.call(client.tracking.update, SID, HISTORY)
    seen.call(client.tracking.get, "no-such-shipment")
    seen.call(client.tracking.update, SID, [{"status": "delivered", "status_date": "x"}])
    sb.fault(GET_PATH, status=503)
    seen.call(client.tracking.get, SID)
    sb.fault(GET_PATH, status=429, retry_after=1000)
    seen.call(client.tracking.get, SID)
    sb.fault(GET_PATH, action="drop", times=None)
    seen.call(client.tracking.get, SID)
    sb.clear_faults()
    sb.fault(GET_PATH, status=200, body="<html>maintenance</html>")
    seen.call(client.tracking.get, SID)
    sb.fault(GET_PATH, delay=0.2)
    seen.call(client.tracking.get, SID, timeout=(1, 0.02))
    seen.add(pickle.loads(pickle.dumps(client)))  # noqa: S301 (our own bytes)
    # No server at all: the connection is refused while the request (key included) is sent.
    unreachable = ShiplemonClient(
        api_key=API_KEY, base_url=f"http://127.0.0.1:{closed_port()}", max_retries=0
    )
    seen.call(unreachable.tracking.get, SID)

    # A refused key that contains the real one.
    wrong = sb.shiplemon_client(api_key=API_KEY + "-WRONG")
    seen.add(wrong)
    seen.call(wrong.tracking.get, SID)
    # A secret in the base URL's user info is masked in reprs, logs and errors.
    leaky = ShiplemonClient(
        api_key=API_KEY, base_url=sb.provider_url("shiplemon").replace("//", f"//u:{API_KEY}@")
    )
    seen.add(leaky)
    seen.add(leaky._transport)
    seen.call(leaky.tracking.get, SID)
    seen.call(leaky.tracking.get, "missing")
    assert_nowhere([API_KEY], caplog, seen, min_records=10)


def test_api_key_from_the_environment_never_shows(
    secret_sb: Sandbox, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SHIPTRACK_SHIPLEMON_API_KEY", API_KEY)
    monkeypatch.setenv("SHIPTRACK_SHIPLEMON_BASE_URL", secret_sb.provider_url("shiplemon"))
    seen = Seen()
    client = ShiplemonClient()
    seen.add(client)
    seen.call(client.tracking.get, SID)
    seen.call(client.tracking.get, "missing")
    assert_nowhere([API_KEY], caplog, seen)


@pytest.mark.parametrize("client_auth", ["body", "basic"])
def test_client_secret_and_tokens_never_show(
    secret_sb: Sandbox, caplog: pytest.LogCaptureFixture, client_auth: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    sb = secret_sb
    seen = Seen()
    auth = sb.oauth2_auth(client_auth=client_auth)
    transport = Transport(
        provider="acme",
        base_url=sb.url,
        credentials=auth,
        retry=RetryPolicy(backoff_factor=0.001),
        sleep=no_sleep,
    )
    auth.bind(transport)
    seen.add(auth)
    seen.call(transport.request, "GET", "/oauth/whoami")
    seen.add(auth.tokens._token)
    sb.tokens.expire_all()  # 401, renewal, replay
    seen.call(transport.request, "GET", "/oauth/whoami")
    seen.call(transport.request, "POST", "/oauth/echo", json_body={"hello": "world"})
    sb.fault("/oauth/whoami", status=401, times=None)  # a 401 that persists
    seen.call(transport.request, "GET", "/oauth/whoami")
    sb.clear_faults()
    sb.fault("/oauth/whoami", action="drop")
    seen.call(transport.request, "GET", "/oauth/whoami")
    seen.add(pickle.loads(pickle.dumps(auth)))  # noqa: S301 (our own bytes)

    # The token endpoint failing on a first fetch: an answer 503, a dropped connection, and
    # no server at all (the request, client secret included, was being sent when it failed).
    for fault in ({"status": 503, "times": None}, {"action": "drop", "times": None}):
        fresh = sb.oauth2_auth(client_auth=client_auth)
        fresh_transport = Transport(
            provider="acme", base_url=sb.url, credentials=fresh, retry=RetryPolicy(max_retries=1),
            sleep=no_sleep,
        )  # fmt: skip
        fresh.bind(fresh_transport)
        sb.fault("/oauth/token", **fault)
        seen.call(fresh_transport.request, "GET", "/oauth/whoami")
        sb.clear_faults()
    nowhere = sb.oauth2_auth(
        client_auth=client_auth, token_url=f"http://127.0.0.1:{closed_port()}/oauth/token"
    )
    nowhere_transport = Transport(
        provider="acme", base_url=sb.url, credentials=nowhere, retry=RetryPolicy(max_retries=0)
    )
    nowhere.bind(nowhere_transport)
    seen.call(nowhere_transport.request, "GET", "/oauth/whoami")

    # Refused credentials, with a secret that contains the real one.
    bad = sb.oauth2_auth(client_auth=client_auth, client_secret=CLIENT_SECRET + "-WRONG")
    seen.add(bad)
    with requests.Session() as session:
        session.auth = bad
        seen.call(session.get, f"{sb.url}/oauth/whoami")

    tokens = {
        c.headers["Authorization"].removeprefix("Bearer ")
        for c in sb.calls("/oauth/whoami")
        if c.headers.get("Authorization", "").startswith("Bearer ")
    }
    assert len(tokens) >= 3
    basic = base64.b64encode(f"sandbox-client:{CLIENT_SECRET}".encode()).decode()
    assert_nowhere([CLIENT_SECRET, basic, *tokens], caplog, seen, min_records=8)


QUERY_SECRET = "SENTINEL-QUERY-0d5a93"


@pytest.mark.parametrize(
    "target",
    [
        f"/oauth/whoami?sig={QUERY_SECRET}&page=1",
        f"/oauth/whoami?X-Amz-Credential={QUERY_SECRET}",
        f"/oauth/whoami?a=1;session={QUERY_SECRET}",
        f"/oauth/whoami?pwd={QUERY_SECRET}&auth={QUERY_SECRET}",
        f"/oauth/whoami;jsessionid={QUERY_SECRET}",
        f"/oauth/whoami#access_token={QUERY_SECRET}",
        f"/oauth/whoami?redirect_uri=https://app.example/cb?code={QUERY_SECRET}",
    ],
)
def test_a_secret_in_a_url_never_shows(
    secret_sb: Sandbox, caplog: pytest.LogCaptureFixture, target: str
) -> None:
    # urllib3 logs every request target at DEBUG, query included; errors name the URL. The
    # caller's own URL is in the arguments of the frames it was passed to: captured locals
    # are searched for credentials the SDK holds, not here.
    caplog.set_level(logging.DEBUG)
    sb = secret_sb
    seen = Seen(capture_locals=False)
    transport = Transport(
        provider="acme", base_url=sb.url, retry=RetryPolicy(max_retries=1), sleep=no_sleep
    )
    if ";jsessionid" not in target:  # the sandbox routes no path parameters (its 404 echoes)
        seen.call(transport.request, "GET", target)  # 401: no token
        sb.fault("/oauth/whoami", status=503, times=None)
        seen.call(transport.request, "GET", target)  # retried, then failed
        sb.clear_faults()
        sb.fault("/oauth/whoami", action="drop", times=None)
        seen.call(transport.request, "GET", target)
        sb.clear_faults()
    unreachable = Transport(
        provider="acme",
        base_url=f"http://u:{QUERY_SECRET}@127.0.0.1:{closed_port()}",
        retry=RetryPolicy(max_retries=1),
        sleep=no_sleep,
    )
    seen.add(unreachable)
    seen.call(unreachable.request, "GET", target)
    assert seen.errors == (1 if ";jsessionid" in target else 4)
    assert any(r.name.startswith("urllib3") for r in caplog.records)
    assert_nowhere([QUERY_SECRET], caplog, seen)


#: Not Latin-1 (the euro sign): no HTTP header can carry it.
UNSENDABLE = "SENTINEL-\u20ac-UNSENDABLE-5d1e"


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: ShiplemonClient(api_key=UNSENDABLE), "api_key"),
        (lambda: ExportoClient(client_id="cid", client_secret=UNSENDABLE), "client_secret"),
        (lambda: ExportoClient(client_id=UNSENDABLE, client_secret="s"), "client_id"),
        (lambda: LexClient(client_id="cid", client_secret=UNSENDABLE), "client_secret"),
    ],
)
def test_a_secret_no_header_can_carry_is_refused_without_showing_it(
    make: Any, argument: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Accepted before, it failed at the first request with a UnicodeEncodeError quoting it.
    caplog.set_level(logging.DEBUG)
    seen = Seen()
    with pytest.raises(ValidationError) as info:
        make()
    assert info.value.argument == argument
    seen.add(info.value)
    assert info.value.__context__ is None
    assert_nowhere([UNSENDABLE], caplog, seen, min_records=0)


def test_an_unsendable_secret_from_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHIPTRACK_SHIPLEMON_API_KEY", UNSENDABLE)
    with pytest.raises(ValidationError) as info:
        ShiplemonClient()
    assert info.value.argument == "SHIPTRACK_SHIPLEMON_API_KEY"
    assert UNSENDABLE not in str(info.value)
