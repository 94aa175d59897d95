"""LEX tracking messages: the wire format (SDK names, camelCase, extra kept) and validation."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from shiptrack_sdk import ValidationError
from shiptrack_sdk._core.convert import structure
from shiptrack_sdk.lex.tracking import (
    DEFAULT_DOCUMENT_REQUIRED_CODES,
    Anomaly,
    Attribute,
    Carrier,
    DeliveryNote,
    Location,
    Party,
    ShipmentEvent,
    TrackingAddress,
    TrackingMessage,
    TrackingValidator,
    validate_messages,
)
from tests.conftest import load_fixture

WHEN = datetime(2024, 5, 14, 9, 42, tzinfo=timezone(timedelta(hours=2)))


def message(**changes: Any) -> TrackingMessage:
    base = TrackingMessage(
        event=ShipmentEvent("AAR", "0081234567", WHEN),
        carrier=Carrier(id="TRANSPES"),
        sender=Party(id="TELIAE-ES"),
    )
    return attrs.evolve(base, **changes)


def problems_of(*messages: Any, **settings: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        validate_messages(list(messages), **settings)
    return list(info.value.problems)


# -- wire format ----------------------------------------------------------------------------


def test_fixture_round_trips_unchanged() -> None:
    body = load_fixture("lex", "tracking_request_body.json")
    messages = [structure(item, TrackingMessage) for item in body]
    assert [m.to_wire() for m in messages] == body


def test_fixture_structures_into_typed_parts() -> None:
    first, second = (
        structure(item, TrackingMessage)
        for item in load_fixture("lex", "tracking_request_body.json")
    )
    assert first.event.occurred_at == datetime(2024, 5, 14, 7, 42, tzinfo=timezone.utc)
    assert first.event.location == Location("Getafe depot", "Getafe", "28906", "ES")
    assert first.ship_to is not None
    assert first.ship_to.address is not None
    assert first.ship_to.address.region == "Castilla y Leon"
    assert first.attributes == (Attribute("vehicle", "1234-KLM"), Attribute("driver", "J. Martin"))
    # Fields the SDK does not know are kept, at every level.
    assert first.extra == {"transportMode": "ROAD"}
    assert first.delivery_notes[1].extra == {"palletCount": 2}
    assert second.anomaly == Anomaly("AVA", "One tyre damaged on delivery", {"severity": "minor"})
    validate_messages([first, second])


def test_wire_names_are_camel_case_and_empty_fields_left_out() -> None:
    full = TrackingMessage(
        event=ShipmentEvent("LIV", "R1", WHEN, type="CFM"),
        document_url="https://pod.example.com/r1.pdf",
        ship_from=Party(id="A", address=TrackingAddress(postal_code="1", country_code="FR")),
        ship_to=Party(name="B", contact_name="C"),
        carrier=Carrier(name="D", tracking_number="T", tracking_url="https://t.example.com"),
        delivery_notes=[DeliveryNote("DN1")],
        sender=Party(id="S"),
    )
    assert full.to_wire() == {
        "event": {
            "code": "LIV",
            "businessReference": "R1",
            "occurredAt": "2024-05-14T07:42:00.000Z",  # sent in UTC
            "type": "CFM",
        },
        "documentUrl": "https://pod.example.com/r1.pdf",
        "shipFrom": {"id": "A", "address": {"postalCode": "1", "countryCode": "FR"}},
        "shipTo": {"name": "B", "contactName": "C"},
        "carrier": {"name": "D", "trackingNumber": "T", "trackingUrl": "https://t.example.com"},
        "deliveryNotes": [{"number": "DN1"}],
        "sender": {"id": "S"},
    }


def test_extra_is_sent_unchanged_including_nulls_and_nesting() -> None:
    m = message(
        extra={"customsStatus": None, "legs": [{"n": 1}]},
        event=ShipmentEvent("AAR", "R", WHEN, extra={"eventSource": "scanner"}),
        carrier=Carrier(id="X", extra={"scac": "ABCD"}),
    )
    wire = m.to_wire()
    assert wire["customsStatus"] is None
    assert wire["legs"] == [{"n": 1}]
    assert wire["event"]["eventSource"] == "scanner"
    assert wire["carrier"] == {"id": "X", "scac": "ABCD"}


def test_every_part_passes_extra_through_attributes_too() -> None:
    m = message(attributes=[Attribute("vehicle", "1234-KLM", extra={"unit": "plate"})])
    assert m.to_wire()["attributes"] == [{"name": "vehicle", "value": "1234-KLM", "unit": "plate"}]
    shadowing = message(attributes=[Attribute("a", "b", extra={"name": "twice"})])
    assert [p for p, _ in problems_of(shadowing)] == ["messages[0].attributes[0].extra.name"]


def test_lists_are_kept_as_tuples_and_messages_hashable() -> None:
    m = message(attributes=[Attribute("a", "b")], delivery_notes=[DeliveryNote("n")])
    assert m.attributes == (Attribute("a", "b"),)
    same = message(attributes=[Attribute("a", "b")], delivery_notes=[DeliveryNote("n")])
    assert hash(m) == hash(same)
    assert m == message(attributes=(Attribute("a", "b"),), delivery_notes=(DeliveryNote("n"),))


# -- validation ----------------------------------------------------------------------------


def test_valid_messages_pass() -> None:
    validate_messages([message(), message(document_url="https://x.example/p.pdf")])
    TrackingValidator().validate([])


def test_every_problem_is_listed_with_index_and_path() -> None:
    bad_event = ShipmentEvent("", "  ", datetime(2024, 5, 14, 9, 0))  # naive
    problems = problems_of(
        message(),
        message(),
        message(),
        message(event=bad_event, sender=None, carrier=Carrier()),
        {"event": {}},
    )
    assert problems == [
        ("messages[3].event.code", "must not be empty"),
        ("messages[3].event.business_reference", "must not be empty"),
        (
            "messages[3].event.occurred_at",
            "must be time-zone aware (e.g. datetime(..., tzinfo=timezone.utc))",
        ),
        ("messages[3].sender", "is required"),
        ("messages[3].carrier", "needs an id or a name"),
        ("messages[4]", "expected TrackingMessage, got dict"),
    ]


def test_error_message_names_every_problem() -> None:
    with pytest.raises(ValidationError) as info:
        validate_messages([message(sender=None), message(carrier=None)])
    text = str(info.value)
    assert text.startswith("2 problems: ")
    assert "messages[0].sender: is required" in text
    assert "messages[1].carrier: is required" in text
    assert info.value.argument == "messages[0].sender"


def test_document_url_required_for_configured_codes() -> None:
    assert "LIV" in DEFAULT_DOCUMENT_REQUIRED_CODES
    delivered = message(event=ShipmentEvent("LIV", "R", WHEN))
    assert problems_of(delivered) == [
        ("messages[0].document_url", "is required for event code 'LIV' (proof of the event)")
    ]
    # The set is the partner's to choose: a POD code of its contract, or none at all.
    validate_messages([delivered], document_required_codes=())
    pod = message(event=ShipmentEvent("POD", "R", WHEN))
    assert problems_of(pod, document_required_codes={"POD"})[0][0] == "messages[0].document_url"


def test_document_url_must_be_absolute_http() -> None:
    problems = problems_of(
        message(document_url="ftp://x.example/p.pdf"),
        message(document_url="/relative/p.pdf"),
        message(document_url="https://x.example/a b.pdf"),
        message(document_url="https://x.example/" + "a" * 2100),
    )
    assert [p for p, _ in problems] == [f"messages[{i}].document_url" for i in range(4)]
    assert "not an absolute http(s) URL" in problems[0][1]
    assert "spaces" in problems[2][1]
    assert "at most 2048" in problems[3][1]


def test_types_and_lengths_of_every_part_are_checked() -> None:
    m = TrackingMessage(
        event=ShipmentEvent(
            "X" * 36,
            123,
            "2024-05-14",
            location=Location(country_code="ESP"),  # type: ignore[arg-type]
        ),
        anomaly=Anomaly(""),
        attributes=[Attribute("", 5), "free text"],  # type: ignore[list-item]
        ship_from=Party(name="n" * 300, address=TrackingAddress(country_code="E1")),
        ship_to="Madrid",  # type: ignore[arg-type]
        carrier=Carrier(id="C", tracking_url="not a url"),
        delivery_notes=[DeliveryNote("")],
        sender=Party(id="S", extra={"id": "twice", 1: "x"}),  # type: ignore[dict-item]
        extra={"when": datetime(2024, 1, 1)},
    )
    paths = [p for p, _ in problems_of(m)]
    assert paths == [
        "messages[0].event.code",
        "messages[0].event.business_reference",
        "messages[0].event.occurred_at",
        "messages[0].event.location.country_code",
        "messages[0].anomaly.code",
        "messages[0].ship_from.name",
        "messages[0].ship_from.address.country_code",
        "messages[0].ship_to",
        "messages[0].sender.extra.id",
        "messages[0].sender.extra",
        "messages[0].carrier.tracking_url",
        "messages[0].attributes[0].name",
        "messages[0].attributes[0].value",
        "messages[0].attributes[1]",
        "messages[0].delivery_notes[0].number",
        "messages[0].extra",
    ]


def test_extra_must_not_shadow_a_field() -> None:
    problems = problems_of(message(extra={"documentUrl": "https://x.example/p.pdf"}))
    assert problems == [
        (
            "messages[0].extra.documentUrl",
            "is a field of the model; set the field instead of passing it in extra",
        )
    ]


def test_required_parts_and_limits_are_configurable() -> None:
    strict = TrackingValidator(required_parts={"event", "ship_to", "delivery_notes"})
    assert [p for p, _ in strict.problems([message()])] == [
        "messages[0].ship_to",
        "messages[0].delivery_notes",
    ]
    lenient = TrackingValidator(required_parts={"event"})
    assert lenient.problems([message(carrier=None, sender=None)]) == []
    short = TrackingValidator(limits={"reference": 8})
    assert short.problems([message()]) == [  # carrier.id "TRANSPES" is exactly 8: fine
        ("messages[0].event.business_reference", "is 10 characters long; at most 8"),
        ("messages[0].sender.id", "is 9 characters long; at most 8"),
    ]


def test_validator_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="required_parts"):
        TrackingValidator(required_parts={"event", "shipto"})
    with pytest.raises(ValidationError, match="limits"):
        TrackingValidator(limits={"codes": 3})
    with pytest.raises(ValidationError, match="document_required_codes"):
        TrackingValidator(document_required_codes={""})
    # One code given as a string is one code, not its letters.
    assert TrackingValidator(document_required_codes="POD").document_required_codes == {"POD"}


def test_messages_must_be_a_list() -> None:
    with pytest.raises(ValidationError) as info:
        validate_messages(message())  # type: ignore[arg-type]
    assert info.value.problems == (("messages", "must be a list of TrackingMessage"),)


def test_wire_body_is_json() -> None:
    body = [message().to_wire()]
    assert json.loads(json.dumps(body)) == body
