"""LEX Order Execution models: the envelope, typed payloads, unknown types and fields, wire
round trips, and the tolerant reading of pages."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

import attrs
import pytest

from shiptrack_sdk._core.convert import converter, register_wire_model, structure
from shiptrack_sdk.lex import (
    BusinessMessage,
    ItemMaster,
    MessageType,
    OrderAddress,
    OrderLine,
    OrderStatus,
    ReceivingOrder,
    ShipmentOrder,
)
from shiptrack_sdk.lex.order_models import (
    PAYLOAD_TYPES,
    message_key,
    message_list,
    register_payload_type,
)
from tests.conftest import load_fixture


def page() -> list[BusinessMessage]:
    return structure(load_fixture("lex", "orders_get_page.json"), list[BusinessMessage])


def test_envelope_fields_and_utc_timestamps() -> None:
    first = page()[0]
    assert first.id == "8f1c2a4e-0001"
    assert first.type == MessageType.SHIPMENT_ORDER
    assert first.partner_id == "3PL-APAC"
    assert first.warehouse_id == "MY-SHA-01"
    # 14:00:00.125+08:00 is 06:00:00.125 UTC
    assert first.timestamp == datetime(2024, 9, 2, 6, 0, 0, 125000, tzinfo=timezone.utc)
    assert first.timestamp.tzinfo is timezone.utc


def test_shipment_order_is_typed_with_lines_addresses_and_dates() -> None:
    order = page()[0].payload
    assert isinstance(order, ShipmentOrder)
    assert order.order_number == "SO-4500123"
    assert order.customer_reference == "PO-77881"
    assert order.requested_ship_date == date(2024, 9, 3)
    assert order.requested_delivery_date == date(2024, 9, 5)
    assert order.ship_to == OrderAddress(
        name="Tayar Jaya Sdn Bhd",
        line1="88 Jalan Ipoh",
        line2="Block B",
        city="Kuala Lumpur",
        postal_code="51200",
        country="MY",
        contact_name="Ahmad Razak",
        phone="+60 3-4041 2200",
        email="orders@tayarjaya.example",
        extra={"dockDoor": "7"},
    )
    assert [(line.line_number, line.item, line.quantity, line.unit) for line in order.lines] == [
        ("0010", "MI-PS4-2055516", 8.0, "EA"),
        ("0020", "MI-PRI4-2256017", 4.0, "EA"),
    ]
    assert order.lines[0].batch == "DOT2324"


def test_receiving_item_master_and_status_payloads() -> None:
    messages = page()
    receiving, item, status = (m.payload for m in messages[1:4])
    assert isinstance(receiving, ReceivingOrder)
    assert receiving.container_number == "MSKU1234567"
    assert receiving.expected_arrival_date == date(2024, 9, 9)
    assert receiving.ship_from is not None
    assert receiving.ship_from.country == "TH"
    assert receiving.lines == (
        OrderLine(line_number="0010", item="MI-XMD-3158022", quantity=120, unit="EA"),
    )
    assert isinstance(item, ItemMaster)
    assert (item.item, item.gtin, item.gross_weight, item.units_per_pallet) == (
        "MI-AGI3-2157516",
        "3528701234585",
        14.2,
        32,
    )
    assert item.dangerous_goods is False
    assert isinstance(status, OrderStatus)
    assert (status.status, status.reason) == ("CANCELLED", "CUSTOMER_REQUEST")
    assert status.status_date == datetime(2024, 9, 2, 5, 59, tzinfo=timezone.utc)


def test_unknown_fields_are_kept_at_every_level() -> None:
    first = page()[0]
    assert first.extra == {"schemaVersion": "1.0"}
    assert isinstance(first.payload, ShipmentOrder)
    assert first.payload.extra == {"incoterm": "DAP"}
    assert first.payload.lines[0].extra == {"palletType": "EUR"}
    wire = first.to_wire()
    assert wire["schemaVersion"] == "1.0"
    assert wire["payload"]["incoterm"] == "DAP"
    assert wire["payload"]["shipTo"]["dockDoor"] == "7"
    assert wire["payload"]["lines"][0]["palletType"] == "EUR"


def test_unknown_type_arrives_as_a_generic_mapping() -> None:
    snapshot = page()[4]
    assert snapshot.type == "INVENTORY_SNAPSHOT"
    assert not snapshot.is_typed
    assert isinstance(snapshot.payload, Mapping)
    assert snapshot.payload == {
        "snapshotDate": "2024-09-02",
        "positions": [{"itemCode": "MI-PS4-2055516", "onHand": 1240}],
    }
    assert snapshot.to_wire()["payload"] == snapshot.payload


def test_type_spelling_is_matched_ignoring_case_and_punctuation() -> None:
    camel = page()[5]
    assert camel.type == "shipmentOrder"  # kept as sent
    assert isinstance(camel.payload, ShipmentOrder)
    assert camel.payload.order_number == "SO-4500124"


def test_unreadable_payload_is_kept_as_a_mapping_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="shiptrack_sdk"):
        messages = structure(load_fixture("lex", "orders_bad_payload.json"), list[BusinessMessage])
    assert [m.id for m in messages] == ["8f1c2a4e-0100", "8f1c2a4e-0101"]
    assert all(not m.is_typed for m in messages)
    assert messages[0].payload == {"orderNumber": "SO-4500200", "lines": "see attachment"}
    text = caplog.text
    assert "8f1c2a4e-0100" in text
    assert "ShipmentOrder" in text
    assert "8f1c2a4e-0101" in text
    assert "OrderStatus" in text


def test_wire_round_trip_is_exact() -> None:
    sample = load_fixture("lex", "orders_post_order_status.json")
    message = structure(sample, BusinessMessage)
    assert isinstance(message.payload, OrderStatus)
    assert message.to_wire() == sample
    assert structure(message.to_wire(), BusinessMessage) == message


def test_to_wire_leaves_out_none_and_writes_whole_numbers_as_integers() -> None:
    message = BusinessMessage.create(
        MessageType.ORDER_STATUS,
        OrderStatus(order_number="SO-1", status="PICKED", lines=(OrderLine(quantity=3.0),)),
        id="m-1",
        timestamp=datetime(2024, 9, 3, 1, 2, 3, tzinfo=timezone.utc),
    )
    assert message.to_wire() == {
        "messageId": "m-1",
        "messageType": "ORDER_STATUS",
        "timestamp": "2024-09-03T01:02:03.000Z",
        "payload": {"orderNumber": "SO-1", "statusCode": "PICKED", "lines": [{"quantity": 3}]},
    }
    assert isinstance(message.to_wire()["payload"]["lines"][0]["quantity"], int)


def test_create_fills_id_and_time_and_stores_the_type_as_a_plain_string() -> None:
    message = BusinessMessage.create(MessageType.ITEM_MASTER, ItemMaster(item="X"))
    assert message.type == "ITEM_MASTER"
    assert type(message.type) is str
    assert message.id
    assert len(message.id) == 36
    assert message.timestamp is not None
    assert message.timestamp.tzinfo is not None
    assert BusinessMessage.create("X", {}).id != BusinessMessage.create("X", {}).id


def test_models_are_frozen_and_raw_is_out_of_eq_and_repr() -> None:
    first = page()[0]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        first.id = "other"  # type: ignore[misc]
    assert first.raw["messageId"] == "8f1c2a4e-0001"
    assert "raw" not in repr(first)
    assert attrs.evolve(first, raw={}) == first


@pytest.mark.parametrize(
    ("document", "count"),
    [
        ([{"messageId": "a"}, {"messageId": "b"}], 2),
        ({"messages": [{"messageId": "a"}]}, 1),
        ({"businessMessages": [{"messageId": "a"}], "count": 1}, 1),
        ({"data": {"items": [{"messageId": "a"}, {"messageId": "b"}]}}, 2),
        ({"content": [], "last": True}, 0),
        ({}, 0),
        ({"messageId": "solo", "messageType": "ORDER_STATUS", "payload": {}}, 1),
    ],
)
def test_message_list_reads_the_accepted_shapes(document: Any, count: int) -> None:
    found = message_list(document)
    assert found is not None
    assert len(found) == count


@pytest.mark.parametrize("document", ["text", 42, None, {"unexpected": 1}, {"messages": "x"}])
def test_message_list_refuses_other_shapes(document: Any) -> None:
    assert message_list(document) is None


def test_message_key_is_the_id_or_a_content_digest() -> None:
    assert message_key(BusinessMessage(id="abc")) == "abc"
    a = structure({"messageType": "X", "payload": {"n": 1}}, BusinessMessage)
    b = structure({"payload": {"n": 1}, "messageType": "X"}, BusinessMessage)
    c = structure({"messageType": "X", "payload": {"n": 2}}, BusinessMessage)
    assert message_key(a).startswith("sha256:")
    assert message_key(a) == message_key(b) != message_key(c)


@attrs.frozen
class _Snapshot:
    snapshot_date: date | None = None
    positions: tuple[Any, ...] = ()
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


def test_register_payload_type_reads_an_agreed_type() -> None:
    register_wire_model(_Snapshot, camel_case=True)
    register_payload_type("INVENTORY_SNAPSHOT", _Snapshot)
    try:
        snapshot = page()[4]
        assert isinstance(snapshot.payload, _Snapshot)
        assert snapshot.payload.snapshot_date == date(2024, 9, 2)
    finally:
        from shiptrack_sdk.lex import order_models

        del PAYLOAD_TYPES["INVENTORY_SNAPSHOT"]
        del order_models._TYPE_KEYS["INVENTORYSNAPSHOT"]
    assert not page()[4].is_typed


def test_unstructure_of_a_generic_payload_is_the_mapping_itself() -> None:
    message = BusinessMessage(id="1", type="ANY", payload={"a": [1, 2]})
    assert converter.unstructure(message)["payload"] == {"a": [1, 2]}
