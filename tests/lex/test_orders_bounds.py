"""``client.orders.iter_messages`` and the timestamps it cannot trust: dated past the horizon
(2099), before the floor (year 1), null or unreadable.

The promises under test:

* every such message is delivered, once per run, and never moves the cursor: the cursor stays
  within [floor, horizon], so one bad timestamp neither stops the drain nor wedges it;
* a run after a complete one delivers nothing again (the checkpoint keeps their keys);
* after a crash, at most the page in progress comes again.

The property test serves arbitrary feeds from a fake server (no HTTP): ties in a new order at
every request, a bound that includes ``minTimestamp`` or excludes it, and bad timestamps
placed anywhere. The examples run over real HTTP against the sandbox where it can serve them.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shiptrack_sdk import LexClient, ResponseError, ValidationError
from shiptrack_sdk.lex import CheckpointError, Cursor, FileCheckpoint, MemoryCheckpoint
from shiptrack_sdk.lex._sandbox_orders import ORDERS_PATH, OrdersPart
from shiptrack_sdk.lex.order_models import BusinessMessage, message_key, read_message
from shiptrack_sdk.lex.orders import MAX_FETCH_SIZE
from shiptrack_sdk.sandbox import Sandbox

PATH = "/lex" + ORDERS_PATH
UTC = timezone.utc
US = timedelta(microseconds=1)


def orders_part(sb: Sandbox) -> OrdersPart:
    return cast(OrdersPart, sb.apps["lex"].orders)  # type: ignore[attr-defined]


def wire(message_id: str, timestamp: Any) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "messageType": "ITEM_MASTER",
        "timestamp": timestamp,
        "payload": {"itemCode": message_id},
    }


class Crash(Exception):
    """The caller's process dying while it handles a message."""


# -- a fake LEX: arbitrary feeds, both bound readings, ties in any order --------------------------


@contextmanager
def quiet() -> Iterator[None]:
    # Every bad timestamp is logged at WARNING; thousands of examples need not be.
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


@attrs.frozen
class Item:
    """One message of a fake feed: what the server answers, and where it files it (``at``,
    epoch microseconds, what it filters and orders by; ``None``: served first, always, as a
    server whose filter lets a null timestamp through would)."""

    wire: dict[str, Any]
    at: int | None
    # The message as the SDK reads it, once (frozen: the same object can be served again).
    message: BusinessMessage = attrs.field(init=False, eq=False)
    key: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        with quiet():
            message = read_message(self.wire)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "key", message_key(message))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(value: datetime) -> int:
    return (value - EPOCH) // US


class FakeLex:
    """Answers ``client.orders._fetch(size, bound, timeout)`` from ``items``: those filed at or
    after the bound (``inclusive``) or after it, by filing time, ties in a new order each time
    when ``rng`` is given."""

    def __init__(
        self, items: list[Item], *, inclusive: bool = True, rng: random.Random | None = None
    ) -> None:
        self.items = items
        self.inclusive = inclusive
        self.rng = rng
        self.bounds: list[datetime | None] = []

    def fetch(
        self, size: int, bound: datetime | None, timeout: Any = None
    ) -> list[BusinessMessage]:
        self.bounds.append(bound)
        chosen = list(self.items)
        if bound is not None:
            low = micros(bound)
            chosen = [
                i for i in chosen if i.at is None or (i.at >= low if self.inclusive else i.at > low)
            ]
        rng = self.rng
        chosen.sort(
            key=lambda i: (-(2**80) if i.at is None else i.at, rng.random() if rng else 0.0)
        )
        return [i.message for i in chosen[:size]]


def fake_client(server: FakeLex) -> LexClient:
    client = LexClient(client_id="c", client_secret="s", max_retries=0)
    client.orders._fetch = server.fetch  # type: ignore[method-assign]
    return client


# -- the defects, each as first found --------------------------------------------------------------


