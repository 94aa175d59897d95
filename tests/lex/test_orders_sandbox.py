"""LEX Order Execution over real HTTP against the sandbox: one page, the inclusive bound, the
sandbox's own validation, and posting one message."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import cast

import pytest

from shiptrack_sdk import AuthenticationError, BadRequestError, ValidationError
from shiptrack_sdk.lex import (
    BusinessMessage,
    ItemMaster,
    MessageType,
    OrderStatus,
    ReceivingOrder,
    ShipmentOrder,
)
from shiptrack_sdk.lex._sandbox_orders import ORDERS_PATH, UNKNOWN_TYPE, OrdersPart
from shiptrack_sdk.sandbox import Sandbox
from tests.conftest import load_fixture

PATH = "/lex" + ORDERS_PATH


def orders_part(sb: Sandbox) -> OrdersPart:
    return cast(OrdersPart, sb.apps["lex"].orders)  # type: ignore[attr-defined]


def test_fetch_one_page_of_typed_messages(sb: Sandbox) -> None:
    client = sb.lex_client()
    page = client.orders.fetch()
    assert len(page) == 50
    assert [m.id for m in page] == list(orders_part(sb).generator.ids(0, 50))
    assert [type(m.payload) for m in page[:4]] == [
        ShipmentOrder,
        ReceivingOrder,
        ItemMaster,
        OrderStatus,
    ]
    (call,) = sb.calls(PATH, "GET")
    assert call.query == {"fetchSize": ["50"]}
    assert call.headers["Authorization"].startswith("Bearer ")


def test_unknown_types_arrive_generic_over_http(sb: Sandbox) -> None:
    page = sb.lex_client().orders.fetch(100)
    snapshot = page[96]
    assert snapshot.type == UNKNOWN_TYPE
    assert not snapshot.is_typed
    assert isinstance(snapshot.payload, dict)
    assert "positions" in snapshot.payload


def test_min_timestamp_bound_is_inclusive_and_ordered_by_time_then_id(sb: Sandbox) -> None:
    part = orders_part(sb)
    generator = part.seed(300, burst_every=30, burst_size=12)
    client = sb.lex_client()
    burst_time = generator.timestamp(60)  # messages 60..71 share it
    page = client.orders.fetch(20, burst_time)
    assert [m.id for m in page] == list(generator.ids(60, 80))
    assert {m.timestamp for m in page[:12]} == {burst_time}
    after = client.orders.fetch(5, burst_time + timedelta(microseconds=1))
    assert [m.id for m in after] == list(generator.ids(72, 77))
    (_, call) = sb.calls(PATH, "GET")
    assert call.query["minTimestamp"] == [
        (burst_time + timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ]


def test_object_shaped_answers_are_read_too(sb: Sandbox) -> None:
    orders_part(sb).response_shape = "object"
    page = sb.lex_client().orders.fetch(3)
    assert [m.id for m in page] == ["LEX-000000000", "LEX-000000001", "LEX-000000002"]


def test_the_sandbox_refuses_what_lex_refuses(sb: Sandbox) -> None:
    transport = sb.lex_client(max_retries=0)._transport
    with pytest.raises(BadRequestError, match="fetchSize"):
        transport.request("GET", ORDERS_PATH, params={"fetchSize": 101})
    with pytest.raises(BadRequestError, match="minTimestamp"):
        transport.request("GET", ORDERS_PATH, params={"minTimestamp": "2024-09-02T06:00:00"})
    with pytest.raises(BadRequestError, match="only one business message"):
        transport.request("POST", ORDERS_PATH, json_body=[{"messageId": "a"}])
    with pytest.raises(BadRequestError) as info:
        transport.request("POST", ORDERS_PATH, json_body={"messageId": "a"})
    assert [p["field"] for p in info.value.metadata] == ["messageType", "timestamp", "payload"]
    with pytest.raises(AuthenticationError):
        sb.lex_client(max_retries=0, client_secret="wrong").orders.fetch()


def test_epoch_milliseconds_bound_is_understood_by_the_sandbox(sb: Sandbox) -> None:
    generator = orders_part(sb).generator
    millis = generator.micros(5) // 1000
    transport = sb.lex_client()._transport
    answer = transport.request(
        "GET", ORDERS_PATH, params={"fetchSize": 1, "minTimestamp": millis}
    ).json()
    assert answer[0]["messageId"] == generator.message_id(0)  # 0..7 are one burst


def test_send_one_message_round_trip(sb: Sandbox) -> None:
    client = sb.lex_client()
    message = BusinessMessage.create(
        MessageType.ORDER_STATUS,
        OrderStatus(order_number="SO-0000004", status="PICKED"),
        partner_id="3PL-SANDBOX",
        warehouse_id="MY-SHA-01",
    )
    result = client.orders.send(message)
    assert (result.id, result.status) == (message.id, "ACCEPTED")
    received = orders_part(sb).received
    assert received == [message.to_wire()]
    assert client.orders.send(message).status == "DUPLICATE"
    assert len(orders_part(sb).received) == 1


def test_send_a_wire_mapping_and_refuse_a_list(sb: Sandbox) -> None:
    client = sb.lex_client()
    sample = load_fixture("lex", "orders_post_order_status.json")
    assert client.orders.send(sample).status == "ACCEPTED"
    with pytest.raises(ValidationError, match="one business message per call"):
        client.orders.send([sample, sample])
    assert orders_part(sb).received == [sample]
    assert len(sb.calls(PATH, "POST")) == 1


def test_added_messages_merge_with_generated_ones(sb: Sandbox) -> None:
    part = orders_part(sb)
    generator = part.seed(10)
    stamp = generator.timestamp(3)
    part.add_messages(
        [
            {
                "messageId": "LEX-000000003a",
                "messageType": "ORDER_STATUS",
                "timestamp": stamp.isoformat(),
                "payload": {"orderNumber": "X"},
            }
        ]
    )
    page = sb.lex_client().orders.fetch(3, stamp)
    assert [m.id for m in page] == ["LEX-000000003", "LEX-000000003a", "LEX-000000004"]
    assert page[1].timestamp == stamp.astimezone(timezone.utc)


def test_reset_restores_the_default_data(sb: Sandbox) -> None:
    part = orders_part(sb)
    part.seed(3)
    part.received.append({"messageId": "x"})
    sb.reset()
    assert len(part.generator) == 250
    assert part.received == []
    assert part.generator.timestamp(0) == datetime(2024, 9, 2, 6, 0, tzinfo=timezone.utc)
