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

from shiptrack_sdk._convert import (
    converter,
    format_datetime,
    parse_datetime,
    register_wire_model,
    structure,
    unstructure,
)

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
