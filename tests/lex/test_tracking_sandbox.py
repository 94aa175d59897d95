"""The sandbox's LEX tracking route behaves like a strict server, independently of the SDK's
own validator: raw bodies in, 400 with every problem out, nothing stored from a refused call."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from shiptrack_sdk.sandbox import Sandbox
from tests.conftest import load_fixture

PATH = "/lex/lex-shipmenttracking-v1/shipment-tracking"


def post(sb: Sandbox, body: Any, *, token: str | None = "", **kwargs: Any) -> requests.Response:
    if token == "":
        token = sb.lex_client().auth.access_token()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if "data" not in kwargs:
        kwargs["json"] = body
    return requests.post(sb.url + PATH, headers=headers, timeout=5, **kwargs)


def stored(sb: Sandbox) -> list[dict[str, Any]]:
    return sb.apps["lex"].tracking.accepted  # type: ignore[attr-defined, no-any-return]


def test_route_is_named() -> None:
    assert "lex.tracking.send" in Sandbox().route_names


def test_accepts_the_sample_body_and_stores_it_as_received(sb: Sandbox) -> None:
    body = load_fixture("lex", "tracking_request_body.json")
    response = post(sb, body)
    assert response.status_code == 200
    assert response.json() == {"accepted": 2}
    assert stored(sb) == body


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_needs_a_valid_bearer_token(sb: Sandbox, token: str | None) -> None:
    response = post(sb, load_fixture("lex", "tracking_request_body.json"), token=token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert stored(sb) == []


def test_refuses_a_body_that_is_not_a_json_array(sb: Sandbox) -> None:
    assert post(sb, {"event": {}}).status_code == 400
    assert post(sb, []).status_code == 400
    not_json = requests.post(
        sb.url + PATH,
        data=b"[{",
        headers={
            "Authorization": f"Bearer {sb.lex_client().auth.access_token()}",
            "Content-Type": "application/json",
        },
        timeout=5,
    )
    assert not_json.status_code == 400
    as_form = requests.post(
        sb.url + PATH,
        data={"a": "b"},
        headers={"Authorization": f"Bearer {sb.lex_client().auth.access_token()}"},
        timeout=5,
    )
    assert as_form.status_code == 415


def test_lists_every_problem_and_stores_nothing(sb: Sandbox) -> None:
    good = load_fixture("lex", "tracking_request_body.json")[0]
    body = [
        good,
        {"event": {"code": "", "occurredAt": "2024-05-14 07:42"}},
        {
            "event": {"code": "LIV", "businessReference": "R", "occurredAt": "2024-05-14T07:42Z"},
            "shipTo": {"address": {"countryCode": "ESP"}},
            "attributes": [{"name": "a", "value": 1}],
            "deliveryNotes": {"number": "x"},
        },
        "text",
    ]
    response = post(sb, body)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "400"
    assert error["errors"] == [
        {"path": "[1].event.code", "message": "is required (a non-empty string)"},
        {"path": "[1].event.businessReference", "message": "is required (a non-empty string)"},
        {"path": "[1].event.occurredAt", "message": "must be an ISO 8601 date-time with offset"},
        {"path": "[2].event.occurredAt", "message": "must be an ISO 8601 date-time with offset"},
        {"path": "[2].documentUrl", "message": "is required for event code LIV"},
        {"path": "[2].shipTo.address.countryCode", "message": "must be an ISO 3166-1 alpha-2 code"},
        {"path": "[2].attributes[0].value", "message": "must be a string"},
        {"path": "[2].deliveryNotes", "message": "must be an array"},
        {"path": "[3]", "message": "must be an object"},
    ]
    assert error["message"] == "9 invalid field(s)"
    assert stored(sb) == []


def test_limits_the_messages_per_call(sb: Sandbox) -> None:
    good = load_fixture("lex", "tracking_request_body.json")[0]
    assert post(sb, [good] * 1001).status_code == 413
    assert post(sb, [good] * 1000).status_code == 200


def test_document_required_codes_are_configurable_and_reset(sb: Sandbox) -> None:
    part = sb.apps["lex"].tracking  # type: ignore[attr-defined]
    message = {
        "event": {"code": "POD", "businessReference": "R", "occurredAt": "2024-05-14T07:42:00Z"}
    }
    assert post(sb, [message]).status_code == 200
    part.document_required_codes = frozenset({"POD"})
    assert post(sb, [message]).status_code == 400
    sb.reset()
    assert part.document_required_codes == frozenset({"LIV"})
    assert stored(sb) == []


def test_the_sandbox_reports_an_objects_problems_in_a_fixed_order() -> None:
    """The order of the fields named, whatever the order of the body's keys."""
    from shiptrack_sdk.lex._sandbox_tracking import _Check

    check = _Check(frozenset())
    check.message(
        "[0]",
        {
            "event": {"type": 5, "code": "", "occurredAt": "2024-05-14T06:00:00Z"},
            "shipTo": {"email": "", "id": ""},
        },
    )
    assert [(e["path"], e["message"]) for e in check.errors] == [
        ("[0].event.code", "is required (a non-empty string)"),
        ("[0].event.businessReference", "is required (a non-empty string)"),
        ("[0].event.type", "must be a non-empty string"),
        ("[0].shipTo.id", "must be a non-empty string"),
        ("[0].shipTo.email", "must be a non-empty string"),
    ]
