"""A de-duplication store in one SQLite file: shared by the worker processes of one host (a
gunicorn's workers), and kept across restarts."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

from ..._core import validate
from ...errors import ValidationError
from .dedup import DEFAULT_LEASE, Claim, check_key

__all__ = ["SQLiteDedupStore"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS lex_push_claims (
        key TEXT PRIMARY KEY NOT NULL,
        done_at REAL,       -- when it was handled (Unix time); NULL while in flight
        lease_until REAL    -- when an in-flight claim expires (Unix time); NULL once handled
    ) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS lex_push_claims_done_at ON lex_push_claims (done_at)",
)

# Connections a forked child inherited from its parent: never used, and never closed either
# (closing one could checkpoint the parent's write-ahead log from the child).
_inherited: list[sqlite3.Connection] = []


class SQLiteDedupStore:
    """Claims kept in an SQLite file (``sqlite3``, write-ahead log), safe across the threads
    and processes of one host and across restarts.

    A claim is one ``BEGIN IMMEDIATE`` transaction: the write lock is taken before the key
    is read, so of two processes claiming a key at once exactly one is answered NEW; the
    other waits for the lock (``busy_timeout``) and reads the first one's claim. Handled keys
    are kept ``retention_days``, and at most ``max_entries`` of them (the oldest go first);
    pruning runs at most once a minute, after a key is completed, or when :meth:`prune` is
    called.

    The file must be on a local disk (SQLite's write-ahead log does not work over a network
    file system). Several hosts need a store they all reach (see the guide). Writes are
    durable against a crash of the process; against a power failure, the last handled keys
    may be forgotten (``synchronous=NORMAL``), and a redelivery of them is then handled
    again.

    Args:
        path: The database file (created if missing, with its directory's permissions).
        lease: Seconds an uncompleted claim holds its key (default 300).
        retention_days: Days a handled key is remembered (default 30).
        max_entries: Handled keys remembered at most (default 1,000,000).
        busy_timeout: Seconds to wait for another process's write lock before failing
            (default 10; the receiver then answers 500).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lease: float = DEFAULT_LEASE,
        retention_days: float = 30.0,
        max_entries: int = 1_000_000,
        busy_timeout: float = 10.0,
    ) -> None:
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise ValidationError("path", "must be the path of the database file")
        self.path = os.fspath(path)
        if not isinstance(self.path, str):
            raise ValidationError("path", "must be a text path, not bytes")
        self.lease = validate.seconds("lease", lease)
        self.retention_days = validate.seconds("retention_days", retention_days)
        self.max_entries = validate.int_in_range("max_entries", max_entries, 1, None)
        self.busy_timeout = validate.seconds("busy_timeout", busy_timeout, zero=True)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._pruned_at = 0.0
        with self._lock:
            self._connect()  # a file that cannot be opened fails here, not on a delivery

    def __repr__(self) -> str:
        return (
            f"SQLiteDedupStore({self.path!r}, lease={self.lease}, "
            f"retention_days={self.retention_days}, max_entries={self.max_entries})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # To another process (multiprocessing), a store travels as its settings: the
        # receiving process opens the file again.
        options = {
            "lease": self.lease,
            "retention_days": self.retention_days,
            "max_entries": self.max_entries,
            "busy_timeout": self.busy_timeout,
        }
        return (_reopen, (self.path, options))

    # -- the protocol ---------------------------------------------------------------------------

    def claim(self, key: str) -> Claim:
        """Claim ``key``, atomically among every process using the file."""
        check_key(key)
        with self._lock:
            connection = self._connect()
            # A plain read first: a duplicate (the common case of a redelivery) is answered
            # without taking the write lock.
            state = _state(connection, key, time.time())
            if state is not Claim.NEW:
                return state
            with _immediate(connection):
                now = time.time()
                state = _state(connection, key, now)
                if state is Claim.NEW:
                    connection.execute(
                        "INSERT OR REPLACE INTO lex_push_claims (key, done_at, lease_until) "
                        "VALUES (?, NULL, ?)",
                        (key, now + self.lease),
                    )
            return state

    def complete(self, key: str) -> None:
        """Record ``key`` as handled."""
        check_key(key)
        with self._lock:
            connection = self._connect()
            now = time.time()
            connection.execute(
                "INSERT OR REPLACE INTO lex_push_claims (key, done_at, lease_until) "
                "VALUES (?, ?, NULL)",
                (key, now),
            )
            if now - self._pruned_at >= 60.0:
                self._prune(connection, now)

    def release(self, key: str) -> None:
        """Free ``key`` (it was not handled); a handled key stays handled."""
        check_key(key)
        with self._lock:
            self._connect().execute(
                "DELETE FROM lex_push_claims WHERE key = ? AND done_at IS NULL", (key,)
            )

    # -- more -----------------------------------------------------------------------------------

    def seen(self, key: str) -> bool:
        """Whether ``key`` was handled (and is still remembered)."""
        check_key(key)
        with self._lock:
            return _state(self._connect(), key, time.time()) is Claim.DONE

    def add(self, key: str) -> None:
        """Record ``key`` as handled without claiming it first (to import known ids)."""
        self.complete(key)

    def __len__(self) -> int:
        """Handled keys remembered."""
        with self._lock:
            row = (
                self._connect()
                .execute("SELECT COUNT(*) FROM lex_push_claims WHERE done_at IS NOT NULL")
                .fetchone()
            )
        return int(row[0])

    def prune(self) -> int:
        """Forget the keys handled more than ``retention_days`` ago, then the oldest beyond
        ``max_entries``, and claims whose lease ended that long ago. Returns how many went."""
        with self._lock:
            return self._prune(self._connect(), time.time())

    def close(self) -> None:
        """Close this process's connection (it is opened again when needed)."""
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None

    # -- internals ------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        """This process's connection, opened on first use (and again in a forked child)."""
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        if self._connection is not None:
            _inherited.append(self._connection)
        connection = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout,
            isolation_level=None,  # autocommit; claims open their own transactions
            check_same_thread=False,  # shared by this store's threads, under its lock
        )
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            with _immediate(connection):
                for statement in _SCHEMA:
                    connection.execute(statement)
        except BaseException:
            connection.close()
            raise
        self._connection, self._pid = connection, os.getpid()
        return connection

    def _prune(self, connection: sqlite3.Connection, now: float) -> int:
        horizon = now - self.retention_days * 86_400.0
        with _immediate(connection):
            removed = connection.execute(
                "DELETE FROM lex_push_claims WHERE done_at < ? "
                "OR (done_at IS NULL AND lease_until < ?)",
                (horizon, horizon),
            ).rowcount
            (count,) = connection.execute(
                "SELECT COUNT(*) FROM lex_push_claims WHERE done_at IS NOT NULL"
            ).fetchone()
            if count > self.max_entries:
                removed += connection.execute(
                    "DELETE FROM lex_push_claims WHERE key IN (SELECT key FROM lex_push_claims "
                    "WHERE done_at IS NOT NULL ORDER BY done_at LIMIT ?)",
                    (count - self.max_entries,),
                ).rowcount
        self._pruned_at = now
        return int(removed)


def _state(connection: sqlite3.Connection, key: str, now: float) -> Claim:
    row = connection.execute(
        "SELECT done_at, lease_until FROM lex_push_claims WHERE key = ?", (key,)
    ).fetchone()
    if row is None:
        return Claim.NEW
    done_at, lease_until = row
    if done_at is not None:
        return Claim.DONE
    if lease_until is not None and lease_until > now:
        return Claim.IN_FLIGHT
    return Claim.NEW  # a claim whose lease ended: its worker crashed or gave up


@contextlib.contextmanager
def _immediate(connection: sqlite3.Connection) -> Iterator[None]:
    """A write transaction, its lock taken at ``BEGIN`` (waiting up to the busy timeout)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _reopen(path: str, options: dict[str, Any]) -> SQLiteDedupStore:
    return SQLiteDedupStore(path, **options)
