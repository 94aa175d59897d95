"""The SQLite file behind :class:`~shiptrack_sdk.lex.journal.SendJournal`: its schema, its
write transactions, and each message's state as its batches are claimed and answered.

A message has one row, keyed by ``(kind, key)`` (the key is the fingerprint of a tracking
message, the ``messageId`` of an order message), pointing at the batch of its latest attempt.
Its state moves ``pending`` (claimed, committed before the POST) to ``accepted``, ``failed``
or ``in_doubt`` (the batch's outcome), and a caller's :meth:`Store.resolve` settles one in
doubt. ``doubt`` remembers an attempt in doubt: a message that fails after one stays in doubt,
as that attempt may have been stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar

import attrs

from .._core.sqlite import SQLiteFile
from .._core.urls import redact_text
from ..errors import ShiptrackError, ValidationError

Kind = Literal["tracking", "orders"]
T = TypeVar("T")

#: Marks the file as a send journal (``PRAGMA application_id``: "STJN").
_APPLICATION_ID = 0x53544A4E
_VERSION = 1
#: At most this many values per ``IN (...)``: below every SQLite's variable limit.
_CHUNK = 500
#: The longest error text and answer kept.
_ERROR_LIMIT = 1000
_ANSWER_LIMIT = 65536
DOUBTFUL = ("pending", "in_doubt")

_SCHEMA = """
CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('tracking', 'orders')),
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'failed', 'in_doubt')),
    size INTEGER NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    answer TEXT
);
CREATE TABLE messages (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    message_id TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'failed', 'in_doubt')),
    doubt INTEGER NOT NULL DEFAULT 0,
    batch_id INTEGER NOT NULL REFERENCES batches (id),
    position INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    wire TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX messages_fingerprint ON messages (fingerprint);