@pytest.mark.parametrize("bad", [None, "not a date"])
def test_a_message_without_a_usable_timestamp_is_delivered_once_per_run(bad: Any) -> None:
    # Three messages, fetch_size=3: a server that lets the undated one through every filter
    # answers it again with the second page, at the cursor's timestamp.
    t0 = datetime(2024, 9, 2, 6, 0, tzinfo=UTC)
    items = [
        Item(wire("undated", bad), None),
        Item(wire("a", t0.isoformat()), micros(t0)),
        Item(wire("b", (t0 + timedelta(seconds=1)).isoformat()), micros(t0) + 1_000_000),
    ]
    server = FakeLex(items)
    stream = fake_client(server).orders.iter_messages(fetch_size=3)
    ids = [m.id for m in stream]
    assert Counter(ids) == {"undated": 1, "a": 1, "b": 1}
    assert len(server.bounds) >= 2  # the undated message did come back


def test_a_message_dated_2099_is_delivered_and_does_not_stop_the_drain(
    sb: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    part = orders_part(sb)
    generator = part.seed(250, burst_every=50, burst_size=8)
    part.add_messages([wire("FUTURE-1", "2099-01-01T00:00:00Z")])
    checkpoint = FileCheckpoint(tmp_path / "lex-orders.json")
    client = sb.lex_client()
    with caplog.at_level(logging.WARNING, logger="shiptrack_sdk"):
        stream = client.orders.iter_messages(checkpoint=checkpoint, fetch_size=40)
        ids = [m.id for m in stream]
    assert ids == [*generator.ids(), "FUTURE-1"]
    saved = checkpoint.load()
    assert saved is not None
    assert saved.timestamp == generator.timestamp(249)  # not 2099
    # A later message is fetched by the next run; the one from 2099 is not delivered again.
    late = generator.timestamp(249) + timedelta(minutes=1)
    part.add_messages([wire("late-1", late.isoformat())])
    assert [m.id for m in client.orders.iter_messages(checkpoint=checkpoint)] == ["late-1"]
    assert "FUTURE-1" in caplog.text
    assert "horizon" in caplog.text
    (notice,) = stream.notices
    assert (notice.kind, notice.key) == ("past_horizon", "FUTURE-1")
    assert notice.timestamp == datetime(2099, 1, 1, tzinfo=UTC)
    assert stream.gaps == []


def test_a_message_dated_year_1_is_delivered_and_does_not_wedge_the_checkpoint(
    sb: Sandbox, tmp_path: Path
) -> None:
    part = orders_part(sb)
    part.seed(0)
    part.add_messages([wire("ANCIENT-1", "0001-01-01T00:00:00Z")])
    checkpoint = FileCheckpoint(tmp_path / "lex-orders.json")
    client = sb.lex_client()
    stream = client.orders.iter_messages(checkpoint=checkpoint)
    assert [m.id for m in stream] == ["ANCIENT-1"]
    # The next runs make requests as usual, and deliver what is new, once.
    assert list(client.orders.iter_messages(checkpoint=checkpoint)) == []
    assert [n.kind for n in stream.notices] == ["before_floor"]
    now = datetime.now(UTC).replace(microsecond=0)
    part.add_messages([wire("new-1", now.isoformat())])
    assert [m.id for m in client.orders.iter_messages(checkpoint=checkpoint)] == ["new-1"]
    assert list(client.orders.iter_messages(checkpoint=checkpoint)) == []


def test_a_checkpoint_saved_at_year_1_resumes_from_the_floor(
    sb: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # What an earlier version saved after a message dated 0001-01-01.
    generator = orders_part(sb).seed(30)
    path = tmp_path / "lex-orders.json"
    path.write_text(
        json.dumps({"version": 1, "timestamp": "0001-01-01T00:00:00+00:00", "seen_ids": ["x"]})
    )
    with caplog.at_level(logging.WARNING, logger="shiptrack_sdk"):
        stream = sb.lex_client().orders.iter_messages(checkpoint=FileCheckpoint(path))
        ids = [m.id for m in stream]
    assert ids == list(generator.ids())
    assert sb.calls(PATH, "GET")[0].query["minTimestamp"] == ["1999-12-31T23:59:59.999999Z"]
    assert "floor" in caplog.text


def test_a_checkpoint_saved_past_the_horizon_is_refused_before_any_request(
    sb: Sandbox, tmp_path: Path
) -> None:
    # What an earlier version saved after a message dated 2099: resuming there would skip
    # everything until then, so the loop says so instead.
    orders_part(sb).seed(30)
    checkpoint = FileCheckpoint(tmp_path / "lex-orders.json")
    checkpoint.save(Cursor(datetime(2099, 1, 1, tzinfo=UTC), {"FUTURE-1"}))
    with pytest.raises(CheckpointError, match="horizon"):
        sb.lex_client().orders.iter_messages(checkpoint=checkpoint)
    assert sb.calls(PATH, "GET") == []
    # A horizon that reaches it accepts it.
    late = datetime(2100, 1, 1, tzinfo=UTC)
    assert list(sb.lex_client().orders.iter_messages(checkpoint=checkpoint, horizon=late)) == []


# -- the sandbox serves every kind --------------------------------------------------------------


def test_every_hostile_timestamp_the_sandbox_serves_is_delivered_once(
    sb: Sandbox, tmp_path: Path
) -> None:
    part = orders_part(sb)
    generator = part.seed(300, burst_every=50, burst_size=8)
    hostile = [
        part.add_hostile("future", message_id="H-future"),
        part.add_hostile("ancient", message_id="H-ancient"),
        part.add_hostile("null", message_id="H-null", at=generator.timestamp(120)),
        part.add_hostile("unreadable", message_id="H-unreadable", at=generator.timestamp(49)),
    ]
    assert [m["timestamp"] for m in hostile[:3]] == [
        "2099-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        None,
    ]
    checkpoint = FileCheckpoint(tmp_path / "lex-orders.json")
    client = sb.lex_client()
    with quiet():
        stream = client.orders.iter_messages(checkpoint=checkpoint, fetch_size=40)
        ids = [m.id for m in stream]
    expected = [*generator.ids(), "H-future", "H-ancient", "H-null", "H-unreadable"]
    assert Counter(ids) == Counter(expected)
    assert {(n.kind, n.key) for n in stream.notices} == {
        ("past_horizon", "H-future"),
        ("before_floor", "H-ancient"),
        ("undated", "H-null"),
        ("undated", "H-unreadable"),
    }
    saved = checkpoint.load()
    assert saved is not None
    assert saved.timestamp == generator.timestamp(299)
    with quiet():
        assert list(client.orders.iter_messages(checkpoint=checkpoint)) == []


def test_add_hostile_refuses_an_unknown_kind(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="kind"):
        orders_part(sb).add_hostile("yesterday")  # type: ignore[arg-type]


# -- the floor and the horizon --------------------------------------------------------------------


def test_the_horizon_follows_the_clock_and_both_bounds_are_configurable() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    soon = now + timedelta(hours=2)  # within the default horizon (now plus one day)
    items = [Item(wire("soon", soon.isoformat()), micros(soon))]
    client = fake_client(FakeLex(items))
    stream = client.orders.iter_messages()
    assert [m.id for m in stream] == ["soon"]
    assert stream.cursor.timestamp == soon
    assert stream.notices == []
    assert now + timedelta(days=1) <= stream.horizon <= datetime.now(UTC) + timedelta(days=1)
    with quiet():
        tight = client.orders.iter_messages(horizon=timedelta(hours=1))
        assert [m.id for m in tight] == ["soon"]
    assert tight.cursor.timestamp is None
    assert [n.kind for n in tight.notices] == ["past_horizon"]
    with quiet():
        high = client.orders.iter_messages(floor=soon + US)
        assert [m.id for m in high] == ["soon"]
    assert [n.kind for n in high.notices] == ["before_floor"]
    assert high.floor == soon + US


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"floor": datetime(2000, 1, 1)}, "floor"),  # naive
        ({"floor": "2000-01-01"}, "floor"),
        ({"floor": datetime.min.replace(tzinfo=UTC)}, "floor"),  # no room below it
        ({"horizon": timedelta(seconds=-1)}, "horizon"),
        ({"horizon": timedelta(days=10**8)}, "horizon"),  # past year 9999
        ({"horizon": datetime(2099, 1, 1)}, "horizon"),  # naive
        ({"horizon": datetime.max.replace(tzinfo=UTC)}, "horizon"),
        ({"horizon": 86400}, "horizon"),
        ({"horizon": datetime(1999, 1, 1, tzinfo=UTC)}, "horizon"),  # before the floor
        ({"since": datetime(2099, 1, 1, tzinfo=UTC)}, "since"),  # past the horizon
    ],
)
def test_bad_bounds_are_refused_before_any_request(options: dict[str, Any], argument: str) -> None:
    server = FakeLex([])
    with pytest.raises(ValidationError) as info:
        fake_client(server).orders.iter_messages(**options)
    assert info.value.argument == argument
    assert server.bounds == []


