"""A shipment exporto answers as ``"status": "processed"`` without timestamps is processed:
``processedAt`` is public only as a search filter, so ``status`` is the fallback."""

from __future__ import annotations

from typing import Any

import pytest

from shiptrack_sdk import TrackingStatus
from shiptrack_sdk._core.convert import structure
from shiptrack_sdk.exporto import ExportoClient, Shipment
from shiptrack_sdk.exporto._sandbox import ExportoApp
from shiptrack_sdk.sandbox import Sandbox

#: A shipment as public client code shows exporto's answer: a status, no processing timestamps.
PROCESSED_NO_TIMESTAMPS: dict[str, Any] = {
    "status": "processed",
    "shipmentId": "S-PUBLIC-0001",
    "orderId": "ORD-PUBLIC-1",
    "type": "outbound",
    "foreignOutboundTrackingId": "CH9900000001",
    "foreignInboundTrackingId": None,
    "domesticInboundTrackingId": "00340434161999000001",
    "lineItems": [{"articleId": "ART-1"}],
}


def _app(sb: Sandbox) -> ExportoApp:
    app = sb.apps["exporto"]
    assert isinstance(app, ExportoApp)
    return app


@pytest.mark.parametrize("status", ["processed", "Processed", " PROCESSED "])
def test_status_processed_without_timestamps_is_processed(status: str) -> None:
    shipment = structure({**PROCESSED_NO_TIMESTAMPS, "status": status}, Shipment)
    assert shipment.processed_at is None
    assert shipment.is_processed
    assert shipment.normalized_status() is TrackingStatus.TRANSIT


@pytest.mark.parametrize("status", [None, "announced", ""])
def test_without_timestamps_or_status_processed_it_is_not(status: str | None) -> None:
    shipment = structure({**PROCESSED_NO_TIMESTAMPS, "status": status}, Shipment)
    assert not shipment.is_processed
    assert shipment.normalized_status() is TrackingStatus.PRE_TRANSIT


def test_a_carrier_state_still_wins_over_the_status() -> None:
    payload = {**PROCESSED_NO_TIMESTAMPS, "carrierState": "delivered"}
    assert structure(payload, Shipment).normalized_status() is TrackingStatus.DELIVERED


def test_over_http_a_processed_status_is_transit(sb: Sandbox, exporto: ExportoClient) -> None:
    _app(sb).shipments["S-PUBLIC-0001"] = dict(PROCESSED_NO_TIMESTAMPS)
    shipment = exporto.shipments.get("S-PUBLIC-0001")
    assert shipment.is_processed
    tracking = shipment.to_tracking()
    assert tracking.status is TrackingStatus.TRANSIT
    assert tracking.provider_status == "processed"
    assert tracking.events == ()
    assert tracking.tracking_ref == "CH9900000001"


def test_over_http_a_tour_of_such_shipments_is_transit(sb: Sandbox, exporto: ExportoClient) -> None:
    app = _app(sb)
    app.shipments["S-PUBLIC-0001"] = dict(PROCESSED_NO_TIMESTAMPS)
    app.tours["T-PUBLIC"] = {
        "tourId": "T-PUBLIC",
        "closingDate": "2024-09-09",
        "shipmentIds": ["S-PUBLIC-0001"],
    }
    (result,) = list(exporto.tours.track(["T-PUBLIC"]))
    assert result.tracking is not None
    assert result.tracking.status is TrackingStatus.TRANSIT
