"""Forwarding normalized tracking to LEX: the status → event-code table (never a silent
default), message building, and a real round trip from Shiplemon to LEX in the sandbox."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from shiptrack_sdk import Tracking, TrackingEvent, TrackingStatus, ValidationError
from shiptrack_sdk.lex.forward import (
    SUGGESTED_INOVERT_CODES,
    EventCode,
    EventCodeTable,
    message_from_event,
    messages_from_tracking,
)
from shiptrack_sdk.lex.tracking import (
    Anomaly,
    Carrier,
    Location,
    Party,
    ShipmentEvent,
    TrackingMessage,
    TrackingValidator,
    validate_messages,
)
from shiptrack_sdk.sandbox import Sandbox

T0 = datetime(2024, 9, 2, 8, 0, tzinfo=timezone.utc)
ME = Party(id="CARRIER-42", name="Carrier 42")
CODES = EventCodeTable(
    {"PRE_TRANSIT": None, "TRANSIT": "AAR", "DELIVERED": ("LIV", "CFM")},
    provider_codes={"OUT_FOR_DELIVERY": "MLV", "demo:PICKED_UP": EventCode("ENL")},
)


def event(
    status: str, hours: int, detail: str | None = None, **kwargs: str | None
) -> TrackingEvent:
    return TrackingEvent(
        status,
        T0 + timedelta(hours=hours),
        provider_status=status,
        provider_status_detail=detail,
        **kwargs,  # type: ignore[arg-type]
    )


def tracking(*events: TrackingEvent, shipment_id: str = "S1", provider: str = "demo") -> Tracking:
    return Tracking(
        provider=provider,
        shipment_id=shipment_id,
        status=events[-1].status if events else "PRE_TRANSIT",
        events=events,
        carrier="Demo Express",
        tracking_ref="DX123",
        tracking_url="https://track.example.com/DX123",
    )


def pod(t: Tracking, e: TrackingEvent) -> str | None:
    """The proof of delivery of delivered events."""
    return f"https://pod.example.com/{t.shipment_id}.pdf" if e.status.is_final else None


SHIPMENT = tracking(
    event("PRE_TRANSIT", 0),
    event("TRANSIT", 2, "PICKED_UP", location="Lyon"),
    event("TRANSIT", 20, description="Arrived at hub"),
    event("TRANSIT", 26, "OUT_FOR_DELIVERY"),
    event("DELIVERED", 30, description="Delivered"),
)


# -- the table ------------------------------------------------------------------------------


def test_lookup_prefers_provider_values_then_status() -> None:
    lookups = [CODES.lookup(e, "demo") for e in SHIPMENT.events]
    assert lookups == [
        None,
        EventCode("ENL"),  # "demo:PICKED_UP"
        EventCode("AAR"),
        EventCode("MLV"),
        EventCode("LIV", "CFM"),
    ]
    # A provider-qualified key applies to that provider only.
    assert CODES.lookup(SHIPMENT.events[1], "other") == EventCode("AAR")


def test_unmapped_status_raises() -> None:
    with pytest.raises(KeyError):
        CODES.lookup(event("EXCEPTION", 1), "demo")


@pytest.mark.parametrize(
    ("statuses", "argument"),
    [
        ({"LOST": "X"}, "statuses"),
        ({"TRANSIT": ""}, "statuses['TRANSIT']"),
        ({"TRANSIT": 7}, "statuses['TRANSIT']"),
        ({"TRANSIT": ("AAR", "")}, "statuses['TRANSIT']"),
    ],
)
def test_table_entries_are_checked(statuses: dict[str, object], argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        EventCodeTable(statuses)  # type: ignore[arg-type]
    assert info.value.argument == argument


def test_with_overrides_adds_and_replaces() -> None:
    table = SUGGESTED_INOVERT_CODES.with_overrides(
        {"EXCEPTION": "RST", "TRANSIT": None}, provider_codes={"FAILED_ATTEMPT": ("LIV", "ABS")}
    )
    assert table.statuses[TrackingStatus.EXCEPTION] == EventCode("RST")
    assert table.statuses[TrackingStatus.TRANSIT] is None
    assert table.statuses[TrackingStatus.DELIVERED] == EventCode("LIV")
    assert table.provider_codes["FAILED_ATTEMPT"] == EventCode("LIV", "ABS")
    assert table.provider_codes["OUT_FOR_DELIVERY"] == EventCode("MLV")
    # The original is unchanged.
    assert TrackingStatus.EXCEPTION not in SUGGESTED_INOVERT_CODES.statuses


def test_suggested_table_leaves_exception_and_unknown_to_the_partner() -> None:
    assert set(SUGGESTED_INOVERT_CODES.statuses) == {
        TrackingStatus.PRE_TRANSIT,
        TrackingStatus.TRANSIT,
        TrackingStatus.DELIVERED,
    }


# -- building messages ----------------------------------------------------------------------


def test_one_message_per_event_with_the_tables_codes() -> None:
    messages = messages_from_tracking(SHIPMENT, codes=CODES, sender=ME, document_url=pod)
    assert [(m.event.code, m.event.type) for m in messages] == [
        ("ENL", None),
        ("AAR", None),
        ("MLV", None),
        ("LIV", "CFM"),
    ]  # PRE_TRANSIT is mapped to None: left out, as the table says
    first = messages[0]
    assert first.event == ShipmentEvent(
        "ENL", "S1", T0 + timedelta(hours=2), location=Location(name="Lyon")
    )
    assert first.sender == ME
    assert first.carrier == Carrier(
        name="Demo Express", tracking_number="DX123", tracking_url="https://track.example.com/DX123"
    )
    assert messages[1].event.description == "Arrived at hub"


def test_unmapped_statuses_are_all_named_never_defaulted() -> None:
    weird = tracking(
        event("TRANSIT", 1),
        TrackingEvent("UNKNOWN", T0 + timedelta(hours=2), provider_status="address_research"),
        event("EXCEPTION", 3, "FAILED_ATTEMPT"),
        shipment_id="S2",
    )
    with pytest.raises(ValidationError) as info:
        messages_from_tracking([SHIPMENT, weird], codes=CODES, sender=ME)
    assert info.value.problems == (
        (
            "trackings[1].events[1]",
            "no LEX event code for status UNKNOWN, demo status 'address_research'; map it in "
            "the EventCodeTable (or map it to None to leave such events out)",
        ),
        (
            "trackings[1].events[2]",
            "no LEX event code for status EXCEPTION, demo status 'EXCEPTION', detail "
            "'FAILED_ATTEMPT'; map it in the EventCodeTable (or map it to None to leave such "
            "events out)",
        ),
    )


def test_a_plain_mapping_is_a_table() -> None:
    messages = messages_from_tracking(
        SHIPMENT,
        codes={"PRE_TRANSIT": "PCH", "TRANSIT": "AAR", "DELIVERED": "LIV"},
        sender=ME,
        document_url=pod,
    )
    assert [m.event.code for m in messages] == ["PCH", "AAR", "AAR", "AAR", "LIV"]


def test_parties_references_documents_and_customization() -> None:
    def customize(message: TrackingMessage, t: Tracking, e: TrackingEvent) -> TrackingMessage:
        if e.status is TrackingStatus.DELIVERED:
            return attrs.evolve(message, anomaly=Anomaly("RES", "box dented"))
        return message

    messages = messages_from_tracking(
        SHIPMENT,
        codes=CODES,
        sender=lambda t: Party(id=f"sender-of-{t.shipment_id}"),
        carrier=Carrier(id="DX"),
        ship_to=Party(name="Garage Dupont"),
        business_reference=lambda t: f"MICH-{t.shipment_id}",
        document_url=lambda t, e: (
            f"https://pod.example.com/{t.shipment_id}.pdf" if e.status.is_final else None
        ),
        customize=customize,
    )
    last = messages[-1]
    assert last.sender == Party(id="sender-of-S1")
    assert last.carrier == Carrier(id="DX")
    assert last.ship_to == Party(name="Garage Dupont")
    assert last.event.business_reference == "MICH-S1"
    assert last.document_url == "https://pod.example.com/S1.pdf"
    assert last.anomaly == Anomaly("RES", "box dented")
    assert [m.document_url for m in messages[:-1]] == [None, None, None]
    validate_messages(messages)


def test_since_and_last_only_select_events() -> None:
    since = messages_from_tracking(
        SHIPMENT, codes=CODES, sender=ME, document_url=pod, since=T0 + timedelta(hours=20)
    )
    assert [m.event.code for m in since] == ["MLV", "LIV"]  # strictly after
    last = messages_from_tracking(
        [SHIPMENT, tracking()], codes=CODES, sender=ME, document_url=pod, last_only=True
    )
    assert [m.event.code for m in last] == ["LIV"]  # the empty tracking gives nothing
    with pytest.raises(ValidationError, match="since"):
        messages_from_tracking(SHIPMENT, codes=CODES, sender=ME, since=datetime(2024, 1, 1))


def test_bad_trackings_are_refused() -> None:
    with pytest.raises(ValidationError) as info:
        messages_from_tracking([SHIPMENT, {"status": "DELIVERED"}], codes=CODES, sender=ME)  # type: ignore[list-item]
    assert info.value.problems == (("trackings[1]", "expected Tracking, got dict"),)
    with pytest.raises(ValidationError, match="trackings"):
        messages_from_tracking("S1", codes=CODES, sender=ME)  # type: ignore[arg-type]


def test_no_carrier_known_is_refused_when_building_naming_carrier() -> None:
    bare = Tracking(
        provider="demo", shipment_id="S3", status="TRANSIT", events=[event("TRANSIT", 1)]
    )
    with pytest.raises(ValidationError) as info:
        messages_from_tracking(bare, codes=CODES, sender=ME)
    assert info.value.problems == (
        (
            "trackings[0].events[0].carrier",
            "is required; the tracking names no carrier: pass carrier= (a Carrier with an id "
            "or a name, or a callable tracking -> Carrier)",
        ),
    )
    (message,) = messages_from_tracking(bare, codes=CODES, sender=ME, carrier=Carrier(id="DX"))
    validate_messages([message])


def test_a_delivered_event_without_a_document_names_document_url() -> None:
    with pytest.raises(ValidationError) as info:
        messages_from_tracking(SHIPMENT, codes=CODES, sender=ME)
    assert info.value.problems == (
        (
            "trackings[0].events[4].document_url",
            "is required for event code 'LIV' (proof of the event): pass document_url= (a "
            "callable (tracking, event) -> URL)",
        ),
    )
    with pytest.raises(ValidationError) as info:
        messages_from_tracking(SHIPMENT, codes=CODES, sender=ME, document_url=lambda t, e: None)
    assert info.value.problems == (
        (
            "trackings[0].events[4].document_url",
            "is required for event code 'LIV' (proof of the event) (document_url= gave no URL "
            "for this event)",
        ),
    )


def test_every_problem_at_build_says_which_argument_sets_the_field() -> None:
    def customize(message: TrackingMessage, t: Tracking, e: TrackingEvent) -> TrackingMessage:
        return attrs.evolve(message, anomaly=Anomaly(""))

    with pytest.raises(ValidationError) as info:
        messages_from_tracking(
            SHIPMENT,
            codes=CODES,
            sender=Party(),
            carrier=lambda t: Carrier(id="DX", tracking_url="not a url"),
            ship_to=Party(name=" "),
            business_reference=lambda t: "two\nlines",
            document_url=lambda t, e: "https://pod.example.com/1.pdf",
            customize=customize,
            last_only=True,
        )
    assert [(path, problem.rsplit("(", 1)[-1]) for path, problem in info.value.problems] == [
        ("trackings[0].events[4].event.business_reference", "set by business_reference=)"),
        ("trackings[0].events[4].anomaly.code", "set by customize=)"),
        ("trackings[0].events[4].ship_to.name", "set by ship_to=)"),
        ("trackings[0].events[4].sender", "set by sender=)"),
        ("trackings[0].events[4].carrier.tracking_url", "set by carrier=)"),
    ]


def test_the_checks_at_build_are_the_validator_given() -> None:
    relaxed = TrackingValidator(document_required_codes=(), required_parts={"event"})
    bare = Tracking(
        provider="demo", shipment_id="S3", status="DELIVERED", events=[event("DELIVERED", 1)]
    )
    (message,) = messages_from_tracking(bare, codes=CODES, sender=None, validator=relaxed)
    assert message.carrier is None
    assert message.document_url is None
    with pytest.raises(ValidationError, match="validator"):
        messages_from_tracking(bare, codes=CODES, sender=ME, validator="strict")  # type: ignore[arg-type]


def test_message_from_event() -> None:
    m = message_from_event(SHIPMENT, SHIPMENT.events[-1], EventCode("LIV"), sender=ME)
    assert m.event.business_reference == "S1"
    assert m.event.code == "LIV"
    assert m.carrier is None


# -- bad arguments: a ValidationError naming the argument, never an AttributeError -----------


def test_lookup_refuses_what_is_not_an_event() -> None:
    for bad in ("x", None, {"status": "TRANSIT"}, SHIPMENT):
        with pytest.raises(ValidationError) as info:
            CODES.lookup(bad)  # type: ignore[arg-type]
        assert info.value.argument == "event"
    with pytest.raises(ValidationError) as info:
        CODES.lookup(SHIPMENT.events[1], 5)  # type: ignore[arg-type]
    assert info.value.argument == "provider"


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: message_from_event(SHIPMENT, "x", EventCode("LIV"), sender=ME), "event"),  # type: ignore[arg-type]
        (lambda: message_from_event(SHIPMENT, None, EventCode("LIV"), sender=ME), "event"),  # type: ignore[arg-type]
        (
            lambda: message_from_event("S1", SHIPMENT.events[0], EventCode("LIV"), sender=ME),
            "tracking",
        ),  # type: ignore[arg-type]
        (lambda: message_from_event(SHIPMENT, SHIPMENT.events[0], None, sender=ME), "code"),  # type: ignore[arg-type]
        (lambda: message_from_event(SHIPMENT, SHIPMENT.events[0], 5, sender=ME), "code"),  # type: ignore[arg-type]
        (lambda: message_from_event(SHIPMENT, SHIPMENT.events[0], "", sender=ME), "code"),  # type: ignore[arg-type]
        (lambda: message_from_event(SHIPMENT, SHIPMENT.events[0], "LIV", sender="me"), "sender"),  # type: ignore[arg-type]
        (
            lambda: message_from_event(
                SHIPMENT,
                SHIPMENT.events[0],
                "LIV",
                sender=ME,
                carrier="DX",  # type: ignore[arg-type]
            ),
            "carrier",
        ),
        (
            lambda: message_from_event(
                SHIPMENT,
                SHIPMENT.events[0],
                "LIV",
                sender=ME,
                ship_to={"name": "x"},  # type: ignore[arg-type]
            ),
            "ship_to",
        ),
        (
            lambda: message_from_event(
                SHIPMENT,
                SHIPMENT.events[0],
                "LIV",
                sender=ME,
                business_reference=5,  # type: ignore[arg-type]
            ),
            "business_reference",
        ),
        (
            lambda: message_from_event(
                SHIPMENT,
                SHIPMENT.events[0],
                "LIV",
                sender=ME,
                document_url=b"x",  # type: ignore[arg-type]
            ),
            "document_url",
        ),
    ],
)
def test_message_from_event_refuses_bad_arguments(call: Any, argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.argument == argument


def test_message_from_event_takes_a_code_as_the_table_does() -> None:
    m = message_from_event(SHIPMENT, SHIPMENT.events[-1], ("LIV", "CFM"), sender=ME)  # type: ignore[arg-type]
    assert (m.event.code, m.event.type) == ("LIV", "CFM")


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: EventCode(5), "code"),  # type: ignore[arg-type]
        (lambda: EventCode(""), "code"),
        (lambda: EventCode("LIV", 5), "type"),  # type: ignore[arg-type]
        (lambda: EventCodeTable({"TRANSIT": "AAR"}, provider_codes="x"), "provider_codes"),  # type: ignore[arg-type]
        (lambda: EventCodeTable({"TRANSIT": "AAR"}, provider_codes=[("a", "b")]), "provider_codes"),  # type: ignore[arg-type]
        (lambda: CODES.with_overrides("TRANSIT"), "statuses"),  # type: ignore[arg-type]
        (lambda: CODES.with_overrides(provider_codes=5), "provider_codes"),  # type: ignore[arg-type]
        (lambda: messages_from_tracking(SHIPMENT, codes=5, sender=ME), "codes"),  # type: ignore[arg-type]
        (lambda: messages_from_tracking(SHIPMENT, codes=None, sender=ME), "codes"),  # type: ignore[arg-type]
        (lambda: messages_from_tracking(SHIPMENT, codes=CODES, sender="me"), "sender"),  # type: ignore[arg-type]
        (lambda: messages_from_tracking(SHIPMENT, codes=CODES, sender=ME, carrier="DX"), "carrier"),  # type: ignore[arg-type]
        (
            lambda: messages_from_tracking(SHIPMENT, codes=CODES, sender=ME, ship_from=1),
            "ship_from",
        ),  # type: ignore[arg-type]
        (
            lambda: messages_from_tracking(SHIPMENT, codes=CODES, sender=ME, customize="x"),  # type: ignore[arg-type]
            "customize",
        ),
        (
            lambda: messages_from_tracking(SHIPMENT, codes=CODES, sender=ME, document_url="x"),  # type: ignore[arg-type]
            "document_url",
        ),
        (
            lambda: messages_from_tracking(
                SHIPMENT,
                codes=CODES,
                sender=ME,
                business_reference="MICH",  # type: ignore[arg-type]
            ),
            "business_reference",
        ),
        (
            lambda: messages_from_tracking(SHIPMENT, codes=CODES, sender=ME, last_only="yes"),  # type: ignore[arg-type]
            "last_only",
        ),
        (
            lambda: messages_from_tracking(SHIPMENT, codes=CODES, sender=lambda t: "me"),  # type: ignore[arg-type, return-value]
            "sender",
        ),
        (
            lambda: messages_from_tracking(
                SHIPMENT,
                codes=CODES,
                sender=ME,
                customize=lambda m, t, e: None,  # type: ignore[arg-type, return-value]
            ),
            "customize",
        ),
    ],
)
def test_bad_arguments_are_refused_by_name(call: Any, argument: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.argument == argument


# -- forwarding over real HTTP ----------------------------------------------------------------


def test_forward_shiplemon_tracking_to_lex(sb: Sandbox) -> None:
    shiplemon = sb.shiplemon_client()
    trackings = [
        shiplemon.tracking.get(sid).to_tracking()
        for sid in ("be96511d-ba23-4268-bd8b-48c9cf930222", "6650a1f2c3d4e5f601234567")
    ]
    codes = SUGGESTED_INOVERT_CODES
    messages = messages_from_tracking(
        trackings,
        codes=codes,
        sender=ME,
        document_url=lambda t, e: (
            f"https://pod.example.com/{t.shipment_id}.pdf" if e.status.is_final else None
        ),
    )
    report = sb.lex_client().tracking.send(messages)
    assert report.ok
    stored = sb.apps["lex"].tracking.accepted  # type: ignore[attr-defined]
    assert [(m["event"]["code"], m["event"]["businessReference"][:8]) for m in stored] == [
        ("MLV", "be96511d"),  # Shiplemon's WITH_COURIER
        ("LIV", "be96511d"),
        ("ENL", "6650a1f2"),  # PICKED_UP
        ("AAR", "6650a1f2"),
        ("MLV", "6650a1f2"),  # OUT_FOR_DELIVERY
    ]
    assert stored[1]["documentUrl"].endswith("be96511d-ba23-4268-bd8b-48c9cf930222.pdf")
    assert stored[0]["carrier"] == {
        "name": "ELTA Courier",
        "trackingNumber": "ZU500011420GR",
        "trackingUrl": "https://www.elta-courier.gr/search?br=ZU500011420GR",
    }


def exporto_trackings(sb: Sandbox) -> list[Tracking]:
    """The trackings of the sandbox's first exporto tour, as a user tracks a tour."""
    exporto = sb.exporto_client()
    results = list(exporto.tours.track([exporto.tours.list()[0].id]))
    assert results
    assert all(r.tracking is not None for r in results)
    return [r.tracking for r in results if r.tracking is not None]


