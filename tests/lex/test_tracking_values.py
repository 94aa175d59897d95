"""Values that used to escape the error tree from a tracking send: times without a UTC form,
lone surrogates, control characters, NaN. Each is a ValidationError naming the field, raised
before anything is sent (checked over real HTTP against the sandbox)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import attrs
import pytest

from shiptrack_sdk import ValidationError
from shiptrack_sdk.lex.tracking import (
    Attribute,
    Carrier,
    Party,
    ShipmentEvent,
    TrackingMessage,
    validate_messages,
)
from shiptrack_sdk.sandbox import Sandbox

WHEN = datetime(2024, 5, 14, 6, 0, tzinfo=timezone.utc)
OUT_OF_RANGE = "is out of range once converted to UTC (years 1 to 9999)"


def message(event: ShipmentEvent | None = None, **changes: Any) -> TrackingMessage:
    base = TrackingMessage(
        event=event or ShipmentEvent("AAR", "0081234567", WHEN),
        carrier=Carrier(id="TRANSPES"),
        sender=Party(id="TELIAE-ES"),
    )
    return attrs.evolve(base, **changes)


def problems_of(*messages: TrackingMessage) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        validate_messages(list(messages))
    str(info.value).encode("utf-8")  # the message itself can always be printed
    return list(info.value.problems)


@pytest.mark.parametrize("when", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+14:00"])
def test_an_event_time_without_a_utc_form_is_refused_by_its_path(when: str) -> None:
    event = ShipmentEvent("AAR", "R1", datetime.fromisoformat(when))
    assert problems_of(message(), message(event)) == [
        ("messages[1].event.occurred_at", OUT_OF_RANGE)
    ]


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"event": ShipmentEvent("AAR", "R\ud800", WHEN)}, "messages[0].event.business_reference"),
        (
            {"event": ShipmentEvent("AAR", "R1", WHEN, description="x\udfff")},
            "messages[0].event.description",
        ),
        ({"carrier": Carrier(id="C", name="\ud83d")}, "messages[0].carrier.name"),
        ({"attributes": [Attribute("colour", "r\ud800d")]}, "messages[0].attributes[0].value"),
        ({"extra": {"note": ["ok", "\ud800"]}}, "messages[0].extra.note[1]"),
        ({"sender": Party(id="S", extra={"k": {"\ud800": 1}})}, "messages[0].sender.extra.k"),
    ],
)
def test_a_lone_surrogate_is_refused_by_its_path(changes: dict[str, Any], path: str) -> None:
    ((where, problem),) = problems_of(message(**changes))
    assert where == path
    assert "lone surrogates" in problem


def test_control_characters_in_codes_and_texts() -> None:
    problems = problems_of(
        message(ShipmentEvent("AA\nR", "R1", WHEN)),
        message(ShipmentEvent("AAR", "R\t1", WHEN)),
        message(ShipmentEvent("AAR", "R1", WHEN, description="red\x1b[0m")),
    )
    assert problems == [
        ("messages[0].event.code", "must not contain control characters"),
        ("messages[1].event.business_reference", "must not contain control characters"),
        ("messages[2].event.description", "must not contain control characters"),
    ]
    # A description may run over several lines.
    validate_messages([message(ShipmentEvent("AAR", "R1", WHEN, description="a\nb\tc"))])


def test_nan_in_extra_is_refused_by_its_path() -> None:
    ((where, problem),) = problems_of(message(extra={"weight": math.nan}))
    assert where == "messages[0].extra"
    assert "JSON" in problem


def test_a_document_url_is_never_quoted() -> None:
    url = "https://files.example/pod.pdf?X-Amz-Signature=SIGNED-SECRET&x=a b"
    ((where, problem),) = problems_of(message(document_url=url))
    assert where == "messages[0].document_url"
    assert "SIGNED-SECRET" not in problem
    ((_, problem),) = problems_of(message(document_url="ftp://x.example/p.pdf?token=SECRET"))
    assert "not an absolute http(s) URL" in problem
    assert "SECRET" not in problem


@pytest.mark.parametrize(
    "event",
    [
        ShipmentEvent("AAR", "R1", datetime.fromisoformat("9999-12-31T23:00:00-05:00")),
        ShipmentEvent("AAR", "R1", datetime.fromisoformat("0001-01-01T00:30:00+14:00")),
        ShipmentEvent("AAR", "R1", WHEN, description="lone \ud800"),
    ],
)
def test_send_refuses_before_any_request(sb: Sandbox, event: ShipmentEvent) -> None:
    with sb.lex_client(max_retries=0) as client, pytest.raises(ValidationError) as info:
        client.tracking.send([message(), message(event)])
    assert info.value.argument.startswith("messages[1].event.")
    str(info.value).encode("utf-8")
    assert [c for c in sb.calls() if "token" not in c.path] == []


def test_problems_come_in_the_order_of_the_message() -> None:
    """An event's own fields, then its time, its location, and its extra last."""
    from shiptrack_sdk.lex import Location, TrackingValidator

    event = ShipmentEvent(
        "AAR",
        "REF-1",
        None,  # type: ignore[arg-type]
        location=Location(name="Madrid", country_code="E1"),
        extra={"code": "X"},
    )
    message = TrackingMessage(event, carrier=Carrier(id="C"), sender=Party(id="S"))
    paths = [path for path, _ in TrackingValidator().problems([message])]
    assert paths == [
        "messages[0].event.occurred_at",
        "messages[0].event.location.country_code",
        "messages[0].event.extra.code",
    ]
