"""The sandbox for users' own tests: a fault pattern is checked against the routes, a fault can
target a route by name, and each provider's app seeds a shipment with a chosen id and history.

Over real HTTP: plain ``requests`` for the faults, the SDK's clients for the seeded data (what a
user's test would read)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from shiptrack_sdk import NotFoundError, TrackingStatus, ValidationError
from shiptrack_sdk.sandbox import Sandbox

SID = "6650a1f2c3d4e5f601234567"
GET_PATH = f"/shiplemon/public/v1/shipments/{SID}/tracking"
PUT_PATH = f"/shiplemon/v1/shipments/{SID}/tracking"
KEY = {"x-api-key": "sandbox-shiplemon-key"}
HISTORY = {
    "tracking_history": [
        {"status": "DELIVERED", "status_date": "2024-09-04T10:00:00.000Z", "status_details": "x"}
    ]
}


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def get(http: requests.Session, sb: Sandbox, path: str = GET_PATH) -> requests.Response:
    return http.get(f"{sb.url}{path}", headers=KEY, timeout=5)


# -- a pattern that matches no route ------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "/shiplemn/*",  # a typo in the prefix
        "/shiplemon/public/v1/shipment/*/tracking",  # "shipment", not "shipments"
        "shiplemon/*",  # no leading slash: never equal to a request path
        "/shiplemon/public/v1/shipments/a/b/tracking",  # an id is one path segment
        "/exporto/v1/shipments/*",
        "/_sandbox/*",  # the admin endpoint is not a route a fault can reach
    ],
)
def test_a_fault_whose_pattern_matches_no_route_is_refused_at_once(
    sb: Sandbox, pattern: str
) -> None:
    with pytest.raises(ValidationError) as info:
        sb.fault(pattern, status=503)
    assert info.value.argument == "path"
    message = str(info.value)
    assert repr(pattern) in message
    assert "matches no route" in message
    assert any(f"{name} (" in message for name in sb.route_names)  # the nearest routes
    assert sb._server.faults == []


def test_the_refusal_lists_the_nearest_routes(sb: Sandbox) -> None:
    with pytest.raises(ValidationError) as info:
        sb.fault("/exporto/v1/shipments/*")
    message = str(info.value)
    assert "exporto.shipment.get (GET /exporto/v1/shipment/{shipmentId})" in message
    assert message.count("(GET ") + message.count("(POST ") + message.count("(PUT ") <= 5


@pytest.mark.parametrize(
    "pattern",
    [
        "/shiplemon/*",
        "/*",
        GET_PATH,
        "/shiplemon/public/v1/shipments/*/tracking",
        "/shiplemon/public/v1/shipments/????????????????????????/tracking",
        "/shiplemon/public/v1/shipments/[0-9]*/tracking",
        "/shiplemon/*/tracking",
        "/exporto/v1/shipment/S-240902-0003",
        "/lex/lex-orderexecution-v1/*",
        "/oauth/token",
    ],
)
def test_a_pattern_that_can_match_a_route_is_accepted(sb: Sandbox, pattern: str) -> None:
    fault = sb.fault(pattern, status=503)
    assert fault in sb._server.faults


def test_a_method_no_matching_route_takes_is_refused(sb: Sandbox) -> None:
    with pytest.raises(ValidationError) as info:
        sb.fault(GET_PATH, method="POST", status=503)
    assert info.value.argument == "method"
    assert "GET" in str(info.value)
    sb.fault("/shiplemon/*", method="PUT", status=503)  # the update route takes PUT


def test_unrouted_lets_a_fault_answer_a_path_no_route_serves(
    sb: Sandbox, http: requests.Session
) -> None:
    sb.fault("/shiplemon/moved", status=302, headers={"Location": GET_PATH}, unrouted=True)
    answer = http.get(f"{sb.url}/shiplemon/moved", headers=KEY, timeout=5)
    assert answer.status_code == 200
    assert [c.status for c in sb.calls()] == [302, 200]


# -- faults by route name -----------------------------------------------------------------------


def test_a_fault_can_target_a_route_by_name(sb: Sandbox, http: requests.Session) -> None:
    fault = sb.fault(route="shiplemon.tracking.get", status=503, times=2)
    assert fault.route == "shiplemon.tracking.get"
    put = http.put(f"{sb.url}{PUT_PATH}", headers=KEY, json=HISTORY, timeout=5)
    assert put.status_code == 200  # another route of the same prefix is not touched
    assert [get(http, sb).status_code for _ in range(3)] == [503, 503, 200]
    other = get(
        http, sb, "/shiplemon/public/v1/shipments/be96511d-ba23-4268-bd8b-48c9cf930222/tracking"
    )
    assert other.status_code == 200
    assert [c.route for c in sb.calls()][:3] == [
        "shiplemon.tracking.update",
        *["shiplemon.tracking.get"] * 2,
    ]


def test_a_route_fault_after_the_route_ran(sb: Sandbox, http: requests.Session) -> None:
    sb.fault(route="shiplemon.tracking.update", after=True, status=504)
    assert http.put(f"{sb.url}{PUT_PATH}", headers=KEY, json=HISTORY, timeout=5).status_code == 504
    assert get(http, sb).json()["data"]["tracking_status"] == "DELIVERED"  # it was applied


def test_an_unknown_route_name_is_refused_naming_the_routes(sb: Sandbox) -> None:
    with pytest.raises(ValidationError) as info:
        sb.fault(route="shiplemon.tracking.gett", status=503)
    assert info.value.argument == "route"
    assert "shiplemon.tracking.get" in str(info.value)
    assert sb._server.faults == []


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({}, "path"),
        ({"path": GET_PATH, "route": "shiplemon.tracking.get"}, "route"),
        ({"route": 5}, "route"),
        ({"route": ""}, "route"),
        ({"route": "shiplemon.tracking.get", "method": "PUT"}, "method"),
    ],
)
def test_path_or_route_exactly(sb: Sandbox, options: dict[str, Any], argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        sb.fault(**options)
    assert info.value.argument == argument


# -- seeding ------------------------------------------------------------------------------------


def test_shiplemon_seeds_a_tracking_with_its_history(sb: Sandbox) -> None:
    found = sb.seed(
        "shiplemon",
        "my-order-1",
        history=[
            {"status": "PRE_TRANSIT", "at": "2024-10-01T08:00:00Z", "details": "Voucher created"},
            {
                "status": "TRANSIT",
                "at": datetime(2024, 10, 1, 15, 30, tzinfo=timezone.utc),
                "details": "With courier",
                "exact": "WITH_COURIER",
            },
        ],
        carrier="elta",
        tracking_ref="ZU1234567GR",
    )
    assert found == "my-order-1"
    tracking = sb.shiplemon_client().tracking.get("my-order-1")
    assert tracking.tracking_ref == "ZU1234567GR"
    normalized = tracking.to_tracking()
    assert normalized.status is TrackingStatus.TRANSIT
    assert [e.description for e in normalized.events] == ["Voucher created", "With courier"]
    assert normalized.events[0].occurred_at == datetime(2024, 10, 1, 8, tzinfo=timezone.utc)
    sb.reset()
    assert sb.calls() == []
    with pytest.raises(NotFoundError):  # the seeded data is gone
        sb.shiplemon_client(max_retries=0).tracking.get("my-order-1")


def test_the_app_itself_seeds(sb: Sandbox) -> None:
    app: Any = sb.apps["shiplemon"]
    app.seed("direct", history=[{"status": "DELIVERED", "at": "2024-10-02T10:00:00+02:00"}])
    status = sb.shiplemon_client().tracking.get("direct").to_tracking().status
    assert status is TrackingStatus.DELIVERED


def test_exporto_seeds_a_shipment_with_its_timestamps_and_carrier_state(sb: Sandbox) -> None:
    sb.seed(
        "exporto",
        "S-MINE-0001",
        processed_at="2024-10-01T09:00:00Z",
        declared_at="2024-10-01T11:00:00Z",
        carrier_received_at="2024-10-02T07:00:00Z",
        carrier_state="in_transit",
        foreign_outbound_tracking_id="CH9999999999",
    )
    shipment = sb.exporto_client().shipments.get("S-MINE-0001")
    assert shipment.shipment_id == "S-MINE-0001"
    assert shipment.is_processed
    assert shipment.to_tracking().status is TrackingStatus.TRANSIT
    found = sb.exporto_client().shipments.search(foreign_outbound_tracking_id="CH9999999999")
    assert [s.shipment_id for s in found] == ["S-MINE-0001"]


def test_exporto_seeds_a_status_without_timestamps(sb: Sandbox) -> None:
    sb.seed("exporto", "S-MINE-0002", status="processed")
    raw = requests.get(
        f"{sb.url}/exporto/v1/shipment/S-MINE-0002",
        headers={"Authorization": f"Bearer {sb.exporto_client().auth.access_token()}"},
        timeout=5,
    ).json()
    assert raw["status"] == "processed"
    assert raw["processedAt"] is None


def test_lex_seeds_a_shipment_order_with_its_status_history(sb: Sandbox) -> None:
    sb.seed(
        "lex",
        "SO-MINE-1",
        history=[
            {"status": "RECEIVED", "at": "2030-01-02T08:00:00Z"},
            {
                "status": "SHIPPED",
                "at": "2030-01-03T09:00:00Z",
                "carrier": "DHL",
                "tracking_number": "JD0001",
            },
        ],
    )
    client = sb.lex_client()
    page = client.orders.fetch(min_timestamp=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert [m.type for m in page] == ["SHIPMENT_ORDER", "ORDER_STATUS", "ORDER_STATUS"]
    assert {m.payload.order_number for m in page} == {"SO-MINE-1"}  # type: ignore[union-attr]
    assert [m.payload.status for m in page[1:]] == ["RECEIVED", "SHIPPED"]  # type: ignore[union-attr]
    assert page[2].payload.tracking_number == "JD0001"  # type: ignore[union-attr]
    assert page[2].timestamp == datetime(2030, 1, 3, 9, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("provider", "shipment_id", "fields", "argument"),
    [
        ("nowhere", "x", {}, "provider"),
        ("oauth", "x", {}, "provider"),
        ("shiplemon", "", {}, "shipment_id"),
        ("shiplemon", 5, {}, "shipment_id"),
        ("shiplemon", "a/b", {}, "shipment_id"),
        ("shiplemon", "x", {"history": "DELIVERED"}, "history"),
        (
            "shiplemon",
            "x",
            {"history": [{"status": "ARRIVED", "at": "2024-10-01T08:00:00Z"}]},
            "history[0].status",
        ),
        (
            "shiplemon",
            "x",
            {"history": [{"status": "TRANSIT", "at": "yesterday"}]},
            "history[0].at",
        ),
        (
            "shiplemon",
            "x",
            {"history": [{"status": "TRANSIT", "at": "2024-10-01T08:00:00"}]},
            "history[0].at",
        ),
        ("shiplemon", "x", {"history": [{"status": "TRANSIT"}]}, "history[0].at"),
        (
            "shiplemon",
            "x",
            {"history": [{"status": "TRANSIT", "at": "2024-10-01T08:00:00Z", "colour": "red"}]},
            "history[0]",
        ),
        ("shiplemon", "x", {"carrier": "pigeon"}, "carrier"),
        ("shiplemon", "x", {"colour": "red"}, "colour"),
        ("exporto", "x", {"processed_at": "soon"}, "processed_at"),
        ("exporto", "x", {"type": "sideways"}, "type"),
        ("exporto", "x", {"status": 5}, "status"),
        ("lex", "x", {"history": [{"status": "RECEIVED"}]}, "history[0].at"),
        (
            "lex",
            "x",
            {"history": [{"status": "", "at": "2030-01-01T00:00:00Z"}]},
            "history[0].status",
        ),
    ],
)
def test_seeding_arguments_are_checked(
    sb: Sandbox, provider: str, shipment_id: Any, fields: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ValidationError) as info:
        sb.seed(provider, shipment_id, **fields)
    assert info.value.argument == argument
