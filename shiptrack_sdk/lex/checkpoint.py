"""Where a polling loop resumes: the cursor of :meth:`OrdersResource.iter_messages
<shiptrack_sdk.lex.orders.OrdersResource.iter_messages>` and the checkpoints that keep it.

A :class:`Cursor` is the newest timestamp consumed and the ids of the messages consumed *at*
that timestamp (the only ones a ``minTimestamp`` bound cannot tell apart), so it stays small
however many messages went by. A :class:`Checkpoint` loads and saves it; the SDK ships
:class:`FileCheckpoint` (one JSON file, replaced atomically) and :class:`MemoryCheckpoint`.
Anything with the same two methods (a database row, a key in Redis) works too.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from .._core import validate
from .._core.convert import parse_datetime
from ..errors import ShiptrackError, ValidationError

__all__ = ["Checkpoint", "CheckpointError", "Cursor", "FileCheckpoint", "MemoryCheckpoint"]

#: The version of the file format :class:`FileCheckpoint` writes.
FORMAT_VERSION = 1


class CheckpointError(ShiptrackError):
    """A checkpoint could not be read (corrupt or foreign file) or written."""


def _ids(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _aware_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else validate.aware_utc("timestamp", value)


#: Where the next ``minTimestamp`` sits relative to :attr:`Cursor.timestamp`.
BOUNDS = ("below", "at", "after")


def _bound(value: Any) -> str:
    if value not in BOUNDS:
        raise ValidationError("bound", f"must be one of {', '.join(BOUNDS)}, got {value!r}")
    return str(value)


@attrs.frozen
class Cursor:
    """How far a polling loop got.

    Attributes:
        timestamp: The newest message timestamp consumed (aware UTC), or ``None`` before the
            first one. The next ``GET`` asks from it (``minTimestamp``).
        seen_ids: The ids of the messages consumed at exactly ``timestamp``: they come back
            with the next page and are dropped.
        bound: Where the next ``minTimestamp`` sits: ``"below"`` (one microsecond before
            ``timestamp``, so that the rest of its messages come back whether LEX's bound
            includes ``minTimestamp`` or not: the normal case), ``"at"`` (``timestamp``
            itself) or ``"after"`` (one microsecond after it). The last two are used only
            to get past a timestamp shared by more messages than a page holds, or past a
            server that rounds the bound (see
            :class:`~shiptrack_sdk.lex.orders.MessageStream`); the cursor keeps them so that
            a loop resumed there does not fall back on that timestamp.
    """

    timestamp: datetime | None = attrs.field(default=None, converter=_aware_or_none)
    seen_ids: frozenset[str] = attrs.field(factory=frozenset, converter=_ids)
    bound: str = attrs.field(default="below", converter=_bound)

    def to_json(self) -> dict[str, Any]:
        """The cursor as JSON data (microseconds kept)."""
        data: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "seen_ids": sorted(self.seen_ids),
        }
        if self.bound != "below":
            data["bound"] = self.bound
        return data

    @classmethod
    def from_json(cls, data: Any) -> Cursor:
        """The cursor :meth:`to_json` wrote.

        Raises:
            CheckpointError: ``data`` is not a cursor.
        """
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise CheckpointError("not a LEX order cursor (unknown format or version)")
        timestamp, ids = data.get("timestamp"), data.get("seen_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise CheckpointError("cursor's seen_ids must be a list of strings")
        bound = data.get("bound", "below")
        if bound not in BOUNDS:
            raise CheckpointError(f"cursor's bound must be one of {', '.join(BOUNDS)}")
        try:
            parsed = parse_datetime(timestamp) if timestamp is not None else None
            # A file is no caller input: what the cursor refuses makes the file foreign.
            return cls(parsed, frozenset(ids), bound)
        except ValueError as exc:  # ValidationError included
            raise CheckpointError(f"cursor's timestamp is not a date-time: {exc}") from exc


@runtime_checkable
class Checkpoint(Protocol):
    """Loads and saves a :class:`Cursor`. ``save`` must be durable when it returns."""

    def load(self) -> Cursor | None:
        """The saved cursor, or ``None`` when nothing was saved yet."""
        ...

    def save(self, cursor: Cursor) -> None:
        """Replace the saved cursor with ``cursor``."""
        ...


class MemoryCheckpoint:
    """A checkpoint in memory: for tests, and for loops that only need to resume in-process."""

    def __init__(self, cursor: Cursor | None = None) -> None:
        self.cursor = cursor
        #: How many times :meth:`save` was called.
        self.saves = 0
        self._lock = threading.Lock()

    def load(self) -> Cursor | None:
        with self._lock:
            return self.cursor

    def save(self, cursor: Cursor) -> None:
        with self._lock:
            self.cursor = cursor
            self.saves += 1

    def __repr__(self) -> str:
        return f"MemoryCheckpoint({self.cursor!r})"


class FileCheckpoint:
    """A checkpoint in one JSON file, replaced atomically.

    Each save writes a temporary file in the same directory, flushes it to disk and renames it
    over the checkpoint (:func:`os.replace`), so a crash at any moment leaves either the old
    cursor or the new one, never half of one.

    Args:
        path: The checkpoint file. Its directory must exist; the file is created on the first
            save.
        fsync: Flush to disk before renaming (on by default; off trades durability across a
            power loss for speed).
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True) -> None:
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise ValidationError("path", "must be a file path")
        self.path = Path(path)
        self.fsync = fsync
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FileCheckpoint({str(self.path)!r})"

    def load(self) -> Cursor | None:
        """The saved cursor, or ``None`` when the file does not exist.

        Raises:
            CheckpointError: the file exists but holds no cursor.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CheckpointError(f"cannot read checkpoint {self.path}: {exc}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CheckpointError(f"checkpoint {self.path} is not JSON") from exc
        return Cursor.from_json(data)

    def save(self, cursor: Cursor) -> None:
        """Write ``cursor`` atomically.

        Raises:
            CheckpointError: the file could not be written (the previous cursor is intact).
        """
        content = json.dumps(cursor.to_json(), separators=(",", ":")).encode()
        directory = self.path.parent
        with self._lock:
            try:
                fd, temp = tempfile.mkstemp(
                    prefix=f".{self.path.name}.", suffix=".tmp", dir=directory
                )
            except OSError as exc:
                raise CheckpointError(f"cannot write checkpoint {self.path}: {exc}") from exc
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
                    if self.fsync:
                        handle.flush()
                        os.fsync(handle.fileno())
                os.replace(temp, self.path)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise CheckpointError(f"cannot write checkpoint {self.path}: {exc}") from exc
            if self.fsync:
                self._fsync_directory(directory)

    @staticmethod
    def _fsync_directory(directory: Path) -> None:
        # The rename itself is durable only once the directory is flushed (POSIX); Windows
        # cannot open a directory, and does not need it.
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            with contextlib.suppress(OSError):
                os.fsync(fd)
        finally:
            os.close(fd)

    def clear(self) -> None:
        """Delete the checkpoint: the next loop starts from its ``since``."""
        with self._lock, contextlib.suppress(FileNotFoundError):
            self.path.unlink()
