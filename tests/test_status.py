"""Status maps: provider values to the normalized status, unknown never raising."""

from __future__ import annotations

import logging
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiptrack_sdk import TrackingStatus
from shiptrack_sdk._core.status import StatusMap


def make_map(*, case_sensitive: bool = True) -> StatusMap:
    return StatusMap(
        "acme",
        "state",
        {
            "CREATED": TrackingStatus.PRE_TRANSIT,
            "IN_TRANSIT": TrackingStatus.TRANSIT,
            "DELIVERED": TrackingStatus.DELIVERED,
            "RETURNED": TrackingStatus.EXCEPTION,
        },
        descriptions={"CREATED": "label printed"},
        case_sensitive=case_sensitive,
    )


def test_known_values_map_to_their_status() -> None:
    status_map = make_map()
    assert status_map.normalize("CREATED") is TrackingStatus.PRE_TRANSIT
    assert status_map.normalize("IN_TRANSIT") is TrackingStatus.TRANSIT
    assert status_map.normalize("DELIVERED") is TrackingStatus.DELIVERED
    assert status_map.normalize("RETURNED") is TrackingStatus.EXCEPTION


def test_it_is_a_read_only_mapping_with_descriptions() -> None:
    status_map = make_map()
    assert len(status_map) == 4
    assert list(status_map) == ["CREATED", "IN_TRANSIT", "DELIVERED", "RETURNED"]
    assert status_map["DELIVERED"] is TrackingStatus.DELIVERED
    assert dict(status_map)["RETURNED"] is TrackingStatus.EXCEPTION
    assert status_map.descriptions == {"CREATED": "label printed"}
    assert (status_map.provider, status_map.field) == ("acme", "state")
    assert repr(status_map) == "StatusMap('acme', 'state', 4 values)"
    with pytest.raises(TypeError):
        status_map["NEW"] = TrackingStatus.TRANSIT  # type: ignore[index]


def test_case_sensitive_by_default() -> None:
    assert make_map().normalize("delivered") is TrackingStatus.UNKNOWN


def test_case_insensitive_when_asked() -> None:
    status_map = make_map(case_sensitive=False)
    assert status_map.normalize("delivered") is TrackingStatus.DELIVERED
    assert status_map.normalize("In_Transit") is TrackingStatus.TRANSIT


def test_none_is_unknown_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="shiptrack_sdk"):
        assert make_map().normalize(None) is TrackingStatus.UNKNOWN
    assert caplog.records == []


def test_unknown_value_is_unknown_and_logged_once_per_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    status_map = make_map()
    with caplog.at_level(logging.WARNING, logger="shiptrack_sdk"):
        for _ in range(3):
            assert status_map.normalize("LOST_IN_SPACE") is TrackingStatus.UNKNOWN
        assert status_map.normalize("HELD_AT_CUSTOMS") is TrackingStatus.UNKNOWN
    messages = [r.getMessage() for r in caplog.records if r.name == "shiptrack_sdk"]
    assert len(messages) == 2
    assert "acme" in messages[0]
    assert "state" in messages[0]
    assert "'LOST_IN_SPACE'" in messages[0]
    assert "'HELD_AT_CUSTOMS'" in messages[1]
    assert all(r.levelno == logging.WARNING for r in caplog.records)


def test_unknown_value_logged_once_across_threads(caplog: pytest.LogCaptureFixture) -> None:
    status_map = make_map()
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(50):
            status_map.normalize("NEW_VALUE")

    with caplog.at_level(logging.WARNING, logger="shiptrack_sdk"):
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len([r for r in caplog.records if "NEW_VALUE" in r.getMessage()]) == 1


@given(st.text(), st.booleans())
@settings(max_examples=200, deadline=None)
def test_normalize_never_raises_on_any_text(value: str, case_sensitive: bool) -> None:
    status = make_map(case_sensitive=case_sensitive).normalize(value)
    assert isinstance(status, TrackingStatus)
    if value not in ("CREATED", "IN_TRANSIT", "DELIVERED", "RETURNED") and case_sensitive:
        assert status is TrackingStatus.UNKNOWN


def test_case_insensitive_map_warns_once_per_case_folded_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    status_map = make_map(case_sensitive=False)
    with caplog.at_level(logging.WARNING, logger="shiptrack_sdk"):
        for value in ("Lost_In_Space", "LOST_IN_SPACE", "lost_in_space", "Held", "HELD"):
            assert status_map.normalize(value) is TrackingStatus.UNKNOWN
    messages = [r.getMessage() for r in caplog.records if r.name == "shiptrack_sdk"]
    assert len(messages) == 2
    assert "'Lost_In_Space'" in messages[0]  # the value as first seen
    assert "'Held'" in messages[1]


def test_case_sensitive_map_warns_for_each_spelling(caplog: pytest.LogCaptureFixture) -> None:
    status_map = make_map()
    with caplog.at_level(logging.WARNING, logger="shiptrack_sdk"):
        for value in ("Lost", "LOST", "Lost"):
            status_map.normalize(value)
    assert len([r for r in caplog.records if r.name == "shiptrack_sdk"]) == 2
