"""Export: ``to_dict()``/``to_json()`` on the normalized model, on every wire model and on
``Trackings`` (snake_case names, ISO 8601 datetimes, enum values, ``raw`` left out); the
public timeline formatter; the command line's JSON is the same export."""

from __future__ import annotations

import importlib
import importlib.util
import io
import itertools
import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

import attrs
import pytest

import shiptrack_sdk
from shiptrack_sdk import Tracking, TrackingEvent, TrackingStatus, ValidationError, cli
from shiptrack_sdk._core.convert import _new_converter, parse_datetime
from shiptrack_sdk._providers import all_specs
from shiptrack_sdk.export import Exportable, format_timeline, to_dict, to_json
from shiptrack_sdk.lex.tracking import Carrier, Party, ShipmentEvent, TrackingMessage
from shiptrack_sdk.notebook import Trackings
from shiptrack_sdk.sandbox import Sandbox

UTC = timezone.utc

TRACKING = Tracking(
    provider="demo",
    shipment_id="42",
    status="DELIVERED",
    events=[
        TrackingEvent("DELIVERED", datetime(2024, 7, 15, 12, 2, tzinfo=UTC), "Delivered"),
        TrackingEvent(
            "TRANSIT",
            datetime(2024, 7, 13, 9, 30, tzinfo=UTC),
            provider_status="IN_TRANSIT",
            location="Athens",
        ),
    ],
    carrier="ELTA",
    estimated_delivery=datetime(2024, 7, 15, tzinfo=UTC),
    raw={"secret_payload": object()},  # not JSON, and not exported
)


def camel_keys(data: Any) -> Iterator[str]:
    """Every key with an upper-case letter, at any depth, but under ``extra`` (the wire keys
    a model does not name)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "extra":
                continue
            if any(c.isupper() for c in key):
                yield key
            yield from camel_keys(value)
    elif isinstance(data, list):
        for item in data:
            yield from camel_keys(item)


def plain(data: Any) -> bool:
    """Whether ``data`` is made only of what ``json`` reads back as it is."""
    if isinstance(data, dict):
        return all(type(k) is str and plain(v) for k, v in data.items())
    if isinstance(data, list):
        return all(plain(v) for v in data)
    return data is None or type(data) in (str, int, float, bool)


# -- the normalized model ----------------------------------------------------------------------


def test_tracking_to_dict_is_plain_data_in_its_own_field_names() -> None:
    data = TRACKING.to_dict()
    assert data == {
        "provider": "demo",
        "shipment_id": "42",
        "status": "DELIVERED",
        "events": [
            {
                "status": "TRANSIT",
                "occurred_at": "2024-07-13T09:30:00.000Z",
                "description": None,
                "provider_status": "IN_TRANSIT",
                "provider_status_detail": None,
                "location": "Athens",
            },
            {
                "status": "DELIVERED",
                "occurred_at": "2024-07-15T12:02:00.000Z",
                "description": "Delivered",
                "provider_status": None,
                "provider_status_detail": None,
                "location": None,
            },
        ],
        "provider_status": None,
        "carrier": "ELTA",
        "tracking_ref": None,
        "tracking_url": None,
        "estimated_delivery": "2024-07-15T00:00:00.000Z",
    }
    assert plain(data)  # enum values are str, not TrackingStatus
    assert parse_datetime(data["events"][0]["occurred_at"]) == TRACKING.events[0].occurred_at


def test_tracking_to_json_where_json_dumps_of_asdict_fails() -> None:
    with pytest.raises(TypeError):
        json.dumps(attrs.asdict(TRACKING))  # what a user tried first
    assert json.loads(TRACKING.to_json()) == TRACKING.to_dict()
    assert TRACKING.to_json(indent=2).startswith('{\n  "provider": "demo"')
    assert TRACKING.events[0].to_dict() == TRACKING.to_dict()["events"][0]
    assert json.loads(TRACKING.events[1].to_json()) == TRACKING.to_dict()["events"][1]


# -- every wire model ----------------------------------------------------------------------------


def wire_models(monkeypatch: pytest.MonkeyPatch) -> list[type[Any]]:
    """Every class a registered provider's ``_hooks`` registers as a wire model."""
    found: list[type[Any]] = []
    for spec in all_specs():
        package = spec.client.partition(":")[0].rsplit(".", 1)[0]
        if importlib.util.find_spec(f"{package}._hooks") is None:
            continue
        hooks = importlib.import_module(f"{package}._hooks")
        real = hooks.register_wire_model

        def record(cls: type[Any], *args: Any, _real: Any = real, **kwargs: Any) -> None:
            found.append(cls)
            _real(cls, *args, **kwargs)

        monkeypatch.setattr(hooks, "register_wire_model", record)
        hooks.register_hooks(_new_converter())
    return found


def test_every_wire_model_exports(monkeypatch: pytest.MonkeyPatch) -> None:
    models = wire_models(monkeypatch)
    assert len(models) > 25
    missing = [m.__qualname__ for m in models if not issubclass(m, Exportable)]
    assert missing == []
    for cls in (*models, Tracking, TrackingEvent):
        assert cls.to_dict is Exportable.to_dict, cls
        assert cls.to_json is Exportable.to_json, cls


def test_slotted_wire_models_stay_slotted() -> None:
    message = TrackingMessage(ShipmentEvent("AAR", "R1", datetime(2024, 7, 1, tzinfo=UTC)))
    assert not hasattr(message, "__dict__")
    assert not hasattr(TRACKING, "__dict__")


