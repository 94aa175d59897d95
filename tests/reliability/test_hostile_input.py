"""Hostile input: ids that try to change the path, values that try to inject headers, pushes that
try to exhaust the receiver, and bad arguments to every public method.

Everything here is refused with a :class:`~shiptrack_sdk.ValidationError` naming the argument
before any request is sent (the sandbox records no call), or reaches the server harmlessly
(an id as exactly one path segment), or is answered with a specific status by the push
receiver (never a 500, never a ``RecursionError``).

What every provider has is tested from the registry of provider specs: its ``track`` (ids as
path segments), its client's settings (those of its sandbox client, which reach a header or a
URL) and its client's shared options. :func:`track_one` and the tests taking a ``provider``
run any registered provider.
"""

from __future__ import annotations

import inspect
import io
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import quote

import pytest

from shiptrack_sdk import (
    ExportoClient,
    RetryPolicy,
    ValidationError,
)
from shiptrack_sdk._core.options import Timeout
from shiptrack_sdk._core.spec import ApiKeyAuthSpec, ProviderSpec, load
from shiptrack_sdk._providers import all_specs, spec
from shiptrack_sdk.auth import ApiKeyAuth, OAuth2ClientCredentials
from shiptrack_sdk.errors import NotFoundError, ResponseError
from shiptrack_sdk.exporto import TourDetail
from shiptrack_sdk.lex import (
    BusinessMessage,
    EventCode,
    EventCodeTable,
    FileCheckpoint,
    MemoryCheckpoint,
    OrderStatus,
    TrackingValidator,
    messages_from_tracking,
)
from shiptrack_sdk.lex.forward import message_from_event
from shiptrack_sdk.lex.push import (
    AesGcmCipher,
    InMemoryDedupStore,
    IntrospectionVerifier,
    PushReceiver,
    PushResponse,
    PushWSGIApp,
    StaticTokenVerifier,
)
from shiptrack_sdk.lex.tracking import Carrier, Party, ShipmentEvent, TrackingMessage
from shiptrack_sdk.models import Tracking, TrackingEvent, TrackingStatus
from shiptrack_sdk.notebook import (
    Trackings,
    plot_timeline,
    to_dataframe,
    tracking_html,
    trackings_html,
)
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.shiplemon import HistoryUpdate

UTC = timezone.utc
NAIVE = datetime(2024, 9, 1, 8, 0)
AWARE = datetime(2024, 9, 1, 8, 0, tzinfo=UTC)

# -- path injection -------------------------------------------------------------------------

#: Ids that must arrive as one path segment, unchanged once decoded.
SEGMENT_IDS = [
    "../x",
    "../../admin",
    "%2e%2e",
    "..%2F..%2Fetc",
    "a/b",
    "a%2Fb",
    "?q=1",
    "x?y=1&z=2",
    "#frag",
    " x",
    "x ",
    "ünïcödé/ΑΒΓ",
    "a;b=c",
    "...",
    "\\..\\x",
    "@evil.example",
    "https://evil.example/x",
]
#: Ids refused before any request.
REFUSED_IDS = [
    "",
    "   ",
    ".",
    "..",
    "x\r\nX-Injected: 1",
    "a\nb",
    "nul\x00",
    "tab\tx",
    None,
    b"x",
    1.5,
]

#: id parameter → (call, the route with ``{}`` for the quoted id, the argument's name), for the
#: calls no spec gives (each provider's ``track`` is tested from its spec).
ID_PARAMETERS: dict[str, tuple[Callable[[Any, Any], Any], str, str]] = {
    "shiplemon tracking.update": (
        lambda c, i: c["shiplemon"].tracking.update(i, [HistoryUpdate("TRANSIT", AWARE, "scan")]),
        "/shiplemon/v1/shipments/{}/tracking",
        "shipment_id",
    ),
    "exporto tours.get": (
        lambda c, i: c["exporto"].tours.get(i),
        "/exporto/v1/tour/{}",
        "tour_id",
    ),
    "exporto tours.shipment_ids": (
        lambda c, i: c["exporto"].tours.shipment_ids(i),
        "/exporto/v1/tour/{}",
        "tour_id",
    ),
    "exporto tours.track": (
        lambda c, i: list(c["exporto"].tours.track([i])),
        "/exporto/v1/tour/{}",
        "tour_ids[0]",
    ),
}


def _served() -> list[ProviderSpec]:
    return [s for s in all_specs() if s.sandbox_client is not None]


#: The registered providers a sandbox serves, and those of them that track by id.
PROVIDERS = [s.name for s in _served()]
TRACKING = [s.name for s in _served() if s.pullable]


@pytest.fixture
def clients(sb: Sandbox) -> Iterator[dict[str, Any]]:
    made = {name: sb.client(name, max_retries=0) for name in sb.providers}
    yield made
    for client in made.values():
        client.close()


def api_calls(sb: Sandbox) -> list[Any]:
    """Recorded calls other than token requests."""
    return [c for c in sb.calls() if "token" not in c.path]


def track_one(sb: Sandbox, provider: str, shipment_id: Any) -> Any:
    """The provider's ``track_one`` (its spec's) of one id, with a client that does not
    retry: the tracking, or the error raised."""
    found = spec(provider)
    assert found.track_one is not None
    with sb.client(provider, max_retries=0) as client:
        return load(found.track_one)(client, shipment_id)


def secret_settings(found: ProviderSpec) -> set[str]:
    """The client keywords of a provider that hold a secret."""
    if isinstance(found.auth, ApiKeyAuthSpec):
        return {found.auth.argument}
    return {"client_secret"} if found.auth is not None else set()


