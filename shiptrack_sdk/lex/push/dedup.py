"""De-duplication stores: which messages were processed, so a delivery made again is not."""

from __future__ import annotations

import collections
import threading
from typing import Any, Protocol, runtime_checkable

from ..._core import validate
from ...errors import ValidationError

__all__ = ["DedupStore", "InMemoryDedupStore"]


@runtime_checkable
class DedupStore(Protocol):
    """Remembers which message ids were processed. Share one across workers (a database, Redis)
    to de-duplicate across processes."""

    def seen(self, key: str) -> bool:
        """Whether the message ``key`` was processed."""
        ...

    def add(self, key: str) -> None:
        """Remember that the message ``key`` was processed."""
        ...


class InMemoryDedupStore:
    """The last ``max_entries`` message ids processed, in memory (one process).

    Args:
        max_entries: Ids kept; the oldest are forgotten first.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = validate.int_in_range("max_entries", max_entries, 1, None)
        self._keys: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def seen(self, key: str) -> bool:
        """Whether the message ``key`` was processed (among the last ``max_entries``)."""
        _check_key(key)
        with self._lock:
            return key in self._keys

    def add(self, key: str) -> None:
        """Remember that the message ``key`` was processed."""
        _check_key(key)
        with self._lock:
            self._keys[key] = None
            self._keys.move_to_end(key)
            while len(self._keys) > self.max_entries:
                self._keys.popitem(last=False)


def _check_key(key: Any) -> None:
    if not isinstance(key, str) or not key:
        raise ValidationError("key", "must be a non-empty string (a message key)")
