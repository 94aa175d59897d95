"""Shiplemon's wire models, built from the documented samples (``tests/fixtures/shiplemon``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

import attrs
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shiptrack_sdk import ShiplemonClient, Tracking, TrackingStatus
from shiptrack_sdk._core.convert import converter, parse_datetime
from shiptrack_sdk.errors import ResponseError
from shiptrack_sdk.shiplemon import STATUS_MAP, HistoryEntry, Shipment, ShipmentTracking
from shiptrack_sdk.shiplemon.models import Address
from tests.conftest import FIXTURES, load_fixture

UTC = timezone.utc
SAMPLES = {
    "get_tracking_200.json": ShipmentTracking,
    "put_tracking_200.json": Shipment,
    "put_tracking_example_response.json": Shipment,
}


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = load_fixture("shiplemon", name)["data"]
    return data


def structured(name: str) -> Any:
    return converter.structure(sample(name), SAMPLES[name])


def assert_reachable(model: Any, payload: Mapping[str, Any], where: str = "data") -> None:
    """Every key of ``payload`` is a typed field of ``model`` holding the same value."""
    assert attrs.has(type(model)), where
    assert model.raw == payload, f"{where}: raw is not the payload"
    for key, value in payload.items():
        name = "id" if key == "_id" else key
        here = f"{where}.{key}"
        assert hasattr(model, name), f"{here} is not a field of {type(model).__name__}"
        assert_same(getattr(model, name), value, here)


def assert_same(field: Any, value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        assert_reachable(field, value, where)
    elif isinstance(value, list):
        assert isinstance(field, tuple), where
        assert len(field) == len(value), where
        for i, (f, v) in enumerate(zip(field, value, strict=True)):
            assert_same(f, v, f"{where}[{i}]")
    elif isinstance(field, datetime):
        assert field.tzinfo is not None, where
        assert field == parse_datetime(value), where
    elif isinstance(field, date):
        assert field == date.fromisoformat(value), where
    else:
        assert field == value, where
        assert type(field) is type(value) or isinstance(value, (int, float)), where


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_fixtures_are_strict_json(name: str) -> None:
    # The documented samples had trailing commas and a repeated key; the fixtures are
    # repaired by hand, so a lenient parser never hides a problem.
    def no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"repeated key in {name}: {keys}"
        return dict(pairs)

    def no_constants(value: str) -> Any:
        raise AssertionError(f"{value} is not JSON")

    text = (FIXTURES / "shiplemon" / name).read_text(encoding="utf-8")
    payload = json.loads(text, object_pairs_hook=no_repeated_keys, parse_constant=no_constants)
    assert payload["status"] == "ok"
    assert isinstance(payload["data"], dict)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_structure_without_loss(name: str) -> None:
    assert_reachable(structured(name), sample(name))


def test_get_sample_fields_are_typed() -> None:
    st = structured("get_tracking_200.json")
    assert isinstance(st, ShipmentTracking)
    assert (st.partner_id, st.driver, st.tracking_status) == ("partner_id", "elta", "DELIVERED")
    assert st.carrier is not None
    assert st.carrier.name == "ELTA Courier"
    assert st.carrier.image == "https://static.shiplemon.com/providers/eltacourier.svg"
    assert st.service is not None
    assert st.service.estimated_delivery_in_days == 6
    assert st.service.code == "elta_courier_porta_porta"
    assert (st.country_from, st.country_to) == ("GR", "GR")
    first = st.tracking_history[0]
    assert isinstance(first, HistoryEntry)
    assert first.status_date == datetime(2024, 7, 15, 10, 2, tzinfo=UTC)
    assert first.status_exact is None
    assert st.tracking_history[1].status_exact == "WITH_COURIER"
    assert first.status_details == "ΠΑΡΑΛΑΒΗ ΑΠΟ ΣΤΑΘΜΟ ΜΕ ΔΗΛΩΣΗ ΠΑΡΑΛΗΠΤΗ"


def test_put_sample_fields_are_typed() -> None:
    shipment = structured("put_tracking_200.json")
    assert isinstance(shipment, Shipment)
    assert shipment.id == "60476d7500e47cb69693a202"
    assert shipment.pickup_ref == "CBJ180121002626"
    assert shipment.tracking_history_last_updated_at == datetime(
        2022, 8, 8, 9, 15, 0, 947000, tzinfo=UTC
    )
    assert shipment.pickup is not None
    assert shipment.pickup.date == date(2021, 3, 12)
    assert shipment.pickup.time == "09:00-18:00"
    assert shipment.items[0].weight == 2000
    assert shipment.items[0].currency == "EUR"
    assert shipment.child_vouchers[0].tracking_ref == "2338891501"
    assert shipment.rate is not None
    assert shipment.rate.total_amount == 26.34
    assert shipment.rate.printing_required is True
    assert shipment.rate.provider is not None
    assert shipment.rate.provider.name == "DHL Express"
    assert shipment.rate.metadata is not None
    assert shipment.rate.metadata.address_to is not None
    assert shipment.rate.metadata.address_to.zip == "14121"
    assert shipment.invoice_url is None


def test_example_response_fields_are_typed() -> None:
    shipment = structured("put_tracking_example_response.json")
    assert shipment.partner_credentials_used is True
    assert shipment.address_from.id == "61a15f9cfb38f514bd732222"  # wire name "_id"
    assert shipment.address_to.dial_code == "+30"
    assert shipment.items[0].invoice_lines == ()
    assert shipment.rate.has_cash_on_delivery is True
    assert shipment.rate.created_at == datetime(2022, 1, 3, 8, 30, 23, 65000, tzinfo=UTC)
    assert shipment.rate.metadata.address_from.id == "61a15f9cfb38f514bd732222"
    assert shipment.pickup is None
    assert shipment.pickup_at is None


def test_raw_is_outside_equality_and_repr() -> None:
    st = structured("get_tracking_200.json")
    assert st == attrs.evolve(st, raw={})
    assert "raw" not in repr(st)


def test_address_round_trips_with_its_wire_name() -> None:
    wire = {"_id": "61a1", "country": "GR", "zip": "11111"}
    address = converter.structure(wire, Address)
    assert address.id == "61a1"
    assert converter.unstructure(address)["_id"] == "61a1"


# -- to_tracking ------------------------------------------------------------------------------


def test_get_sample_to_tracking() -> None:
    tracking = attrs.evolve(structured("get_tracking_200.json"), shipment_id="S1").to_tracking()
    assert isinstance(tracking, Tracking)
    assert (tracking.provider, tracking.shipment_id) == ("shiplemon", "S1")
    assert tracking.status is TrackingStatus.DELIVERED
    assert tracking.provider_status == "DELIVERED"
    assert tracking.carrier == "ELTA Courier"
    assert (tracking.tracking_ref, tracking.tracking_url) == ("tracking_ref", "tracking_url")
    assert [(e.status, e.occurred_at) for e in tracking.events] == [
        (TrackingStatus.PRE_TRANSIT, datetime(2024, 7, 12, 14, 17, tzinfo=UTC)),
        (TrackingStatus.TRANSIT, datetime(2024, 7, 15, 9, 45, tzinfo=UTC)),
        (TrackingStatus.DELIVERED, datetime(2024, 7, 15, 10, 2, tzinfo=UTC)),
    ]
    transit = tracking.events[1]
    assert transit.description == "ΠΡΟΣ ΠΑΡΑΔΟΣΗ"
    assert (transit.provider_status, transit.provider_status_detail) == ("TRANSIT", "WITH_COURIER")
    assert tracking.raw == sample("get_tracking_200.json")


@pytest.mark.parametrize("name", ["put_tracking_200.json", "put_tracking_example_response.json"])
def test_unordered_put_history_comes_out_oldest_first(name: str) -> None:
    shipment = structured(name)
    # Shiplemon's order is neither oldest nor newest first.
    wire_order = [h.status for h in shipment.tracking_history]
    assert wire_order == ["DELIVERED", "EXCEPTION", "TRANSIT", "PRE_TRANSIT"]
    tracking = shipment.to_tracking()
    assert [e.provider_status for e in tracking.events] == [
        "DELIVERED",
        "PRE_TRANSIT",
        "TRANSIT",
        "EXCEPTION",
    ]
    times = [e.occurred_at for e in tracking.events]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("name", "carrier"),
    [
        ("put_tracking_200.json", "DHL Express"),
        ("put_tracking_example_response.json", "ELTA Courier"),
    ],
)
def test_status_is_tracking_status_not_guessed_from_events(name: str, carrier: str) -> None:
    tracking = structured(name).to_tracking()
    # The newest event is an EXCEPTION; Shiplemon says PRE_TRANSIT, and Shiplemon is right.
    assert tracking.last_event is not None
    assert tracking.last_event.status is TrackingStatus.EXCEPTION
    assert tracking.status is TrackingStatus.PRE_TRANSIT
    assert tracking.carrier == carrier
    assert tracking.shipment_id == structured(name).id


def test_fixtures_only_hold_mapped_statuses() -> None:
    for name in SAMPLES:
        model = structured(name)
        assert model.tracking_status in STATUS_MAP
        assert all(h.status in STATUS_MAP for h in model.tracking_history)


def test_unknown_status_becomes_unknown_with_the_raw_value_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = sample("get_tracking_200.json")
    data["tracking_status"] = "RETURNED_TO_SENDER"
    data["tracking_history"][0]["status"] = "delivered"  # case matters
    with caplog.at_level(logging.WARNING, logger="shiptrack_sdk"):
        tracking = converter.structure(data, ShipmentTracking).to_tracking()
    assert tracking.status is TrackingStatus.UNKNOWN
    assert tracking.provider_status == "RETURNED_TO_SENDER"
    newest = tracking.events[-1]
    assert newest.status is TrackingStatus.UNKNOWN
    assert newest.provider_status == "delivered"
    assert "RETURNED_TO_SENDER" in caplog.text


def test_missing_optional_fields_are_tolerated() -> None:
    st = converter.structure({}, ShipmentTracking)
    assert st.tracking_history == ()
    assert st.carrier is None
    assert st.tracking_status is None
    tracking = st.to_tracking()
    assert tracking.status is TrackingStatus.UNKNOWN
    assert tracking.events == ()
    minimal = converter.structure(
        {
            "tracking_status": "TRANSIT",
            "tracking_history": [{"status": "TRANSIT", "status_date": "2024-07-15T09:45:00.000Z"}],
            "carrier": {},
            "driver": "acs",
        },
        ShipmentTracking,
    )
    tracking = minimal.to_tracking()
    assert tracking.carrier == "acs"  # the driver when the carrier has no name
    assert tracking.events[0].description is None
    assert converter.structure({}, Shipment).to_tracking().events == ()


def test_unknown_fields_are_kept_in_raw() -> None:
    data = {**sample("get_tracking_200.json"), "eta": "2024-07-16", "signed_by": "M."}
    st = converter.structure(data, ShipmentTracking)
    assert st.raw["eta"] == "2024-07-16"
    assert st.to_tracking().raw["signed_by"] == "M."


# -- arbitrary answers: a model or ResponseError, nothing else --------------------------------

_json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
_dates = st.sampled_from(
    ["2024-07-15T10:02:00.000Z", "2024-07-15", "not a date", "9999-12-31T23:59:59-05:00"]
)
_entry = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["DELIVERED", "TRANSIT", "lost", ""]) | _json,
        "status_date": _dates | _json,
        "status_details": _json,
        "status_exact": _json,
    },
)
_tracking = st.fixed_dictionaries(
    {},
    optional={
        "partner_id": _json,
        "driver": _json,
        "carrier": st.fixed_dictionaries({}, optional={"name": _json, "code": _json}) | _json,
        "service": st.fixed_dictionaries({}, optional={"estimated_delivery_in_days": _json})
        | _json,
        "tracking_status": st.sampled_from(["DELIVERED", "EXCEPTION", "NEW"]) | _json,
        "tracking_history": st.lists(_entry, max_size=3) | _json,
        "tracking_ref": _json,
        "tracking_url": _json,
        "country_from": _json,
        "extra_key": _json,
    },
)


@given(_tracking | _json)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_answer_is_a_model_or_a_response_error(data: Any) -> None:
    client = ShiplemonClient(api_key="k", base_url="https://api.example.test")
    response = requests.Response()
    response.status_code = 200
    response.url = "https://api.example.test/public/v1/shipments/x/tracking"
    response._content = json.dumps(data).encode()
    outcome: ShipmentTracking | ResponseError
    try:
        outcome = client.tracking._structure(data, ShipmentTracking, response)
    except ResponseError as exc:
        outcome = exc
    if isinstance(outcome, ResponseError):
        assert "shiplemon" in str(outcome)
        assert "HTTP 200" in str(outcome)
        return
    model = outcome
    assert isinstance(model, ShipmentTracking)
    tracking = model.to_tracking()  # a structured model always normalizes
    assert isinstance(tracking.status, TrackingStatus)
