"""De-duplication stores: each message claimed before it is handled, so that a delivery made
again, even while the first copy is still being handled, does not reach the handler twice.

The protocol (:class:`DedupStore`) is three calls, each on one message key:

* ``claim(key)`` atomically: :attr:`Claim.NEW` when nobody holds the key (it is now held,
  for ``lease`` seconds), :attr:`Claim.IN_FLIGHT` when another copy holds it and its lease
  has not expired, :attr:`Claim.DONE` when it was handled before;
* ``complete(key)`` once the handler returned: the key is handled, for good (until the
  store's retention forgets it);
* ``release(key)`` when the handler failed: the key is free again, so the next delivery of
  it is handled.

A claim that is neither completed nor released (the worker holding it crashed) expires after
its lease: the next delivery of the message is then handled.
"""

from __future__ import annotations

import collections
import enum
import threading
import time
from typing import Any, Protocol, runtime_checkable

from ..._core import validate
from ...errors import ValidationError

__all__ = ["DEFAULT_LEASE", "Claim", "DedupStore", "InMemoryDedupStore"]

#: Seconds a claim holds a message for the copy handling it (5 minutes): longer than a
#: handler should ever take. A handler still running past its lease loses the claim, and a
#: copy delivered after that is handled too.
DEFAULT_LEASE = 300.0


class Claim(str, enum.Enum):
    """The answer of :meth:`DedupStore.claim`."""

    #: Nobody held the message: it is claimed now; handle it, then complete or release it.
    NEW = "new"
    #: Another copy holds it and its lease runs: it is being handled right now.
    IN_FLIGHT = "in_flight"
    #: It was handled before.
    DONE = "done"


@runtime_checkable
class DedupStore(Protocol):
    """Claims message keys before they are handled, so each message reaches the handler once.

    Three calls, each on one message key: ``claim(key)`` answers :attr:`Claim.NEW` when
    nobody holds the key (it is now held, for the store's lease), :attr:`Claim.IN_FLIGHT`
    when another copy holds it and its lease runs, :attr:`Claim.DONE` when it was handled
    before; ``complete(key)`` once the handler returned; ``release(key)`` when it raised. A
    claim neither completed nor released (its worker crashed) ends with its lease.

    ``claim`` must be atomic among every process sharing the store: of two copies claiming a
    key at the same instant, exactly one is answered NEW. A store's methods may raise; the
    receiver then answers 500 and LEX delivers again.

    :class:`InMemoryDedupStore` serves one process,
    :class:`~shiptrack_sdk.lex.push.SQLiteDedupStore` the processes of one host. Across
    hosts, implement the three methods over a database they all reach (Redis, PostgreSQL:
    see the guide).
    """

    def claim(self, key: str) -> Claim:
        """Claim the message ``key``: NEW (now held), IN_FLIGHT (held by another) or DONE."""
        ...

    def complete(self, key: str) -> None:
        """The message ``key`` was handled: later claims are answered DONE."""
        ...

    def release(self, key: str) -> None:
        """The message ``key`` was not handled: the next claim is answered NEW."""
        ...


class InMemoryDedupStore:
    """Claims in memory, for one process (every thread of it); forgotten on restart.

    Args:
        max_entries: Handled keys remembered; the oldest are forgotten first.
        lease: Seconds an uncompleted claim holds its key (default :data:`DEFAULT_LEASE`).
    """

    def __init__(self, max_entries: int = 100_000, *, lease: float = DEFAULT_LEASE) -> None:
        self.max_entries = validate.int_in_range("max_entries", max_entries, 1, None)
        self.lease = validate.seconds("lease", lease)
        self._done: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._held: dict[str, float] = {}  # key -> when its lease ends (monotonic)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Handled keys remembered."""
        return len(self._done)

    def __repr__(self) -> str:
        return (
            f"InMemoryDedupStore(max_entries={self.max_entries}, lease={self.lease}, "
            f"handled={len(self._done)}, in_flight={len(self._held)})"
        )

    def claim(self, key: str) -> Claim:
        """Claim ``key`` (atomic among the threads of this process)."""
        check_key(key)
        with self._lock:
            if key in self._done:
                return Claim.DONE
            now = time.monotonic()
            until = self._held.get(key)
            if until is not None and until > now:
                return Claim.IN_FLIGHT
            self._held[key] = now + self.lease
            return Claim.NEW

    def complete(self, key: str) -> None:
        """Record ``key`` as handled."""
        check_key(key)
        with self._lock:
            self._held.pop(key, None)
            self._remember(key)

    def release(self, key: str) -> None:
        """Free ``key``: it was not handled."""
        check_key(key)
        with self._lock:
            self._held.pop(key, None)

    def seen(self, key: str) -> bool:
        """Whether ``key`` was handled (among the last ``max_entries``)."""
        check_key(key)
        with self._lock:
            return key in self._done

    def add(self, key: str) -> None:
        """Record ``key`` as handled without claiming it first (to import known ids)."""
        self.complete(key)

    def _remember(self, key: str) -> None:
        self._done[key] = None
        self._done.move_to_end(key)
        while len(self._done) > self.max_entries:
            self._done.popitem(last=False)


def check_key(key: Any) -> str:
    """``key`` if it is a message key (a non-empty string that encodes), or
    :class:`ValidationError`."""
    if not isinstance(key, str) or not key:
        raise ValidationError("key", "must be a non-empty string (a message key)")
    return validate.no_surrogates("key", key)


def claim_of(answer: Any) -> Claim:
    """A store's answer to ``claim`` as a :class:`Claim` (its value, ``"new"``..., is taken
    too), or ``TypeError`` for anything else."""
    if isinstance(answer, Claim):
        return answer
    if isinstance(answer, str):
        try:
            return Claim(answer)
        except ValueError:
            pass
    raise TypeError(f"the store's claim() answered a {type(answer).__name__}, not a Claim")
