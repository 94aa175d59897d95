"""``client.orders.iter_messages`` over real HTTP: draining exactly once through bursts that share
one timestamp, resuming from a checkpoint after a crash, and the limits of paging by timestamp.

The guarantee under test: every message is delivered; without a crash, exactly once; after a
crash, the messages repeated are only those of the page in progress when it happened.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from shiptrack_sdk import LexClient, ResponseError
from shiptrack_sdk.lex import Cursor, FileCheckpoint, MemoryCheckpoint
from shiptrack_sdk.lex._sandbox_orders import ORDERS_PATH, MessageGenerator, OrdersPart
from shiptrack_sdk.lex.client import DEFAULT_TOKEN_URL
from shiptrack_sdk.lex.orders import DEFAULT_PATH
from shiptrack_sdk.sandbox import Sandbox

PATH = "/lex" + ORDERS_PATH


def orders_part(sb: Sandbox) -> OrdersPart:
    return cast(OrdersPart, sb.apps["lex"].orders)  # type: ignore[attr-defined]


class Crash(Exception):
    """The caller's process dying while it handles a message."""


def test_drain_10000_messages_exactly_once_through_boundary_bursts(sb: Sandbox) -> None:
    # Bursts of 75 messages sharing one timestamp every 211 messages: with pages of 50 they
    # straddle page boundaries at every offset, and are larger than a page.
    generator = orders_part(sb).seed(10_000, burst_every=211, burst_size=75, step_ms=1000)
    stream = sb.lex_client().orders.iter_messages(fetch_size=50)
    ids = [message.id for message in stream]
    assert ids == list(generator.ids())
    assert stream.delivered == 10_000
    assert stream.gaps == []
    requests = sb.calls(PATH, "GET")
    assert len(requests) == stream.pages
    # Widened to 100 only where a page was all one timestamp, then back to 50.
    sizes = Counter(call.query["fetchSize"][0] for call in requests)
    assert set(sizes) == {"50", "100"}
    assert sizes["50"] > sizes["100"]


@pytest.mark.parametrize(
    ("fetch_size", "burst_every", "burst_size"),
    [
        (1, 7, 3),  # the smallest page, bursts of 3
        (7, 40, 40),  # everything in bursts larger than a page
        (10, 150, 99),  # bursts of 99: one fewer than the most a page can hold
        (100, 1, 1),  # no bursts at all
        (33, 101, 99),
    ],
)
def test_drain_exactly_once_for_every_page_and_burst_size(
    sb: Sandbox, fetch_size: int, burst_every: int, burst_size: int
) -> None:
    generator = orders_part(sb).seed(800, burst_every=burst_every, burst_size=burst_size, step_ms=7)
    stream = sb.lex_client().orders.iter_messages(fetch_size=fetch_size)
    assert [message.id for message in stream] == list(generator.ids())
    assert stream.gaps == []


def test_memory_stays_flat_the_cursor_holds_one_timestamp_of_ids(sb: Sandbox) -> None:
    orders_part(sb).seed(1_000, burst_every=300, burst_size=60)
    stream = sb.lex_client().orders.iter_messages(fetch_size=100)
    largest = 0
    for _ in stream:
        largest = max(largest, len(stream.cursor.seen_ids))
    assert largest == 60


def test_since_starts_at_that_time_inclusive(sb: Sandbox) -> None:
    generator = orders_part(sb).seed(500, burst_every=50, burst_size=10)
    since = generator.timestamp(205)  # 200..209 share it
    ids = [m.id for m in sb.lex_client().orders.iter_messages(since=since, fetch_size=30)]
    assert ids == list(generator.ids(200))
    epoch = since.timestamp()
    assert [m.id for m in sb.lex_client().orders.iter_messages(since=epoch)] == ids


def test_an_empty_feed_costs_one_request(sb: Sandbox) -> None:
    orders_part(sb).seed(0)
    stream = sb.lex_client().orders.iter_messages()
    assert list(stream) == []
    assert stream.pages == 1


def test_progress_reports_messages_consumed(sb: Sandbox) -> None:
    orders_part(sb).seed(230)
    reports: list[tuple[int, int | None]] = []
    list(sb.lex_client().orders.iter_messages(progress=lambda d, t: reports.append((d, t))))
    # Page two starts at the timestamp page one ended on: its first message is not new.
    assert reports == [(100, None), (199, None), (230, None)]


# -- checkpoints --------------------------------------------------------------------------------


def consume(
    stream: Any, crash_after: int | None = None, *, into: list[str] | None = None
) -> list[str]:
    """Collect ids, crashing (raising out of the loop) once ``crash_after`` were handled."""
    ids: list[str] = [] if into is None else into
    for message in stream:
        if crash_after is not None and len(ids) == crash_after:
            raise Crash
        ids.append(message.id)
    return ids


