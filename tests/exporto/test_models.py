"""exporto wire models: every field read, unknown fields kept, normalization to Tracking."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

import pytest

from shiptrack_sdk import Tracking, TrackingStatus
from shiptrack_sdk._core.convert import structure, unstructure
from shiptrack_sdk.exporto import LineItem, Shipment, Tour, TourDetail


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)  # type: ignore[misc]


def test_every_documented_field_is_read(load: Callable[[str], Any]) -> None:
    s = structure(load("shipment_delivered.json"), Shipment)
    assert s.shipment_id == "S-240902-0001"
    assert s.order_id == "ORD-100231"
    assert s.type == "outbound"
    assert s.status == "processed"
    assert s.foreign_outbound_tracking_id == "CH0012345678"
    assert s.foreign_inbound_tracking_id is None
    assert s.domestic_inbound_tracking_id == "00340434161000100231"
    assert s.processed_at == _utc(2024, 9, 2, 9, 14)
    assert s.declared_at == _utc(2024, 9, 2, 11, 2)
    assert s.carrier_state == "delivered"
    assert s.carrier_received_at == _utc(2024, 9, 3, 7, 40)
    assert s.carrier_delivered_at == _utc(2024, 9, 5, 13, 22)
    assert s.is_processed
    assert s.line_items[0] == LineItem(
        article_id="ART-4711",
        sku="SKU-4711",
        description="Running shoes, black, EU 42",
        quantity=1,
        value=89.9,
        currency="EUR",
        hs_code="640411",
        country_of_origin="DE",
    )
    assert len(s.line_items) == 2
    assert s.extra == {}


def test_unknown_fields_are_kept_and_survive_a_round_trip(load: Callable[[str], Any]) -> None:
    payload = load("shipment_in_transit_offsets.json")
    s = structure(payload, Shipment)
    assert s.extra == {"labelUrl": "https://example.invalid/label.pdf"}
    assert s.line_items[0].extra == {"customsNote": "gift"}
    assert s.raw == payload
    again = unstructure(s)
    assert again["labelUrl"] == payload["labelUrl"]
    assert again["lineItems"][0]["customsNote"] == "gift"
    assert structure(again, Shipment) == s


def test_datetimes_are_aware_utc_and_numeric_ids_strings(load: Callable[[str], Any]) -> None:
    s = structure(load("shipment_in_transit_offsets.json"), Shipment)
    assert s.shipment_id == "4711"
    assert s.processed_at == _utc(2024, 9, 2, 9, 20)
    assert s.processed_at is not None
    assert s.processed_at.tzinfo is timezone.utc


def test_delivered_shipment_becomes_the_whole_chain(load: Callable[[str], Any]) -> None:
    t = structure(load("shipment_delivered.json"), Shipment).to_tracking()
    assert isinstance(t, Tracking)
    assert (t.provider, t.shipment_id, t.status) == ("exporto", "S-240902-0001", "DELIVERED")
    assert t.provider_status == "delivered"
    assert t.tracking_ref == "CH0012345678"
    assert [(e.provider_status, e.status.value, e.occurred_at) for e in t.events] == [
        ("processedAt", "TRANSIT", _utc(2024, 9, 2, 9, 14)),
        ("declaredAt", "TRANSIT", _utc(2024, 9, 2, 11, 2)),
        ("carrierReceivedAt", "TRANSIT", _utc(2024, 9, 3, 7, 40)),
        ("carrierDeliveredAt", "DELIVERED", _utc(2024, 9, 5, 13, 22)),
    ]
    assert [e.description for e in t.events] == [
        "Processed by exporto",
        "Declared and cleared through customs",
        "Handed over to the last-mile carrier",
        "Delivered by the last-mile carrier",
    ]
    assert t.is_delivered
    assert t.raw["orderId"] == "ORD-100231"


def test_not_yet_processed_is_pre_transit_without_events(load: Callable[[str], Any]) -> None:
    s = structure(load("shipment_not_processed.json"), Shipment)
    t = s.to_tracking()
    assert not s.is_processed
    assert t.status is TrackingStatus.PRE_TRANSIT
    assert t.events == ()
    assert t.provider_status == "announced"
    assert t.tracking_ref is None


def test_carrier_state_decides_case_insensitively(load: Callable[[str], Any]) -> None:
    t = structure(load("shipment_in_transit_offsets.json"), Shipment).to_tracking()
    assert t.status is TrackingStatus.TRANSIT
    assert t.provider_status == "IN_TRANSIT"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, TrackingStatus.PRE_TRANSIT),
        ({"processedAt": "2024-09-02T09:00:00Z"}, TrackingStatus.TRANSIT),
        ({"declaredAt": "2024-09-02T09:00:00Z"}, TrackingStatus.TRANSIT),
        ({"carrierReceivedAt": "2024-09-03T09:00:00Z"}, TrackingStatus.TRANSIT),
        ({"carrierDeliveredAt": "2024-09-05T09:00:00Z"}, TrackingStatus.DELIVERED),
        (
            {"carrierDeliveredAt": "2024-09-05T09:00:00Z", "carrierState": "returned"},
            TrackingStatus.EXCEPTION,
        ),
        ({"processedAt": "2024-09-02T09:00:00Z", "carrierState": ""}, TrackingStatus.TRANSIT),
    ],
)
def test_status_without_or_with_a_carrier_state(
    fields: dict[str, Any], expected: TrackingStatus
) -> None:
    s = structure({"shipmentId": "S-1", **fields}, Shipment)
    assert s.to_tracking().status is expected


def test_unknown_carrier_state_is_unknown_kept_and_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="shiptrack_sdk")
    payload = {
        "shipmentId": "S-1",
        "processedAt": "2024-09-02T09:00:00Z",
        "carrierState": "parcel_in_customs_test_only",
    }
    first = structure(payload, Shipment).to_tracking()
    second = structure(payload, Shipment).to_tracking()
    assert first.status is second.status is TrackingStatus.UNKNOWN
    assert first.provider_status == "parcel_in_customs_test_only"
    assert [e.provider_status for e in first.events] == ["processedAt"]
    warnings = [r for r in caplog.records if "parcel_in_customs_test_only" in r.getMessage()]
    assert len(warnings) == 1


def test_return_is_tracked_by_its_foreign_inbound_number(load: Callable[[str], Any]) -> None:
    t = structure(load("shipment_return.json"), Shipment).to_tracking()
    assert t.tracking_ref == "99.00.123456.78901234"
    # Events come out oldest first even though the chain's order differs for a return.
    assert [e.provider_status for e in t.events] == [
        "carrierReceivedAt",
        "carrierDeliveredAt",
        "processedAt",
    ]
    assert t.status is TrackingStatus.DELIVERED


def test_outbound_without_outbound_number_has_no_tracking_ref() -> None:
    s = structure({"type": "outbound", "foreignInboundTrackingId": "X"}, Shipment)
    assert s.tracking_ref is None


def test_shape_errors_are_refused_by_the_converter() -> None:
    with pytest.raises(Exception, match="JSON object"):
        structure(["not", "an", "object"], Shipment)


def test_tour_models(load: Callable[[str], Any]) -> None:
    tours = structure(load("tour_list.json"), list[Tour])
    assert tours[0] == Tour(id="T-20240903", closing_date=date(2024, 9, 3), shipment_count=37)
    detail = structure(load("tour_detail.json"), TourDetail)
    assert detail.tour_id == "T-20240902"
    assert detail.closing_date == date(2024, 9, 2)
    assert detail.shipment_ids == ("S-240902-0001", "S-240902-0002", "S-240902-0003")
    # A closing date sent as a date-time is read as its day.
    tour = structure({"tourId": "T", "closingDate": "2024-09-02T18:00:00Z", "x": 1}, Tour)
    assert tour.closing_date == date(2024, 9, 2)
    assert tour.extra == {"x": 1}