@pytest.mark.parametrize("hostile", SEGMENT_IDS)
@pytest.mark.parametrize("provider", TRACKING)
def test_a_tracked_id_is_one_path_segment(sb: Sandbox, provider: str, hostile: str) -> None:
    with pytest.raises(NotFoundError):
        track_one(sb, provider, "no-such-id")
    (plain,) = api_calls(sb)
    sb.clear_calls()
    # The server decoded exactly the id it was given (its 404 names it).
    with pytest.raises(NotFoundError):
        track_one(sb, provider, hostile)
    (recorded,) = api_calls(sb)
    assert recorded.path == plain.path.replace("no-such-id", quote(hostile, safe=""))
    assert recorded.status == 404


@pytest.mark.parametrize("hostile", REFUSED_IDS, ids=repr)
@pytest.mark.parametrize("provider", TRACKING)
def test_a_tracked_id_that_cannot_be_a_segment_is_refused_before_any_request(
    sb: Sandbox, provider: str, hostile: Any
) -> None:
    with pytest.raises(ValidationError) as info:
        track_one(sb, provider, hostile)
    assert info.value.argument
    assert sb.calls() == []


@pytest.mark.parametrize("hostile", SEGMENT_IDS)
@pytest.mark.parametrize("parameter", sorted(ID_PARAMETERS))
def test_an_id_is_one_path_segment(
    sb: Sandbox, clients: dict[str, Any], parameter: str, hostile: str
) -> None:
    call, route, _ = ID_PARAMETERS[parameter]
    try:
        result = call(clients, hostile)
    except NotFoundError as exc:
        result = exc
    # tours.track reports a tour it cannot list instead of raising
    if isinstance(result, list):
        assert isinstance(result[0].error, NotFoundError)
    (recorded,) = api_calls(sb)
    assert recorded.path == route.format(quote(hostile, safe=""))
    # The server decoded exactly the id it was given (its 404 names it).
    assert recorded.status == 404 or isinstance(result, TourDetail)
    assert "/" not in recorded.path.removeprefix(route.split("{}")[0]).split("/")[0]


@pytest.mark.parametrize("hostile", REFUSED_IDS, ids=repr)
@pytest.mark.parametrize("parameter", sorted(ID_PARAMETERS))
def test_an_id_that_cannot_be_a_segment_is_refused_before_any_request(
    sb: Sandbox, clients: dict[str, Any], parameter: str, hostile: Any
) -> None:
    call, _, argument = ID_PARAMETERS[parameter]
    with pytest.raises(ValidationError) as info:
        call(clients, hostile)
    assert info.value.argument == argument
    assert sb.calls() == []


def test_search_filters_arrive_as_one_query_value(sb: Sandbox, clients: dict[str, Any]) -> None:
    hostile = "CH1&type=inbound#x?pageSize=1"
    assert list(clients["exporto"].shipments.search(foreign_outbound_tracking_id=hostile)) == []
    (recorded,) = api_calls(sb)
    assert recorded.query["foreignOutboundTrackingId"] == [hostile]
    assert "type" not in recorded.query
    assert recorded.query["pageSize"] == ["50"]


# -- header injection -----------------------------------------------------------------------

INJECTIONS = ["v\r\nX-Injected: 1", "v\nX-Injected: 1", "v\rX", "v\x00", "v\x7f", "v\x1b[31m"]


@pytest.mark.parametrize("value", INJECTIONS, ids=repr)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_client_setting_cannot_inject_headers(sb: Sandbox, provider: str, value: str) -> None:
    # Every keyword of the provider's sandbox client reaches a header (a credential) or a URL
    # (the value appended), and so does the user agent.
    found = spec(provider)
    assert found.sandbox_client is not None
    settings = found.sandbox_client(sb)
    for keyword in [*settings, "user_agent"]:
        given = str(settings[keyword]) + value if keyword.endswith("_url") else value
        with pytest.raises(ValidationError) as info:
            sb.client(provider, **{keyword: given})
        assert info.value.argument == keyword
        if keyword in secret_settings(found):
            assert "X-Injected" not in str(info.value)
    assert sb.calls() == []


#: Settings that reach a header → how to construct with the value, the argument's name (each
#: provider's client settings: above).
HEADER_SETTINGS: dict[str, tuple[Callable[[Sandbox, str], Any], str]] = {
    "ApiKeyAuth key": (lambda sb, v: ApiKeyAuth("x-api-key", v), "key"),
    "ApiKeyAuth header": (lambda sb, v: ApiKeyAuth(v, "key"), "header"),
    "OAuth2 client_id": (lambda sb, v: sb.oauth2_auth(client_id=v), "client_id"),
    "OAuth2 client_secret": (lambda sb, v: sb.oauth2_auth(client_secret=v), "client_secret"),
    "push static token": (lambda sb, v: StaticTokenVerifier(["ok", v]), "tokens"),
    "push introspection client_id": (
        lambda sb, v: IntrospectionVerifier(sb.url + "/lex/introspect", v, "s"),
        "client_id",
    ),
    "push introspection client_secret": (
        lambda sb, v: IntrospectionVerifier(sb.url + "/lex/introspect", "c", v),
        "client_secret",
    ),
    "exporto tour_path": (
        lambda sb, v: sb.exporto_client(tour_path="tour/{tourId}" + v),
        "tour_path",
    ),
    "lex orders path": (
        lambda sb, v: __import__("shiptrack_sdk.lex.orders").lex.orders.OrdersResource(
            sb.lex_client(), path="/x" + v
        ),
        "path",
    ),
}


