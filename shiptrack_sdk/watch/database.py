"""The SQLite file behind a :class:`~shiptrack_sdk.watch.Watcher`: its schema, its connection
and its write transactions.

One file, in write-ahead-log mode with ``synchronous=FULL``: a commit is on disk when it
returns. Tables:

* ``shipments``: one row per watched shipment: labels, latest tracking (JSON) and its digest,
  status, next due time (``NULL`` once retired), failures in a row. Due shipments are chosen
  through the partial index ``shipments_due (provider, due_at)``.
* ``events``: each event once, by its key (:func:`~shiptrack_sdk.watch.model.event_keys`),
  with the change it came in and its forwarding state.
* ``changes``: the outbox: each change with the tracking it was found in, and when it was
  delivered (``NULL``: pending; the partial index ``changes_pending`` finds those).
* ``providers``, ``errors``, ``tour_follows``, ``tours``, ``meta``: back-off, the latest
  errors, followed tours, and the time of the last poll.

Times are stored as seconds since the epoch (UTC), which the indexes order cheaply.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from .._core.sqlite import SQLiteFile
from .._core.urls import redact_text
from ..errors import ShiptrackError, ValidationError

__all__ = ["ERRORS_KEPT", "Database", "WatchStoreError", "check_path", "epoch", "error_text"]

#: Marks the file as a watcher's store (``PRAGMA application_id``: "STWA").
_APPLICATION_ID = 0x53545741
_VERSION = 1
#: The latest errors kept for ``status``.
ERRORS_KEPT = 200
_ERROR_LIMIT = 1000

_SCHEMA = """
CREATE TABLE shipments (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    shipment_id TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    added_at REAL NOT NULL,
    due_at REAL,
    status TEXT,
    tracking TEXT,
    digest TEXT,
    polled_at REAL,
    delivered_since REAL,
    retired_at REAL,
    errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (provider, shipment_id)
);
CREATE INDEX shipments_due ON shipments (provider, due_at) WHERE due_at IS NOT NULL;
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    shipment_id TEXT NOT NULL,
    key TEXT NOT NULL,
    occurred_at REAL NOT NULL,
    status TEXT NOT NULL,
    data TEXT NOT NULL,
    seen_at REAL NOT NULL,
    change_id INTEGER NOT NULL,
    forward_state TEXT NOT NULL DEFAULT 'new',
    fingerprint TEXT,
    UNIQUE (provider, shipment_id, key)
);
CREATE INDEX events_forward ON events (forward_state, id);
CREATE TABLE changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    shipment_id TEXT NOT NULL,
    detected_at REAL NOT NULL,
    status_before TEXT,
    status_after TEXT NOT NULL,
    events TEXT NOT NULL,
    tracking TEXT NOT NULL,
    labels TEXT NOT NULL,
    delivered_at REAL
);
CREATE INDEX changes_pending ON changes (id) WHERE delivered_at IS NULL;
CREATE INDEX changes_shipment ON changes (provider, shipment_id);
CREATE TABLE providers (
    provider TEXT PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    backoff_until REAL,
    last_poll REAL
);
CREATE TABLE errors (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    provider TEXT NOT NULL,
    shipment_id TEXT,
    error TEXT NOT NULL
);
CREATE TABLE tour_follows (
    provider TEXT PRIMARY KEY,
    since TEXT,
    labels TEXT NOT NULL,
    next_list REAL NOT NULL
);
CREATE TABLE tours (
    provider TEXT NOT NULL,
    tour_id TEXT NOT NULL,
    joined_at REAL NOT NULL,
    shipments INTEGER NOT NULL,
    PRIMARY KEY (provider, tour_id)
);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)
"""


class WatchStoreError(ShiptrackError):
    """A watcher's store could not be opened (not a store, written by a newer version) or
    written; or it is closed."""


def error_text(error: BaseException | str) -> str:
    """What is kept of an error: its class and message, URLs redacted, capped."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return redact_text(text)[:_ERROR_LIMIT]


def epoch(when: datetime) -> float:
    """``when`` (aware) as the store keeps times."""
    return when.timestamp()


class Database(SQLiteFile):
    """The store's SQLite connection, shared by threads under one lock.

    Args:
        path: The file (created if missing), or ``":memory:"``.
        timeout: Seconds to wait for another connection holding the write lock.

    Raises:
        WatchStoreError: the file cannot be opened, or is not a watcher's store.
    """

    kind = "watcher's store"
    error = WatchStoreError
    application_id = _APPLICATION_ID
    version = _VERSION
    schema = _SCHEMA
    in_memory = True


def check_path(value: Any) -> str:
    """A store's path: a file's (``os.PathLike`` too), or ``":memory:"``."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("store", "must be the path of a file, or ':memory:'")
    if value.startswith("file:"):
        raise ValidationError("store", "must be a path, not a SQLite URI")
    return value
