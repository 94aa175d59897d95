"""Where a polling loop resumes: the cursor of :meth:`OrdersResource.iter_messages
<shiptrack_sdk.lex.orders.OrdersResource.iter_messages>` and the checkpoints that keep it.

A :class:`Cursor` is the newest timestamp consumed and the ids of the messages consumed *at*
that timestamp (the only ones a ``minTimestamp`` bound cannot tell apart), plus the keys of the
last messages delivered that could not move it (no readable timestamp, or one outside the
loop's floor and horizon), so it stays small however many messages went by. A
:class:`Checkpoint` loads and saves it; the SDK ships :class:`FileCheckpoint` (one JSON file,
replaced atomically) and :class:`MemoryCheckpoint`. Anything with the same two methods (a
database row, a key in Redis) works too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from .._core import validate
from .._core.convert import parse_datetime
from ..errors import ShiptrackError, ValidationError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Checkpoint",
    "CheckpointError",
    "Cursor",
    "FileCheckpoint",
    "MemoryCheckpoint",
]

#: The version of the file format :class:`FileCheckpoint` writes.
FORMAT_VERSION = 1
#: The largest file :class:`FileCheckpoint` reads or writes unless told otherwise: a cursor
#: is a few kilobytes.
DEFAULT_MAX_BYTES = 1024 * 1024


class CheckpointError(ShiptrackError):
    """A checkpoint could not be read (corrupt or foreign file) or written."""


def _ids(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _keys(values: Sequence[str]) -> tuple[str, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValidationError("unplaced_ids", "must be a sequence of message keys (strings)")
    keys = tuple(values)
    if not all(isinstance(key, str) for key in keys):
        raise ValidationError("unplaced_ids", "must be a sequence of message keys (strings)")
    return keys


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
        unplaced_ids: The keys (:func:`~shiptrack_sdk.lex.order_models.message_key`: the id,
            or a digest of the content when there is none) of the last messages delivered
            that could not move ``timestamp``: without a readable timestamp, or dated before
            the loop's floor or past its horizon. Oldest first, at most
            :data:`~shiptrack_sdk.lex.stream.MAX_UNPLACED_IDS`: one served again by a later
            run is recognised and dropped.
    """

    timestamp: datetime | None = attrs.field(default=None, converter=_aware_or_none)
    seen_ids: frozenset[str] = attrs.field(factory=frozenset, converter=_ids)
    bound: str = attrs.field(default="below", converter=_bound)
    unplaced_ids: tuple[str, ...] = attrs.field(default=(), converter=_keys)

    def to_json(self) -> dict[str, Any]:
        """The cursor as JSON data (microseconds kept)."""
        data: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "seen_ids": sorted(self.seen_ids),
        }
        if self.bound != "below":
            data["bound"] = self.bound
        if self.unplaced_ids:
            data["unplaced_ids"] = list(self.unplaced_ids)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Cursor:
        """The cursor :meth:`to_json` wrote.

        Raises:
            CheckpointError: ``data`` is not a cursor.
        """
        # ``True == 1`` and ``1.0 == 1``: the version must be the very integer.
        version = data.get("version") if isinstance(data, dict) else None
        if type(version) is not int or version != FORMAT_VERSION:
            raise CheckpointError("not a LEX order cursor (unknown format or version)")
        timestamp, ids = data.get("timestamp"), data.get("seen_ids")
        if timestamp is not None and not isinstance(timestamp, str):
            raise CheckpointError("cursor's timestamp must be an ISO 8601 string or null")
        if not _strings(ids):
            raise CheckpointError("cursor's seen_ids must be a list of strings")
        unplaced = data.get("unplaced_ids", [])
        if not _strings(unplaced):
            raise CheckpointError("cursor's unplaced_ids must be a list of strings")
        bound = data.get("bound", "below")
        if not isinstance(bound, str) or bound not in BOUNDS:
            raise CheckpointError(f"cursor's bound must be one of {', '.join(BOUNDS)}")
        try:
            parsed = parse_datetime(timestamp) if timestamp is not None else None
            # A file is no caller input: what the cursor refuses makes the file foreign.
            return cls(parsed, frozenset(ids), bound, unplaced)
        except (ValueError, OverflowError) as exc:  # ValidationError included
            raise CheckpointError(f"cursor's timestamp is not a date-time: {exc}") from exc


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


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
    cursor or the new one, never half of one. A crash between the two leaves the temporary
    file (``.<name>.XXXXXXXX.tmp`` beside the checkpoint): the next save removes it. Keep one
    loop per checkpoint file: a save removes every such file, a concurrent writer's included.

    Whatever the file holds, :meth:`load` returns a cursor or raises :class:`CheckpointError`:
    bytes that are not UTF-8, JSON nested beyond the parser's depth, a file larger than
    ``max_bytes`` (refused unread), numbers no date-time holds, a foreign format.

    Args:
        path: The checkpoint file. Its directory must exist; the file is created on the first
            save.
        fsync: Flush to disk before renaming (on by default; off trades durability across a
            power loss for speed).
        max_bytes: The largest file read, and the largest cursor written (so that whatever is
            saved loads again); :data:`DEFAULT_MAX_BYTES` (1 MiB) by default.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fsync: bool = True,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise ValidationError("path", "must be a file path")
        self.path = Path(path)
        self.fsync = fsync
        self.max_bytes = validate.int_in_range("max_bytes", max_bytes, 1, None)
        self._lock = threading.Lock()
        # The names mkstemp gives this checkpoint's temporary files (8 random characters).
        self._leftover = re.compile(re.escape(f".{self.path.name}.") + r"[a-z0-9_]{8}\.tmp")

    def __repr__(self) -> str:
        return f"FileCheckpoint({str(self.path)!r})"

    def load(self) -> Cursor | None:
        """The saved cursor, or ``None`` when the file does not exist.

        Raises:
            CheckpointError: the file exists but holds no cursor.
        """
        try:
            with self.path.open("rb") as handle:
                raw = handle.read(self.max_bytes + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CheckpointError(f"cannot read checkpoint {self.path}: {exc}") from exc
        if len(raw) > self.max_bytes:
            raise CheckpointError(
                f"checkpoint {self.path} is larger than {self.max_bytes} bytes (max_bytes): "
                "not a cursor"
            )
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise CheckpointError(f"checkpoint {self.path} is not UTF-8 text") from exc
        except ValueError as exc:
            raise CheckpointError(f"checkpoint {self.path} is not JSON") from exc
        except RecursionError:
            # Not chained: the parser's traceback is as deep as the nesting.
            raise CheckpointError(f"checkpoint {self.path} is JSON nested too deep") from None
        return Cursor.from_json(data)

    def save(self, cursor: Cursor) -> None:
        """Write ``cursor`` atomically.

        Temporary files left by an earlier crash are removed once the new cursor is in place.

        Raises:
            CheckpointError: the file could not be written, or the cursor is larger than
                ``max_bytes`` (the previous cursor is intact).
        """
        content = json.dumps(cursor.to_json(), separators=(",", ":")).encode()
        if len(content) > self.max_bytes:
            raise CheckpointError(
                f"cannot write checkpoint {self.path}: the cursor takes {len(content)} bytes, "
                f"larger than {self.max_bytes} (max_bytes)"
            )
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
            self._remove_leftovers(directory)
            if self.fsync:
                self._fsync_directory(directory)

    def _remove_leftovers(self, directory: Path) -> None:
        # The temporary files of saves a crash interrupted before their rename: nothing else
        # ever removes them. Failing to is no reason to fail a save that succeeded.
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for name in names:
            if self._leftover.fullmatch(name):
                with contextlib.suppress(OSError):
                    os.unlink(directory / name)

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