@pytest.mark.parametrize("value", INJECTIONS, ids=repr)
@pytest.mark.parametrize("setting", sorted(HEADER_SETTINGS))
def test_header_injection_is_refused_before_any_request(
    sb: Sandbox, setting: str, value: str
) -> None:
    make, argument = HEADER_SETTINGS[setting]
    with pytest.raises(ValidationError) as info:
        make(sb, value)
    assert info.value.argument == argument
    assert "X-Injected" not in str(info.value) or argument not in ("key", "client_secret")
    assert sb.calls() == []


@pytest.mark.parametrize(
    "token", ["HOSTILE\r\nX-Injected: 1", "HOSTILE\n", "HOSTILE\x00"], ids=repr
)
def test_a_token_endpoint_cannot_inject_headers(
    sb: Sandbox, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue = sb.tokens.issue

    def hostile_issue(client_id: str, scope: str | None = None) -> dict[str, Any]:
        return {**issue(client_id, scope), "access_token": token}

    monkeypatch.setattr(sb.tokens, "issue", hostile_issue)
    client = sb.exporto_client(max_retries=0)
    with pytest.raises(ResponseError) as info:
        client.shipments.get("S-240902-0001")
    assert "access_token" in str(info.value)
    assert "HOSTILE" not in str(info.value)
    assert "HOSTILE" not in repr(vars(info.value))
    assert api_calls(sb) == []  # nothing was sent with it


# -- the push receiver ----------------------------------------------------------------------

TOKEN = "push-token"


def environ(
    body: bytes, *, content_type: str | None = "application/json", **extra: Any
) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
    }
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    env.update(extra)
    return env


class Push:
    """A push WSGI app and what its handler was given."""

    def __init__(self, **options: Any) -> None:
        self.handled: list[list[BusinessMessage]] = []
        receiver = PushReceiver(verifier=StaticTokenVerifier(TOKEN), **options)
        self.app = PushWSGIApp(receiver, self.handled.append)

    def __call__(self, env: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        statuses: list[str] = []
        body = b"".join(self.app(env, lambda status, headers: statuses.append(status)))
        return int(statuses[0].split()[0]), json.loads(body)


def message(i: int, payload: Any = None) -> dict[str, Any]:
    return {
        "messageId": f"LEX-{i:09d}",
        "messageType": "ORDER_STATUS",
        "timestamp": "2024-09-02T06:00:00.000Z",
        "payload": payload if payload is not None else {"orderNumber": f"SO-{i}"},
    }


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [100_000, 10_000, 2_000])
def test_deeply_nested_json_is_a_400(depth: int) -> None:
    push = Push(max_body_bytes=1024 * 1024)
    status, answer = push(environ(nested(depth).encode()))
    assert (status, answer["error"]) == (400, "malformed_delivery")
    assert push.handled == []


@pytest.mark.parametrize("depth", [10, 200, 900, 990, 5_000, 100_000])
def test_deep_nesting_inside_a_message_never_breaks_the_receiver(depth: int) -> None:
    # With a de-duplication store: a message without an id is keyed by a digest of its (deep)
    # content.
    push = Push(max_body_bytes=1024 * 1024, dedup_store=InMemoryDedupStore())
    deep = nested(depth)
    bodies = [
        f'[{{"messageId": "m-{depth}-{kind}", "messageType": "{kind}", '
        f'"timestamp": "2024-09-02T06:00:00Z", "payload": {{"lines": {deep}}}, "x": {deep}}}]'
        for kind in ("ORDER_STATUS", "SOMETHING_ELSE")
    ]
    bodies.append(f'[{{"messageType": "X", "payload": {deep}}}]')
    for body in bodies:
        status, answer = push(environ(body.encode()))
        assert status in (200, 400), answer
        if status == 400:
            assert answer["error"] == "malformed_delivery"


def test_an_oversize_body_is_a_413_without_reading_it() -> None:
    push = Push(max_body_bytes=1000)
    stream = io.BytesIO(b"[" * 5_000_000)
    env = environ(b"", CONTENT_LENGTH=str(5_000_000))
    env["wsgi.input"] = stream
    status, answer = push(env)
    assert (status, answer["error"]) == (413, "payload_too_large")
    assert stream.tell() <= 1024 * 1024  # drained at most, never read whole
    assert push.handled == []


def test_an_oversize_delivery_of_messages_is_a_400() -> None:
    push = Push()
    status, answer = push(environ(json.dumps([message(i) for i in range(101)]).encode()))
    assert (status, answer["error"]) == (400, "too_many_messages")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/html; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonp",
        "json",
    ],
)
def test_a_wrong_content_type_is_a_415(content_type: str) -> None:
    push = Push()
    status, answer = push(environ(json.dumps([message(1)]).encode(), content_type=content_type))
    assert (status, answer["error"]) == (415, "unsupported_media_type")
    assert push.handled == []


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/vnd.lex+json",
        "APPLICATION/JSON",
    ],
)
def test_json_content_types_are_accepted(content_type: str) -> None:
    push = Push()
    status, _ = push(environ(json.dumps([message(1)]).encode(), content_type=content_type))
    assert status == 200


