"""What a :class:`~shiptrack_sdk.watch.Watcher` keeps, read and written: watched shipments,
each event once, the outbox of changes, and the providers' back-off (the file itself, its
schema and transactions: :mod:`~shiptrack_sdk.watch.database`).

What one poll learns of a shipment (its latest tracking, its new events, the change they
make) is written in one transaction with its next due time, so a process killed at any
moment leaves either all of it or none of it: a shipment whose poll was lost is still due, and
is read again. A change is marked delivered in a transaction of its own, once the handler it
was handed to has returned.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ..models import Tracking, TrackingStatus
from .database import ERRORS_KEPT, Database, WatchStoreError, check_path, epoch, error_text
from .model import (
    TrackingChange,
    WatchedShipment,
    digest,
    dumps,
    event_data,
    event_from_data,
    event_keys,
    from_epoch,
    tracking_data,
    tracking_from_data,
)

__all__ = ["WatchStore", "WatchStoreError", "check_path", "epoch"]

_SHIPMENT_COLUMNS = (
    "provider, shipment_id, labels, status, added_at, polled_at, due_at, retired_at, errors,"
    " last_error"
)
_CHANGE_COLUMNS = (
    "id, provider, shipment_id, status_before, status_after, events, tracking, labels, detected_at"
)


def _status(value: str | None) -> TrackingStatus | None:
    return None if value is None else TrackingStatus(value)


def _shipment(row: Sequence[Any]) -> WatchedShipment:
    provider, sid, labels, status, added, polled, due, retired, errors, last_error = row
    return WatchedShipment(
        provider=provider,
        shipment_id=sid,
        labels=json.loads(labels),
        status=_status(status),
        added_at=from_epoch(added),
        polled_at=from_epoch(polled),
        due_at=from_epoch(due),
        retired_at=from_epoch(retired),
        errors=errors,
        last_error=last_error,
    )


def change_from_row(row: Sequence[Any]) -> TrackingChange:
    """A change as the ``changes`` table holds it (:data:`_CHANGE_COLUMNS`)."""
    change_id, provider, sid, before, after, events, tracking, labels, detected = row
    return TrackingChange(
        id=change_id,
        provider=provider,
        shipment_id=sid,
        status_before=_status(before),
        status_after=TrackingStatus(after),
        new_events=tuple(event_from_data(e) for e in json.loads(events)),
        tracking=tracking_from_data(json.loads(tracking)),
        labels=json.loads(labels),
        detected_at=from_epoch(detected),
    )


class WatchStore(Database):
    """A watcher's store: its reads and writes (see :class:`~shiptrack_sdk.watch.database.Database`
    for opening it)."""

    # -- shipments ----------------------------------------------------------------------------

    def add(
        self,
        items: Sequence[tuple[str, str]],
        labels: Mapping[str, str] | None,
        now: datetime,
        db: sqlite3.Connection | None = None,
    ) -> int:
        """Watch ``items`` (``(provider, shipment id)``), due at once; returns how many were
        not watched yet. One already watched gets ``labels`` (when given), and is watched
        again if it was retired."""
        at = epoch(now)
        text = dumps(dict(labels)) if labels is not None else None
        with contextlib.ExitStack() as stack:
            tx = db if db is not None else stack.enter_context(self.transaction())
            added = tx.executemany(
                "INSERT OR IGNORE INTO shipments (provider, shipment_id, labels, added_at, due_at)"
                " VALUES (?, ?, ?, ?, ?)",
                ((p, s, text or "{}", at, at) for p, s in items),
            ).rowcount
            if added < len(items):
                tx.executemany(
                    "UPDATE shipments SET labels = coalesce(?, labels),"
                    " retired_at = CASE WHEN due_at IS NULL THEN NULL ELSE retired_at END,"
                    " delivered_since = CASE WHEN due_at IS NULL THEN NULL"
                    " ELSE delivered_since END,"
                    " due_at = coalesce(due_at, ?) WHERE provider = ? AND shipment_id = ?",
                    ((text, at, p, s) for p, s in items),
                )
        return max(added, 0)

    def remove(self, items: Sequence[tuple[str, str]]) -> int:
        """Stop watching ``items``: their rows and events go; their changes stay in the
        outbox. Returns how many were watched."""
        with self.transaction() as tx:
            removed = tx.executemany(
                "DELETE FROM shipments WHERE provider = ? AND shipment_id = ?", items
            ).rowcount
            tx.executemany("DELETE FROM events WHERE provider = ? AND shipment_id = ?", items)
        return max(removed, 0)

    def shipments(
        self,
        provider: str | None = None,
        status: str | None = None,
        *,
        limit: int | None = None,
    ) -> list[WatchedShipment]:
        """The watched shipments, by provider and id; ``status`` ``"NEW"`` (never polled),
        ``"RETIRED"`` or a :class:`~shiptrack_sdk.TrackingStatus` value."""
        where, parameters = [], []
        if provider is not None:
            where.append("provider = ?")
            parameters.append(provider)
        if status == "NEW":
            where.append("status IS NULL")
        elif status == "RETIRED":
            where.append("due_at IS NULL")
        elif status is not None:
            where.append("status = ?")
            parameters.append(status)
        sql = f"SELECT {_SHIPMENT_COLUMNS} FROM shipments"  # noqa: S608 - fixed SQL
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY provider, shipment_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_shipment(row) for row in self.read(sql, parameters)]

    def due(self, provider: str, now: datetime, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` shipments of ``provider`` due at ``now``, longest due first."""
        rows = self.read(
            "SELECT shipment_id FROM shipments WHERE provider = ? AND due_at <= ?"
            " ORDER BY due_at LIMIT ?",
            (provider, epoch(now), limit),
        )
        return [(provider, sid) for (sid,) in rows]

    def count_due(self, provider: str, now: datetime) -> int:
        rows = self.read(
            "SELECT count(*) FROM shipments WHERE provider = ? AND due_at <= ?",
            (provider, epoch(now)),
        )
        return int(rows[0][0])

    def next_due(self, provider: str) -> datetime | None:
        """When the next shipment of ``provider`` is due."""
        rows = self.read(
            "SELECT min(due_at) FROM shipments WHERE provider = ? AND due_at IS NOT NULL",
            (provider,),
        )
        return from_epoch(rows[0][0])

    def counts(self) -> dict[str, dict[str, int]]:
        """Provider → status (``NEW``, ``RETIRED`` or a status) → shipments."""
        found: dict[str, dict[str, int]] = {}
        rows = self.read(
            "SELECT provider, CASE WHEN due_at IS NULL THEN 'RETIRED'"
            " ELSE coalesce(status, 'NEW') END, count(*) FROM shipments GROUP BY 1, 2"
        )
        for provider, status, count in rows:
            found.setdefault(provider, {})[status] = count
        return found

    # -- what a poll learns ---------------------------------------------------------------------

    def record(
        self,
        db: sqlite3.Connection,
        tracking: Tracking,
        now: datetime,
        next_poll: datetime,
        retire_after: float,
    ) -> TrackingChange | None:
        """Store what a poll read of a shipment (inside the transaction ``db``): its latest
        tracking, its new events and, if it has new events or a new status, the change they
        make. Returns the change, or ``None``.

        Args:
            db: The transaction.
            tracking: What was read.
            now: When.
            next_poll: When it is due again, unless it retires now.
            retire_after: Seconds a delivered shipment is still polled.
        """
        provider, sid = tracking.provider, tracking.shipment_id
        row = db.execute(
            "SELECT id, status, digest, labels, delivered_since FROM shipments"
            " WHERE provider = ? AND shipment_id = ?",
            (provider, sid),
        ).fetchone()
        if row is None:
            return None  # removed while it was being read
        rowid, before, known_digest, labels, delivered_since = row
        at = epoch(now)
        delivered = tracking.status is TrackingStatus.DELIVERED
        delivered_since = (delivered_since or at) if delivered else None
        retired = delivered_since is not None and at - delivered_since >= retire_after
        due = None if retired else epoch(next_poll)
        data = tracking_data(tracking)
        text = dumps(data)
        found = digest(text)
        if found == known_digest:
            db.execute(
                "UPDATE shipments SET polled_at = ?, due_at = ?, delivered_since = ?,"
                " retired_at = ?, errors = 0, last_error = NULL WHERE id = ?",
                (at, due, delivered_since, at if retired else None, rowid),
            )
            return None
        known = {
            key
            for (key,) in db.execute(
                "SELECT key FROM events WHERE provider = ? AND shipment_id = ?", (provider, sid)
            )
        }
        fresh = [
            (key, event)
            for key, event in zip(event_keys(tracking), tracking.events, strict=True)
            if key not in known
        ]
        after = tracking.status.value
        change = None
        if fresh or before != after:
            events = [event_data(event) for _, event in fresh]
            change_id = db.execute(
                "INSERT INTO changes (provider, shipment_id, detected_at, status_before,"
                " status_after, events, tracking, labels) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (provider, sid, at, before, after, dumps(events), text, labels),
            ).lastrowid
            assert change_id is not None
            db.executemany(
                "INSERT INTO events (provider, shipment_id, key, occurred_at, status, data,"
                " seen_at, change_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        provider,
                        sid,
                        key,
                        epoch(event.occurred_at),
                        event.status.value,
                        dumps(event_data(event)),
                        at,
                        change_id,
                    )
                    for key, event in fresh
                ],
            )
            change = TrackingChange(
                id=change_id,
                provider=provider,
                shipment_id=sid,
                status_before=_status(before),
                status_after=tracking.status,
                new_events=tuple(event for _, event in fresh),
                tracking=tracking_from_data(data),
                labels=json.loads(labels),
                detected_at=from_epoch(at),
            )
        db.execute(
            "UPDATE shipments SET status = ?, tracking = ?, digest = ?, polled_at = ?,"
            " due_at = ?, delivered_since = ?, retired_at = ?, errors = 0, last_error = NULL"
            " WHERE id = ?",
            (after, text, found, at, due, delivered_since, at if retired else None, rowid),
        )
        return change

    def record_failure(
        self,
        db: sqlite3.Connection,
        provider: str,
        shipment_id: str | None,
        error: BaseException | str,
        now: datetime,
        next_poll: datetime | None = None,
    ) -> None:
        """Note a failed fetch (inside ``db``): in the shipment's row (due again at
        ``next_poll``, or as it was) and among the recent errors."""
        text = error_text(error)
        at = epoch(now)
        if shipment_id is not None:
            db.execute(
                "UPDATE shipments SET errors = errors + 1, last_error = ?,"
                " due_at = CASE WHEN due_at IS NULL THEN NULL ELSE coalesce(?, due_at) END"
                " WHERE provider = ? AND shipment_id = ?",
                (text, epoch(next_poll) if next_poll else None, provider, shipment_id),
            )
        db.execute(
            "INSERT INTO errors (at, provider, shipment_id, error) VALUES (?, ?, ?, ?)",
            (at, provider, shipment_id, text),
        )
        db.execute(
            "DELETE FROM errors WHERE id <= (SELECT max(id) FROM errors) - ?", (ERRORS_KEPT,)
        )

    def recent_errors(self, limit: int) -> list[tuple[float, str, str | None, str]]:
        rows = self.read(
            "SELECT at, provider, shipment_id, error FROM errors ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [tuple(row) for row in rows]

    # -- providers --------------------------------------------------------------------------

    def provider_state(self, provider: str) -> tuple[int, float | None, float | None]:
        """``(failures, backoff_until, last_poll)`` of ``provider``."""
        rows = self.read(
            "SELECT failures, backoff_until, last_poll FROM providers WHERE provider = ?",
            (provider,),
        )
        if not rows:
            return 0, None, None
        failures, until, last = rows[0]
        return int(failures), until, last

    def set_provider_state(
        self,
        db: sqlite3.Connection,
        provider: str,
        failures: int,
        backoff_until: datetime | None,
        last_poll: datetime | None,
    ) -> None:
        db.execute(
            "INSERT INTO providers (provider, failures, backoff_until, last_poll)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (provider) DO UPDATE SET"
            " failures = excluded.failures, backoff_until = excluded.backoff_until,"
            " last_poll = coalesce(excluded.last_poll, last_poll)",
            (
                provider,
                failures,
                epoch(backoff_until) if backoff_until else None,
                epoch(last_poll) if last_poll else None,
            ),
        )

    def set_meta(self, db: sqlite3.Connection, name: str, value: str) -> None:
        db.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def meta(self, name: str) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    # -- the outbox ---------------------------------------------------------------------------

    def pending(self, limit: int | None = None) -> list[TrackingChange]:
        """Changes not yet delivered, oldest first."""
        sql = f"SELECT {_CHANGE_COLUMNS} FROM changes WHERE delivered_at IS NULL ORDER BY id"  # noqa: S608 - fixed SQL
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [change_from_row(row) for row in self.read(sql)]

    def count_pending(self) -> int:
        return int(self.read("SELECT count(*) FROM changes WHERE delivered_at IS NULL")[0][0])

    def acknowledge(self, ids: Iterable[int], now: datetime) -> int:
        """Mark changes delivered, durably; returns how many were pending."""
        values = [(epoch(now), int(i)) for i in ids]
        with self.transaction() as tx:
            done = tx.executemany(
                "UPDATE changes SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL",
                values,
            ).rowcount
        return max(done, 0)

    def changes(
        self, provider: str | None = None, shipment_id: str | None = None
    ) -> list[tuple[TrackingChange, float | None]]:
        """Every change (with when it was delivered), oldest first."""
        where, parameters = [], []
        if provider is not None:
            where.append("provider = ?")
            parameters.append(provider)
        if shipment_id is not None:
            where.append("shipment_id = ?")
            parameters.append(shipment_id)
        sql = f"SELECT {_CHANGE_COLUMNS}, delivered_at FROM changes"  # noqa: S608 - fixed SQL
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.read(sql + " ORDER BY id", parameters)
        return [(change_from_row(row[:-1]), row[-1]) for row in rows]
