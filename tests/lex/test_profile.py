"""A LEX contract profile (:class:`~shiptrack_sdk.lex.profile.WireProfile`): a partner's wire
names, required parts, document codes, paths and JSON Schemas, loaded from JSON or TOML and
applied by the converter in both directions — checked over real HTTP against a partner's
gateway that speaks only the contract's names."""

from __future__ import annotations

import importlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from shiptrack_sdk import LexClient, ValidationError
from shiptrack_sdk._core.convert import converter as sdk_converter
from shiptrack_sdk.lex import (
    BusinessMessage,
    Carrier,
    MessageType,
    OrderLine,
    Party,
    ShipmentEvent,
    ShipmentOrder,
    TrackingMessage,
)
from shiptrack_sdk.lex.profile import DEFAULT_PROFILE, MODELS, WireProfile

T0 = datetime(2024, 5, 14, 6, 0, tzinfo=timezone.utc)
TOKEN_PATH = "/idp/v1/internal/oauth/token/accesstoken"

#: A partner's contract, as its Specification might name things.
CONTRACT: dict[str, Any] = {
    "tracking_path": "partner/v2/shipment-tracking",
    "orders_path": "/partner/v2/business-messages",
    "required_parts": ["event", "carrier", "sender", "ship_to"],
    "document_required_codes": ["LIV", "RES"],
    "renames": {
        "TrackingMessage": {"document_url": "podUrl", "ship_to": "consignee"},
        "ShipmentEvent": {"code": "eventCode", "business_reference": "shipmentNumber"},
        "Party": {"id": "partyCode"},
        "BusinessMessage": {"id": "msgId", "type": "kind", "timestamp": "createdAt"},
        "ShipmentOrder": {"order_number": "orderNo"},
        "OrderLine": {"item": "sku"},
    },
}

CONTRACT_TOML = """\
tracking_path = "partner/v2/shipment-tracking"
orders_path = "/partner/v2/business-messages"
required_parts = ["event", "carrier", "sender", "ship_to"]
document_required_codes = ["LIV", "RES"]

[renames.TrackingMessage]
document_url = "podUrl"
ship_to = "consignee"

[renames.ShipmentEvent]
code = "eventCode"
business_reference = "shipmentNumber"

[renames.Party]
id = "partyCode"

[renames.BusinessMessage]
id = "msgId"
type = "kind"
timestamp = "createdAt"

[renames.ShipmentOrder]
order_number = "orderNo"

[renames.OrderLine]
item = "sku"
"""


def message(code: str = "AAR", reference: str = "0081234567", **parts: Any) -> TrackingMessage:
    fields: dict[str, Any] = {
        "carrier": Carrier(id="TRANSPES"),
        "sender": Party(id="TELIAE-ES"),
        "ship_to": Party(id="C-778812"),
        **parts,
    }
    return TrackingMessage(event=ShipmentEvent(code, reference, T0), **fields)


@pytest.fixture
def profile() -> WireProfile:
    return WireProfile(**CONTRACT)


@pytest.fixture
def gateway(httpserver: HTTPServer) -> HTTPServer:
    """A partner's gateway: a token endpoint, and its own tracking and order paths."""
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_json(
        {"access_token": "tok", "token_type": "Bearer", "expires_in": 600}
    )
    return httpserver


def client_of(server: HTTPServer, **options: Any) -> LexClient:
    return LexClient(
        client_id="cid",
        client_secret="secret",
        base_url=server.url_for("/"),
        max_retries=0,
        **options,
    )


def bodies(server: HTTPServer, path: str) -> list[Any]:
    """The JSON bodies POSTed to ``path``."""
    return [
        json.loads(r.get_data()) for r, _ in server.log if r.path == path and r.method == "POST"
    ]


# -- the default profile ----------------------------------------------------------------------


def test_the_default_profile_is_the_sdks_own_contract() -> None:
    assert WireProfile() == DEFAULT_PROFILE
    assert DEFAULT_PROFILE.converter is sdk_converter  # the default path stays the fast one
    assert LexClient(client_id="c", client_secret="s").profile is DEFAULT_PROFILE
    names = DEFAULT_PROFILE.wire_names()
    assert set(names) == set(MODELS)
    assert names["TrackingMessage"]["document_url"] == "documentUrl"
    assert names["ShipmentEvent"]["business_reference"] == "businessReference"
    assert names["BusinessMessage"] == {
        "id": "messageId",
        "type": "messageType",
        "timestamp": "timestamp",
        "partner_id": "partnerId",
        "warehouse_id": "warehouseId",
        "payload": "payload",
    }
    assert names["OrderAddress"]["line1"] == "addressLine1"
    client = LexClient(client_id="c", client_secret="s")
    assert client.tracking.path == "lex-shipmenttracking-v1/shipment-tracking"
    assert client.orders.path == "/lex-orderexecution-v1/business-messages"


