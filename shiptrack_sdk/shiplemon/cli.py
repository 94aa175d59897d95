"""Shiplemon on the command line: ``shiptrack track shiplemon ID...`` and its part of the demo."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..cli import Demo

if TYPE_CHECKING:
    pass

__all__ = ["DEMO_IDS", "demo"]

#: The demo's Shiplemon shipments (seeded in the sandbox).
DEMO_IDS = (
    "6650a1f2c3d4e5f601234569",
    "6650a1f2c3d4e5f601234567",
    "6650a1f2c3d4e5f601234568",
    "be96511d-ba23-4268-bd8b-48c9cf930222",
)


def demo(demo: Demo) -> None:
    """Pull the tracking of the seeded shipments."""
    demo.section("Shiplemon: pull tracking  (GET /public/v1/shipments/:id/tracking)")
    with demo.sandbox.client("shiplemon") as shiplemon:
        trackings = [shiplemon.tracking.get(sid).to_tracking() for sid in DEMO_IDS]
    demo.trackings += trackings
    demo.show(trackings)
