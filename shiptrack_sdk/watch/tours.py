"""Following tours: new tours' shipments join the watch by themselves.

A provider whose client has tours (exporto's daily closings: ``client.tours``) can be
followed. At a poll, at most every :attr:`Schedule.tours_every
<shiptrack_sdk.watch.Schedule.tours_every>`, its tours are listed (``client.tours.list``,
``GET tour``); each tour the store has not joined is read (``client.tours.get``,
``GET tour/{tourId}``) and its shipments are added, due at once, in one transaction with the
record that the tour joined, so a tour joins once, whole, even across a crash. A tour that
lists its shipments by their last-mile tracking numbers has each number resolved to its
shipment (``client.shipments.search_page``, ``GET shipment/search``); a number no shipment
carries is noted among the store's errors and the others join.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from .model import dumps, from_epoch
from .schedule import Schedule
from .store import WatchStore, epoch

__all__ = ["follow", "followed", "join_new", "next_listing", "unfollow"]

logger = logging.getLogger("shiptrack_sdk")

#: Shipments read at most for one tracking number (one number names one parcel).
_RESOLVE_PAGE_SIZE = 10


def follow(
    store: WatchStore, provider: str, since: date | None, labels: Mapping[str, str], now: datetime
) -> None:
    """Follow ``provider``'s tours (again: the new ``since`` and ``labels`` replace the old),
    listed at the next poll."""
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO tour_follows (provider, since, labels, next_list) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (provider) DO UPDATE SET since = excluded.since,"
            " labels = excluded.labels, next_list = excluded.next_list",
            (provider, since.isoformat() if since else None, dumps(dict(labels)), epoch(now)),
        )


def unfollow(store: WatchStore, provider: str) -> bool:
    """Stop following ``provider``'s tours (the shipments that joined stay)."""
    with store.transaction() as tx:
        removed = tx.execute("DELETE FROM tour_follows WHERE provider = ?", (provider,)).rowcount
    return removed > 0


def followed(store: WatchStore, now: datetime) -> list[str]:
    """The providers whose tours are due to be listed."""
    rows = store.read(
        "SELECT provider FROM tour_follows WHERE next_list <= ? ORDER BY provider", (epoch(now),)
    )
    return [provider for (provider,) in rows]


def next_listing(store: WatchStore) -> list[datetime]:
    """When each followed provider's tours are next listed."""
    rows = store.read("SELECT next_list FROM tour_follows")
    return [when for (value,) in rows if (when := from_epoch(value)) is not None]


def joined(store: WatchStore, provider: str) -> set[str]:
    """The tours of ``provider`` whose shipments joined."""
    rows = store.read("SELECT tour_id FROM tours WHERE provider = ?", (provider,))
    return {tour_id for (tour_id,) in rows}


def _resolve(client: Any, reference: str) -> list[str]:
    page = client.shipments.search_page(
        0, page_size=_RESOLVE_PAGE_SIZE, foreign_outbound_tracking_id=reference
    )
    # Kept only if it carries the number asked for: a server that ignored the filter would
    # otherwise bring in unrelated shipments.
    return [
        s.shipment_id for s in page if s.foreign_outbound_tracking_id == reference and s.shipment_id
    ]


def join_new(
    store: WatchStore, client: Any, provider: str, now: datetime, schedule: Schedule
) -> int:
    """List ``provider``'s tours and add the shipments of those not joined yet; returns how
    many shipments were new to the watch.

    Raises:
        ShiptrackError: a tour could not be listed or read (the tours read before it have
            joined; it and the later ones are read at the next listing).
    """
    rows = store.read("SELECT since, labels FROM tour_follows WHERE provider = ?", (provider,))
    if not rows:
        return 0
    since_text, labels_text = rows[0]
    since = date.fromisoformat(since_text) if since_text else None
    labels = json.loads(labels_text)
    known = joined(store, provider)
    added = 0
    for tour in client.tours.list(since=since):
        if tour.id in known:
            continue
        detail = client.tours.get(tour.id)
        ids = list(dict.fromkeys(detail.shipment_ids))
        unresolved = []
        for reference in dict.fromkeys(detail.foreign_outbound_tracking_ids):
            found = _resolve(client, reference)
            ids += [sid for sid in found if sid not in ids]
            if not found:
                unresolved.append(reference)
        items = [(provider, str(sid)) for sid in ids if sid]
        with store.transaction() as tx:
            added += store.add(items, {**labels, "tour": str(tour.id)}, now, db=tx)
            for reference in unresolved:
                store.record_failure(
                    tx,
                    provider,
                    None,
                    f"tour {tour.id}: no shipment carries the tracking number {reference}",
                    now,
                )
            tx.execute(
                "INSERT OR IGNORE INTO tours (provider, tour_id, joined_at, shipments)"
                " VALUES (?, ?, ?, ?)",
                (provider, str(tour.id), epoch(now), len(items)),
            )
        logger.info("watch: %s tour %s joined with %d shipments", provider, tour.id, len(items))
    with store.transaction() as tx:
        tx.execute(
            "UPDATE tour_follows SET next_list = ? WHERE provider = ?",
            (epoch(now + schedule.tours_every), provider),
        )
    return added
