"""Text renderings of the normalized model, for the command line and plain ``print``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Tracking

__all__ = ["format_timeline", "format_when"]


def format_when(value: datetime | None) -> str:
    """``2024-07-15 10:02 UTC``."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def format_timeline(tracking: Tracking) -> str:
    """A shipment's header line and its events, oldest first, one per line."""
    head = [tracking.provider, tracking.shipment_id, tracking.status.value]
    if tracking.status.value == "UNKNOWN" and tracking.provider_status:
        head[-1] += f" ({tracking.provider_status})"
    if tracking.carrier:
        head.append(tracking.carrier)
    if tracking.tracking_ref:
        head.append(f"ref {tracking.tracking_ref}")
    lines = ["  ".join(head)]
    for event in tracking.events:
        detail = event.description or ""
        if event.provider_status_detail:
            detail += f" [{event.provider_status_detail}]"
        lines.append(
            f"  {format_when(event.occurred_at)}  {event.status.value:<11}  {detail}".rstrip()
        )
    if not tracking.events:
        lines.append("  (no events yet)")
    return "\n".join(lines)


def format_timelines(trackings: Iterable[Tracking]) -> str:
    """Several timelines, separated by blank lines."""
    return "\n\n".join(format_timeline(t) for t in trackings)
