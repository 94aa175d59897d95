"""The client's rate limit (a token bucket) and pause, with an injected clock: turns, bursts,
refills, deadlines and threads by count and order, not by timing; and the ``rate_limit``
option and its environment variable."""

from __future__ import annotations

import math
import pickle
import threading
import time
from typing import Any

import pytest

from shiptrack_sdk import DeadlineExceededError, RateLimit, ShiplemonClient, ValidationError
from shiptrack_sdk._core.options import Deadline
from shiptrack_sdk._core.ratelimit import Limiter
from shiptrack_sdk._providers import all_specs
from shiptrack_sdk.sandbox import Sandbox

SID = "6650a1f2c3d4e5f601234567"
PATH = f"/shiplemon/public/v1/shipments/{SID}/tracking"


class Clock:
    """A monotonic clock that moves only when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def turns(limiter: Limiter, count: int, remaining: float = math.inf) -> list[float | None]:
    return [limiter.reserve(remaining) for _ in range(count)]


def test_a_full_bucket_lets_the_burst_go_then_spaces_the_rest() -> None:
    limiter = Limiter(RateLimit(10, burst=3), clock=Clock())
    assert turns(limiter, 6) == pytest.approx([0, 0, 0, 0.1, 0.2, 0.3])


def test_the_bucket_refills_at_the_rate_up_to_the_burst() -> None:
    clock = Clock()
    limiter = Limiter(RateLimit(10, burst=3), clock=clock)
    turns(limiter, 3)
    clock.now += 0.25  # two and a half turns come back
    assert turns(limiter, 3) == pytest.approx([0, 0, 0.05])
    clock.now += 60  # a quiet minute refills the bucket, never beyond the burst
    assert turns(limiter, 4) == pytest.approx([0, 0, 0, 0.1])


def test_without_a_burst_every_request_is_one_interval_after_the_last() -> None:
    limiter = Limiter(RateLimit(4), clock=Clock())
    assert turns(limiter, 4) == pytest.approx([0, 0.25, 0.5, 0.75])


def test_a_turn_that_would_end_past_the_deadline_is_not_taken() -> None:
    limiter = Limiter(RateLimit(1), clock=Clock())
    assert limiter.reserve(math.inf) == 0
    assert limiter.reserve(0.5) is None
    assert limiter.reserve(math.inf) == pytest.approx(1.0)  # the refused turn was not used


def test_threads_each_get_a_turn_of_their_own() -> None:
    limiter = Limiter(RateLimit(100), clock=Clock())
    barrier = threading.Barrier(40)
    waits: list[float | None] = []
    lock = threading.Lock()

    def take() -> None:
        barrier.wait()
        wait = limiter.reserve(math.inf)
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([n * 0.01 for n in range(40)])  # type: ignore[type-var]


def test_a_pause_holds_every_call_but_the_one_whose_answer_asked_for_it() -> None:
    clock = Clock()
    limiter = Limiter(clock=clock)
    asked, other = object(), object()
    limiter.pause(2.0, asked)
    assert limiter.paused_for() == 2.0
    assert limiter.reserve(math.inf, other) == pytest.approx(2.0)
    assert limiter.reserve(math.inf, asked) == 0  # it waits through its own retry delay
    limiter.pause(0.5, other)  # a shorter pause leaves the longer one standing
    assert limiter.paused_for() == 2.0
    clock.now += 2.0
    assert limiter.reserve(math.inf, other) == 0


def test_turns_after_a_pause_start_when_it_ends() -> None:
    limiter = Limiter(RateLimit(10), clock=Clock())
    limiter.pause(1.0)
    assert turns(limiter, 3) == pytest.approx([1.0, 1.1, 1.2])


def test_a_pause_set_while_a_thread_sleeps_is_waited_for_too() -> None:
    clock = Clock()
    limiter = Limiter(clock=clock)
    limiter.pause(1.0)

    def sleep(seconds: float) -> None:
        if not clock.slept:  # an answer in flight pauses the client again meanwhile
            limiter.pause(seconds + 0.5)
        clock.sleep(seconds)

    assert limiter.wait(object(), Deadline(60), sleep)
    assert clock.slept == pytest.approx([1.0, 0.5])


def test_a_wait_past_the_deadline_fails_at_once() -> None:
    clock = Clock()
    limiter = Limiter(clock=clock)
    limiter.pause(100.0)
    assert not limiter.wait(object(), Deadline(5), clock.sleep)
    assert clock.slept == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (10, RateLimit(10.0, 1)),
        (0.5, RateLimit(0.5)),
        ((20, 5), RateLimit(20, burst=5)),
        (RateLimit(3, 2), RateLimit(3, 2)),
    ],
)
def test_a_rate_limit_from_a_number_a_pair_or_itself(given: Any, expected: RateLimit) -> None:
    assert RateLimit.of(given) == expected
    assert RateLimit.of(given).interval == pytest.approx(1 / expected.rate)


@pytest.mark.parametrize(
    "given", [0, -1, math.nan, math.inf, True, "10", (1, 2, 3), (10, 0), (10, 1.5), ()]
)
def test_a_bad_rate_limit_is_refused_naming_the_option(given: Any) -> None:
    with pytest.raises(ValidationError) as info:
        ShiplemonClient(api_key="k", rate_limit=given)
    assert info.value.argument == "rate_limit"


def test_the_option_sets_the_clients_limit() -> None:
    assert ShiplemonClient(api_key="k").rate_limit is None
    assert ShiplemonClient(api_key="k", rate_limit=5).rate_limit == RateLimit(5)
    assert ShiplemonClient(api_key="k", rate_limit=(5, 2)).rate_limit == RateLimit(5, 2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", RateLimit(5)), ("2.5, 4", RateLimit(2.5, 4)), ("off", None), ("OFF", None), ("", None)],
)
def test_the_environment_variable_sets_it_too(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: RateLimit | None
) -> None:
    monkeypatch.setenv("SHIPTRACK_SHIPLEMON_RATE_LIMIT", value)
    assert ShiplemonClient(api_key="k").rate_limit == expected


@pytest.mark.parametrize("value", ["fast", "0", "5,", "5,2,1", "-3", "5,0"])
def test_a_bad_variable_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SHIPTRACK_SHIPLEMON_RATE_LIMIT", value)
    with pytest.raises(ValidationError) as info:
        ShiplemonClient(api_key="k")
    assert info.value.argument == "SHIPTRACK_SHIPLEMON_RATE_LIMIT"


def test_the_keyword_wins_over_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPTRACK_SHIPLEMON_RATE_LIMIT", "5")
    assert ShiplemonClient(api_key="k", rate_limit=7).rate_limit == RateLimit(7)
    assert ShiplemonClient(api_key="k", rate_limit=False).rate_limit is None


def test_no_provider_documents_a_rate_limit_so_none_is_on_by_default() -> None:
    # The providers' documents give none (Shiplemon a polling cadence only): see the guide.
    assert [s.rate_limit for s in all_specs()] == [None] * len(list(all_specs()))


def test_a_pickled_client_keeps_its_limit_not_its_pause() -> None:
    client = ShiplemonClient(api_key="k", rate_limit=(5, 2))
    client._transport.limiter.pause(30)
    copy = pickle.loads(pickle.dumps(client))  # noqa: S301 (our own bytes)
    assert copy.rate_limit == RateLimit(5, 2)
    assert copy._transport.limiter.paused_for() == 0
    assert client._transport.limiter.paused_for() > 0


# -- over real HTTP -------------------------------------------------------------------------


def limited(sb: Sandbox, rate_limit: Any, **options: Any) -> tuple[ShiplemonClient, Clock]:
    """A client of the sandbox whose limiter runs on a clock its sleeps move."""
    client = sb.shiplemon_client(rate_limit=rate_limit, **options)
    clock = Clock()
    client._transport.limiter = Limiter(client.rate_limit, clock=clock)
    client._transport.sleep = clock.sleep
    return client, clock


def test_calls_wait_their_turns(sb: Sandbox) -> None:
    client, clock = limited(sb, (10, 2))
    for _ in range(5):
        client.tracking.get(SID)
    assert clock.slept == pytest.approx([0.1, 0.1, 0.1])
    assert len(sb.calls(PATH)) == 5


def test_a_retry_waits_its_turn_too(sb: Sandbox) -> None:
    client, clock = limited(sb, 10, backoff_factor=0.001)
    sb.fault(PATH, status=503)
    client.tracking.get(SID)
    backoff, turn = clock.slept
    assert backoff <= 0.001
    assert backoff + turn == pytest.approx(0.1)
    assert len(sb.calls(PATH)) == 2


def test_a_turn_past_the_calls_deadline_fails_at_once_without_sending(sb: Sandbox) -> None:
    client = sb.shiplemon_client(rate_limit=0.01)  # one request every 100 s
    client.tracking.get(SID)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        client.tracking.get(SID)  # its turn would come after the 60 s total deadline
    assert time.monotonic() - started < 30
    assert len(sb.calls(PATH)) == 1
