"""exporto's carrierState mapping: data, case-insensitive, covering every sample and seed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from shiptrack_sdk import TrackingStatus
from shiptrack_sdk.exporto import STATUS_MAP
from shiptrack_sdk.exporto._sandbox import SEED_SHIPMENTS, SEED_TOURS, _generated
from tests.conftest import FIXTURES

#: The one seeded value left unmapped on purpose (it shows the UNKNOWN path).
DELIBERATELY_UNKNOWN = {"address_research"}


def test_the_publicly_seen_value() -> None:
    assert STATUS_MAP.normalize("delivered") is TrackingStatus.DELIVERED


def test_every_value_has_a_description_and_a_real_status() -> None:
    assert set(STATUS_MAP.descriptions) == set(STATUS_MAP)
    assert TrackingStatus.UNKNOWN not in STATUS_MAP.values()
    assert set(STATUS_MAP.values()) == {
        TrackingStatus.PRE_TRANSIT,
        TrackingStatus.TRANSIT,
        TrackingStatus.DELIVERED,
        TrackingStatus.EXCEPTION,
    }


@pytest.mark.parametrize("value", ["DELIVERED", "Delivered", "delivered"])
def test_case_insensitive(value: str) -> None:
    assert STATUS_MAP.normalize(value) is TrackingStatus.DELIVERED


def test_none_is_unknown_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="shiptrack_sdk")
    assert STATUS_MAP.normalize(None) is TrackingStatus.UNKNOWN
    assert not caplog.records


def test_fixture_values_are_mapped(load: Callable[[str], Any]) -> None:
    values = set()
    for path in (FIXTURES / "exporto").glob("shipment*.json"):
        state = load(path.name).get("carrierState")
        if state:
            values.add(state)
    for entry in load("search_page.json"):
        values.add(entry["carrierState"])
    assert values
    for value in values:
        assert STATUS_MAP.normalize(value) is not TrackingStatus.UNKNOWN, value


def test_sandbox_values_are_mapped() -> None:
    shipments = list(SEED_SHIPMENTS) + [
        _generated(day, n) for day, _ in SEED_TOURS for n in range(20)
    ]
    states = {s["carrierState"] for s in shipments if s["carrierState"]}
    assert states >= DELIBERATELY_UNKNOWN
    for value in states - DELIBERATELY_UNKNOWN:
        assert STATUS_MAP.normalize(value) is not TrackingStatus.UNKNOWN, value


def test_an_unknown_state_is_warned_about_once_whatever_its_case(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="shiptrack_sdk")
    for value in ("Held_By_Customs_Test", "HELD_BY_CUSTOMS_TEST", "held_by_customs_test"):
        assert STATUS_MAP.normalize(value) is TrackingStatus.UNKNOWN
    warned = [r for r in caplog.records if "held_by_customs_test" in r.getMessage().lower()]
    assert len(warned) == 1
