"""The one converter: datetimes, wire names, raw payloads, unknown fields."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiptrack_sdk._core.convert import (
    _camel,
    _new_converter,
    converter,
    describe_structure_error,
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


@given(st.datetimes())  # years 1 to 9999: before 1000 too, four digits each
@settings(max_examples=200, deadline=None)
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


def test_a_refused_payload_is_described_by_the_detailed_pass() -> None:
    # The fast pass only knows that the payload is wrong (a KeyError); the detailed one says
    # which field, at which index.
    with pytest.raises(cattrs.BaseValidationError) as info:
        structure({"ID": "x", "legs": [{"legId": "L"}, {"departedAt": "2024-07-15"}]}, _Parcel)
    assert describe_structure_error(info.value) == "required field missing @ $.legs[1].leg_id"
    assert info.value.__context__ is None  # not chained to the fast pass's error


@attrs.frozen
class _Stop:
    name: str
    leg: _Leg | None = None


register_wire_model(_Stop)


def test_an_optional_nested_model_unstructures_through_its_own_hook() -> None:
    assert unstructure(_Stop("Lyon")) == {"name": "Lyon", "leg": None}
    assert unstructure(_Stop("Lyon", _Leg("L1"))) == {
        "name": "Lyon",
        "leg": {"legId": "L1", "departedAt": None},
    }
    # Once the hooks are made, that of ``_Leg | None`` is _Leg's own, taking None too.
    hook = converter.get_unstructure_hook(_Leg | None)
    assert hook is getattr(converter.get_unstructure_hook(_Leg), "or_none", None)


def test_a_null_nested_model_and_a_null_list() -> None:
    parcel = structure({"ID": "P", "legs": None}, _Parcel)
    assert parcel.legs == ()
    with pytest.raises(cattrs.BaseValidationError):
        structure({"ID": "P", "legs": [None]}, _Parcel)


# -- the fast mode agrees with cattrs' detailed validation --------------------------------
#
# The SDK's converter runs cattrs' code generated without detailed validation, and that code
# again with it only to describe a failure. A converter validating in detail throughout, with
# every provider's hooks registered on it, must read every payload the same way.


def _reference_converter() -> cattrs.Converter:
    from shiptrack_sdk.exporto._hooks import register_hooks as exporto_hooks
    from shiptrack_sdk.lex._hooks import register_hooks as lex_hooks
    from shiptrack_sdk.shiplemon._hooks import register_hooks as shiplemon_hooks

    reference = _new_converter(detailed_validation=True)
    for register in (shiplemon_hooks, exporto_hooks, lex_hooks):
        register(reference)
    return reference


REFERENCE = _reference_converter()


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
        "lex.BusinessMessage": (orders.BusinessMessage, page[0]),
    }


AGREEMENT = _agreement_cases()
#: Payloads in the shape of each sample: kept, dropped, nulled or wrongly typed fields.
PAYLOADS = {name: shaped(template) for name, (_, template) in AGREEMENT.items()}


@pytest.mark.parametrize("name", sorted(AGREEMENT))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_fast_mode_and_detailed_validation_agree_on_every_payload(
    name: str, data: st.DataObject
) -> None:
    model, _ = AGREEMENT[name]
    payload = data.draw(PAYLOADS[name])
    expected: Exception | None = None
    try:
        reference = REFERENCE.structure(payload, model)
    except Exception as exc:
        expected = exc
    if expected is None:
        _same(structure(payload, model), reference)
        return
    with pytest.raises(type(expected)) as info:
        structure(payload, model)
    # The same error, described the same way.
    assert describe_structure_error(info.value) == describe_structure_error(expected)


def test_every_sample_is_read_with_its_payload_kept() -> None:
    for model, template in AGREEMENT.values():
        read = structure(template, model)
        _same(read, REFERENCE.structure(template, model))
        assert read.raw is template


def _plain_wire(obj: Any) -> Any:
    """What ``omit_empty`` means, written out plainly: every field under its camelCase name,
    ``None`` and empty lists left out unless ``extra`` has the key (then extra's value, in the
    field's place), and extra's other keys after the fields."""
    if isinstance(obj, tuple):
        return [_plain_wire(item) for item in obj]
    if not attrs.has(type(obj)):
        return converter.unstructure(obj)
    extra: Mapping[str, Any] = getattr(obj, "extra", {})
    out: dict[str, Any] = {}
    for a in attrs.fields(type(obj)):
        if a.name in ("raw", "extra"):
            continue
        key, value = _camel(a.name), _plain_wire(getattr(obj, a.name))
        if value is None or (isinstance(value, (list, tuple)) and not value):
            if key in extra:
                out[key] = extra[key]
        else:
            out[key] = value
    for key, value in extra.items():
        out.setdefault(key, value)
    return out


def _json(value: Any) -> str:
    """``value`` as JSON text, key order included (what a server receives)."""
    return json.dumps(value, default=repr, allow_nan=True)


@settings(max_examples=300, deadline=None)
@given(TRACKING_MESSAGES)
def test_lex_tracking_messages_leave_empty_fields_out(message: Any) -> None:
    # Empty fields left out, extra keys kept (None included) and never displacing a field,
    # in the order the fields are declared.
    assert _json(unstructure(message)) == _json(_plain_wire(message))


@pytest.mark.parametrize("name", sorted(AGREEMENT))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_read_models_unstructure_as_cattrs_does(name: str, data: st.DataObject) -> None:
    model, _ = AGREEMENT[name]
    try:
        instance = structure(data.draw(PAYLOADS[name]), model)
    except Exception:
        return  # refused payloads are the test above's business
    assert _json(unstructure(instance)) == _json(REFERENCE.unstructure(instance))


def test_extra_fills_an_omitted_field_but_never_displaces_a_set_one() -> None:
    from shiptrack_sdk.lex.tracking_models import Carrier

    carrier = Carrier(
        id=None,
        name="Transpes",
        extra={"id": "from-extra", "name": "ignored", "trackingUrl": None, "xNew": None},
    )
    wire = unstructure(carrier)
    assert wire == _plain_wire(carrier)
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


def test_hooks_are_made_on_first_use_and_then_called_directly() -> None:
    @attrs.frozen(slots=False)
    class Fresh:
        fresh_id: str
        raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    register_wire_model(Fresh, camel_case=True)
    lazy = converter.get_structure_hook(Fresh)
    assert getattr(lazy, "__self__", None) is not None  # a registered model's lazy hook
    assert structure({"freshId": "F"}, Fresh) == Fresh("F")
    built = converter.get_structure_hook(Fresh)
    assert getattr(built, "__self__", None) is None
    assert built({"freshId": "G"}, Fresh).fresh_id == "G"


@pytest.mark.parametrize(
    "module",
    [
        "shiptrack_sdk.lex.tracking_models",
        "shiptrack_sdk.lex.order_models",
        "shiptrack_sdk.shiplemon.models",
        "shiptrack_sdk.exporto.models",
    ],
)
def test_importing_one_models_module_registers_its_provider(module: str) -> None:
    # Whichever module comes first, every model of the provider reads its wire names.
    code = (
        f"import {module}\n"
        "from shiptrack_sdk._core.convert import structure\n"
        "from shiptrack_sdk.lex.order_models import SendResult\n"
        "from shiptrack_sdk.lex.tracking_models import Carrier\n"
        "from shiptrack_sdk.shiplemon.models import Address\n"
        "from shiptrack_sdk.exporto.models import Tour\n"
        "assert structure({'messageId': 'm'}, SendResult).id == 'm'\n"
        "assert structure({'trackingUrl': 'u'}, Carrier).tracking_url == 'u'\n"
        "assert structure({'_id': 'a'}, Address).id == 'a'\n"
        "assert structure({'tourId': 't'}, Tour).id == 't'\n"
    )
    done = subprocess.run(  # noqa: S603 (this Python, our own statement)
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