@pytest.mark.parametrize("crash_after", [0, 1, 99, 100, 101, 734, 1299, 1300, 1499])
def test_resume_after_a_crash_loses_nothing_and_repeats_only_the_page_in_progress(
    sb: Sandbox, tmp_path: Path, crash_after: int
) -> None:
    generator = orders_part(sb).seed(1_500, burst_every=130, burst_size=45)
    everything = list(generator.ids())
    checkpoint = FileCheckpoint(tmp_path / "lex-orders.json")
    client = sb.lex_client()

    first: list[str] = []
    stream = client.orders.iter_messages(checkpoint=checkpoint, fetch_size=100)
    with pytest.raises(Crash):
        consume(stream, crash_after, into=first)
    del stream  # the process is gone; only the file remains

    second = consume(client.orders.iter_messages(checkpoint=checkpoint, fetch_size=100))
    assert sorted(set(first) | set(second)) == everything  # nothing lost
    assert len(second) == len(set(second))  # no duplicates within a run
    repeated = set(first) & set(second)
    # Only the page in progress comes again: the handled messages after the last consumed
    # page boundary, at most one page.
    assert len(repeated) <= 100
    assert repeated == set(first[len(first) - len(repeated) :])
    assert second[: len(repeated)] == first[len(first) - len(repeated) :]
    # A third run finds nothing new.
    assert consume(client.orders.iter_messages(checkpoint=checkpoint)) == []


def test_checkpoint_is_saved_when_the_next_page_is_asked_for(sb: Sandbox) -> None:
    generator = orders_part(sb).seed(30)
    checkpoint = MemoryCheckpoint()
    stream = sb.lex_client().orders.iter_messages(checkpoint=checkpoint, fetch_size=10)
    for _ in range(10):
        next(stream)
    # The tenth message is being handled: page one is not consumed yet.
    assert checkpoint.cursor is None
    eleventh = next(stream)
    assert eleventh.id == generator.message_id(10)
    assert checkpoint.cursor == Cursor(generator.timestamp(9), {generator.message_id(9)})
    assert checkpoint.saves == 1
    assert len(list(stream)) == 19
    assert checkpoint.cursor == stream.cursor
    assert checkpoint.cursor.timestamp == generator.timestamp(29)


def test_commit_after_break_resumes_without_repeats(sb: Sandbox) -> None:
    generator = orders_part(sb).seed(400, burst_every=40, burst_size=25)
    checkpoint = MemoryCheckpoint()
    client = sb.lex_client()
    first: list[str] = []
    with client.orders.iter_messages(checkpoint=checkpoint, fetch_size=30) as stream:
        for message in stream:
            first.append(message.id)
            if len(first) == 137:
                break
        stream.commit()
    second = [m.id for m in client.orders.iter_messages(checkpoint=checkpoint)]
    assert first + second == list(generator.ids())


def test_a_saved_cursor_wins_over_since(sb: Sandbox, tmp_path: Path) -> None:
    generator = orders_part(sb).seed(100)
    checkpoint = FileCheckpoint(tmp_path / "cp.json")
    checkpoint.save(Cursor(generator.timestamp(49), {generator.message_id(49)}))
    ids = [m.id for m in sb.lex_client().orders.iter_messages(since=0, checkpoint=checkpoint)]
    assert ids == list(generator.ids(50))


def test_new_messages_are_picked_up_by_the_next_run(sb: Sandbox) -> None:
    part = orders_part(sb)
    generator = part.seed(120, step_ms=1000)
    checkpoint = MemoryCheckpoint()
    client = sb.lex_client()
    assert len(list(client.orders.iter_messages(checkpoint=checkpoint))) == 120
    last = generator.timestamp(119)
    part.add_messages(
        [
            {"messageId": "late-1", "timestamp": last.isoformat(), "payload": {}},  # same instant
            {"messageId": "late-2", "timestamp": (last + timedelta(seconds=5)).isoformat()},
        ]
    )
    assert [m.id for m in client.orders.iter_messages(checkpoint=checkpoint)] == [
        "late-1",
        "late-2",
    ]


# -- beyond what paging by timestamp can do ----------------------------------------------------


def test_exactly_100_at_one_timestamp_are_all_delivered_and_flagged(sb: Sandbox) -> None:
    # A full page of one timestamp cannot tell "exactly 100" from "more": every message
    # arrives, and the instant is still reported as a possible gap.
    generator = orders_part(sb).seed(600, burst_every=300, burst_size=100)
    stream = sb.lex_client().orders.iter_messages(fetch_size=10)
    assert [m.id for m in stream] == list(generator.ids())
    assert stream.gaps == [generator.timestamp(0), generator.timestamp(300)]