def test_wire_models_from_real_answers_export_snake_case(sb: Sandbox) -> None:
    shipment = sb.exporto_client().shipments.get("S-240902-0001")
    data = shipment.to_dict()
    assert data["shipment_id"] == "S-240902-0001"
    assert data["processed_at"] == "2024-09-02T09:14:00.000Z"
    assert data["line_items"][0]["hs_code"] == "640411"
    assert "raw" not in data
    assert "raw" not in data["line_items"][0]
    assert list(camel_keys(data)) == []
    assert plain(data)
    assert json.loads(shipment.to_json()) == data

    history = sb.shiplemon_client().tracking.get("be96511d-ba23-4268-bd8b-48c9cf930222")
    data = history.to_dict()
    assert data["carrier"]["name"] == "ELTA Courier"
    assert parse_datetime(data["tracking_history"][0]["status_date"]).tzinfo is UTC
    assert list(camel_keys(data)) == []
    assert plain(data)

    with sb.lex_client() as lex:
        messages = list(itertools.islice(lex.orders.iter_messages(fetch_size=5), 5))
    assert messages
    for message in messages:
        data = message.to_dict()
        assert {"id", "type", "timestamp", "payload"} <= set(data)
        assert list(camel_keys(data)) == []
        assert plain(data)
        assert json.loads(message.to_json()) == data


def test_a_tracking_message_to_dict_is_not_its_wire_form() -> None:
    message = TrackingMessage(
        ShipmentEvent("LIV", "R1", datetime(2024, 7, 1, 8, tzinfo=UTC)),
        document_url="https://pod.example.com/R1.pdf",
        carrier=Carrier(name="ELTA", extra={"scacCode": "ELTA"}),
        sender=Party(id="ME"),
    )
    data = message.to_dict()
    assert data["document_url"] == "https://pod.example.com/R1.pdf"
    assert data["event"]["business_reference"] == "R1"
    assert data["event"]["occurred_at"] == "2024-07-01T08:00:00.000Z"
    assert data["carrier"]["extra"] == {"scacCode": "ELTA"}  # as given: wire keys
    assert data["anomaly"] is None  # every field, the empty ones too
    wire = message.to_wire()  # what is sent: camelCase, empty fields left out
    assert wire["documentUrl"] == data["document_url"]
    assert "anomaly" not in wire


# -- Trackings and the functions -------------------------------------------------------------------


def test_trackings_export_as_a_list() -> None:
    other = Tracking(provider="demo", shipment_id="43", status="TRANSIT")
    trackings = Trackings([TRACKING, other])
    assert trackings.to_dict() == [TRACKING.to_dict(), other.to_dict()]
    assert json.loads(trackings.to_json()) == trackings.to_dict()
    assert Trackings().to_json() == "[]"


def test_the_functions_take_models_and_what_holds_them() -> None:
    assert to_dict(TRACKING) == TRACKING.to_dict()
    value = {"day": date(2024, 7, 1), "status": TrackingStatus.TRANSIT, "items": (TRACKING,)}
    assert json.loads(to_json(value)) == {
        "day": "2024-07-01",
        "status": "TRANSIT",
        "items": [TRACKING.to_dict()],
    }
    assert json.loads(to_json(Trackings([TRACKING]))) == [TRACKING.to_dict()]


@pytest.mark.parametrize("bad", ["x", {"a": 1}, [TRACKING], None, Tracking])
def test_to_dict_refuses_what_is_not_a_model(bad: Any) -> None:
    with pytest.raises(ValidationError) as info:
        to_dict(bad)
    assert info.value.argument == "model"


def test_to_json_refuses_what_json_cannot_hold_by_name() -> None:
    with pytest.raises(ValidationError) as info:
        to_json({"when": object()})
    assert info.value.argument == "value"
    assert to_json({"when": object()}, default=lambda o: "?") == '{"when": "?"}'


def test_export_module_and_root() -> None:
    export = importlib.import_module("shiptrack_sdk.export")
    assert set(export.__all__) == {"Exportable", "format_timeline", "to_dict", "to_json"}
    assert "format_timeline" in shiptrack_sdk.__all__
    assert shiptrack_sdk.format_timeline is format_timeline


# -- the timeline formatter ------------------------------------------------------------------------


def test_format_timeline_is_public() -> None:
    assert format_timeline(TRACKING) == (
        "demo  42  DELIVERED  ELTA\n"
        "  2024-07-13 09:30 UTC  TRANSIT\n"
        "  2024-07-15 12:02 UTC  DELIVERED    Delivered"
    )
    other = Tracking(provider="demo", shipment_id="43", status="TRANSIT")
    assert format_timeline([TRACKING, other]) == (
        format_timeline(TRACKING) + "\n\n" + "demo  43  TRANSIT\n  (no events yet)"
    )


@pytest.mark.parametrize("bad", ["x", None, 5, [TRACKING, "y"]])
def test_format_timeline_refuses_what_is_not_a_tracking(bad: Any) -> None:
    with pytest.raises(ValidationError) as info:
        format_timeline(bad)
    assert info.value.argument.startswith("tracking")


# -- the command line --------------------------------------------------------------------------


def test_the_command_lines_json_is_the_export(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in sb.environment().items():
        monkeypatch.setenv(name, value)
    sid = "be96511d-ba23-4268-bd8b-48c9cf930222"
    out = io.StringIO()
    assert cli.main(["track", "shiplemon", sid, "--json"], out=out) == 0
    expected = sb.shiplemon_client().tracking.get(sid).to_tracking()
    assert json.loads(out.getvalue()) == [expected.to_dict()]
    assert cli.tracking_json(expected) == expected.to_dict()
    written = io.StringIO()
    cli.write_json({"day": date(2024, 7, 1), "tracking": expected}, written)
    assert json.loads(written.getvalue()) == {"day": "2024-07-01", "tracking": expected.to_dict()}
