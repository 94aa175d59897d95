"""The normalized model: TrackingStatus, TrackingEvent, Tracking."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shiptrack_sdk
from shiptrack_sdk import Tracking, TrackingEvent, TrackingStatus, ValidationError
from shiptrack_sdk._core.convert import unstructure

UTC = timezone.utc
ATHENS = timezone(timedelta(hours=3))


def event(
    hour: int, status: TrackingStatus = TrackingStatus.TRANSIT, **kw: object
) -> TrackingEvent:
    return TrackingEvent(
        status=status,
        occurred_at=datetime(2024, 7, 15, hour, tzinfo=UTC),
        **kw,  # type: ignore[arg-type]
    )


def test_the_normalized_model_is_exported() -> None:
    for name in ("Tracking", "TrackingEvent", "TrackingStatus"):
        assert name in shiptrack_sdk.__all__


def test_tracking_status_is_a_str_enum_of_five_values() -> None:
    assert issubclass(TrackingStatus, str)
    assert issubclass(TrackingStatus, enum.Enum)
    assert [s.value for s in TrackingStatus] == [
        "PRE_TRANSIT",
        "TRANSIT",
        "DELIVERED",
        "EXCEPTION",
        "UNKNOWN",
    ]
    assert TrackingStatus.DELIVERED == "DELIVERED"
    assert str(TrackingStatus.TRANSIT) == "TRANSIT"
    assert TrackingStatus.DELIVERED.is_final
    assert not TrackingStatus.EXCEPTION.is_final


def test_event_fields_and_status_from_its_value() -> None:
    e = TrackingEvent(
        status="DELIVERED",  # type: ignore[arg-type]
        occurred_at=datetime(2024, 7, 15, 13, 2, tzinfo=ATHENS),
        description="ΠΑΡΑΔΟΣΗ",
        provider_status="DELIVERED",
        provider_status_detail="WITH_COURIER",
        location="Athens",
    )
    assert e.status is TrackingStatus.DELIVERED
    assert e.occurred_at == datetime(2024, 7, 15, 10, 2, tzinfo=UTC)
    assert e.occurred_at.tzinfo is UTC
    assert (e.description, e.provider_status, e.provider_status_detail, e.location) == (
        "ΠΑΡΑΔΟΣΗ",
        "DELIVERED",
        "WITH_COURIER",
        "Athens",
    )


def test_event_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValidationError) as info:
        TrackingEvent(status=TrackingStatus.TRANSIT, occurred_at=datetime(2024, 7, 15, 10))
    assert info.value.argument == "occurred_at"


def test_event_refuses_a_non_datetime_and_an_unknown_status_word() -> None:
    with pytest.raises(ValidationError):
        TrackingEvent(status=TrackingStatus.TRANSIT, occurred_at="2024-07-15")  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        TrackingEvent(status="SHIPPED", occurred_at=datetime(2024, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    assert info.value.argument == "status"


def test_models_are_frozen() -> None:
    e = event(1)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        e.description = "x"  # type: ignore[misc]
    t = Tracking(provider="p", shipment_id="1", status=TrackingStatus.TRANSIT)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        t.status = TrackingStatus.DELIVERED  # type: ignore[misc]


def test_tracking_sorts_events_oldest_first_stably() -> None:
    a, b, c = event(9, description="a"), event(10, description="b"), event(8, description="c")
    same = event(9, description="same time, after a")
    t = Tracking(provider="p", shipment_id="1", status="TRANSIT", events=[b, a, c, same])  # type: ignore[arg-type]
    assert [e.description for e in t.events] == ["c", "a", "same time, after a", "b"]
    assert isinstance(t.events, tuple)
    assert t.last_event is b


@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.timezones()
        ),
        max_size=8,
    )
)
@settings(max_examples=100, deadline=None)
def test_tracking_events_always_come_out_oldest_first(times: list[datetime]) -> None:
    events = [TrackingEvent(status=TrackingStatus.TRANSIT, occurred_at=t) for t in times]
    tracking = Tracking(provider="p", shipment_id="1", status="TRANSIT", events=events)  # type: ignore[arg-type]
    occurred = [e.occurred_at for e in tracking.events]
    assert occurred == sorted(occurred)
    assert all(t.utcoffset() == timedelta(0) for t in occurred)


def test_tracking_fields() -> None:
    t = Tracking(
        provider="shiplemon",
        shipment_id="60476d7500e47cb69693a202",
        status=TrackingStatus.DELIVERED,
        events=[event(1)],
        provider_status="DELIVERED",
        carrier="DHL Express",
        tracking_ref="1190953890",
        tracking_url="https://example.invalid/t/1190953890",
        estimated_delivery=datetime(2024, 7, 16, 12, tzinfo=ATHENS),
        raw={"tracking_status": "DELIVERED"},
    )
    assert t.is_delivered
    assert t.estimated_delivery == datetime(2024, 7, 16, 9, tzinfo=UTC)
    assert t.raw == {"tracking_status": "DELIVERED"}
    # raw is kept out of == and repr.
    assert t == attrs.evolve(t, raw={})
    assert "raw" not in repr(t)


def test_tracking_without_events() -> None:
    t = Tracking(provider="p", shipment_id="1", status=TrackingStatus.PRE_TRANSIT)
    assert t.events == ()
    assert t.last_event is None
    assert not t.is_delivered


def test_tracking_refuses_a_naive_estimated_delivery() -> None:
    with pytest.raises(ValidationError):
        Tracking(
            provider="p",
            shipment_id="1",
            status=TrackingStatus.TRANSIT,
            estimated_delivery=datetime(2024, 7, 16),
        )


def test_unknown_status_keeps_the_raw_value_beside_it() -> None:
    t = Tracking(
        provider="p",
        shipment_id="1",
        status=TrackingStatus.UNKNOWN,
        provider_status="LOST_IN_SPACE",
    )
    assert t.status is TrackingStatus.UNKNOWN
    assert t.provider_status == "LOST_IN_SPACE"


def test_event_unstructures_through_the_shared_converter() -> None:
    e = event(10, TrackingStatus.DELIVERED, description="ok")
    data = unstructure(e)
    assert data["occurred_at"] == "2024-07-15T10:00:00.000Z"
    assert data["status"] == TrackingStatus.DELIVERED
    assert data["description"] == "ok"


def test_a_naive_estimated_delivery_is_refused_by_its_own_name() -> None:
    for value in (datetime(2024, 7, 16), "2024-07-16"):
        with pytest.raises(ValidationError) as info:
            Tracking(
                provider="p",
                shipment_id="1",
                status=TrackingStatus.TRANSIT,
                estimated_delivery=value,  # type: ignore[arg-type]
            )
        assert info.value.argument == "estimated_delivery"


@pytest.mark.parametrize("events", [[5], [event(1), None], "abc", None, 5, {"a": event(1)}])
def test_events_that_are_not_a_list_of_events_are_refused(events: object) -> None:
    with pytest.raises(ValidationError) as info:
        Tracking(provider="p", shipment_id="1", status="TRANSIT", events=events)  # type: ignore[arg-type]
    assert info.value.argument == "events"


def test_events_may_be_any_iterable_of_events() -> None:
    t = Tracking(
        provider="p",
        shipment_id="1",
        status="TRANSIT",
        events=(e for e in [event(2), event(1)]),  # type: ignore[arg-type]
    )
    assert [e.occurred_at.hour for e in t.events] == [1, 2]


@pytest.mark.parametrize(
    ("fields", "argument"),
    [
        ({"provider": None}, "provider"),
        ({"provider": ""}, "provider"),
        ({"shipment_id": 5}, "shipment_id"),
        ({"provider_status": 5}, "provider_status"),
        ({"carrier": ["DHL"]}, "carrier"),
        ({"tracking_ref": 123}, "tracking_ref"),
        ({"tracking_url": b"https://x"}, "tracking_url"),
        ({"raw": None}, "raw"),
        ({"raw": "payload"}, "raw"),
        ({"status": None}, "status"),
    ],
)
def test_tracking_refuses_fields_of_the_wrong_type(
    fields: dict[str, object], argument: str
) -> None:
    values: dict[str, object] = {"provider": "p", "shipment_id": "1", "status": "TRANSIT"}
    values.update(fields)
    with pytest.raises(ValidationError) as info:
        Tracking(**values)  # type: ignore[arg-type]
    assert info.value.argument == argument


@pytest.mark.parametrize(
    "argument", ["description", "provider_status", "provider_status_detail", "location"]
)
def test_event_refuses_text_fields_of_the_wrong_type(argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        event(1, **{argument: 42})
    assert info.value.argument == argument
