"""When a watcher fetches each shipment: a cadence per provider, retirement, back-off.

* A **cadence** says when a shipment polled now is due again: :class:`Slots` (fixed minutes
  past each hour) or :class:`Interval` (a fixed time after the poll).
* **Shiplemon** is polled at :05 and :35 each hour unless told otherwise: its tracking page
  says, of ``GET /public/v1/shipments/:id/tracking``, "Call this endpoint every hour at
  **:05** and **:35**" (https://docs.shiplemon.com/endpoints/shipments/tracking). The other
  providers document no cadence and are polled at :attr:`Schedule.default` (every 30 minutes).
* A shipment seen **delivered** is polled on for :attr:`Schedule.retire_after` (one day by
  default: a late correction still arrives), then retired: it stays in the store, with its
  history, and is no longer fetched.
* A provider whose fetch **fails** (no answer, a 5xx, a 429, credentials refused, and no
  shipment of the batch answered) is backed off: :class:`Backoff` doubles the wait after each
  failure in a row, up to a cap, and honours a ``Retry-After``. Its shipments stay due; the
  other providers are polled meanwhile. One success ends the back-off.

Every time here is an aware UTC datetime; the watcher's clock gives "now", so a test drives
the schedule with a clock of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs

from .._core import validate
from .._providers import all_specs
from ..errors import ValidationError

__all__ = [
    "Backoff",
    "Cadence",
    "Interval",
    "Schedule",
    "Slots",
    "documented_cadences",
]


def _minutes(value: Any) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValidationError("minutes", "must be minutes past the hour, such as (5, 35)")
    found = tuple(value)
    if not found:
        raise ValidationError("minutes", "must name at least one minute past the hour")
    for index, minute in enumerate(found):
        validate.int_in_range(f"minutes[{index}]", minute, 0, 59)
    return tuple(sorted(set(found)))


@attrs.frozen
class Slots:
    """Due at fixed minutes past each hour (``Slots((5, 35))``: at :05 and :35).

    Attributes:
        minutes: The minutes past the hour, 0 to 59.
    """

    minutes: tuple[int, ...] = attrs.field(default=(5, 35), converter=_minutes)

    def next_after(self, when: datetime) -> datetime:
        """The first slot strictly after ``when``."""
        hour = when.replace(minute=0, second=0, microsecond=0)
        for step in range(2):
            for minute in self.minutes:
                slot = hour + timedelta(hours=step, minutes=minute)
                if slot > when:
                    return slot
        raise AssertionError("unreachable: a slot lies within the next two hours")

    def __str__(self) -> str:
        return "at " + ", ".join(f":{m:02d}" for m in self.minutes) + " each hour"


def _every(value: Any) -> timedelta:
    return validate.duration("every", value, zero=True)


@attrs.frozen
class Interval:
    """Due a fixed time after each poll (``Interval(timedelta(minutes=30))``).

    ``timedelta(0)`` makes every shipment due at every poll.

    Attributes:
        every: The time between two polls of a shipment.
    """

    every: timedelta = attrs.field(converter=_every)

    def next_after(self, when: datetime) -> datetime:
        """``when`` plus :attr:`every`."""
        return when + self.every

    def __str__(self) -> str:
        return f"every {self.every}"


#: A cadence: :class:`Slots` or :class:`Interval`.
Cadence = Slots | Interval


def documented_cadences() -> dict[str, Cadence]:
    """The cadences providers document (their specs' ``poll_minutes``), by provider name."""
    return {s.name: Slots(s.poll_minutes) for s in all_specs() if s.poll_minutes}


def _first(value: Any) -> timedelta:
    return validate.duration("first", value)


def _cap(value: Any) -> timedelta:
    return validate.duration("cap", value)


def _tours_every(value: Any) -> timedelta:
    return validate.duration("tours_every", value)


def _factor(value: Any) -> float:
    number = validate.seconds("factor", value)
    if number < 1:
        raise ValidationError("factor", f"must be at least 1, got {number!r}")
    return number


@attrs.frozen
class Backoff:
    """How long a failing provider waits: ``first`` after one failure, ``factor`` times more
    after each further failure in a row, never more than ``cap`` (but a provider's own
    ``Retry-After`` is always honoured).

    Attributes:
        first: The wait after the first failure (1 minute).
        factor: How much longer each further wait is (2: 1, 2, 4, 8 minutes...).
        cap: The longest wait (1 hour).
    """

    first: timedelta = attrs.field(default=timedelta(minutes=1), converter=_first)
    factor: float = attrs.field(default=2.0, converter=_factor)
    cap: timedelta = attrs.field(default=timedelta(hours=1), converter=_cap)

    def delay(self, failures: int, retry_after: float | None = None) -> timedelta:
        """The wait after ``failures`` failures in a row (1 or more)."""
        seconds = self.first.total_seconds() * self.factor ** max(0, failures - 1)
        wait = min(seconds, self.cap.total_seconds())
        if retry_after is not None and retry_after > wait:
            wait = retry_after
        return timedelta(seconds=wait)


def _cadences(value: Any) -> Mapping[str, Cadence]:
    if not isinstance(value, Mapping):
        raise ValidationError("cadences", "must be a mapping of provider name to cadence")
    for name, cadence in value.items():
        if not isinstance(name, str) or not name:
            raise ValidationError("cadences", f"keys must be provider names, got {name!r}")
        if not isinstance(cadence, (Slots, Interval)):
            raise ValidationError(
                f"cadences[{name!r}]", f"expected Slots or Interval, got {type(cadence).__name__}"
            )
    return dict(value)


def _cadence(value: Any) -> Cadence:
    if not isinstance(value, (Slots, Interval)):
        raise ValidationError("default", f"expected Slots or Interval, got {type(value).__name__}")
    return value


def _grace(value: Any) -> timedelta:
    return validate.duration("retire_after", value, zero=True)


def _backoff(value: Any) -> Backoff:
    if not isinstance(value, Backoff):
        raise ValidationError("backoff", f"expected a Backoff, got {type(value).__name__}")
    return value


def _batch(value: Any) -> int:
    return validate.int_in_range("batch_size", value, 1, None)


@attrs.frozen
class Schedule:
    """A watcher's schedule.

    Attributes:
        cadences: Provider name → cadence, over :func:`documented_cadences` (give
            ``{"shiplemon": Interval(...)}`` to poll Shiplemon otherwise).
        default: The cadence of a provider without one (every 30 minutes).
        retire_after: How long a delivered shipment is still polled before it is retired
            (``timedelta(0)``: retired when first seen delivered).
        backoff: How a failing provider is backed off.
        batch_size: The most shipments of one provider fetched by one poll (1,000); a
            provider with more due is caught up by the next polls, oldest due first.
        tours_every: How often followed tours are listed for new ones (30 minutes).
    """

    cadences: Mapping[str, Cadence] = attrs.field(factory=dict, converter=_cadences)
    default: Cadence = attrs.field(default=Interval(timedelta(minutes=30)), converter=_cadence)
    retire_after: timedelta = attrs.field(default=timedelta(days=1), converter=_grace)
    backoff: Backoff = attrs.field(factory=Backoff, converter=_backoff)
    batch_size: int = attrs.field(default=1000, converter=_batch)
    tours_every: timedelta = attrs.field(default=timedelta(minutes=30), converter=_tours_every)

    def cadence(self, provider: str) -> Cadence:
        """The cadence of ``provider``: configured, documented, or the default."""
        found = self.cadences.get(provider) or documented_cadences().get(provider)
        return found if found is not None else self.default

    def next_poll(self, provider: str, polled: datetime) -> datetime:
        """When a shipment of ``provider`` polled at ``polled`` is due again."""
        return self.cadence(provider).next_after(polled)

    def retires(self, delivered_since: datetime | None, now: datetime) -> bool:
        """Whether a shipment first seen delivered at ``delivered_since`` is retired now."""
        return delivered_since is not None and now - delivered_since >= self.retire_after


def utc_now() -> datetime:
    """The current time, aware, in UTC: a watcher's default clock."""
    return datetime.now(timezone.utc)
