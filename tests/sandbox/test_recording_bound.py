"""Recording is bounded: the sandbox keeps the newest ``record_limit`` calls (10,000 by default),
so a long-running ``shiptrack sandbox`` or a soak test does not grow without end.

Counts, not timings: how many calls are kept, which ones, and how many objects the garbage
collector tracks, over 30,000 requests on real HTTP."""

from __future__ import annotations

import gc
import http.client
from typing import Any
from urllib.parse import urlsplit

import pytest

from shiptrack_sdk import ValidationError
from shiptrack_sdk.sandbox import DEFAULT_RECORD_LIMIT, Sandbox

PATH = "/shiplemon/public/v1/shipments/6650a1f2c3d4e5f601234567/tracking"
KEY = {"x-api-key": "sandbox-shiplemon-key"}


def _send(sb: Sandbox, count: int) -> None:
    """``count`` GETs over one kept-alive connection, each with its number in the query."""
    split = urlsplit(sb.url)
    connection = http.client.HTTPConnection(split.hostname or "", split.port, timeout=30)
    try:
        for n in range(count):
            connection.request("GET", f"{PATH}?n={n}", headers=KEY)
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
    finally:
        connection.close()


def _tracked() -> int:
    """How many objects the garbage collector tracks (those a kept call would add to)."""
    gc.collect()
    return len(gc.get_objects())


def test_the_default_bound_is_documented() -> None:
    assert DEFAULT_RECORD_LIMIT == 10_000
    assert Sandbox().record_limit == DEFAULT_RECORD_LIMIT
    assert Sandbox(record_limit=5).record_limit == 5


@pytest.mark.slow
def test_30000_requests_keep_the_newest_10000_calls_and_memory_flat() -> None:
    with Sandbox() as sb:
        _send(sb, 10_000)
        assert len(sb.calls()) == 10_000
        tracked = _tracked()
        _send(sb, 20_000)
        # Flat: 20,000 more calls add no object the collector tracks (a kept call is a few
        # hundred bytes, outside its reach), and the count kept stays at the bound.
        assert _tracked() - tracked < 1_000
        calls = sb.calls()
        assert len(calls) == 10_000
        # The newest are kept, in order: the last 10,000 of the 20,000.
        assert calls[0].query == {"n": ["10000"]}
        assert calls[-1].query == {"n": ["19999"]}
        assert sb.calls_seen == 30_000


def test_a_small_bound_keeps_the_newest_and_clear_starts_again() -> None:
    with Sandbox(record_limit=3) as sb:
        _send(sb, 5)
        assert [c.query["n"] for c in sb.calls()] == [["2"], ["3"], ["4"]]
        assert sb.calls_seen == 5
        sb.clear_calls()
        assert sb.calls() == []
        assert sb.calls_seen == 0
        _send(sb, 1)
        assert len(sb.calls()) == 1


def test_a_zero_bound_records_nothing_but_still_answers() -> None:
    with Sandbox(record_limit=0) as sb:
        _send(sb, 3)
        assert sb.calls() == []
        assert sb.calls_seen == 3


@pytest.mark.parametrize("limit", [-1, 1.5, "10", True, None])
def test_the_bound_is_checked(limit: Any) -> None:
    with pytest.raises(ValidationError) as info:
        Sandbox(record_limit=limit)
    assert info.value.argument == "record_limit"
