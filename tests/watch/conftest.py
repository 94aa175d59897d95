"""Fixtures of the watcher's tests: a clock the test moves, clients of the sandbox the tests share,
and a watcher over a store in the test's own folder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from shiptrack_sdk.models import TrackingEvent
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.watch import Watcher

#: A Saturday, 08:00 UTC: Shiplemon's next slot is 08:05.
T0 = datetime(2024, 9, 7, 8, 0, tzinfo=timezone.utc)


class Clock:
    """The watcher's clock, moved by the test."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clients(sb: Sandbox) -> Iterator[dict[str, Any]]:
    """A Shiplemon and an exporto client of the sandbox, retrying nothing (a fault is seen
    at once)."""
    made = {name: sb.client(name, max_retries=0) for name in ("shiplemon", "exporto")}
    yield made
    for client in made.values():
        client.close()


@pytest.fixture
def watcher(tmp_path: Path, clients: dict[str, Any], clock: Clock) -> Iterator[Watcher]:
    with Watcher(tmp_path / "watch.sqlite", clients=clients, clock=clock) as made:
        yield made


def gain_event(
    clients: dict[str, Any], shipment_id: str, status: str, at: datetime, details: str
) -> None:
    """The carrier puts the shipment's whole history, with one event more
    (``PUT /v1/shipments/{id}/tracking``)."""
    shiplemon = clients["shiplemon"]
    history = list(shiplemon.tracking.get(shipment_id).to_tracking().events)
    history.append(TrackingEvent(status, at, details))
    shiplemon.tracking.update(shipment_id, history)
