"""Watching shipments: follow thousands of shipments across providers, durably, and hand over
each change once it is seen.

::

    from shiptrack_sdk.watch import Watcher

    with Watcher("shiptrack-watch.sqlite") as watcher:     # stdlib sqlite3, one file
        watcher.add("shiplemon", "6650a1f2c3d4e5f601234567", labels={"order": "A-1001"})
        watcher.follow_tours("exporto")                     # new tours' shipments join
        watcher.run(handler=print)                          # until SIGTERM or Ctrl-C

* :class:`Watcher`: add and remove shipments, ``poll()`` the due ones, hand each
  :class:`TrackingChange` to a handler at least once (acknowledged only once it returns),
  ``run()`` until stopped, ``status()``, ``forward_to_lex()``, ``history()``.
* :class:`Schedule`: when shipments are fetched: Shiplemon at :05 and :35 each hour, the
  others at an interval; delivered shipments retired after a grace period; a failing
  provider backed off while the others go on.
* :mod:`~shiptrack_sdk.watch.store`: the SQLite file (WAL mode): each shipment's latest
  tracking, each event once, and the outbox of changes.

The command line has the same: ``shiptrack watch add|remove|list|run|status``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .model import ProviderState, RecentError, TrackingChange, WatchedShipment, WatchStatus
from .schedule import Backoff, Interval, Schedule, Slots, documented_cadences
from .store import WatchStoreError
from .watcher import DEFAULT_STORE, Handler, Watcher

if TYPE_CHECKING:
    from .forward import ForwardedEvent as ForwardedEvent
    from .forward import ForwardReport as ForwardReport
    from .forward import journal_path as journal_path

__all__ = [
    "DEFAULT_STORE",
    "Backoff",
    "ForwardReport",
    "ForwardedEvent",
    "Handler",
    "Interval",
    "ProviderState",
    "RecentError",
    "Schedule",
    "Slots",
    "TrackingChange",
    "WatchStatus",
    "WatchStoreError",
    "WatchedShipment",
    "Watcher",
    "documented_cadences",
    "journal_path",
]

#: Names imported on first use: forwarding loads the LEX package, which watching alone needs not.
_LAZY = {"ForwardReport": ".forward", "ForwardedEvent": ".forward", "journal_path": ".forward"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