def test_since_before_the_floor_starts_at_the_floor() -> None:
    server = FakeLex([])
    assert list(fake_client(server).orders.iter_messages(since=0)) == []
    assert server.bounds == [datetime(2000, 1, 1, tzinfo=UTC) - US]


# -- the property ---------------------------------------------------------------------------------

FLOOR = datetime(2024, 1, 1, tzinfo=UTC)
HORIZON = datetime(2024, 1, 2, tzinfo=UTC)
MID = datetime(2024, 1, 1, 12, tzinfo=UTC)
MAX = datetime.max.replace(tzinfo=UTC)
INSTANTS = [
    # before the floor
    datetime(1, 1, 1, tzinfo=UTC),
    FLOOR - US,
    # within [floor, horizon], crowded together so that ties and neighbours abound
    FLOOR,
    FLOOR + US,
    MID - US,
    MID,
    MID,
    MID + US,
    MID + 2 * US,
    MID + timedelta(milliseconds=1),
    HORIZON - US,
    HORIZON,
    # past the horizon
    HORIZON + US,
    HORIZON + timedelta(days=1),
    datetime(2099, 1, 1, tzinfo=UTC),
    MAX,
]
UNREADABLE: list[Any] = ["not a date", "2024-02-30T00:00:00Z", "", 10**30, True, {"at": 1}]


