"""The store: each event known by a key stable across polls, due shipments chosen through the
index, a file that is not a store refused."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from shiptrack_sdk.errors import ValidationError
from shiptrack_sdk.models import Tracking, TrackingEvent
from shiptrack_sdk.watch import Watcher, WatchStoreError
from shiptrack_sdk.watch.model import event_keys, tracking_data, tracking_from_data

from .conftest import T0, Clock

WHEN = datetime(2024, 9, 2, 15, 30, tzinfo=timezone.utc)


def tracking(*events: TrackingEvent, status: str = "TRANSIT") -> Tracking:
    return Tracking("shiplemon", "S1", status, events=events)


def test_an_event_key_is_its_providers_values_not_the_sdks_reading_of_them() -> None:
    unknown = TrackingEvent("UNKNOWN", WHEN, "Picked up", provider_status="PICKED")
    mapped = TrackingEvent("TRANSIT", WHEN, "Picked up", provider_status="PICKED")
    # A newer status mapping reads the same event otherwise: it is the same event.
    assert event_keys(tracking(unknown)) == event_keys(tracking(mapped))
    # Whatever is the provider's own is part of it.
    other = TrackingEvent("TRANSIT", WHEN, "Picked up at hub", provider_status="PICKED")
    later = TrackingEvent("TRANSIT", WHEN.replace(minute=31), "Picked up", provider_status="PICKED")
    keys = {event_keys(tracking(e))[0] for e in (mapped, other, later)}
    assert len(keys) == 3
    # The same step sent twice is stored twice, told apart by its rank.
    twice = event_keys(tracking(mapped, mapped))
    assert twice[1] == twice[0] + ".1"
    # Another shipment's event is another event.
    assert event_keys(Tracking("shiplemon", "S2", "TRANSIT", events=[mapped])) != twice[:1]


def test_a_tracking_survives_the_store_whole() -> None:
    original = Tracking(
        "exporto",
        "S-1",
        "UNKNOWN",
        events=[TrackingEvent("TRANSIT", WHEN.replace(microsecond=123456), "Scan", location="X")],
        provider_status="weird",
        carrier="Carrier",
        tracking_ref="REF",
        tracking_url="https://example.com/t",
        estimated_delivery=WHEN,
    )
    assert tracking_from_data(tracking_data(original)) == original


def test_due_shipments_are_chosen_through_the_index(tmp_path: Path) -> None:
    with Watcher(tmp_path / "w.sqlite", clock=Clock()) as watcher:
        plan = watcher.store.read(
            "EXPLAIN QUERY PLAN SELECT shipment_id FROM shipments WHERE provider = ?"
            " AND due_at <= ? ORDER BY due_at LIMIT ?",
            ("shiplemon", T0.timestamp(), 1000),
        )
        assert "shipments_due" in " ".join(str(row[-1]) for row in plan)
        added = watcher.add_many([("shiplemon", f"S{i}") for i in range(5)])
        assert added == 5
        assert watcher.add_many([("shiplemon", "S1"), ("exporto", "S1")]) == 1
        assert [sid for _, sid in watcher.store.due("shiplemon", T0, 3)] == ["S0", "S1", "S2"]
        assert watcher.store.count_due("exporto", T0) == 1


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(WatchStoreError, match="not a watcher's store"):
        Watcher(other)
    newer = tmp_path / "newer.sqlite"
    Watcher(newer).close()
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version=99")
    with pytest.raises(WatchStoreError, match="newer version"):
        Watcher(newer)
    closed = Watcher(tmp_path / "closed.sqlite")
    closed.close()
    with pytest.raises(WatchStoreError, match="closed"):
        closed.shipments()


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda w: w.add("nowhere", "S1"), "provider"),
        (lambda w: w.add("lex", "S1"), "provider"),  # sends, tracks nothing by id
        (lambda w: w.add("shiplemon", ""), "shipment_id"),
        (lambda w: w.add("shiplemon", "S1", labels={"k": 1}), "labels['k']"),
        (lambda w: w.add_many("shiplemon"), "items"),
        (lambda w: w.add_many([("shiplemon",)]), "items[0]"),
        (lambda w: w.shipments(status="LOST"), "status"),
        (lambda w: w.pending(limit=0), "limit"),
        (lambda w: w.deliver("print"), "handler"),
        (lambda w: w.acknowledge(["x"]), "changes[0]"),
        (lambda w: w.status(errors=-1), "errors"),
        (lambda w: w.run(max_wait=0), "max_wait"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call: object, argument: str) -> None:
    with Watcher(":memory:") as watcher:
        with pytest.raises(ValidationError) as caught:
            call(watcher)  # type: ignore[operator]
        assert caught.value.argument == argument


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"store": ""}, "store"),
        ({"store": "file:x?mode=memory"}, "store"),
        ({"clients": ["x"]}, "clients"),
        ({"clients": {"nowhere": object()}}, "provider"),
        ({"fetch": "x"}, "fetch"),
        ({"schedule": "x"}, "schedule"),
        ({"clock": "x"}, "clock"),
    ],
)
def test_bad_watcher_settings_are_refused(kwargs: dict[str, object], argument: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Watcher(**kwargs)  # type: ignore[arg-type]
    assert caught.value.argument == argument