def test_names_equal_to_the_sdks_rename_nothing() -> None:
    same = WireProfile(renames={"TrackingMessage": {"document_url": "documentUrl"}})
    assert same.renames == {}
    assert same.converter is sdk_converter


# -- loading ----------------------------------------------------------------------------------


def test_a_profile_loads_from_json_and_from_toml(tmp_path: Path, profile: WireProfile) -> None:
    (tmp_path / "contract.json").write_text(json.dumps(CONTRACT), encoding="utf-8")
    (tmp_path / "contract.toml").write_text(CONTRACT_TOML, encoding="utf-8")
    assert WireProfile.load(tmp_path / "contract.json") == profile
    assert WireProfile.load(str(tmp_path / "contract.toml")) == profile


def test_toml_on_python_310_reads_with_tomli_or_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: WireProfile
) -> None:
    file = tmp_path / "contract.toml"
    file.write_text(CONTRACT_TOML, encoding="utf-8")
    # The standard library's reader (3.11+), or tomli itself (3.10, from the test extra).
    reader = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on 3.10: no tomllib
    monkeypatch.setitem(sys.modules, "tomli", reader)  # tomli, installed: the same API
    assert WireProfile.load(file) == profile
    monkeypatch.setitem(sys.modules, "tomli", None)  # neither
    with pytest.raises(ValidationError) as info:
        WireProfile.load(file)
    text = str(info.value)
    assert "tomli" in text
    assert "shiptrack-sdk[profile]" in text
    assert "JSON" in text


def test_the_client_takes_a_profile_its_file_or_its_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: WireProfile
) -> None:
    file = tmp_path / "contract.json"
    file.write_text(json.dumps(CONTRACT), encoding="utf-8")
    assert LexClient(client_id="c", client_secret="s", profile=profile).profile is profile
    assert LexClient(client_id="c", client_secret="s", profile=file).profile == profile
    monkeypatch.setenv("SHIPTRACK_LEX_PROFILE", str(file))
    client = LexClient(client_id="c", client_secret="s")
    assert client.profile == profile
    assert client.tracking.path == "partner/v2/shipment-tracking"
    assert client.orders.path == "/partner/v2/business-messages"
    with pytest.raises(ValidationError) as info:
        LexClient(client_id="c", client_secret="s", profile=42)  # type: ignore[arg-type]
    assert info.value.argument == "profile"


