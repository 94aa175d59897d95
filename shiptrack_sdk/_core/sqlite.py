"""A durable SQLite file of the SDK's own: what the LEX send journal and the watcher's store
are written on.

One connection shared by threads under one lock, in write-ahead-log mode with
``synchronous=FULL`` (a commit is on disk when it returns), its schema created in an empty
file and stamped with an application id and a version, so that another file, or one written
by a newer version of the SDK, is refused rather than misread. Every SQLite failure becomes
the file's own error class, naming the file.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from ..errors import ShiptrackError

__all__ = ["SQLiteFile"]


class SQLiteFile:
    """A durable SQLite file; a subclass says what it holds.

    Args:
        path: The file (created if missing); ``":memory:"`` where :attr:`in_memory` allows.
        timeout: Seconds to wait for another connection holding the write lock.

    Raises:
        ShiptrackError: (the subclass's :attr:`error`) the file cannot be opened, cannot be
            kept in WAL mode, is another kind of file, or was written by a newer version.
    """

    #: What the file is, as errors name it ("send journal").
    kind: ClassVar[str]
    #: The error every failure raises.
    error: ClassVar[type[ShiptrackError]]
    #: ``PRAGMA application_id`` of such a file, and its schema version.
    application_id: ClassVar[int]
    version: ClassVar[int]
    #: The statements that create the schema, separated by ``;``.
    schema: ClassVar[str]
    #: Whether ``":memory:"`` is taken (for tests: nothing there survives the process).
    in_memory: ClassVar[bool] = False

    def __init__(self, path: str, *, timeout: float = 30.0) -> None:
        self.path = path
        self._lock = threading.RLock()
        try:
            self._db: sqlite3.Connection | None = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self.error(f"{path}: cannot be opened ({exc})") from None
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self) -> None:
        db = self._connection()
        try:
            if not (self.in_memory and self.path == ":memory:"):
                mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise self.error(f"{self.path}: SQLite cannot keep it in WAL mode ({mode})")
            # A commit is on disk when it returns: what was recorded before a request left,
            # or before an acknowledgement returned, survives whatever happens next.
            db.execute("PRAGMA synchronous=FULL")
            with self.transaction() as tx:
                application = tx.execute("PRAGMA application_id").fetchone()[0]
                version = tx.execute("PRAGMA user_version").fetchone()[0]
                tables = tx.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if application == 0 and tables == 0:
                    for statement in self.schema.split(";"):
                        tx.execute(statement)
                    tx.execute(f"PRAGMA application_id={self.application_id}")
                    tx.execute(f"PRAGMA user_version={self.version}")
                elif application != self.application_id:
                    raise self.error(f"{self.path}: not a {self.kind}")
                elif version > self.version:
                    raise self.error(
                        f"{self.path}: written by a newer version (schema {version}); upgrade "
                        "shiptrack-sdk to read it"
                    )
        except sqlite3.Error as exc:
            raise self.error(f"{self.path}: not a {self.kind} ({exc})") from None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._db is None

    def close(self) -> None:
        """Close the connection (again: nothing)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise self.error(f"{self.path}: the {self.kind} is closed")
        return self._db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, under the lock; on disk once the block has left."""
        with self._lock:
            db = self._connection()
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self.error(f"{self.path}: cannot be written ({exc})") from None
            try:
                yield db
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise
            try:
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise self.error(f"{self.path}: cannot be written ({exc})") from None

    def read(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        """The rows ``sql`` selects, under the lock."""
        with self._lock:
            try:
                return self._connection().execute(sql, parameters).fetchall()
            except sqlite3.Error as exc:
                raise self.error(f"{self.path}: cannot be read ({exc})") from None
