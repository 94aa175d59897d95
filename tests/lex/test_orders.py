"""LEX Order Execution, request shapes (``responses``): ``fetch`` and ``send`` send exactly the
documented call, validate their arguments before any request, and read the answer tolerantly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from shiptrack_sdk import LexClient, ResponseError, ValidationError
from shiptrack_sdk.lex import (
    BusinessMessage,
    MessageType,
    OrdersResource,
    OrderStatus,
    SendResult,
    ShipmentOrder,
)
from shiptrack_sdk.lex.client import DEFAULT_TOKEN_URL
from shiptrack_sdk.lex.orders import DEFAULT_PATH, format_min_timestamp
from tests.conftest import load_fixture

BASE = "https://api.michelin.com"
URL = BASE + DEFAULT_PATH


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            DEFAULT_TOKEN_URL,
            json={"access_token": "tok-123", "token_type": "bearer", "expires_in": 1800},
        )
        yield mock


@pytest.fixture
def client() -> LexClient:
    return LexClient(client_id="cid", client_secret="secret", max_retries=0)


def api_calls(rsps: responses.RequestsMock) -> list[Any]:
    return [c for c in rsps.calls if "accesstoken" not in c.request.url]


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


# -- fetch ------------------------------------------------------------------------------------


def test_fetch_sends_get_with_fetch_size_and_bearer(
    rsps: responses.RequestsMock, client: LexClient
) -> None:
    rsps.add(responses.GET, URL, json=load_fixture("lex", "orders_get_page.json"))
    messages = client.orders.fetch()
    assert len(messages) == 6
    (call,) = api_calls(rsps)
    assert call.request.method == "GET"
    assert call.request.url == f"{URL}?fetchSize=50"
    assert call.request.headers["Authorization"] == "Bearer tok-123"
    assert call.request.body is None


@pytest.mark.parametrize(
    ("bound", "sent"),
    [
        (datetime(2024, 9, 2, 14, 0, tzinfo=timezone(timedelta(hours=8))), "2024-09-02T06:00:00Z"),
        (datetime(2024, 9, 2, 6, 0, 0, 125000, tzinfo=timezone.utc), "2024-09-02T06:00:00.125Z"),
        (datetime(2024, 9, 2, 6, 0, 0, 1, tzinfo=timezone.utc), "2024-09-02T06:00:00.000001Z"),
        (1725256800, "2024-09-02T06:00:00Z"),  # epoch seconds
        (1725256800125, "2024-09-02T06:00:00.125Z"),  # epoch milliseconds
    ],
)
def test_min_timestamp_is_sent_as_iso_offset_date_time_in_utc(
    rsps: responses.RequestsMock, client: LexClient, bound: Any, sent: str
) -> None:
    rsps.add(responses.GET, URL, json=[])
    assert client.orders.fetch(100, bound) == []
    (call,) = api_calls(rsps)
    assert query(call) == {"fetchSize": ["100"], "minTimestamp": [sent]}


def test_format_min_timestamp_keeps_every_digit() -> None:
    stamp = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    assert format_min_timestamp(stamp) == "2024-01-02T03:04:05.678901Z"


@pytest.mark.parametrize("size", [0, 101, -1, True, "50", 1.5, None])
def test_fetch_size_out_of_range_is_refused_before_any_request(
    rsps: responses.RequestsMock, client: LexClient, size: Any
) -> None:
    with pytest.raises(ValidationError) as info:
        client.orders.fetch(size)
    assert info.value.argument == "fetch_size"
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    "bound", [datetime(2024, 9, 2, 6, 0), "2024-09-02T06:00:00Z", True, float("nan")]
)
def test_naive_or_odd_min_timestamp_is_refused_before_any_request(
    rsps: responses.RequestsMock, client: LexClient, bound: Any
) -> None:
    with pytest.raises(ValidationError) as info:
        client.orders.fetch(min_timestamp=bound)
    assert info.value.argument == "min_timestamp"
    assert len(rsps.calls) == 0


def test_iter_messages_validates_before_any_request(
    rsps: responses.RequestsMock, client: LexClient
) -> None:
    with pytest.raises(ValidationError) as info:
        client.orders.iter_messages(since=datetime(2024, 1, 1))
    assert info.value.argument == "since"
    with pytest.raises(ValidationError) as info:
        client.orders.iter_messages(fetch_size=500)
    assert info.value.argument == "fetch_size"
    with pytest.raises(ValidationError) as info:
        client.orders.iter_messages(checkpoint=object())  # type: ignore[arg-type]
    assert info.value.argument == "checkpoint"
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    "wrap",
    [
        lambda ms: ms,
        lambda ms: {"messages": ms},
        lambda ms: {"businessMessages": ms, "count": len(ms)},
        lambda ms: {"data": {"items": ms}},
    ],
)
def test_fetch_reads_an_array_or_an_object_wrapping_it(
    rsps: responses.RequestsMock, client: LexClient, wrap: Any
) -> None:
    rsps.add(responses.GET, URL, json=wrap(load_fixture("lex", "orders_get_page.json")))
    messages = client.orders.fetch()
    assert [m.id for m in messages][:2] == ["8f1c2a4e-0001", "8f1c2a4e-0002"]
    assert isinstance(messages[0].payload, ShipmentOrder)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (json.dumps({"unexpected": True}), "neither a list of business messages"),
        ("<html>gateway</html>", "not JSON"),
    ],
)
def test_fetch_refuses_an_answer_without_messages(
    rsps: responses.RequestsMock, client: LexClient, body: str, text: str
) -> None:
    rsps.add(responses.GET, URL, body=body, content_type="application/json")
    with pytest.raises(ResponseError, match=text) as info:
        client.orders.fetch()
    assert info.value.status == 200


def test_a_message_the_sdk_cannot_read_still_arrives(
    rsps: responses.RequestsMock, client: LexClient, caplog: pytest.LogCaptureFixture
) -> None:
    good = {"messageId": "ok", "messageType": "X", "timestamp": "2024-09-02T06:00:00Z"}
    odd = {"messageId": "odd", "messageType": "X", "timestamp": "not a time", "payload": {}}
    rsps.add(responses.GET, URL, json=[good, odd, 7])
    with caplog.at_level("WARNING", logger="shiptrack_sdk"):
        messages = client.orders.fetch()
    assert [m.id for m in messages] == ["ok", "odd", None]
    assert messages[1].timestamp is None
    assert messages[1].extra == {"timestamp": "not a time"}
    assert messages[1].raw == odd
    assert messages[2].raw == {"value": 7}
    assert "timestamp could not be read" in caplog.text


def test_path_is_overridable_by_argument_and_environment(
    rsps: responses.RequestsMock, client: LexClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    rsps.add(responses.GET, BASE + "/gw/lex/messages", json=[])
    rsps.add(responses.POST, BASE + "/gw/lex/inbound", json={"status": "ACCEPTED"})
    orders = OrdersResource(client, path="/gw/lex/messages", send_path="/gw/lex/inbound")
    orders.fetch()
    orders.send(BusinessMessage.create("ORDER_STATUS", OrderStatus(order_number="1")))
    monkeypatch.setenv("SHIPTRACK_LEX_ORDERS_PATH", "/gw/lex/messages")
    LexClient(client_id="cid", client_secret="secret").orders.fetch()
    assert [c.request.url.split("?")[0] for c in api_calls(rsps)] == [
        BASE + "/gw/lex/messages",
        BASE + "/gw/lex/inbound",
        BASE + "/gw/lex/messages",
    ]
    with pytest.raises(ValidationError) as info:
        OrdersResource(client, path="  ")
    assert info.value.argument == "path"


# -- send -------------------------------------------------------------------------------------


def status_message() -> BusinessMessage:
    return BusinessMessage.create(
        MessageType.ORDER_STATUS,
        OrderStatus(
            order_number="SO-4500123",
            order_type="SHIPMENT",
            status="SHIPPED",
            status_date=datetime(2024, 9, 3, 2, 10, tzinfo=timezone.utc),
        ),
        id="3pl-status-000124",
        timestamp=datetime(2024, 9, 3, 10, 15, tzinfo=timezone(timedelta(hours=8))),
        partner_id="3PL-APAC",
        warehouse_id="MY-SHA-01",
    )


def test_send_posts_one_message_as_the_json_body(
    rsps: responses.RequestsMock, client: LexClient
) -> None:
    rsps.add(responses.POST, URL, json={"messageId": "3pl-status-000124", "status": "ACCEPTED"})
    result = client.orders.send(status_message())
    assert result == SendResult(id="3pl-status-000124", status="ACCEPTED")
    (call,) = api_calls(rsps)
    assert call.request.url == URL
    assert call.request.headers["Content-Type"] == "application/json"
    assert call.request.headers["Authorization"] == "Bearer tok-123"
    assert json.loads(call.request.body) == {
        "messageId": "3pl-status-000124",
        "messageType": "ORDER_STATUS",
        "timestamp": "2024-09-03T02:15:00.000Z",
        "partnerId": "3PL-APAC",
        "warehouseId": "MY-SHA-01",
        "payload": {
            "orderNumber": "SO-4500123",
            "orderType": "SHIPMENT",
            "statusCode": "SHIPPED",
            "statusDate": "2024-09-03T02:10:00.000Z",
            "lines": [],
        },
    }


def test_send_passes_a_wire_mapping_unchanged(
    rsps: responses.RequestsMock, client: LexClient
) -> None:
    rsps.add(responses.POST, URL, json={"status": "ACCEPTED"})
    sample = load_fixture("lex", "orders_post_order_status.json")
    sample["agreedExtension"] = {"kept": True}
    client.orders.send(sample)
    (call,) = api_calls(rsps)
    assert json.loads(call.request.body) == sample


@pytest.mark.parametrize(
    "batch",
    [
        lambda: [status_message(), status_message()],
        lambda: (status_message(),),
        lambda: [load_fixture("lex", "orders_post_order_status.json")],
        lambda: iter([status_message()]),
        list,
    ],
)
def test_send_refuses_a_list_with_a_clear_error(
    rsps: responses.RequestsMock, client: LexClient, batch: Any
) -> None:
    with pytest.raises(ValidationError, match="one business message per call") as info:
        client.orders.send(batch())
    assert info.value.argument == "message"
    assert len(rsps.calls) == 0


def test_send_lists_every_problem_before_sending(
    rsps: responses.RequestsMock, client: LexClient
) -> None:
    message = BusinessMessage(type=None, timestamp=datetime(2024, 9, 3, 2, 15))
    with pytest.raises(ValidationError) as info:
        client.orders.send(message)
    assert [argument for argument, _ in info.value.problems] == [
        "message.id",
        "message.type",
        "message.timestamp",
        "message.payload",
    ]
    with pytest.raises(ValidationError, match="not a business message"):
        client.orders.send({"messageId": "x", "timestamp": "someday"})
    with pytest.raises(ValidationError, match="not JSON data"):
        client.orders.send({"messageId": "x", "when": datetime.now(timezone.utc)})
    with pytest.raises(ValidationError, match="expected a BusinessMessage"):
        client.orders.send("{}")  # type: ignore[arg-type]
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"body": b"", "status": 202}, SendResult()),
        ({"json": {"messageId": "m", "status": "QUEUED", "ref": 7}, "status": 201}, None),
        ({"json": "OK"}, SendResult(extra={"answer": "OK"})),
        (
            {"body": b"<html>queued</html>", "status": 200},
            SendResult(extra={"answer": "<html>queued</html>"}),
        ),
    ],
)
def test_send_reads_whatever_lex_answers(
    rsps: responses.RequestsMock, client: LexClient, answer: dict[str, Any], expected: Any
) -> None:
    rsps.add(responses.POST, URL, **answer)
    result = client.orders.send(status_message())
    if expected is None:
        assert (result.id, result.status, result.extra) == ("m", "QUEUED", {"ref": 7})
    else:
        assert result == expected


def test_send_does_not_raise_when_an_accepted_answer_is_too_large_to_read(
    rsps: responses.RequestsMock,
) -> None:
    # Raising would read as a failure and invite a second POST of a stored message.
    client = LexClient(client_id="cid", client_secret="secret")
    client._transport.max_response_bytes = 100
    rsps.add(responses.POST, URL, body=b"[" + b"1," * 500 + b"1]", status=200)
    result = client.orders.send(status_message())
    assert result.id is None
    assert "answer" in result.extra
    assert len(api_calls(rsps)) == 1