CREATE INDEX messages_state ON messages (state);
CREATE INDEX messages_batch ON messages (batch_id)
"""

#: The columns of a message's record, in :class:`~shiptrack_sdk.lex.journal.JournalEntry`'s
#: order (``m``: messages, ``b``: its latest batch).
ENTRY_COLUMNS = (
    "m.fingerprint, m.kind, m.state, m.wire, m.message_id, m.batch_id, m.position,"
    " m.attempts, b.error, m.updated"
)

# The SQL of a message's state after its batch's outcome.
_AFTER = {
    "accepted": "'accepted'",
    "in_doubt": "'in_doubt'",
    "failed": "CASE WHEN doubt THEN 'in_doubt' ELSE 'failed' END",
}


class JournalError(ShiptrackError):
    """A send journal could not be opened (missing, not a journal, written by a newer
    version) or written; or it is closed."""


def canonical(wire: Any) -> str:
    """``wire`` as canonical JSON: keys sorted, compact, no ASCII escaping."""
    return json.dumps(
        wire, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


@attrs.frozen
class Item:
    """One message as the journal records it."""

    key: str
    fingerprint: str
    message_id: str | None
    wire: str


def item(kind: Kind, wire: Any) -> Item:
    """The record of ``wire`` (a message's JSON) sent as ``kind``."""
    text = canonical(wire)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if kind == "tracking":
        return Item(digest, digest, None, text)
    message_id = wire.get("messageId") if isinstance(wire, Mapping) else None
    if not isinstance(message_id, str):
        raise ValidationError("message", "has no messageId")
    return Item(message_id, digest, message_id, text)


def skip(state: str | None, resend_in_doubt: bool) -> str | None:
    """Why a message in ``state`` is not sent (``"accepted"``, ``"in_doubt"``), or ``None``."""
    if state == "accepted":
        return "accepted"
    if state in DOUBTFUL and not resend_in_doubt:
        return "in_doubt"
    return None


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def error_text(error: BaseException | str | None) -> str | None:
    """What is kept of an error: its type and message, capped (SDK errors hold no secret;
    redacting URLs and queries again costs nothing and covers any other text)."""
    if error is None:
        return None
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return redact_text(text)[:_ERROR_LIMIT]


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


class Store(SQLiteFile):
    """The journal's SQLite connection, shared by threads under one lock."""

    kind = "send journal"
    error = JournalError
    application_id = _APPLICATION_ID
    version = _VERSION
    schema = _SCHEMA

    def __init__(self, path: str, *, create: bool, timeout: float) -> None:
        if not create and not os.path.isfile(path):
            raise JournalError(f"{path}: no such send journal")
        super().__init__(path, timeout=timeout)

    def entries(self, where: str, parameters: Sequence[Any] = (), order: str = "") -> list[Any]:
        """The records (:data:`ENTRY_COLUMNS`) of the messages ``where`` selects."""
        return self.read(
            f"SELECT {ENTRY_COLUMNS} FROM messages m JOIN batches b ON b.id = m.batch_id"  # noqa: S608 - fixed SQL
            f" WHERE {where} {order}",
            parameters,
        )

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Messages by state, batches by state."""
        messages = dict(self.read("SELECT state, count(*) FROM messages GROUP BY state"))
        batches = dict(self.read("SELECT state, count(*) FROM batches GROUP BY state"))
        return messages, batches

    def states(
        self, kind: Kind, keys: Sequence[str], db: sqlite3.Connection | None = None
    ) -> dict[str, str]:
        """The state of each message of ``keys`` the journal has."""
        states: dict[str, str] = {}
        with self._lock:
            db = db or self._connection()
            try:
                for chunk in _chunks(list(dict.fromkeys(keys))):
                    states.update(
                        db.execute(
                            "SELECT key, state FROM messages WHERE kind = ?"  # noqa: S608 - placeholders
                            f" AND key IN ({_marks(chunk)})",
                            [kind, *chunk],
                        ).fetchall()
                    )
            except sqlite3.Error as exc:
                raise JournalError(f"{self.path}: cannot be read ({exc})") from None
        return states

    def claim(
        self, kind: Kind, batch: Sequence[tuple[int, Item]], *, resend_in_doubt: bool
    ) -> tuple[int | None, tuple[int, ...], dict[int, str]]:
        """Record a batch as pending, durably, before it is sent. Messages another sender
        claimed or settled since the caller looked are left out.

        Returns:
            The batch's id (``None`` when nothing is left to send), the indexes to send, and
            those left out (index -> ``"accepted"`` or ``"in_doubt"``).
        """
        stamp = now()
        with self.transaction() as tx:
            states = self.states(kind, [entry.key for _, entry in batch], tx)
            claimed: list[tuple[int, Item]] = []
            left: dict[int, str] = {}
            for index, entry in batch:
                reason = skip(states.get(entry.key), resend_in_doubt)
                if reason is None:
                    claimed.append((index, entry))
                else:
                    left[index] = reason
            if not claimed:
                return None, (), left
            batch_id = tx.execute(
                "INSERT INTO batches (kind, state, size, created, updated)"
                " VALUES (?, 'pending', ?, ?, ?)",
                (kind, len(claimed), stamp, stamp),
            ).lastrowid
            assert batch_id is not None
            tx.executemany(
                "INSERT INTO messages (kind, key, fingerprint, message_id, state, batch_id,"
                " position, wire, updated) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)"
                " ON CONFLICT (kind, key) DO UPDATE SET fingerprint = excluded.fingerprint,"
                " wire = excluded.wire, batch_id = excluded.batch_id,"
                " position = excluded.position, updated = excluded.updated,"
                " attempts = attempts + 1,"
                " doubt = doubt OR state IN ('pending', 'in_doubt'), state = 'pending'",
                [
                    (kind, e.key, e.fingerprint, e.message_id, batch_id, n, e.wire, stamp)
                    for n, (_, e) in enumerate(claimed)
                ],
            )
        return batch_id, tuple(index for index, _ in claimed), left

    def finish(
        self,
        batch_id: int,
        outcome: str,
        *,
        status: int | None = None,
        error: BaseException | str | None = None,
        answer: Any = None,
    ) -> None:
        """Record a batch's outcome (``"accepted"``, ``"failed"`` or ``"in_doubt"``)."""
        outcome = str(outcome)
        after = _AFTER[outcome]
        stored = None
        if answer is not None:
            with contextlib.suppress(TypeError, ValueError):
                stored = json.dumps(answer, ensure_ascii=False, default=str)
            if stored is not None and len(stored) > _ANSWER_LIMIT:
                stored = None
        stamp = now()
        with self.transaction() as tx:
            tx.execute(
                "UPDATE batches SET state = ?, updated = ?, status = ?, error = ?, answer = ?"
                " WHERE id = ?",
                (outcome, stamp, status, error_text(error), stored, batch_id),
            )
            # Only the messages still pending: one settled meanwhile (resolve) stays settled.
            tx.execute(
                f"UPDATE messages SET state = {after}, doubt = doubt OR ? = 'in_doubt',"  # noqa: S608 - fixed SQL
                " updated = ? WHERE batch_id = ? AND state = 'pending'",
                (outcome, stamp, batch_id),
            )

    def answer(self, kind: Kind, key: str) -> tuple[int | None, Any]:
        """The status and answer of the latest batch of a message."""
        rows = self.read(
            "SELECT b.status, b.answer FROM messages m JOIN batches b ON b.id = m.batch_id"
            " WHERE m.kind = ? AND m.key = ?",
            (kind, key),
        )
        if not rows:
            return None, None
        status, stored = rows[0]
        return status, (json.loads(stored) if stored is not None else None)

    def resolve(self, fingerprints: Sequence[str], state: str) -> int:
        """Settle the messages in doubt among ``fingerprints`` as ``state``; how many were."""
        settled = 0
        with self.transaction() as tx:
            for chunk in _chunks(fingerprints):
                settled += tx.execute(
                    "UPDATE messages SET state = ?, doubt = 0, updated = ? WHERE state IN"  # noqa: S608 - placeholders
                    f" ('pending', 'in_doubt') AND fingerprint IN ({_marks(chunk)})",
                    [state, now(), *chunk],
                ).rowcount
        return settled