def test_exporto_tracking_with_the_suggested_codes_is_checked_at_build(sb: Sandbox) -> None:
    trackings = exporto_trackings(sb)
    with pytest.raises(ValidationError) as info:
        messages_from_tracking(trackings, codes=SUGGESTED_INOVERT_CODES, sender=ME)
    fields = set()
    for path, problem in info.value.problems:
        match = re.fullmatch(r"trackings\[\d+\]\.events\[\d+\]\.(carrier|document_url)", path)
        assert match, path
        fields.add(match[1])
        assert f"pass {match[1]}=" in problem
    assert fields == {"carrier", "document_url"}
    # What the problems name is what makes every message acceptable to LEX.
    messages = messages_from_tracking(
        trackings,
        codes=SUGGESTED_INOVERT_CODES,
        sender=ME,
        carrier=lambda t: Carrier(id="SWISSPOST", tracking_number=t.tracking_ref),
        document_url=lambda t, e: (
            f"https://pod.example.com/{t.shipment_id}.pdf" if e.status.is_final else None
        ),
    )
    report = sb.lex_client().tracking.send(messages)
    assert report.ok
    assert len(report.accepted) == len(messages) > 0


def test_the_suggested_codes_leave_exportos_own_steps_out(sb: Sandbox) -> None:
    shipment = sb.exporto_client().shipments.get("S-240902-0001")
    assert shipment.processed_at
    assert shipment.declared_at
    messages = messages_from_tracking(
        shipment.to_tracking(),
        codes=SUGGESTED_INOVERT_CODES,
        sender=ME,
        carrier=Carrier(id="SWISSPOST"),
        document_url=lambda t, e: "https://pod.example.com/1.pdf",
    )
    assert [(m.event.code, m.event.occurred_at) for m in messages] == [
        ("ENL", shipment.carrier_received_at),  # the last-mile carrier took the parcel
        ("LIV", shipment.carrier_delivered_at),
    ]