@st.composite
def feeds(draw: st.DrawFn) -> list[Item]:
    items = []
    for n in range(draw(st.integers(0, 36))):
        kind = draw(st.sampled_from(["dated"] * 5 + ["null", "unreadable"]))
        if kind == "dated":
            instant = draw(st.sampled_from(INSTANTS))
            stamp: Any = instant.isoformat()
            at: int | None = micros(instant)
        else:
            stamp = None if kind == "null" else draw(st.sampled_from(UNREADABLE))
            filed = draw(st.none() | st.sampled_from(INSTANTS))
            at = None if filed is None else micros(filed)
        message = wire(f"m{n:02d}", stamp)
        message["payload"] = {"n": n}
        if draw(st.integers(0, 7)) == 0:
            del message["messageId"]  # keyed by a digest of its content
        items.append(Item(message, at))
    return items


class Recording:
    """A checkpoint that keeps the cursor as its JSON, checks every cursor saved, and notes how
    many messages were handled at each save."""

    def __init__(self, handled: list[str]) -> None:
        self.text: str | None = None
        self.handled = handled
        self.marks: list[int] = []

    def load(self) -> Cursor | None:
        return None if self.text is None else Cursor.from_json(json.loads(self.text))

    def save(self, cursor: Cursor) -> None:
        assert_placed(cursor)
        self.text = json.dumps(cursor.to_json())
        self.marks.append(len(self.handled))


def assert_placed(cursor: Cursor) -> None:
    assert cursor.timestamp is None or FLOOR <= cursor.timestamp <= HORIZON