def test_a_replayed_push_is_acknowledged_once_and_handled_once() -> None:
    push = Push(dedup_store=InMemoryDedupStore())
    body = json.dumps([message(i) for i in range(5)]).encode()
    assert push(environ(body)) == (200, {"status": "accepted", "received": 5})
    assert push(environ(body)) == (200, {"status": "duplicate", "received": 0})
    # A delivery overlapping the first: only the new messages reach the handler.
    overlap = json.dumps([message(i) for i in range(3, 8)]).encode()
    assert push(environ(overlap)) == (200, {"status": "accepted", "received": 3})
    handled = [m.id for batch in push.handled for m in batch]
    assert handled == [f"LEX-{i:09d}" for i in range(8)]


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer", 401),
        ("Basic cHVzaDp0b2tlbg==", 401),
        ("Bearer push-token-not", 401),
        ("Bearer push-token\r\nX: y", 401),
        ("bearer push-token", 200),
    ],
)
def test_push_tokens_are_never_echoed(authorization: str | None, status: int) -> None:
    push = Push()
    env = environ(json.dumps([message(1)]).encode())
    if authorization is None:
        del env["HTTP_AUTHORIZATION"]
    else:
        env["HTTP_AUTHORIZATION"] = authorization
    got, answer = push(env)
    assert got == status
    assert TOKEN not in json.dumps(answer)


def test_a_body_without_length_is_a_411() -> None:
    push = Push()
    env = environ(b"[]")
    del env["CONTENT_LENGTH"]
    assert push(env)[0] == 411


@pytest.mark.parametrize(
    "body", [b"", b"   ", b"\xff\xfe", b"null", b"42", b'"x"', b"[1, 2]", b'{"a":']
)
def test_bodies_that_are_not_deliveries_are_a_400(body: bytes) -> None:
    push = Push()
    status, answer = push(environ(body))
    assert status == 400
    assert answer["status"] == "rejected"


# -- bad arguments to every public method ---------------------------------------------------

MESSAGE = TrackingMessage(
    event=ShipmentEvent("AAR", "R1", AWARE), carrier=Carrier(id="C"), sender=Party(id="S")
)
TRACKING = Tracking(
    provider="shiplemon",
    shipment_id="s1",
    status=TrackingStatus.TRANSIT,
    events=[TrackingEvent(TrackingStatus.TRANSIT, AWARE)],
)

Call = Callable[[dict[str, Any]], Any]

