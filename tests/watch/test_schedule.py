"""The schedule: Shiplemon's documented slots, intervals, back-off, retirement."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shiptrack_sdk.errors import ValidationError
from shiptrack_sdk.watch import Backoff, Interval, Schedule, Slots, documented_cadences


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2024, 9, 7, hour, minute, second, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(8, 0), at(8, 5)),
        (at(8, 5), at(8, 35)),  # strictly after: a poll at the slot waits for the next
        (at(8, 5, 1), at(8, 35)),
        (at(8, 34, 59), at(8, 35)),
        (at(8, 35), at(9, 5)),
        (at(23, 50), datetime(2024, 9, 8, 0, 5, tzinfo=timezone.utc)),
    ],
)
def test_slots_at_05_and_35(now: datetime, expected: datetime) -> None:
    assert Slots((5, 35)).next_after(now) == expected


def test_shiplemon_is_polled_at_its_documented_slots_unless_configured() -> None:
    # Shiplemon's tracking page: "Call this endpoint every hour at :05 and :35".
    assert documented_cadences()["shiplemon"] == Slots((5, 35))
    schedule = Schedule()
    assert schedule.cadence("shiplemon") == Slots((5, 35))
    assert schedule.next_poll("shiplemon", at(8, 10)) == at(8, 35)
    assert schedule.cadence("exporto") == Interval(timedelta(minutes=30))
    assert schedule.next_poll("exporto", at(8, 10)) == at(8, 40)
    mine = Schedule(cadences={"shiplemon": Interval(timedelta(minutes=5))})
    assert mine.next_poll("shiplemon", at(8, 10)) == at(8, 15)
    assert str(Slots((35, 5))) == "at :05, :35 each hour"


def test_backoff_doubles_up_to_its_cap_and_honours_retry_after() -> None:
    backoff = Backoff(first=timedelta(minutes=1), factor=2, cap=timedelta(minutes=5))
    assert [backoff.delay(n).total_seconds() for n in range(1, 6)] == [60, 120, 240, 300, 300]
    assert backoff.delay(1, retry_after=600).total_seconds() == 600
    assert backoff.delay(3, retry_after=10).total_seconds() == 240


def test_retirement_after_the_grace_period() -> None:
    schedule = Schedule(retire_after=timedelta(hours=2))
    assert not schedule.retires(None, at(12, 0))
    assert not schedule.retires(at(10, 0), at(11, 59))
    assert schedule.retires(at(10, 0), at(12, 0))
    assert Schedule(retire_after=timedelta(0)).retires(at(10, 0), at(10, 0))


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: Slots(()), "minutes"),
        (lambda: Slots((5, 60)), "minutes[1]"),
        (lambda: Interval(5), "every"),  # type: ignore[arg-type]
        (lambda: Interval(timedelta(seconds=-1)), "every"),
        (lambda: Backoff(first=timedelta(0)), "first"),
        (lambda: Backoff(factor=0.5), "factor"),
        (lambda: Schedule(cadences={"shiplemon": 5}), "cadences['shiplemon']"),  # type: ignore[dict-item]
        (lambda: Schedule(retire_after=timedelta(days=-1)), "retire_after"),
        (lambda: Schedule(batch_size=0), "batch_size"),
        (lambda: Schedule(tours_every=timedelta(0)), "tours_every"),
    ],
)
def test_bad_settings_are_refused_naming_them(make: object, argument: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make()  # type: ignore[operator]
    assert caught.value.argument == argument