def drain(
    client: LexClient,
    checkpoint: Recording,
    handled: list[str],
    *,
    since: datetime | None,
    fetch_size: int,
    crash_after: int | None = None,
) -> None:
    stream = client.orders.iter_messages(
        since=since, checkpoint=checkpoint, fetch_size=fetch_size, floor=FLOOR, horizon=HORIZON
    )
    for message in stream:
        assert_placed(stream.cursor)
        if crash_after is not None and len(handled) == crash_after:
            raise Crash
        handled.append(message_key(message))
    assert_placed(stream.cursor)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=feeds(),
    fetch_size=st.integers(1, 8),
    inclusive=st.booleans(),
    since=st.sampled_from([None, FLOOR, MID]),
    crash_after=st.integers(0, 40),
    seed=st.integers(0, 2**32),
)
def test_every_message_once_per_run_at_most_the_page_in_progress_again_after_a_crash(
    items: list[Item],
    fetch_size: int,
    inclusive: bool,
    since: datetime | None,
    crash_after: int,
    seed: int,
) -> None:
    # Ties come in a new order at every request.
    client = fake_client(FakeLex(items, inclusive=inclusive, rng=random.Random(seed)))
    everything = {item.key for item in items}
    # What a run from ``since`` must deliver: whatever the server files from then on, and what
    # it serves whatever the bound.
    due = {
        item.key for item in items if since is None or item.at is None or item.at >= micros(since)
    }
    with quiet():
        # One run: each message once, and every one due.
        handled: list[str] = []
        checkpoint = Recording(handled)
        drain(client, checkpoint, handled, since=since, fetch_size=fetch_size)
        assert len(handled) == len(set(handled))
        assert due <= set(handled) <= everything
        # The next run finds nothing again.
        again: list[str] = []
        checkpoint.handled = again
        drain(client, checkpoint, again, since=since, fetch_size=fetch_size)
        assert again == []

        # A crash: the loop stops mid-page, without commit; a new one resumes from the file.
        first: list[str] = []
        crashed = Recording(first)
        with suppress(Crash):
            drain(
                client,
                crashed,
                first,
                since=since,
                fetch_size=fetch_size,
                crash_after=crash_after,
            )
        consumed = crashed.marks[-1] if crashed.marks else 0
        second: list[str] = []
        crashed.handled = second
        drain(client, crashed, second, since=since, fetch_size=fetch_size)
    assert len(second) == len(set(second))
    assert due <= set(first) | set(second) <= everything
    repeated = set(first) & set(second)
    assert repeated <= set(first[consumed:])  # only the page in progress
    assert len(repeated) <= MAX_FETCH_SIZE


def test_the_property_holds_for_a_feed_a_page_holds_once_over_memory() -> None:
    # The same run through a MemoryCheckpoint: the cursor object itself, not its JSON.
    t0 = MID
    items = [Item(wire(f"m{i}", (t0 + i * US).isoformat()), micros(t0) + i) for i in range(5)]
    items.append(Item(wire("late", None), None))
    checkpoint = MemoryCheckpoint()
    client = fake_client(FakeLex(items, inclusive=False))
    with quiet():
        ids = [m.id for m in client.orders.iter_messages(checkpoint=checkpoint, fetch_size=2)]
        assert sorted(ids) == ["late", "m0", "m1", "m2", "m3", "m4"]
        assert list(client.orders.iter_messages(checkpoint=checkpoint)) == []
    assert checkpoint.cursor is not None
    assert checkpoint.cursor.unplaced_ids == ("late",)


def test_a_message_once_past_the_horizon_moves_the_cursor_when_the_horizon_reaches_it() -> None:
    early = MID + timedelta(hours=2)
    items = [
        Item(wire("a", MID.isoformat()), micros(MID)),
        Item(wire("x", early.isoformat()), micros(early)),
    ]
    checkpoint = MemoryCheckpoint()
    client = fake_client(FakeLex(items))
    with quiet():
        stream = client.orders.iter_messages(
            checkpoint=checkpoint, floor=FLOOR, horizon=MID + timedelta(hours=1)
        )
        assert [m.id for m in stream] == ["a", "x"]
    assert checkpoint.cursor == Cursor(MID, {"a"}, unplaced_ids=["x"])
    # Later, within the horizon: it moves the cursor, and is not delivered again.
    later = client.orders.iter_messages(checkpoint=checkpoint, floor=FLOOR, horizon=HORIZON)
    assert list(later) == []
    assert checkpoint.cursor == Cursor(early, {"x"})


@pytest.mark.parametrize("since", [None, MID - timedelta(hours=1)])
def test_undated_messages_that_fill_every_page_are_reported_not_looped_on(
    since: datetime | None,
) -> None:
    # A server that answers 100 undated messages first whatever the bound: no cursor can
    # page past them.
    items = [Item(wire(f"u{i:03d}", None), None) for i in range(100)]
    items.append(Item(wire("a", MID.isoformat()), micros(MID)))
    server = FakeLex(items)
    stream = fake_client(server).orders.iter_messages(since=since, floor=FLOOR, horizon=HORIZON)
    with quiet(), pytest.raises(ResponseError, match="cannot page past them"):
        for _ in stream:
            pass
    assert stream.delivered == 100
    assert len(server.bounds) <= 2