def test_more_than_100_at_one_timestamp_ends_with_a_reported_gap(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    # 150 messages share each burst's timestamp: no minTimestamp can reach past the first 100.
    generator = orders_part(sb).seed(400, burst_every=200, burst_size=150, step_ms=10)
    stream = sb.lex_client().orders.iter_messages(fetch_size=40)
    with caplog.at_level(logging.WARNING, logger="shiptrack_sdk"):
        ids = [m.id for m in stream]
    unreachable = {*generator.ids(100, 150), *generator.ids(300, 350)}
    assert ids == [i for i in generator.ids() if i not in unreachable]
    assert stream.gaps == [generator.timestamp(0), generator.timestamp(200)]
    assert [(n.kind, n.timestamp, n.key) for n in stream.notices] == [
        ("crowded", generator.timestamp(0), None),
        ("crowded", generator.timestamp(200), None),
    ]
    assert "share the timestamp" in caplog.text


BASE = "https://api.michelin.com"


def fake_lex(
    rsps: responses.RequestsMock, messages: list[tuple[datetime, str]], *, precision: str
) -> list[dict[str, list[str]]]:
    """A LEX whose bound includes ``minTimestamp`` ("inclusive"), excludes it ("exclusive"),
    truncates it to milliseconds ("ms"), or is ignored ("none")."""
    seen: list[dict[str, list[str]]] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)
        seen.append(query)
        size = int(query["fetchSize"][0])
        bound = query.get("minTimestamp", [None])[0]
        chosen = messages
        if bound is not None and precision != "none":
            stamp = datetime.fromisoformat(bound.replace("Z", "+00:00"))
            if precision == "ms":
                stamp = stamp.replace(microsecond=stamp.microsecond // 1000 * 1000)
            if precision == "exclusive":
                chosen = [m for m in messages if m[0] > stamp]
            else:
                chosen = [m for m in messages if m[0] >= stamp]
        body = [
            {"messageId": mid, "messageType": "X", "timestamp": ts.isoformat(), "payload": {}}
            for ts, mid in chosen[:size]
        ]
        return 200, {}, json.dumps(body)

    rsps.add(
        responses.POST,
        DEFAULT_TOKEN_URL,
        json={"access_token": "t", "token_type": "bearer", "expires_in": 600},
    )
    rsps.add_callback(responses.GET, BASE + DEFAULT_PATH, callback=answer)
    return seen


@pytest.mark.parametrize("bound", ["inclusive", "exclusive"])
def test_bursts_across_page_boundaries_are_delivered_once_whatever_the_bound(bound: str) -> None:
    """Whether LEX's bound includes minTimestamp is not documented: bursts of 30 messages at one
    timestamp, cut by pages of 20, come through complete, once each, in order, either way."""
    t0 = datetime(2024, 9, 2, 6, 0, tzinfo=timezone.utc)
    messages: list[tuple[datetime, str]] = []
    for b in range(5):
        at = t0 + timedelta(milliseconds=10 * b)
        messages += [(at, f"burst{b}-{i:02d}") for i in range(30)]
        messages.append((at + timedelta(milliseconds=1), f"single{b}"))
    client = LexClient(client_id="c", client_secret="s", max_retries=0)
    with responses.RequestsMock() as rsps:
        seen = fake_lex(rsps, messages, precision=bound)
        stream = client.orders.iter_messages(fetch_size=20)
        ids = [m.id for m in stream]
    assert ids == [mid for _, mid in messages]
    assert stream.gaps == []
    assert len(seen) < 40  # no page asked again and again


def test_a_server_that_rounds_the_bound_to_milliseconds_still_ends() -> None:
    t0 = datetime(2024, 9, 2, 6, 0, tzinfo=timezone.utc)
    burst = [(t0, f"a{i:03d}") for i in range(120)]
    later = [(t0 + timedelta(milliseconds=1 + i), f"b{i:03d}") for i in range(5)]
    client = LexClient(client_id="c", client_secret="s", max_retries=0)
    with responses.RequestsMock() as rsps:
        fake_lex(rsps, burst + later, precision="ms")
        stream = client.orders.iter_messages(fetch_size=100)
        ids = [m.id for m in stream]
    assert ids == [mid for _, mid in burst[:100] + later]
    assert stream.gaps == [t0]


def test_a_server_that_ignores_the_bound_is_reported_not_looped_on() -> None:
    t0 = datetime(2024, 9, 2, 6, 0, tzinfo=timezone.utc)
    client = LexClient(client_id="c", client_secret="s", max_retries=0)
    with responses.RequestsMock() as rsps:
        seen = fake_lex(
            rsps, [(t0 + timedelta(seconds=i), f"m{i}") for i in range(500)], precision="none"
        )
        stream = client.orders.iter_messages(fetch_size=100)
        with pytest.raises(ResponseError, match="does not honour the bound"):
            for _ in stream:
                pass
    assert len(seen) < 10
    assert stream.delivered == 100


def test_generator_is_lazy_and_deterministic() -> None:
    generator = MessageGenerator(100_000, burst_every=1000, burst_size=150)
    assert generator.message(99_999) == MessageGenerator(
        100_000, burst_every=1000, burst_size=150
    ).message(99_999)
    assert generator.first_at(generator.micros(99_999)) == 99_999
    assert generator.first_at(generator.micros(1_050)) == 1_000
    assert generator.timestamp(1_000) == generator.timestamp(1_149) < generator.timestamp(1_150)


@pytest.mark.parametrize("bound", ["inclusive", "exclusive"])
def test_more_than_a_page_at_one_timestamp_ends_with_a_gap_whatever_the_bound(bound: str) -> None:
    t0 = datetime(2024, 9, 2, 6, 0, tzinfo=timezone.utc)
    burst = [(t0, f"a{i:03d}") for i in range(120)]
    later = [(t0 + timedelta(milliseconds=1 + i), f"b{i:03d}") for i in range(5)]
    client = LexClient(client_id="c", client_secret="s", max_retries=0)
    with responses.RequestsMock() as rsps:
        seen = fake_lex(rsps, burst + later, precision=bound)
        stream = client.orders.iter_messages(fetch_size=100)
        ids = [m.id for m in stream]
    assert ids == [mid for _, mid in burst[:100] + later]
    assert stream.gaps == [t0]
    assert len(seen) <= 3


@pytest.mark.parametrize("bound", ["inclusive", "exclusive"])
def test_nothing_just_after_a_full_timestamp_is_missed_whatever_the_bound(bound: str) -> None:
    # Messages one and two microseconds after a timestamp shared by 120: the stream gets past
    # the burst without stepping over them.
    t0 = datetime(2024, 9, 2, 6, 0, tzinfo=timezone.utc)
    burst = [(t0, f"a{i:03d}") for i in range(120)]
    after = [(t0 + timedelta(microseconds=1), "b1"), (t0 + timedelta(microseconds=2), "b2")]
    later = [(t0 + timedelta(seconds=1), "c")]
    client = LexClient(client_id="c", client_secret="s", max_retries=0)
    with responses.RequestsMock() as rsps:
        fake_lex(rsps, burst + after + later, precision=bound)
        stream = client.orders.iter_messages(fetch_size=100)
        ids = [m.id for m in stream]
    assert ids == [mid for _, mid in burst[:100] + after + later]
    assert stream.gaps == [t0]


@pytest.mark.parametrize("bound", ["inclusive", "exclusive"])
@pytest.mark.parametrize("crash_on", ["b1", "b2", "c"])
def test_resume_right_after_getting_past_a_full_timestamp_loses_nothing(
    bound: str, crash_on: str
) -> None:
    # The checkpoint is saved while the stream's bound is past the burst; the resumed loop
    # must not fall back on the burst's timestamp (and step over what follows it).
    t0 = datetime(2024, 9, 2, 6, 0, tzinfo=timezone.utc)
    burst = [(t0, f"a{i:03d}") for i in range(120)]
    after = [(t0 + timedelta(microseconds=1), "b1"), (t0 + timedelta(microseconds=2), "b2")]
    later = [(t0 + timedelta(seconds=1), "c")]
    expected = [mid for _, mid in burst[:100] + after + later]
    client = LexClient(client_id="c", client_secret="s", max_retries=0)
    checkpoint = MemoryCheckpoint()
    with responses.RequestsMock() as rsps:
        fake_lex(rsps, burst + after + later, precision=bound)
        first: list[str] = []

        def consume() -> None:
            for message in client.orders.iter_messages(checkpoint=checkpoint, fetch_size=100):
                if message.id == crash_on:
                    raise Crash
                first.append(message.id)  # type: ignore[arg-type]

        with pytest.raises(Crash):
            consume()
        saved = checkpoint.load()
        assert saved is not None
        assert saved.timestamp == t0
        assert saved.bound != "below"
        assert Cursor.from_json(json.loads(json.dumps(saved.to_json()))) == saved
        second = [m.id for m in client.orders.iter_messages(checkpoint=checkpoint)]
    assert first == expected[: expected.index(crash_on)]
    # At least once: the resumed loop starts again at the page in progress, and loses nothing.
    assert set(first) | set(second) == set(expected)
    assert crash_on in second
