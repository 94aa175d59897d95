"""A client's pace: its rate limit, and the pause a server's ``429`` with ``Retry-After`` asks.

Every attempt of a call waits here first (:meth:`Limiter.wait`, called by the transport before
it sends), for two things:

* **the rate limit** (:class:`RateLimit`): a token bucket of ``burst`` requests refilled at
  ``rate`` a second, shared by every thread of the client. Each attempt reserves the next free
  instant under a lock and sleeps outside it, so waiting threads go in the order they came, one
  interval apart, and a late wake-up does not slow the ones behind it (the instants are
  reserved, not measured after the fact);
* **the client's pause**: a ``429`` answer with a ``Retry-After`` the retry policy honours sets
  a "not before" instant for the whole client, so that every thread's next attempt waits for
  it, not only the one that got the answer (that one waits through its own retry delay).

The waits count against the call's total deadline: a wait that would end past it is not
taken, and the call fails at once with :class:`~shiptrack_sdk.errors.DeadlineExceededError`
rather than sleep and fail. The clock is :func:`time.monotonic` (a wall-clock change moves no
instant); tests pass their own.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import ValidationError
from . import validate

if TYPE_CHECKING:
    from .options import Deadline

__all__ = ["Limiter", "RateLimit", "RateLimitLike", "resolve_rate_limit"]


def _rate(value: Any) -> float:
    return validate.seconds("rate_limit.rate", value)  # a finite number > 0, like seconds


def _burst(value: Any) -> int:
    return validate.int_in_range("rate_limit.burst", value, 1, None)


@attrs.frozen
class RateLimit:
    """A client-side rate limit: a token bucket of ``burst`` requests, refilled at ``rate``
    requests a second.

    Over any stretch of time the client sends at most ``rate`` requests a second on average;
    after a quiet spell, up to ``burst`` may go at once. Retries, and the replay after a token
    renewal, are requests like the others and wait their turn.

    Args:
        rate: Requests a second, a finite number > 0 (``0.5`` is one every two seconds).
        burst: Requests that may go at once, an integer >= 1. The default, 1, spaces every
            request ``1 / rate`` seconds from the one before.
    """

    rate: float = attrs.field(converter=_rate)
    burst: int = attrs.field(default=1, converter=_burst)

    @property
    def interval(self) -> float:
        """Seconds between two requests at the full rate: ``1 / rate``."""
        return 1.0 / self.rate

    @classmethod
    def of(cls, value: RateLimitLike, *, argument: str = "rate_limit") -> RateLimit:
        """A :class:`RateLimit` from requests a second, a ``(rate, burst)`` tuple, or a
        RateLimit.

        Raises:
            ValidationError: anything else, naming ``argument``.
        """
        if isinstance(value, RateLimit):
            return value
        parts: tuple[Any, ...] = value if isinstance(value, tuple) else (value,)
        if isinstance(value, bool) or not 1 <= len(parts) <= 2:
            raise ValidationError(
                argument, "must be requests per second, (rate, burst) or a RateLimit"
            )
        try:
            return cls(*parts)
        except ValidationError as exc:
            raise ValidationError(argument, exc.problems[0][1]) from None


RateLimitLike = RateLimit | float | int | tuple[float, int]


def resolve_rate_limit(
    value: RateLimitLike | bool | None, env_var: str, default: RateLimit | None
) -> RateLimit | None:
    """The rate limit a client runs with: ``value`` (``False``: none), else the environment
    variable ``env_var`` (``"10"``, ``"10,5"`` for a burst of 5, or ``"off"``), else
    ``default`` (the provider's documented limit, ``None`` when it documents none).

    Raises:
        ValidationError: ``value`` or the variable is not a rate limit, naming which.
    """
    if value is False:
        return None
    if value is not None and value is not True:
        return RateLimit.of(value)
    if value is True:
        raise ValidationError("rate_limit", "must be requests per second, (rate, burst) or False")
    raw = (os.environ.get(env_var) or "").strip()
    if not raw:
        return default
    if raw.lower() == "off":
        return None
    parts = raw.split(",")
    try:
        numbers = (float(parts[0]), *(int(p) for p in parts[1:]))
    except ValueError:
        numbers = ()
    if len(numbers) not in (1, 2):
        raise ValidationError(env_var, "must be requests per second, 'rate,burst' or 'off'")
    return RateLimit.of(numbers, argument=env_var)  # type: ignore[arg-type]


class Limiter:
    """One client's pace: its :class:`RateLimit` (or none) and its pause; thread-safe.

    It pickles as its rate limit alone: a copy in another process starts with a full bucket
    and no pause.

    Args:
        rate_limit: The limit, or ``None`` for none (the pause still applies).
        clock: Seconds on a monotonic clock (tests pass their own).
    """

    def __init__(
        self, rate_limit: RateLimit | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._limit = rate_limit
        #: The instant the bucket is full again (GCRA's "theoretical arrival time").
        self._full_at = -math.inf
        self._not_before = -math.inf
        #: The call whose answer set the pause: it waits through its own retry delay instead.
        self._pauser: object | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"rate_limit": self._limit, "clock": self._clock}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["rate_limit"], clock=state["clock"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"<Limiter {self._limit!r}>"

    @property
    def rate_limit(self) -> RateLimit | None:
        """The rate limit, or ``None``; setting it starts from a full bucket."""
        return self._limit

    @rate_limit.setter
    def rate_limit(self, value: RateLimit | None) -> None:
        if value is not None and not isinstance(value, RateLimit):
            raise ValidationError("rate_limit", "must be a RateLimit or None")
        with self._lock:
            self._limit = value
            self._full_at = -math.inf

    def paused_for(self) -> float:
        """Seconds left of the client's pause (``0`` when there is none)."""
        return max(0.0, self._not_before - self._clock())

    def pause(self, seconds: float, call: object = None) -> None:
        """Hold every attempt of the client for ``seconds`` from now (a later pause already
        set stands). ``call``, the call whose answer asked for it, is not held by it."""
        with self._lock:
            until = self._clock() + seconds
            if until > self._not_before:
                self._not_before = until
                self._pauser = call

    def _exempt(self, call: object) -> bool:
        return call is not None and call is self._pauser

    def reserve(self, remaining: float, call: object = None) -> float | None:
        """Take the next turn: the seconds to wait before sending (``0``: at once), or
        ``None`` when the wait would end past ``remaining`` seconds (the deadline); then
        nothing is taken."""
        return self._reserve(remaining, call)[0]

    def _reserve(self, remaining: float, call: object) -> tuple[float | None, float]:
        with self._lock:
            now = self._clock()
            seen = self._not_before
            start = now if self._exempt(call) else max(now, seen)
            limit = self._limit
            if limit is not None:
                interval = limit.interval
                # The bucket holds ``burst`` turns; each turn taken moves the instant it is
                # full again one interval on.
                full_at = max(self._full_at, start)
                start = max(start, full_at - (limit.burst - 1) * interval)
            wait = start - now
            if wait > 0 and wait >= remaining:
                return None, seen
            if limit is not None:
                self._full_at = full_at + interval
            return max(wait, 0.0), seen

    def wait(self, call: object, deadline: Deadline, sleep: Callable[[float], None]) -> bool:
        """Wait for ``call``'s turn before an attempt; ``False`` (at once, nothing taken) when
        the wait would end past the deadline.

        A pause set while the thread sleeps (by an answer in flight when it started waiting)
        is waited for too.
        """
        if self._limit is None and self._not_before <= self._clock():
            return True  # the usual case, read without the lock: no limit, no pause
        wait, seen = self._reserve(deadline.remaining(), call)
        while wait:
            if wait >= deadline.remaining():
                return False
            sleep(wait)
            with self._lock:
                # Only a pause set since the last look makes another wait: the clock is not
                # asked whether the sleep was long enough (a test's sleep returns at once).
                later = self._not_before
                wait = 0.0
                if later > seen and not self._exempt(call):
                    wait = max(0.0, later - self._clock())
                seen = later
        return wait is not None
