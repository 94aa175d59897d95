"""The body that posts a LEX business message: built from a BusinessMessage or a wire-form
mapping, checked before anything is sent. Times without a UTC form, lone surrogates and NaN
are ValidationErrors naming the place, never builtin exceptions."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any

import pytest

from shiptrack_sdk import ValidationError
from shiptrack_sdk.lex import BusinessMessage, OrderStatus
from shiptrack_sdk.lex.order_models import message_body
from tests.conftest import load_fixture

WHEN = datetime(2024, 9, 3, 2, 15, tzinfo=timezone.utc)


def status_message(**changes: Any) -> BusinessMessage:
    fields: dict[str, Any] = {"id": "m-1", "timestamp": WHEN, **changes}
    return BusinessMessage.create("ORDER_STATUS", OrderStatus(order_number="1"), **fields)


def problems(message: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        message_body(message)
    str(info.value).encode("utf-8")  # the message itself can always be printed
    return list(info.value.problems)


def test_a_message_becomes_its_wire_form() -> None:
    body = message_body(status_message())
    assert body["messageId"] == "m-1"
    assert body["messageType"] == "ORDER_STATUS"
    json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")


def test_a_mapping_is_sent_as_given() -> None:
    sample = load_fixture("lex", "orders_post_order_status.json")
    assert message_body(sample) == sample


@pytest.mark.parametrize("when", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+14:00"])
def test_a_timestamp_without_a_utc_form_is_refused_by_its_name(when: str) -> None:
    message = status_message(timestamp=datetime.fromisoformat(when))
    assert problems(message) == [
        ("message.timestamp", "is out of range once converted to UTC (years 1 to 9999)")
    ]


def test_every_envelope_problem_at_once() -> None:
    message = BusinessMessage(id=" ", type="A\nB", timestamp=datetime(2024, 9, 3))
    assert problems(message) == [
        ("message.id", "must not be empty"),
        ("message.type", "must not contain control characters"),
        ("message.timestamp", "must be time-zone aware (e.g. datetime(..., tzinfo=timezone.utc))"),
        ("message.payload", "is required"),
    ]


def test_a_lone_surrogate_in_a_mapping_is_refused_by_its_path() -> None:
    sample = load_fixture("lex", "orders_post_order_status.json")
    sample["payload"] = {"lines": [{"note": "ok"}, {"note": "x\ud800"}]}
    ((where, problem),) = problems(sample)
    assert where == "message.payload.lines[1].note"
    assert "lone surrogates" in problem


def test_a_lone_surrogate_in_a_message_is_refused() -> None:
    ((where, problem),) = problems(status_message(extra={"comment": "\udc80"}))
    assert where == "message.comment"
    assert "lone surrogates" in problem
    ((where, _),) = problems(status_message(id="m-\ud800"))
    assert where == "message.id"


def test_nan_and_non_json_in_a_mapping() -> None:
    assert "not JSON data" in problems({"messageId": "x", "weight": math.nan})[0][1]
    assert "not JSON data" in problems({"messageId": "x", "when": WHEN})[0][1]


@pytest.mark.parametrize("batch", [[], (), set(), iter([])])
def test_one_message_per_call(batch: Any) -> None:
    assert problems(batch)[0] == (
        "message",
        "LEX takes one business message per call: call send() once per message",
    )


def test_neither_a_message_nor_a_mapping() -> None:
    assert problems("{}") == [("message", "expected a BusinessMessage or a mapping, got str")]
