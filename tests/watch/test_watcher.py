"""The watcher over real HTTP against the sandbox: what a poll stores and hands over, the
schedule, back-off, retirement, followed tours and the store's status."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from shiptrack_sdk.models import TrackingStatus
from shiptrack_sdk.sandbox import Sandbox
from shiptrack_sdk.watch import Backoff, Interval, Schedule, TrackingChange, Watcher

from .conftest import T0, Clock, gain_event

IN_TRANSIT = "6650a1f2c3d4e5f601234567"  # Shiplemon, out for delivery: 4 events
AWAITING = "6650a1f2c3d4e5f601234569"  # Shiplemon, a voucher awaiting drop-off: 1 event
DELIVERED = "S-240906-1000"  # exporto, delivered: 4 events
PROCESSED = "S-240906-1017"  # exporto, processed and declared: 2 events


def gets(sb: Sandbox, provider: str) -> int:
    """How many tracking reads ``provider`` answered so far."""
    path = (
        "/shiplemon/public/v1/shipments/*" if provider == "shiplemon" else "/exporto/v1/shipment/*"
    )
    return len(sb.calls(path, "GET"))


def test_a_first_poll_hands_over_every_event_once_per_shipment(
    watcher: Watcher, sb: Sandbox
) -> None:
    assert watcher.add("shiplemon", IN_TRANSIT, labels={"order": "A-1"})
    assert watcher.add("exporto", DELIVERED)
    assert not watcher.add("exporto", DELIVERED)  # already watched
    changes = watcher.poll()
    assert sorted((c.provider, c.shipment_id) for c in changes) == [
        ("exporto", DELIVERED),
        ("shiplemon", IN_TRANSIT),
    ]
    by_id = {c.shipment_id: c for c in changes}
    first = by_id[IN_TRANSIT]
    assert first.status_before is None
    assert first.status_after is TrackingStatus.TRANSIT
    assert first.new_events == first.tracking.events
    assert len(first.new_events) == 4
    assert first.labels == {"order": "A-1"}
    assert first.key == f"shiplemon:{IN_TRANSIT}#{first.id}"
    assert by_id[DELIVERED].status_after is TrackingStatus.DELIVERED
    assert [c.id for c in watcher.pending()] == sorted(c.id for c in changes)
    # Nothing is due before the next slot: nothing is fetched, nothing changes.
    before = gets(sb, "shiplemon") + gets(sb, "exporto")
    assert watcher.poll() == []
    assert gets(sb, "shiplemon") + gets(sb, "exporto") == before


def test_a_new_event_is_handed_over_alone_with_the_status_before_and_after(
    watcher: Watcher, sb: Sandbox, clients: dict[str, Any], clock: Clock
) -> None:
    watcher.add("shiplemon", IN_TRANSIT)
    watcher.add("exporto", PROCESSED)
    watcher.acknowledge(watcher.poll())
    delivered = datetime(2024, 9, 7, 8, 2, tzinfo=timezone.utc)
    gain_event(clients, IN_TRANSIT, "DELIVERED", delivered, "Delivered to recipient")
    clock.advance(minutes=5)  # 08:05, Shiplemon's slot; exporto is due at 08:30
    exporto_reads = gets(sb, "exporto")
    [change] = watcher.poll()
    assert gets(sb, "exporto") == exporto_reads
    assert (change.provider, change.shipment_id) == ("shiplemon", IN_TRANSIT)
    assert change.status_before is TrackingStatus.TRANSIT
    assert change.status_after is TrackingStatus.DELIVERED
    assert [e.description for e in change.new_events] == ["Delivered to recipient"]
    assert len(change.tracking.events) == 5
    # Read again with nothing new: no change.
    clock.advance(minutes=30)
    assert watcher.poll() == []
    assert gets(sb, "exporto") == exporto_reads + 1


def test_a_change_is_acknowledged_only_once_its_handler_returns(
    tmp_path: Path, clients: dict[str, Any], clock: Clock
) -> None:
    path = tmp_path / "watch.sqlite"
    handed: list[int] = []

    def flaky(change: TrackingChange) -> None:
        handed.append(change.id)
        if len(handed) == 2:
            raise RuntimeError("the downstream system is down")

    with Watcher(path, clients=clients, clock=clock) as watcher:
        watcher.add_many([("shiplemon", IN_TRANSIT), ("shiplemon", AWAITING)])
        watcher.add("exporto", DELIVERED)
        ids = sorted(c.id for c in watcher.poll())
        with pytest.raises(RuntimeError):
            watcher.deliver(flaky)
        assert handed == ids[:2]
        assert [c.id for c in watcher.pending()] == ids[1:]
    # Another process, later: what was acknowledged is not handed over again.
    with Watcher(path, clients=clients, clock=clock) as watcher:
        assert watcher.deliver(lambda change: handed.append(change.id)) == 2
        assert handed == [ids[0], ids[1], ids[1], ids[2]]
        assert watcher.pending() == []
        assert watcher.deliver(handed.append) == 0


def test_poll_with_a_handler_hands_over_earlier_changes_first(
    watcher: Watcher, clients: dict[str, Any], clock: Clock
) -> None:
    watcher.add("shiplemon", IN_TRANSIT)
    earlier = watcher.poll()
    gain_event(clients, IN_TRANSIT, "DELIVERED", T0, "Delivered")
    clock.advance(minutes=5)
    handed: list[TrackingChange] = []
    found = watcher.poll(handed.append)
    assert [c.id for c in handed] == [earlier[0].id, found[0].id]
    assert watcher.acknowledge(earlier) == 0  # already acknowledged by the handler


def test_a_delivered_shipment_is_retired_after_the_grace_period(
    tmp_path: Path, clients: dict[str, Any], clock: Clock, sb: Sandbox
) -> None:
    schedule = Schedule(
        cadences={"exporto": Interval(timedelta(minutes=30))}, retire_after=timedelta(hours=1)
    )
    with Watcher(tmp_path / "w.sqlite", clients=clients, clock=clock, schedule=schedule) as w:
        w.add("exporto", DELIVERED)
        w.add("exporto", PROCESSED)
        w.poll()
        for _ in range(2):  # 08:30, 09:00: delivered for an hour at 09:00
            clock.advance(minutes=30)
            w.poll()
        [retired] = w.shipments(status="RETIRED")
        assert retired.shipment_id == DELIVERED
        assert retired.retired_at == clock.now
        assert retired.due_at is None
        assert retired.status is TrackingStatus.DELIVERED
        reads = gets(sb, "exporto")
        clock.advance(minutes=30)
        w.poll()
        assert gets(sb, "exporto") == reads + 1  # the other one only
        assert w.status().counts["exporto"] == {"RETIRED": 1, "TRANSIT": 1}
        # Added again, it is watched again, with its history.
        assert not w.add("exporto", DELIVERED)
        assert w.shipments(status="RETIRED") == []
        clock.advance(minutes=1)
        assert w.poll() == []  # nothing new about it


def test_a_failing_provider_is_backed_off_while_the_others_go_on(
    watcher: Watcher, sb: Sandbox, clock: Clock
) -> None:
    watcher.schedule = Schedule(
        cadences={"shiplemon": Interval(timedelta(seconds=10))},
        default=Interval(timedelta(seconds=10)),
        backoff=Backoff(first=timedelta(minutes=1), cap=timedelta(minutes=3)),
    )
    sb.fault(route="shiplemon.tracking.get", status=503, times=None)
    watcher.add_many([("shiplemon", IN_TRANSIT), ("shiplemon", AWAITING)])
    watcher.add("exporto", PROCESSED)
    [change] = watcher.poll()
    assert change.provider == "exporto"
    state = {p.provider: p for p in watcher.status().providers}["shiplemon"]
    assert state.failures == 1
    assert state.backoff_until == T0 + timedelta(minutes=1)
    # Backed off: not fetched, while exporto is.
    reads, exporto_reads = gets(sb, "shiplemon"), gets(sb, "exporto")
    clock.advance(seconds=30)
    watcher.poll()
    assert gets(sb, "shiplemon") == reads
    assert gets(sb, "exporto") == exporto_reads + 1
    # Still failing once the back-off ends: twice as long, then capped.
    for minutes, failures in ((2, 2), (3, 3), (3, 4)):
        clock.now = state.backoff_until or clock.now
        watcher.poll()
        state = {p.provider: p for p in watcher.status().providers}["shiplemon"]
        assert state.failures == failures
        assert state.backoff_until == clock.now + timedelta(minutes=minutes)
    sb.clear_faults()
    clock.now = state.backoff_until or clock.now
    assert sorted(c.shipment_id for c in watcher.poll()) == [IN_TRANSIT, AWAITING]
    state = {p.provider: p for p in watcher.status().providers}["shiplemon"]
    assert state.failures == 0
    assert state.backoff_until is None
    errors = watcher.status().recent_errors
    assert errors[0].provider == "shiplemon"
    assert "ServerError" in errors[0].error


def test_a_rate_limit_backs_the_provider_off_as_long_as_it_asks(
    watcher: Watcher, sb: Sandbox
) -> None:
    sb.fault(route="shiplemon.tracking.get", status=429, retry_after=600, times=None)
    watcher.add("shiplemon", IN_TRANSIT)
    assert watcher.poll() == []
    state = {p.provider: p for p in watcher.status().providers}["shiplemon"]
    assert state.backoff_until == T0 + timedelta(seconds=600)


def test_a_shipment_that_fails_alone_does_not_back_its_provider_off(
    watcher: Watcher, clock: Clock
) -> None:
    watcher.add_many([("shiplemon", "no-such-shipment"), ("shiplemon", IN_TRANSIT)])
    [change] = watcher.poll()
    assert change.shipment_id == IN_TRANSIT
    status = watcher.status()
    assert {p.provider: p.failures for p in status.providers}["shiplemon"] == 0
    assert status.recent_errors[0].shipment_id == "no-such-shipment"
    assert "NotFoundError" in status.recent_errors[0].error
    [missing] = [s for s in watcher.shipments("shiplemon") if s.errors]
    assert missing.due_at == clock.now.replace(minute=5)  # its next turn
    assert missing.last_error is not None
    assert "404" in missing.last_error


def test_followed_tours_bring_their_shipments_in_once(
    watcher: Watcher, sb: Sandbox, clock: Clock
) -> None:
    exporto: Any = sb.apps["exporto"]
    watcher.follow_tours("exporto", since=date(2024, 9, 6), labels={"account": "demo"})
    changes = watcher.poll()
    tour = exporto.tours["T-20240906"]["shipmentIds"]
    assert sorted(c.shipment_id for c in changes) == sorted(tour)
    assert all(c.labels == {"account": "demo", "tour": "T-20240906"} for c in changes)
    # Listed again only after tours_every; a new tour then joins, one listed by tracking
    # numbers too.
    by_id = exporto.add_tour(3)
    by_number = exporto.add_tour(2, listed_by="foreignOutboundTrackingIds")
    clock.advance(minutes=10)
    assert watcher.poll() == []
    clock.advance(minutes=20)
    joined = {c.shipment_id: c.labels["tour"] for c in watcher.poll()}
    numbers = exporto.tours[by_number]["foreignOutboundTrackingIds"]
    assert sorted(joined.values()) == sorted([by_id] * 3 + [by_number] * 2)
    assert {
        exporto.shipments[sid]["foreignOutboundTrackingId"]
        for sid, tour_id in joined.items()
        if tour_id == by_number
    } == set(numbers)
    clock.advance(minutes=30)
    assert all(c.labels.get("tour") != "T-20240906" for c in watcher.poll())
    # Unfollowed: no listing any more; the shipments that joined stay.
    assert watcher.unfollow_tours("exporto")
    assert not watcher.unfollow_tours("exporto")
    exporto.add_tour(4)
    listings = len(sb.calls("/exporto/v1/tour", "GET"))
    clock.advance(hours=1)
    watcher.poll()
    assert len(sb.calls("/exporto/v1/tour", "GET")) == listings
    assert len(watcher.shipments("exporto")) == len(tour) + 5


def test_a_provider_without_tours_cannot_be_followed(watcher: Watcher) -> None:
    from shiptrack_sdk.errors import ValidationError

    with pytest.raises(ValidationError, match="no tours"):
        watcher.follow_tours("shiplemon")


def test_status_counts_shipments_due_changes_and_errors(watcher: Watcher, clock: Clock) -> None:
    watcher.add_many([("shiplemon", IN_TRANSIT), ("shiplemon", "missing"), ("exporto", PROCESSED)])
    assert watcher.status().counts == {"shiplemon": {"NEW": 2}, "exporto": {"NEW": 1}}
    assert watcher.status().due == {"shiplemon": 2, "exporto": 1}
    watcher.poll()
    status = watcher.status()
    assert status.counts == {"shiplemon": {"NEW": 1, "TRANSIT": 1}, "exporto": {"TRANSIT": 1}}
    assert status.due == {"shiplemon": 0, "exporto": 0}
    assert status.pending_changes == 2
    assert status.last_poll == clock.now
    assert status.watched == 3
    assert [e.shipment_id for e in status.recent_errors] == ["missing"]
    assert {p.provider: p.cadence for p in status.providers} == {
        "shiplemon": "at :05, :35 each hour",
        "exporto": "every 0:30:00",
    }
    clock.advance(minutes=31)
    assert watcher.status().due == {"shiplemon": 2, "exporto": 1}
    data = status.to_dict()
    assert data["counts"]["exporto"] == {"TRANSIT": 1}


def test_removed_shipments_are_no_longer_fetched(watcher: Watcher, sb: Sandbox) -> None:
    watcher.add("shiplemon", IN_TRANSIT)
    [change] = watcher.poll()
    assert watcher.remove("shiplemon", IN_TRANSIT)
    assert not watcher.remove("shiplemon", IN_TRANSIT)
    assert watcher.shipments() == []
    assert [c.id for c in watcher.pending()] == [change.id]  # still handed over


def test_clients_come_from_the_environment_by_default(
    tmp_path: Path, sb: Sandbox, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    for name, value in sb.environment().items():
        monkeypatch.setenv(name, value)
    watcher = Watcher(tmp_path / "w.sqlite", clock=clock)
    watcher.add("shiplemon", IN_TRANSIT)
    watcher.add("exporto", PROCESSED)
    assert len(watcher.poll()) == 2  # fetched through shiptrack_sdk.track_many
    made = [watcher.client("shiplemon"), watcher.client("exporto")]
    watcher.close()
    assert all(client.closed for client in made)
