"""The LEX package's public names: the tracking models are importable from ``shiptrack_sdk.lex``,
no two of its public classes share a name, and the two address classes cannot be mixed up
silently (the error names both)."""

from __future__ import annotations

import inspect
from datetime import datetime, timezone

import pytest
import responses

import shiptrack_sdk.lex
from shiptrack_sdk import ValidationError
from shiptrack_sdk.lex import (
    Carrier,
    LexClient,
    OrderAddress,
    Party,
    ShipmentEvent,
    TrackingAddress,
    TrackingMessage,
    validate_messages,
)
from shiptrack_sdk.lex import tracking as lex_tracking

WHEN = datetime(2024, 5, 14, 9, 42, tzinfo=timezone.utc)

TRACKING_CLASSES = sorted(
    name for name in lex_tracking.__all__ if inspect.isclass(getattr(lex_tracking, name))
)
PUBLIC_CLASSES = {
    name: value
    for name in shiptrack_sdk.lex.__all__
    if inspect.isclass(value := getattr(shiptrack_sdk.lex, name))
}


def test_there_are_tracking_classes() -> None:
    assert {"TrackingMessage", "TrackingAddress", "Party", "SendReport"} <= set(TRACKING_CLASSES)


@pytest.mark.parametrize("name", TRACKING_CLASSES)
def test_every_tracking_class_is_importable_from_the_package(name: str) -> None:
    assert name in shiptrack_sdk.lex.__all__
    assert getattr(shiptrack_sdk.lex, name) is getattr(lex_tracking, name)


def test_every_public_name_is_bound() -> None:
    names = shiptrack_sdk.lex.__all__
    assert [name for name in names if not hasattr(shiptrack_sdk.lex, name)] == []
    assert len(names) == len(set(names))


def test_no_two_public_classes_share_a_name() -> None:
    by_name: dict[str, list[str]] = {}
    for exported, cls in PUBLIC_CLASSES.items():
        by_name.setdefault(cls.__name__, []).append(exported)
    assert {name: names for name, names in by_name.items() if len(names) > 1} == {}


@pytest.mark.parametrize("name", sorted(PUBLIC_CLASSES))
def test_every_public_class_is_exported_under_its_own_name(name: str) -> None:
    # An alias (``Address = OrderAddress``) would give one class two names, and the errors
    # that name a class by its __name__ would no longer match what the caller imported.
    assert PUBLIC_CLASSES[name].__name__ == name


def test_the_two_addresses_are_different_classes() -> None:
    assert not issubclass(OrderAddress, TrackingAddress)
    assert not issubclass(TrackingAddress, OrderAddress)
    assert not hasattr(shiptrack_sdk.lex, "Address")
    assert not hasattr(lex_tracking, "Address")


def message_with(address: object) -> TrackingMessage:
    """A valid message but for ``address``, the ship-to party's."""
    return TrackingMessage(
        event=ShipmentEvent("AAR", "R1", WHEN),
        ship_to=Party(id="C-1", address=address),  # type: ignore[arg-type]
        carrier=Carrier(id="TRANSPES"),
        sender=Party(id="S"),
    )


def test_an_order_address_where_a_tracking_address_is_expected_names_both_classes() -> None:
    with pytest.raises(ValidationError) as info:
        validate_messages([message_with(OrderAddress(city="Valladolid", country="ES"))])
    assert info.value.problems == (
        ("messages[0].ship_to.address", "expected TrackingAddress, got OrderAddress"),
    )
    assert info.value.argument == "messages[0].ship_to.address"
    assert "expected TrackingAddress, got OrderAddress" in str(info.value)


def test_a_tracking_address_is_accepted() -> None:
    validate_messages([message_with(TrackingAddress(city="Valladolid", country_code="ES"))])


@responses.activate
def test_sending_a_message_with_an_order_address_sends_nothing() -> None:
    client = LexClient(client_id="a", client_secret="b")
    message = message_with(OrderAddress(city="Valladolid"))
    with pytest.raises(ValidationError, match="expected TrackingAddress, got OrderAddress"):
        client.tracking.send([message])
    assert len(responses.calls) == 0  # not even the token