#: (public method, a call with one bad argument, the argument the error must name).
BAD_ARGUMENTS: list[tuple[str, Call, str]] = [
    # Shiplemon
    ("shiplemon tracking.get", lambda c: c["shiplemon"].tracking.get("x", timeout=0), "timeout"),
    ("shiplemon tracking.update", lambda c: c["shiplemon"].tracking.update("x", []), "history"),
    (
        "shiplemon tracking.update",
        lambda c: c["shiplemon"].tracking.update("x", "TRANSIT"),
        "history",
    ),
    (
        "shiplemon tracking.update",
        lambda c: c["shiplemon"].tracking.update("x", [HistoryUpdate("transit", AWARE)]),
        "history[0].status",
    ),
    (
        "shiplemon tracking.update",
        lambda c: c["shiplemon"].tracking.update("x", [HistoryUpdate("TRANSIT", NAIVE)]),
        "history[0].status_date",
    ),
    (
        "shiplemon tracking.update",
        lambda c: c["shiplemon"].tracking.update("x", [{"state": "TRANSIT"}]),
        "history[0]",
    ),
    (
        "shiplemon tracking.update",
        lambda c: c["shiplemon"].tracking.update(
            "x", [HistoryUpdate("TRANSIT", AWARE)], timeout="1"
        ),
        "timeout",
    ),
    ("shiplemon tracking.update", lambda c: c["shiplemon"].tracking.update("x", None), "history"),
    (
        "shiplemon tracking.update",
        lambda c: c["shiplemon"].tracking.update("x", [HistoryUpdate(["TRANSIT"], AWARE)]),
        "history[0].status",
    ),
    (
        "shiplemon tracking.update",
        lambda c: c["shiplemon"].tracking.update("x", [HistoryUpdate("TRANSIT", None)]),
        "history[0].status_date",
    ),
    ("HistoryUpdate.from_event", lambda c: HistoryUpdate.from_event("x"), "event"),
    ("HistoryUpdate.from_event", lambda c: HistoryUpdate.from_event(None), "event"),
    # exporto
    (
        "ExportoClient",
        lambda c: ExportoClient(
            client_id="c", client_secret="s", token_url="http://remote.example/t"
        ),
        "token_url",
    ),
    (
        "ExportoClient",
        lambda c: ExportoClient(client_id="c", client_secret="s", tour_path="tour/x"),
        "tour_path",
    ),
    (
        "ExportoClient",
        lambda c: ExportoClient(client_id="c", client_secret="s", tour_list_path=" "),
        "tour_list_path",
    ),
    ("exporto shipments.get", lambda c: c["exporto"].shipments.get("S", timeout=(1,)), "timeout"),
    ("exporto shipments.search", lambda c: c["exporto"].shipments.search(type="both"), "type"),
    ("exporto shipments.search", lambda c: c["exporto"].shipments.search(page_size=0), "page_size"),
    (
        "exporto shipments.search",
        lambda c: c["exporto"].shipments.search(start_page=-1),
        "start_page",
    ),
    (
        "exporto shipments.search",
        lambda c: c["exporto"].shipments.search(processed_at=NAIVE),
        "processed_at",
    ),
    (
        "exporto shipments.search",
        lambda c: c["exporto"].shipments.search(processed_at="2024-09-01"),
        "processed_at",
    ),
    (
        "exporto shipments.search",
        lambda c: c["exporto"].shipments.search(carrier_received_at_updated_at=NAIVE),
        "carrier_received_at_updated_at",
    ),
    (
        "exporto shipments.search",
        lambda c: c["exporto"].shipments.search(carrier_delivered_at_updated_at=1),
        "carrier_delivered_at_updated_at",
    ),
    (
        "exporto shipments.search",
        lambda c: c["exporto"].shipments.search(foreign_outbound_tracking_id=""),
        "foreign_outbound_tracking_id",
    ),
    (
        "exporto shipments.search",
        lambda c: c["exporto"].shipments.search(foreign_inbound_tracking_id="a\nb"),
        "foreign_inbound_tracking_id",
    ),
    ("exporto shipments.search", lambda c: c["exporto"].shipments.search(timeout=-2), "timeout"),
    (
        "exporto shipments.search",
        lambda c: c["exporto"].shipments.search(page_size=10**9),
        "page_size",
    ),
    (
        "exporto shipments.search",
        lambda c: c["exporto"].shipments.search(page_size=501),
        "page_size",
    ),
    (
        "exporto shipments.search",
        lambda c: c["exporto"].shipments.search(page_size=None),
        "page_size",
    ),
    ("exporto shipments.search", lambda c: c["exporto"].shipments.search(type=["inbound"]), "type"),
    (
        "exporto shipments.search",
        lambda c: c["exporto"].shipments.search(start_page=2**31),
        "start_page",
    ),
    ("exporto shipments.search_page", lambda c: c["exporto"].shipments.search_page(2**31), "page"),
    ("exporto shipments.search_page", lambda c: c["exporto"].shipments.search_page(None), "page"),
    (
        "exporto shipments.search_page",
        lambda c: c["exporto"].shipments.search_page(page_size=10**9),
        "page_size",
    ),
    (
        "exporto shipments.search_page",
        lambda c: c["exporto"].shipments.search_page(timeout="1"),
        "timeout",
    ),
    ("exporto shipments.search_page", lambda c: c["exporto"].shipments.search_page(-1), "page"),
    ("exporto shipments.search_page", lambda c: c["exporto"].shipments.search_page(True), "page"),
    (
        "exporto shipments.search_page",
        lambda c: c["exporto"].shipments.search_page(page_size="5"),
        "page_size",
    ),
    ("exporto tours.list", lambda c: c["exporto"].tours.list(since="2024-09-01"), "since"),
    ("exporto tours.list", lambda c: c["exporto"].tours.list(since=NAIVE), "since"),
    ("exporto tours.track", lambda c: c["exporto"].tours.track(), "tour_ids"),
    (
        "exporto tours.track",
        lambda c: c["exporto"].tours.track(["T"], since=date(2024, 9, 1)),
        "tour_ids",
    ),
    ("exporto tours.track", lambda c: c["exporto"].tours.track("T-1"), "tour_ids"),
    (
        "exporto tours.track",
        lambda c: c["exporto"].tours.track(["T"], max_workers=0),
        "max_workers",
    ),
    ("exporto tours.track", lambda c: c["exporto"].tours.track(["T"], timeout=0), "timeout"),
    (
        "exporto tours.track",
        lambda c: list(c["exporto"].tours.track(["T"], progress=5)),
        "progress",
    ),
    # LEX
    ("lex tracking.send", lambda c: c["lex"].tracking.send(MESSAGE), "messages"),
    ("lex tracking.send", lambda c: c["lex"].tracking.send([MESSAGE], batch_size=0), "batch_size"),
    (
        "lex tracking.send",
        lambda c: c["lex"].tracking.send([MESSAGE], batch_size=1001),
        "batch_size",
    ),
    ("lex tracking.send", lambda c: c["lex"].tracking.send([MESSAGE], timeout=-1), "timeout"),
    ("lex tracking.send", lambda c: c["lex"].tracking.send([MESSAGE], progress="yes"), "progress"),
    ("lex tracking.send", lambda c: c["lex"].tracking.send([{"event": {}}]), "messages[0]"),
    (
        "lex tracking.send",
        lambda c: c["lex"].tracking.send([TrackingMessage(event=ShipmentEvent("AAR", "R", NAIVE))]),
        "messages[0].event.occurred_at",
    ),
    ("lex tracking.validate", lambda c: c["lex"].tracking.validate("x"), "messages"),
    ("lex orders.fetch", lambda c: c["lex"].orders.fetch(0), "fetch_size"),
    ("lex orders.fetch", lambda c: c["lex"].orders.fetch(101), "fetch_size"),
    ("lex orders.fetch", lambda c: c["lex"].orders.fetch(10, NAIVE), "min_timestamp"),
    ("lex orders.fetch", lambda c: c["lex"].orders.fetch(10, "2024-09-01"), "min_timestamp"),
    ("lex orders.fetch", lambda c: c["lex"].orders.fetch(10, timeout=-1), "timeout"),
    ("lex orders.iter_messages", lambda c: c["lex"].orders.iter_messages(since=NAIVE), "since"),
    (
        "lex orders.iter_messages",
        lambda c: c["lex"].orders.iter_messages(fetch_size=500),
        "fetch_size",
    ),
    (
        "lex orders.iter_messages",
        lambda c: c["lex"].orders.iter_messages(checkpoint="file"),
        "checkpoint",
    ),
    ("lex orders.iter_messages", lambda c: c["lex"].orders.iter_messages(timeout=0), "timeout"),
    (
        "lex orders.send",
        lambda c: c["lex"].orders.send([BusinessMessage.create("X", {})]),
        "message",
    ),
    ("lex orders.send", lambda c: c["lex"].orders.send("msg"), "message"),
    (
        "lex orders.send",
        lambda c: c["lex"].orders.send(
            {"messageType": "X", "timestamp": "2024-09-01T00:00:00Z", "payload": {}}
        ),
        "message.id",
    ),
    (
        "lex orders.send",
        lambda c: c["lex"].orders.send(
            BusinessMessage(id="1", type="X", timestamp=NAIVE, payload={})
        ),
        "message.timestamp",
    ),
    (
        "lex orders.send",
        lambda c: c["lex"].orders.send(BusinessMessage(id="1", type="X", timestamp=AWARE)),
        "message.payload",
    ),
    (
        "lex orders.send",
        lambda c: c["lex"].orders.send(
            BusinessMessage.create("ORDER_STATUS", OrderStatus()), timeout=-1
        ),
        "timeout",
    ),
    (
        "messages_from_tracking",
        lambda c: messages_from_tracking("x", codes={}, sender=None),
        "trackings",
    ),
    (
        "messages_from_tracking",
        lambda c: messages_from_tracking([TRACKING], codes={"LOST": "X"}, sender=None),
        "statuses",
    ),
    (
        "messages_from_tracking",
        lambda c: messages_from_tracking([TRACKING], codes={}, sender=None),
        "trackings[0].events[0]",
    ),
    (
        "messages_from_tracking",
        lambda c: messages_from_tracking(
            [TRACKING], codes={"TRANSIT": "AAR"}, sender=None, since=NAIVE
        ),
        "since",
    ),
    ("EventCodeTable", lambda c: EventCodeTable({"TRANSIT": 5}), "statuses['TRANSIT']"),
    ("EventCodeTable", lambda c: EventCodeTable(None), "statuses"),
    ("EventCodeTable", lambda c: EventCodeTable({}, provider_codes="MLV"), "provider_codes"),
    ("EventCodeTable.lookup", lambda c: EventCodeTable({}).lookup("x"), "event"),
    ("EventCodeTable.lookup", lambda c: EventCodeTable({}).lookup(None), "event"),
    (
        "EventCodeTable.lookup",
        lambda c: EventCodeTable({}).lookup(TRACKING.events[0], provider=5),
        "provider",
    ),
    ("EventCodeTable.with_overrides", lambda c: EventCodeTable({}).with_overrides("x"), "statuses"),
    (
        "EventCodeTable.with_overrides",
        lambda c: EventCodeTable({}).with_overrides(provider_codes=[1]),
        "provider_codes",
    ),
    ("EventCode", lambda c: EventCode(None), "code"),
    ("EventCode", lambda c: EventCode("AAR", 5), "type"),
    (
        "message_from_event",
        lambda c: message_from_event(TRACKING, "x", EventCode("AAR"), sender=None),
        "event",
    ),
    (
        "message_from_event",
        lambda c: message_from_event("x", TRACKING.events[0], EventCode("AAR"), sender=None),
        "tracking",
    ),
    (
        "message_from_event",
        lambda c: message_from_event(TRACKING, TRACKING.events[0], None, sender=None),
        "code",
    ),
    (
        "message_from_event",
        lambda c: message_from_event(TRACKING, TRACKING.events[0], EventCode("AAR"), sender="me"),
        "sender",
    ),
    (
        "message_from_event",
        lambda c: message_from_event(
            TRACKING, TRACKING.events[0], EventCode("AAR"), sender=None, document_url=5
        ),
        "document_url",
    ),
    (
        "messages_from_tracking",
        lambda c: messages_from_tracking([TRACKING], codes=None, sender=None),
        "codes",
    ),
    (
        "messages_from_tracking",
        lambda c: messages_from_tracking([TRACKING], codes={"TRANSIT": "AAR"}, sender="me"),
        "sender",
    ),
    (
        "messages_from_tracking",
        lambda c: messages_from_tracking(
            [TRACKING], codes={"TRANSIT": "AAR"}, sender=None, customize=5
        ),
        "customize",
    ),
    (
        "messages_from_tracking",
        lambda c: messages_from_tracking(
            [TRACKING], codes={"TRANSIT": "AAR"}, sender=None, last_only="yes"
        ),
        "last_only",
    ),
    ("TrackingValidator", lambda c: TrackingValidator(required_parts={"wings"}), "required_parts"),
    ("TrackingValidator", lambda c: TrackingValidator(limits={"code": 0}), "limits['code']"),
    ("FileCheckpoint", lambda c: FileCheckpoint(""), "path"),
    ("Cursor", lambda c: __import__("shiptrack_sdk.lex").lex.Cursor(NAIVE), "timestamp"),
    (
        "MemoryCheckpoint→iter",
        lambda c: c["lex"].orders.iter_messages(checkpoint=MemoryCheckpoint(), fetch_size=True),
        "fetch_size",
    ),
    ("PushReceiver", lambda c: PushReceiver(), "verifier"),
    ("PushReceiver", lambda c: PushReceiver(verifier="token"), "verifier"),
    (
        "PushReceiver",
        lambda c: PushReceiver(allow_unauthenticated=True, max_body_bytes=0),
        "max_body_bytes",
    ),
    (
        "PushReceiver",
        lambda c: PushReceiver(allow_unauthenticated=True, max_messages=True),
        "max_messages",
    ),
    (
        "PushReceiver",
        lambda c: PushReceiver(allow_unauthenticated=True, dedup_store=set()),
        "dedup_store",
    ),
    ("PushWSGIApp", lambda c: PushWSGIApp("receiver", print), "receiver"),
    (
        "PushWSGIApp",
        lambda c: PushWSGIApp(PushReceiver(allow_unauthenticated=True), None),
        "handler",
    ),
    (
        "IntrospectionVerifier",
        lambda c: IntrospectionVerifier("http://remote.example/i", "c", "s"),
        "introspection_url",
    ),
    (
        "IntrospectionVerifier",
        lambda c: IntrospectionVerifier("https://x/i", "c", "s", client_auth="jwt"),
        "client_auth",
    ),
    ("StaticTokenVerifier", lambda c: StaticTokenVerifier([]), "tokens"),
    ("StaticTokenVerifier", lambda c: StaticTokenVerifier(None), "tokens"),
    ("StaticTokenVerifier.verify", lambda c: StaticTokenVerifier("t").verify(None), "token"),
    ("InMemoryDedupStore", lambda c: InMemoryDedupStore(0), "max_entries"),
    ("InMemoryDedupStore.seen", lambda c: InMemoryDedupStore().seen(None), "key"),
    ("InMemoryDedupStore.add", lambda c: InMemoryDedupStore().add(["k"]), "key"),
    (
        "PushReceiver.receive",
        lambda c: PushReceiver(allow_unauthenticated=True).receive("x", b"[]"),
        "headers",
    ),
    (
        "PushReceiver.receive",
        lambda c: PushReceiver(allow_unauthenticated=True).receive(None, b"[]"),
        "headers",
    ),
    (
        "PushReceiver.receive",
        lambda c: PushReceiver(allow_unauthenticated=True).receive({"Authorization": 1}, b"[]"),
        "headers",
    ),
    (
        "PushReceiver.receive",
        lambda c: PushReceiver(allow_unauthenticated=True).receive({}, "[]"),
        "body",
    ),
    (
        "PushReceiver.handle",
        lambda c: PushReceiver(allow_unauthenticated=True).handle({}, b"[]", None),
        "handler",
    ),
    (
        "PushReceiver.handle",
        lambda c: PushReceiver(allow_unauthenticated=True).handle({}, None, print),
        "body",
    ),
    (
        "PushReceiver.mark_processed",
        lambda c: PushReceiver(allow_unauthenticated=True).mark_processed("LEX-1"),
        "messages",
    ),
    (
        "PushReceiver",
        lambda c: PushReceiver(allow_unauthenticated="yes"),
        "allow_unauthenticated",
    ),
    (
        "PushWSGIApp",
        lambda c: PushWSGIApp(PushReceiver(allow_unauthenticated=True), print, drain_bytes=-1),
        "drain_bytes",
    ),
    (
        "IntrospectionVerifier",
        lambda c: IntrospectionVerifier("https://x/i", "c", "s", cache_ttl="60"),
        "cache_ttl",
    ),
    (
        "IntrospectionVerifier",
        lambda c: IntrospectionVerifier("https://x/i", "c", "s", cache_size=-1),
        "cache_size",
    ),
    (
        "IntrospectionVerifier",
        lambda c: IntrospectionVerifier("https://x/i", "c", "s", retry="never"),
        "retry",
    ),
    (
        "IntrospectionVerifier.verify",
        lambda c: IntrospectionVerifier("https://x/i", "c", "s").verify(None),
        "token",
    ),
    (
        "AesGcmCipher",
        lambda c: AesGcmCipher(bytes(32), associated_data="aad"),
        "associated_data",
    ),
    ("AesGcmCipher.decrypt", lambda c: AesGcmCipher(bytes(32)).decrypt(None), "data"),
    ("PushResponse", lambda c: PushResponse("200", {}), "status"),
    # the core
    ("RetryPolicy", lambda c: RetryPolicy(max_retries=-1), "max_retries"),
    ("Timeout.of", lambda c: Timeout.of("5"), "timeout"),
    (
        "OAuth2ClientCredentials",
        lambda c: OAuth2ClientCredentials("https://x/t", "c", "s", client_auth="jwt"),
        "client_auth",
    ),
    (
        "OAuth2ClientCredentials",
        lambda c: OAuth2ClientCredentials("http://remote.example/t", "c", "s"),
        "token_url",
    ),
    (
        "OAuth2ClientCredentials",
        lambda c: OAuth2ClientCredentials("https://x/t", "", "s"),
        "client_id",
    ),
    ("TrackingEvent", lambda c: TrackingEvent(TrackingStatus.TRANSIT, NAIVE), "occurred_at"),
    ("TrackingEvent", lambda c: TrackingEvent("MOVING", AWARE), "status"),
    ("TrackingEvent", lambda c: TrackingEvent(TrackingStatus.TRANSIT, None), "occurred_at"),
    ("TrackingEvent", lambda c: TrackingEvent(None, AWARE), "status"),
    (
        "TrackingEvent",
        lambda c: TrackingEvent(TrackingStatus.TRANSIT, AWARE, description=5),
        "description",
    ),
    (
        "Tracking",
        lambda c: Tracking("p", "s", TrackingStatus.TRANSIT, estimated_delivery=NAIVE),
        "estimated_delivery",
    ),
    (
        "Tracking",
        lambda c: Tracking("p", "s", TrackingStatus.TRANSIT, estimated_delivery="2024-09-01"),
        "estimated_delivery",
    ),
    ("Tracking", lambda c: Tracking("p", "s", TrackingStatus.TRANSIT, events=[5]), "events"),
    ("Tracking", lambda c: Tracking("p", "s", TrackingStatus.TRANSIT, events=None), "events"),
    ("Tracking", lambda c: Tracking("p", "s", TrackingStatus.TRANSIT, events="abc"), "events"),
    ("Tracking", lambda c: Tracking(None, "s", TrackingStatus.TRANSIT), "provider"),
    ("Tracking", lambda c: Tracking("p", 5, TrackingStatus.TRANSIT), "shipment_id"),
    ("Tracking", lambda c: Tracking("p", "s", TrackingStatus.TRANSIT, carrier=5), "carrier"),
    ("Tracking", lambda c: Tracking("p", "s", TrackingStatus.TRANSIT, raw=None), "raw"),
    # the sandbox
    ("Sandbox", lambda c: Sandbox(latency=-1), "latency"),
    ("Sandbox", lambda c: Sandbox(latency="0.1"), "latency"),
    ("Sandbox", lambda c: Sandbox(port="x"), "port"),
    ("Sandbox", lambda c: Sandbox(port=-1), "port"),
    ("Sandbox", lambda c: Sandbox(host=None), "host"),
    ("Sandbox", lambda c: Sandbox(token_lifetime=-1), "token_lifetime"),
    ("Sandbox.latency", lambda c: setattr(Sandbox(), "latency", -1), "latency"),
    ("Sandbox.fault", lambda c: Sandbox().fault("/x", status="abc"), "status"),
    ("Sandbox.fault", lambda c: Sandbox().fault("/x", times=-1), "times"),
    ("Sandbox.fault", lambda c: Sandbox().fault("/x", delay=-1), "delay"),
    ("Sandbox.fault", lambda c: Sandbox().fault("/x", action="boom"), "action"),
    ("Sandbox.fault", lambda c: Sandbox().fault("/x", retry_after=-1), "retry_after"),
    ("Sandbox.fault", lambda c: Sandbox().fault("/x", headers="X: 1"), "headers"),
    ("Sandbox.fault", lambda c: Sandbox().fault(None), "path"),
    ("Sandbox.calls", lambda c: Sandbox().calls(5), "path"),
    (
        "Sandbox",
        lambda c: Sandbox(credentials={"lex": {"client_id": None}}),
        "credentials['lex'].client_id",
    ),
    ("Sandbox", lambda c: Sandbox(credentials={"oauth": None}), "credentials"),
    # notebook helpers (the refusals need neither pandas nor matplotlib)
    ("Trackings", lambda c: Trackings(5), "items"),
    ("Trackings", lambda c: Trackings([TRACKING, "s1"]), "items[1]"),
    ("to_dataframe", lambda c: to_dataframe(5), "trackings"),
    ("to_dataframe", lambda c: to_dataframe("s1"), "trackings"),
    ("to_dataframe", lambda c: to_dataframe([TRACKING, None]), "trackings[1]"),
    ("to_dataframe", lambda c: to_dataframe([TRACKING], per="day"), "per"),
    ("Trackings.to_dataframe", lambda c: Trackings([TRACKING]).to_dataframe(per=1), "per"),
    ("plot_timeline", lambda c: plot_timeline(5), "trackings"),
    ("plot_timeline", lambda c: plot_timeline(TRACKING), "trackings"),
    ("plot_timeline", lambda c: plot_timeline([{"shipment_id": "s1"}]), "trackings[0]"),
    ("tracking_html", lambda c: tracking_html([TRACKING]), "tracking"),
    ("trackings_html", lambda c: trackings_html(5), "trackings"),
    ("trackings_html", lambda c: trackings_html([object()]), "trackings[0]"),
]


