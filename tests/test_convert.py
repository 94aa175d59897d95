"""The one converter: datetimes, wire names, raw payloads, unknown fields."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiptrack_sdk._core.convert import (
    _reference_hooks,
    _reference_unstructure_hooks,
    converter,
    format_datetime,
    parse_datetime,
    register_wire_model,
    structure,
    unstructure,
)
from tests.reliability.test_fuzz_parsers import TRACKING_MESSAGES, shaped

UTC = timezone.utc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-07-15T10:02:00.000Z", datetime(2024, 7, 15, 10, 2, tzinfo=UTC)),
        ("2024-07-15T10:02:00Z", datetime(2024, 7, 15, 10, 2, tzinfo=UTC)),
        ("2024-07-15T13:02:00+03:00", datetime(2024, 7, 15, 10, 2, tzinfo=UTC)),
        ("2024-07-15T05:02:00-0500", datetime(2024, 7, 15, 10, 2, tzinfo=UTC)),
        ("2023-11-20T00:00:01.992Z", datetime(2023, 11, 20, 0, 0, 1, 992000, tzinfo=UTC)),
        # No offset: every provider here documents UTC.
        ("2024-07-15T10:02:00", datetime(2024, 7, 15, 10, 2, tzinfo=UTC)),
        ("2024-07-15 10:02:00", datetime(2024, 7, 15, 10, 2, tzinfo=UTC)),
        ("2024-07-15", datetime(2024, 7, 15, tzinfo=UTC)),
        # Epoch seconds and epoch milliseconds.
        (1721037720, datetime(2024, 7, 15, 10, 2, tzinfo=UTC)),
        (1721037720.5, datetime(2024, 7, 15, 10, 2, 0, 500000, tzinfo=UTC)),
        (1721037720000, datetime(2024, 7, 15, 10, 2, tzinfo=UTC)),
        (datetime(2024, 7, 15, 10, 2), datetime(2024, 7, 15, 10, 2, tzinfo=UTC)),
    ],
)
def test_parse_datetime_gives_aware_utc(value: Any, expected: datetime) -> None:
    parsed = parse_datetime(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-07-15T25:00:00Z",
        True,
        None,
        [],
        {},
        float("nan"),
        float("inf"),
        10**30,
        1e20,
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+05:00",
    ],
)
def test_parse_datetime_refuses_what_is_not_a_datetime_with_value_error(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_datetime(value)


@given(st.datetimes(timezones=st.timezones()))
@settings(max_examples=200, deadline=None)
def test_parse_datetime_reads_any_iso_string_in_any_time_zone(value: datetime) -> None:
    try:
        expected = value.astimezone(UTC)
    except OverflowError:
        # The instant is outside datetime's range once in UTC: refused, not crashed on.
        with pytest.raises(ValueError):
            parse_datetime(value.isoformat())
        return
    parsed = parse_datetime(value.isoformat())
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@given(st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_parse_datetime_on_arbitrary_text_returns_or_raises_value_error(text: str) -> None:
    try:
        parsed = parse_datetime(text)
    except ValueError:
        return
    assert parsed.utcoffset() == timedelta(0)


def test_format_datetime_is_utc_with_milliseconds() -> None:
    athens = timezone(timedelta(hours=3))
    assert format_datetime(datetime(2024, 7, 15, 13, 2, 5, 123456, tzinfo=athens)) == (
        "2024-07-15T10:02:05.123Z"
    )
    assert format_datetime(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00.000Z"


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)))
@settings(max_examples=100, deadline=None)
def test_format_then_parse_round_trips_to_the_millisecond(value: datetime) -> None:
    aware = value.replace(tzinfo=UTC)
    text = format_datetime(aware)
    assert len(text) == len("YYYY-MM-DDTHH:MM:SS.sssZ")
    assert parse_datetime(text) == aware.replace(microsecond=aware.microsecond // 1000 * 1000)


def test_dates_structure_and_unstructure() -> None:
    assert converter.structure("2021-03-12", date) == date(2021, 3, 12)
    assert converter.structure("2021-03-12T09:00:00Z", date) == date(2021, 3, 12)
    assert converter.unstructure(date(2021, 3, 12)) == "2021-03-12"
    with pytest.raises(ValueError):
        converter.structure(20210312, date)


# -- register_wire_model ----------------------------------------------------------------------


@attrs.frozen
class _Leg:
    leg_id: str
    departed_at: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen
class _Parcel:
    parcel_id: str
    tracking_number: str | None = None
    legs: tuple[_Leg, ...] = ()
    weight_grams: int | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


register_wire_model(_Leg, camel_case=True)
register_wire_model(_Parcel, camel_case=True, rename={"parcel_id": "ID", "weight_grams": "w"})

WIRE = {
    "ID": "P-1",
    "trackingNumber": "1Z999",
    "legs": [{"legId": "L1", "departedAt": "2024-07-15T13:02:00+03:00", "vehicle": "van"}],
    "w": 1200,
    "newField": {"added": "later"},
}


def test_wire_names_are_renamed_and_camel_cased() -> None:
    parcel = structure(WIRE, _Parcel)
    assert parcel.parcel_id == "P-1"
    assert parcel.tracking_number == "1Z999"
    assert parcel.weight_grams == 1200
    assert parcel.legs[0].leg_id == "L1"
    assert parcel.legs[0].departed_at == datetime(2024, 7, 15, 10, 2, tzinfo=UTC)


def test_raw_keeps_the_payload_and_extra_the_unknown_keys() -> None:
    parcel = structure(WIRE, _Parcel)
    assert parcel.raw == WIRE
    assert parcel.extra == {"newField": {"added": "later"}}
    # A model without "extra" keeps unknown keys in raw.
    assert parcel.legs[0].raw["vehicle"] == "van"
    # raw is not part of equality.
    assert parcel == attrs.evolve(parcel, raw={})


def test_a_payload_survives_a_round_trip() -> None:
    parcel = structure(WIRE, _Parcel)
    back = unstructure(parcel)
    assert back["ID"] == "P-1"
    assert back["w"] == 1200
    assert back["newField"] == {"added": "later"}
    assert back["legs"][0] == {"legId": "L1", "departedAt": "2024-07-15T10:02:00.000Z"}
    assert "raw" not in back
    assert "extra" not in back
    assert structure(back, _Parcel) == parcel


def test_missing_required_field_and_wrong_types_raise_validation_errors() -> None:
    with pytest.raises(cattrs.BaseValidationError):
        structure({"trackingNumber": "x"}, _Parcel)
    with pytest.raises(cattrs.BaseValidationError):
        structure({"ID": "x", "legs": [{"legId": "L", "departedAt": "not a date"}]}, _Parcel)
    with pytest.raises(TypeError):
        structure(["not", "an", "object"], _Parcel)


# -- the generated fast path agrees with cattrs' generated code ----------------------------
#
# Wire models are structured by code generated for them (one read per key, one step to build
# the instance), falling back to cattrs' generated code, which explains what is wrong, when
# that code cannot take a payload. Whatever the payload, the two must give the same model.


def _same(fast: Any, reference: Any) -> None:
    assert type(fast) is type(reference)
    if attrs.has(type(fast)):
        for a in attrs.fields(type(fast)):
            _same(getattr(fast, a.name), getattr(reference, a.name))
    elif isinstance(fast, tuple):
        assert len(fast) == len(reference)
        for one, other in zip(fast, reference, strict=True):
            _same(one, other)
    else:
        assert fast == reference or (fast != fast and reference != reference)  # NaN


def _agreement_cases() -> dict[str, tuple[type[Any], Any]]:
    from shiptrack_sdk.exporto import models as exporto
    from shiptrack_sdk.lex import order_models as orders
    from shiptrack_sdk.shiplemon import models as shiplemon
    from tests.conftest import load_fixture

    put = load_fixture("shiplemon", "put_tracking_example_response.json")["data"]
    get = load_fixture("shiplemon", "get_tracking_200.json")["data"]
    page = load_fixture("lex", "orders_get_page.json")
    shipment = load_fixture("exporto", "shipment_delivered.json")
    payloads = {message["messageType"]: message["payload"] for message in page}
    return {
        "shiplemon.Shipment": (shiplemon.Shipment, put),
        "shiplemon.Rate": (shiplemon.Rate, put["rate"]),
        "shiplemon.Address": (shiplemon.Address, put["address_from"]),
        "shiplemon.HistoryEntry": (shiplemon.HistoryEntry, put["tracking_history"][0]),
        "shiplemon.ShipmentTracking": (shiplemon.ShipmentTracking, get),
        "exporto.Shipment": (exporto.Shipment, shipment),
        "exporto.LineItem": (exporto.LineItem, shipment["lineItems"][0]),
        "lex.ShipmentOrder": (orders.ShipmentOrder, payloads["SHIPMENT_ORDER"]),
        "lex.OrderLine": (orders.OrderLine, payloads["SHIPMENT_ORDER"]["lines"][0]),
        "lex.OrderAddress": (orders.OrderAddress, payloads["SHIPMENT_ORDER"]["shipTo"]),
        "lex.SendResult": (orders.SendResult, {"messageId": "m-1", "status": "ACCEPTED"}),
    }


AGREEMENT = _agreement_cases()
for _model, _sample in AGREEMENT.values():
    structure(_sample, _model)  # hooks are generated on first use, the reference with them
#: Payloads in the shape of each sample: kept, dropped, nulled or wrongly typed fields.
PAYLOADS = {name: shaped(template) for name, (_, template) in AGREEMENT.items()}


@pytest.mark.parametrize("name", sorted(AGREEMENT))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_fast_path_and_cattrs_agree_on_every_payload(name: str, data: st.DataObject) -> None:
    model, _ = AGREEMENT[name]
    payload = data.draw(PAYLOADS[name])
    try:
        reference = _reference_hooks[model](payload, model)
    except Exception:
        with pytest.raises(Exception):
            structure(payload, model)
        return
    _same(structure(payload, model), reference)


def test_the_fast_path_builds_what_the_sample_says() -> None:
    for model, template in AGREEMENT.values():
        fast = structure(template, model)
        _same(fast, _reference_hooks[model](template, model))
        assert fast.raw is template


def _same_wire(obj: Any) -> None:
    """``obj`` and every model in it unstructure alike both ways."""
    if isinstance(obj, tuple):
        for item in obj:
            _same_wire(item)
        return
    if not attrs.has(type(obj)) or type(obj) not in _reference_unstructure_hooks:
        return
    assert unstructure(obj) == _reference_unstructure_hooks[type(obj)](obj)
    for a in attrs.fields(type(obj)):
        _same_wire(getattr(obj, a.name))


@pytest.mark.parametrize("name", sorted(AGREEMENT))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_read_models_unstructure_as_cattrs_does(name: str, data: st.DataObject) -> None:
    model, _ = AGREEMENT[name]
    try:
        instance = structure(data.draw(PAYLOADS[name]), model)
    except Exception:
        return  # refused payloads are the test above's business
    _same_wire(instance)


@settings(max_examples=300, deadline=None)
@given(TRACKING_MESSAGES)
def test_lex_tracking_messages_unstructure_as_cattrs_does(message: Any) -> None:
    # Empty fields left out, extra keys kept (None included) and never displacing a field.
    _same_wire(message)


def test_extra_fills_an_omitted_field_but_never_displaces_a_set_one() -> None:
    from shiptrack_sdk.lex.tracking_models import Carrier

    carrier = Carrier(
        id=None,
        name="Transpes",
        extra={"id": "from-extra", "name": "ignored", "trackingUrl": None, "xNew": None},
    )
    wire = unstructure(carrier)
    assert wire == _reference_unstructure_hooks[Carrier](carrier)
    assert list(wire.items()) == [
        ("id", "from-extra"),
        ("name", "Transpes"),
        ("trackingUrl", None),
        ("xNew", None),
    ]


def test_a_null_list_reads_as_empty() -> None:
    from shiptrack_sdk.shiplemon.models import ShipmentTracking

    tracking = structure({"tracking_status": "TRANSIT", "tracking_history": None}, ShipmentTracking)
    assert tracking.tracking_history == ()
    assert tracking.to_tracking().events == ()
