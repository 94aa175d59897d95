"""A 429 with ``Retry-After`` pauses the whole client, over real HTTP against the sandbox: the
other threads' requests wait for it (their times as the sandbox recorded them), another
client does not; a 429 the policy does not honour pauses no one."""

from __future__ import annotations

import threading
import time

import pytest

from shiptrack_sdk import DeadlineExceededError, RateLimitError, RetryPolicy, ShiplemonClient
from shiptrack_sdk.sandbox import Sandbox
from tests.conftest import SleepRecorder

SID = "6650a1f2c3d4e5f601234567"


def path(shipment_id: str) -> str:
    return f"/shiplemon/public/v1/shipments/{shipment_id}/tracking"


def paused_for(client: ShiplemonClient) -> float:
    return client._transport.limiter.paused_for()


def test_a_429_with_retry_after_pauses_every_thread_of_the_client(sb: Sandbox) -> None:
    ids: list[str] = sb.apps["shiplemon"].add_shipments(6)  # type: ignore[attr-defined]
    client = sb.shiplemon_client()
    other = sb.shiplemon_client()
    sb.fault(path(ids[0]), status=429, retry_after=1)
    first: list[object] = []
    thread = threading.Thread(target=lambda: first.append(client.tracking.get(ids[0])))
    thread.start()
    deadline = time.monotonic() + 10
    while not paused_for(client) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert paused_for(client) > 0, "the 429 did not pause the client"
    (answered,) = sb.calls(path(ids[0]))
    assert answered.status == 429

    # Another client of the same provider is not held.
    other.tracking.get(SID)
    # This client's other threads are: each request goes once the pause is over.
    results = list(client.track_many(ids[1:], max_workers=5))
    thread.join()

    assert all(r.ok for r in results)
    assert len(first) == 1  # the thread that got the 429 retried after it
    (not_held,) = sb.calls(path(SID))
    assert not_held.at < answered.at + 1.0
    held = [c for c in sb.calls(path("*")) if c.path not in (path(SID), path(ids[0]))]
    assert len(held) == 5
    assert min(c.at for c in held) >= answered.at + 1.0
    _, retried = sb.calls(path(ids[0]))
    assert retried.status == 200
    assert retried.at >= answered.at + 1.0


def test_the_pause_holds_a_later_call_even_when_the_429_was_not_retried(
    sb: Sandbox, sleeps: SleepRecorder
) -> None:
    client = sb.shiplemon_client(max_retries=0)
    client._transport.sleep = sleeps
    sb.fault(path(SID), status=429, retry_after=3)
    with pytest.raises(RateLimitError):
        client.tracking.get(SID)
    assert sleeps.delays == []
    client.tracking.get(SID)  # a new call waits out the pause first
    assert len(sleeps.delays) == 1
    assert 2.5 < sleeps.delays[0] <= 3.0


@pytest.mark.parametrize(
    ("retry_after", "policy"),
    [
        (None, RetryPolicy(max_retries=0)),  # no hint: this call backs off, no one else
        (600, RetryPolicy(max_retries=0)),  # above retry_after_max (120 s): not honoured
        (5, RetryPolicy(max_retries=0, retry_after_max=2)),
    ],
)
def test_a_429_the_policy_does_not_honour_pauses_no_one(
    sb: Sandbox, sleeps: SleepRecorder, retry_after: int | None, policy: RetryPolicy
) -> None:
    client = sb.shiplemon_client(retry=policy)
    client._transport.sleep = sleeps
    sb.fault(path(SID), status=429, retry_after=retry_after)
    with pytest.raises(RateLimitError):
        client.tracking.get(SID)
    assert paused_for(client) == 0
    client.tracking.get(SID)
    assert sleeps.delays == []


def test_a_pause_past_the_calls_deadline_fails_it_at_once_without_sending(sb: Sandbox) -> None:
    client = sb.shiplemon_client(max_retries=0)
    sb.fault(path(SID), status=429, retry_after=30)
    with pytest.raises(RateLimitError):
        client.tracking.get(SID)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        client.tracking.get(SID, timeout=(5, 5, 5))
    assert time.monotonic() - started < 4
    assert len(sb.calls(path(SID))) == 1