@pytest.mark.parametrize(
    ("method", "call", "argument"),
    [pytest.param(m, c, a, id=f"{m}:{a}:{i}") for i, (m, c, a) in enumerate(BAD_ARGUMENTS)],
)
def test_bad_arguments_are_refused_naming_the_argument_before_any_request(
    sb: Sandbox, clients: dict[str, Any], method: str, call: Call, argument: str
) -> None:
    with pytest.raises(ValidationError) as info:
        _consume(call(clients))
    names = {info.value.argument, *(path for path, _ in info.value.problems)}
    assert argument in names, info.value
    assert sb.calls() == []  # no request, not even for a token


#: Shared client options → a bad value (each client must name the option).
BAD_OPTIONS: list[tuple[str, Any]] = [
    ("base_url", "ftp://x"),
    ("base_url", "api.example"),
    ("environment", "no-such-environment"),
    ("timeout", -1),
    ("timeout", (1, 0)),
    ("max_retries", -1),
    ("max_retries", True),
    ("backoff_factor", -1),
    ("session", "s"),
    ("timout", 5),  # a misspelt option
]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_client_names_what_it_refuses_before_any_request(sb: Sandbox, provider: str) -> None:
    found = spec(provider)
    assert found.sandbox_client is not None
    client_class = found.client_class()
    credentials = {k: v for k, v in found.sandbox_client(sb).items() if not k.endswith("_url")}
    for missing in credentials:  # each credential is required
        with pytest.raises(ValidationError) as info:
            client_class(**{k: v for k, v in credentials.items() if k != missing})
        assert info.value.argument == missing
    keywords = inspect.signature(client_class).parameters
    for option, bad in BAD_OPTIONS:
        if option == "environment" and option not in keywords:
            continue  # a provider with one environment takes no environment=
        with pytest.raises(ValidationError) as info:
            client_class(**credentials, **{option: bad})
        assert info.value.argument == option, (option, bad)
    assert sb.calls() == []


def _consume(result: Any) -> None:
    """Start a lazy result (an iterator checks some arguments at its first step)."""
    if hasattr(result, "__next__"):
        next(result)