@pytest.mark.parametrize(
    ("settings", "argument", "says"),
    [
        ({"renames": {"Tracking": {"code": "x"}}}, "renames", "unknown model 'Tracking'"),
        ({"renames": {"Carrier": {"scac": "x"}}}, "renames.Carrier", "'scac' is not a field"),
        ({"renames": {"Carrier": {"extra": "x"}}}, "renames.Carrier", "not a field"),
        ({"renames": {"Carrier": {"id": ""}}}, "renames.Carrier.id", "non-empty string"),
        ({"renames": {"Carrier": {"id": 7}}}, "renames.Carrier.id", "non-empty string"),
        ({"renames": {"Carrier": {"id": "a\nb"}}}, "renames.Carrier.id", ""),
        ({"renames": {"Carrier": {"id": "name"}}}, "renames.Carrier", "both be 'name'"),
        ({"renames": ["Carrier"]}, "renames", "model names"),
        ({"required_parts": ["event", "consignee"]}, "required_parts", "consignee"),
        ({"required_parts": [1]}, "required_parts", "strings"),
        ({"document_required_codes": [""]}, "document_required_codes", "non-empty"),
        ({"tracking_path": "a path"}, "tracking_path", "spaces"),
        ({"orders_path": ""}, "orders_path", "non-empty"),
        ({"tracking_schema": {"type": 12}}, "tracking_schema", "not a valid JSON Schema"),
        ({"orders_schema": ["x"]}, "orders_schema", "JSON Schema"),
        ({"orders_schema": "missing.schema.json"}, "orders_schema", "cannot read"),
    ],
)
def test_a_bad_profile_is_refused_naming_what(
    settings: dict[str, Any], argument: str, says: str, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError) as info:
        WireProfile(**settings)
    assert info.value.argument == argument
    assert says in str(info.value)
    file = tmp_path / "contract.json"
    file.write_text(json.dumps(settings), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        WireProfile.load(file)  # the same, naming the file
    assert info.value.argument == argument
    assert str(file) in str(info.value)


def test_a_file_that_is_no_profile_is_refused(tmp_path: Path) -> None:
    cases = {
        "a.json": '{"renames": {}, "tracking_url": "x"}',
        "b.json": "[1, 2]",
        "c.json": "{not json",
        "d.toml": "renames = [",
        "e.yaml": "renames: {}",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(ValidationError) as info:
            WireProfile.load(tmp_path / name)
        assert name in str(info.value)
    with pytest.raises(ValidationError) as info:
        WireProfile.load(tmp_path / "absent.json")
    assert "cannot read" in str(info.value)


# -- tracking, written with the contract's names ------------------------------------------------


def test_tracking_messages_are_sent_with_the_contracts_names(
    gateway: HTTPServer, profile: WireProfile
) -> None:
    path = "/partner/v2/shipment-tracking"
    gateway.expect_request(path, method="POST").respond_with_json({"accepted": 1})
    delivered = message("LIV", document_url="https://pod.example.com/1.pdf")
    report = client_of(gateway, profile=profile).tracking.send([delivered])

    assert report.ok, report.errors
    (body,) = bodies(gateway, path)
    assert body == [delivered.to_wire(profile)]
    assert body[0] == {
        "event": {
            "eventCode": "LIV",
            "shipmentNumber": "0081234567",
            "occurredAt": "2024-05-14T06:00:00.000Z",
        },
        "podUrl": "https://pod.example.com/1.pdf",
        "consignee": {"partyCode": "C-778812"},
        "carrier": {"id": "TRANSPES"},
        "sender": {"partyCode": "TELIAE-ES"},
    }


def test_the_sdks_names_are_untouched_by_a_profile(profile: WireProfile) -> None:
    delivered = message("LIV", document_url="https://pod.example.com/1.pdf")
    assert "podUrl" in delivered.to_wire(profile)
    assert profile.converter is not sdk_converter
    wire = delivered.to_wire()
    assert wire["documentUrl"] == "https://pod.example.com/1.pdf"
    assert wire["event"]["code"] == "LIV"
    assert sdk_converter.unstructure(delivered) == wire


def test_messages_read_back_with_the_profile(profile: WireProfile) -> None:
    delivered = message("LIV", document_url="https://pod.example.com/1.pdf", extra={"mode": "R"})
    wire = delivered.to_wire(profile)
    assert profile.converter.structure(wire, TrackingMessage) == delivered
    assert sdk_converter.structure(delivered.to_wire(), TrackingMessage) == delivered


def test_equal_profiles_share_one_converter(profile: WireProfile) -> None:
    assert WireProfile(**CONTRACT).converter is profile.converter
    other = WireProfile(renames={"Carrier": {"id": "carrierCode"}})
    assert other.converter is not profile.converter


def test_the_profiles_parts_and_codes_are_checked_before_sending(
    gateway: HTTPServer, profile: WireProfile
) -> None:
    client = client_of(gateway, profile=profile)
    no_consignee = message(ship_to=None)
    returned = message("RES")  # RES needs a document under this contract
    with pytest.raises(ValidationError) as info:
        client.tracking.send([no_consignee, returned])
    assert info.value.problems == (
        ("messages[0].ship_to", "is required"),
        ("messages[1].document_url", "is required for event code 'RES' (proof of the event)"),
    )
    assert gateway.log == []  # nothing sent, not even for a token


def test_extra_may_not_shadow_a_field_under_its_contract_name(profile: WireProfile) -> None:
    validator = profile.validator()
    shadowing = message(extra={"podUrl": "https://pod.example.com/2.pdf"})
    assert validator.problems([shadowing]) == [
        (
            "messages[0].extra.podUrl",
            "is a field of the model; set the field instead of passing it in extra",
        )
    ]
    # The SDK's name is no field of this contract: extra may carry it.
    assert validator.problems([message(extra={"documentUrl": "x"})]) == []


# -- orders, read and written with the contract's names --------------------------------------


def test_business_messages_are_read_and_posted_with_the_contracts_names(
    gateway: HTTPServer, profile: WireProfile
) -> None:
    path = "/partner/v2/business-messages"
    page = [
        {
            "msgId": "M-1",
            "kind": "SHIPMENT_ORDER",
            "createdAt": "2024-09-01T08:00:00Z",
            "partnerId": "3PL-7",
            "payload": {"orderNo": "SO-1", "lines": [{"sku": "TYRE-205", "quantity": 4}]},
        }
    ]
    gateway.expect_request(path, method="GET").respond_with_json(page)
    gateway.expect_request(path, method="POST").respond_with_json(
        {"msgId": "M-2", "status": "ACCEPTED"}
    )
    client = client_of(gateway, profile=profile)

    (read,) = client.orders.fetch()
    assert (read.id, read.type, read.timestamp) == (
        "M-1",
        "SHIPMENT_ORDER",
        datetime(2024, 9, 1, 8, 0, tzinfo=timezone.utc),
    )
    assert read.extra == {}
    assert isinstance(read.payload, ShipmentOrder)
    assert read.payload.order_number == "SO-1"
    assert read.payload.lines[0].item == "TYRE-205"

    order = ShipmentOrder(order_number="SO-2", lines=(OrderLine(item="TYRE-225", quantity=2),))
    outgoing = BusinessMessage.create(MessageType.SHIPMENT_ORDER, order, id="M-2", timestamp=T0)
    result = client.orders.send(outgoing)
    (posted,) = bodies(gateway, path)
    assert posted == {
        "msgId": "M-2",
        "kind": "SHIPMENT_ORDER",
        "createdAt": "2024-05-14T06:00:00.000Z",
        "payload": {"orderNo": "SO-2", "lines": [{"sku": "TYRE-225", "quantity": 2}]},
    }
    assert posted == outgoing.to_wire(profile)
    assert result.status == "ACCEPTED"


def test_a_wrapped_single_message_is_recognised_by_its_contract_names(
    gateway: HTTPServer, profile: WireProfile
) -> None:
    path = "/partner/v2/business-messages"
    one = {"msgId": "M-9", "kind": "ORDER_STATUS", "createdAt": "2024-09-01T08:00:00Z"}
    gateway.expect_request(path, method="GET").respond_with_json(one)
    (read,) = client_of(gateway, profile=profile).orders.fetch()
    assert read.id == "M-9"


def test_a_mapping_posted_as_it_is_is_checked_with_the_contracts_names(
    gateway: HTTPServer, profile: WireProfile
) -> None:
    client = client_of(gateway, profile=profile)
    with pytest.raises(ValidationError) as info:
        client.orders.send({"messageId": "M-3", "messageType": "X", "payload": {}})
    assert {argument for argument, _ in info.value.problems} >= {"message.id", "message.type"}
    assert gateway.log == []


# -- JSON Schemas of the contract ---------------------------------------------------------------

EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["event", "podUrl"],
    "properties": {
        "event": {
            "type": "object",
            "properties": {"eventCode": {"enum": ["AAR", "LIV"]}},
        }
    },
}


def test_messages_that_do_not_match_the_contracts_schema_are_not_sent(
    gateway: HTTPServer, tmp_path: Path
) -> None:
    (tmp_path / "tracking.schema.json").write_text(json.dumps(EVENT_SCHEMA), encoding="utf-8")
    (tmp_path / "contract.json").write_text(
        json.dumps({**CONTRACT, "tracking_schema": "tracking.schema.json"}), encoding="utf-8"
    )
    profile = WireProfile.load(tmp_path / "contract.json")  # the schema beside the profile
    assert profile.tracking_schema == EVENT_SCHEMA
    client = client_of(gateway, profile=profile)
    fine = message("LIV", document_url="https://pod.example.com/1.pdf")
    no_pod = message("AAR")
    unknown = message("MLV", document_url="https://pod.example.com/3.pdf")
    with pytest.raises(ValidationError) as info:
        client.tracking.send([fine, no_pod, unknown])
    problems = info.value.problems
    assert [where for where, _ in problems] == ["messages[1]", "messages[2].event.eventCode"]
    assert "'podUrl' is a required property" in problems[0][1]
    assert "is not one of ['AAR', 'LIV']" in problems[1][1]
    assert gateway.log == []

    path = "/partner/v2/shipment-tracking"
    gateway.expect_request(path, method="POST").respond_with_json({"accepted": 1})
    assert client.tracking.send([fine]).ok


def test_a_schema_of_the_whole_body_checks_the_batch(gateway: HTTPServer) -> None:
    schema = {"type": "array", "maxItems": 1, "items": {"required": ["carrier"]}}
    profile = WireProfile(tracking_schema=schema)
    with pytest.raises(ValidationError) as info:
        client_of(gateway, profile=profile).tracking.send([message(), message(reference="2")])
    assert info.value.problems[0][0] == "messages"
    assert "is too long" in info.value.problems[0][1]


def test_business_messages_are_checked_against_the_orders_schema(gateway: HTTPServer) -> None:
    schema = {"type": "object", "required": ["warehouseId"]}
    client = client_of(gateway, profile=WireProfile(orders_schema=schema))
    outgoing = BusinessMessage.create("ITEM_MASTER", {"itemCode": "X"}, timestamp=T0)
    with pytest.raises(ValidationError) as info:
        client.orders.send(outgoing)
    assert info.value.argument == "message"
    assert "'warehouseId' is a required property" in str(info.value)
    assert gateway.log == []


def test_a_schema_needs_jsonschema_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jsonschema", None)
    with pytest.raises(ValidationError) as info:
        WireProfile(tracking_schema={"type": "object"})
    assert info.value.argument == "tracking_schema"
    assert "shiptrack-sdk[schema]" in str(info.value)


def test_the_profile_is_importable_from_the_lex_package() -> None:
    import shiptrack_sdk.lex

    assert shiptrack_sdk.lex.WireProfile is WireProfile  # type: ignore[attr-defined]
