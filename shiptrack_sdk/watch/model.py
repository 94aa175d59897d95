"""What a watcher hands over and reports: changes, watched shipments, its status; and how
trackings and events are written to its store and known there.

**An event's identity.** The store keeps each event once, under a key worked out from what a
provider sends again, unchanged, on every poll: the provider, the shipment id, when the event
occurred (to the microsecond, in UTC), the provider's own status values
(``provider_status``, else the normalized status, and ``provider_status_detail``), the
description and the location. The normalized status of an event is left out when the
provider's value is there: a newer status mapping of the SDK may turn an ``UNKNOWN`` into
``TRANSIT``, and the event is still the same event. Two events alike in all of these within
one tracking are told apart by their rank (the second is another key), so a provider that
sends a step twice has it stored twice, and once only on every later poll.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

from .._render import Exportable
from ..models import Tracking, TrackingEvent, TrackingStatus

__all__ = [
    "ProviderState",
    "RecentError",
    "TrackingChange",
    "WatchStatus",
    "WatchedShipment",
    "event_keys",
]

_SEPARATOR = "\x1f"


def _key_text(value: str | None) -> str:
    return "" if value is None else value.strip()


def event_keys(tracking: Tracking) -> list[str]:
    """The store's key of each event of ``tracking``, in its order (see the module's notes)."""
    seen: dict[str, int] = {}
    keys = []
    for event in tracking.events:
        text = _SEPARATOR.join(
            (
                tracking.provider,
                tracking.shipment_id,
                event.occurred_at.astimezone(timezone.utc).isoformat(),
                event.provider_status if event.provider_status is not None else event.status.value,
                _key_text(event.provider_status_detail),
                _key_text(event.description),
                _key_text(event.location),
            )
        )
        key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        rank = seen.get(key, 0)
        seen[key] = rank + 1
        keys.append(key if rank == 0 else f"{key}.{rank}")
    return keys


# -- the store's JSON of trackings and events ------------------------------------------------


def event_data(event: TrackingEvent) -> dict[str, Any]:
    """``event`` as the store writes it (full precision, unlike the export's milliseconds)."""
    return {
        "status": event.status.value,
        "occurred_at": event.occurred_at.isoformat(),
        "description": event.description,
        "provider_status": event.provider_status,
        "provider_status_detail": event.provider_status_detail,
        "location": event.location,
    }


def event_from_data(data: Mapping[str, Any]) -> TrackingEvent:
    """The event :func:`event_data` wrote."""
    return TrackingEvent(
        status=data["status"],
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        description=data.get("description"),
        provider_status=data.get("provider_status"),
        provider_status_detail=data.get("provider_status_detail"),
        location=data.get("location"),
    )


def tracking_data(tracking: Tracking) -> dict[str, Any]:
    """``tracking`` as the store writes it: every field but ``raw``."""
    estimated = tracking.estimated_delivery
    return {
        "provider": tracking.provider,
        "shipment_id": tracking.shipment_id,
        "status": tracking.status.value,
        "provider_status": tracking.provider_status,
        "carrier": tracking.carrier,
        "tracking_ref": tracking.tracking_ref,
        "tracking_url": tracking.tracking_url,
        "estimated_delivery": estimated.isoformat() if estimated is not None else None,
        "events": [event_data(e) for e in tracking.events],
    }


def tracking_from_data(data: Mapping[str, Any]) -> Tracking:
    """The tracking :func:`tracking_data` wrote."""
    estimated = data.get("estimated_delivery")
    return Tracking(
        provider=data["provider"],
        shipment_id=data["shipment_id"],
        status=data["status"],
        events=[event_from_data(e) for e in data.get("events", ())],
        provider_status=data.get("provider_status"),
        carrier=data.get("carrier"),
        tracking_ref=data.get("tracking_ref"),
        tracking_url=data.get("tracking_url"),
        estimated_delivery=datetime.fromisoformat(estimated) if estimated else None,
    )


def dumps(value: Any) -> str:
    """Compact JSON, keys sorted: the same data always writes the same text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def digest(text: str) -> str:
    """A short digest of ``text``: whether a tracking changed since the last poll."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def from_epoch(value: float | None) -> datetime | None:
    """An epoch time of the store as an aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, timezone.utc)


# -- what a watcher hands over and reports -------------------------------------------------------


def _labels() -> Any:
    return attrs.field(factory=dict, converter=dict)


@attrs.frozen(repr=False)
class TrackingChange(Exportable):
    """What a poll found new about one shipment: events it had not seen, or a new status.

    Attributes:
        id: The change's number in the store (increasing): with :attr:`key`, what a handler
            de-duplicates on, should it be handed a change twice (once, after a crash between
            its return and the acknowledgement).
        provider: The shipment's provider.
        shipment_id: The provider's id of the shipment.
        status_before: Its status before the poll; ``None`` at its first poll.
        status_after: Its status after the poll.
        new_events: The events first seen by this poll, oldest first (every event, at the
            first poll).
        tracking: The shipment's whole tracking as this poll read it.
        labels: The labels it was added with.
        detected_at: When the poll stored the change.
    """

    id: int
    provider: str
    shipment_id: str
    status_before: TrackingStatus | None
    status_after: TrackingStatus
    new_events: tuple[TrackingEvent, ...]
    tracking: Tracking
    labels: Mapping[str, str] = _labels()
    detected_at: datetime | None = None

    @property
    def key(self) -> str:
        """``"<provider>:<shipment id>#<id>"``: unique in a store."""
        return f"{self.provider}:{self.shipment_id}#{self.id}"

    @property
    def status_changed(self) -> bool:
        """Whether the status is not what it was (a first poll counts as a change)."""
        return self.status_before is not self.status_after

    def __repr__(self) -> str:
        before = self.status_before.value if self.status_before else "new"
        return (
            f"TrackingChange(#{self.id} {self.provider}:{self.shipment_id} "
            f"{before} -> {self.status_after.value}, {len(self.new_events)} new events)"
        )


@attrs.frozen
class WatchedShipment(Exportable):
    """A shipment the store watches (or watched: a retired one).

    Attributes:
        provider: Its provider.
        shipment_id: The provider's id of it.
        labels: The labels it was added with.
        status: Its status at the last poll; ``None`` before the first.
        added_at: When it was added.
        polled_at: When it was last read.
        due_at: When it is next fetched; ``None`` once retired.
        retired_at: When it was retired (delivered, past the grace period).
        errors: Failed fetches in a row.
        last_error: The last fetch's error, as text, when it failed.
    """

    provider: str
    shipment_id: str
    labels: Mapping[str, str] = _labels()
    status: TrackingStatus | None = None
    added_at: datetime | None = None
    polled_at: datetime | None = None
    due_at: datetime | None = None
    retired_at: datetime | None = None
    errors: int = 0
    last_error: str | None = None


@attrs.frozen
class RecentError(Exportable):
    """A fetch that failed, as :meth:`Watcher.status` lists it.

    Attributes:
        at: When.
        provider: The provider.
        shipment_id: The shipment, or ``None`` for a failure of the provider as a whole (a
            tour list, a fetch that raised).
        error: The error's class and message.
    """

    at: datetime
    provider: str
    shipment_id: str | None
    error: str


@attrs.frozen
class ProviderState(Exportable):
    """One provider as the watcher schedules it.

    Attributes:
        provider: Its name.
        cadence: Its cadence, in words (``"at :05, :35 each hour"``).
        failures: Failed fetches in a row (0 when the last one answered).
        backoff_until: Until when it is backed off, if it is.
        last_poll: When its shipments were last fetched.
    """

    provider: str
    cadence: str
    failures: int = 0
    backoff_until: datetime | None = None
    last_poll: datetime | None = None


@attrs.frozen
class WatchStatus(Exportable):
    """What a watcher's store holds (:meth:`Watcher.status`).

    Attributes:
        path: The store's file (``":memory:"`` for one in memory).
        counts: Provider → status → shipments (``"NEW"``: not polled yet; ``"RETIRED"``).
        due: Provider → shipments due now.
        pending_changes: Changes not yet acknowledged.
        last_poll: When the last poll finished.
        providers: Each provider's schedule and back-off.
        recent_errors: The latest failed fetches, newest first.
    """

    path: str
    counts: Mapping[str, Mapping[str, int]]
    due: Mapping[str, int]
    pending_changes: int
    last_poll: datetime | None
    providers: Sequence[ProviderState]
    recent_errors: Sequence[RecentError]

    @property
    def watched(self) -> int:
        """Shipments in the store, retired ones included."""
        return sum(sum(by_status.values()) for by_status in self.counts.values())
